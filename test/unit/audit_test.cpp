// audit_test.cpp - the audit trail's hash chain (src/core/audit.h, SPEC
// section 4): the link hash's byte layout against an independent SHA-256
// (OpenSSL's one-shot SHA256() over bytes laid out here), hex, and verify()
// on good chains of random rows and on every kind of tampering. Chains are
// built here with that independent hash, so a valid verdict also checks
// link_hash against it on rows holding any byte.
#include "core/audit.h"

#include <gtest/gtest.h>

#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace kaireon::audit {
namespace {

using Fields = std::vector<std::string>;
using namespace std::string_literals;

// expected_link is link_hash written independently: prev, then each field as
// its length in 8 big-endian bytes followed by its bytes, hashed at once.
Hash expected_link(const Hash& prev, const Fields& fields) {
    std::vector<unsigned char> bytes(prev.begin(), prev.end());
    for (const auto& field : fields) {
        const uint64_t length = field.size();
        for (int i = 7; i >= 0; --i) bytes.push_back(static_cast<unsigned char>(length >> (8 * i)));
        bytes.insert(bytes.end(), field.begin(), field.end());
    }
    Hash out{};
    SHA256(bytes.data(), bytes.size(), out.data());
    return out;
}

// random_bytes returns up to `max_length` bytes; with `any_byte` they may be
// anything (NUL, invalid UTF-8), else printable ASCII.
std::string random_bytes(std::mt19937_64& rng, size_t max_length, bool any_byte) {
    std::string out(rng() % (max_length + 1), '\0');
    for (auto& c : out) c = static_cast<char>(any_byte ? rng() % 256 : 32 + rng() % 95);
    return out;
}

// random_row returns the canonical fields of an audit row: id, recorded_at
// (microseconds), actor, action, target, details.
Fields random_row(std::mt19937_64& rng, int64_t id, int64_t recorded_at) {
    static const std::vector<std::string> kActions{"install_license", "report_usage",  "entitlement",
                                                   "set_override",    "apply_catalog", "quota_refusals"};
    return {std::to_string(id),
            std::to_string(recorded_at),
            "role_" + random_bytes(rng, 8, false),
            kActions[rng() % kActions.size()],
            random_bytes(rng, 24, rng() % 4 == 0),
            R"({"k": ")" + random_bytes(rng, 40, false) + R"(", "n": )" + std::to_string(rng() % 1000) + "}"};
}

// make_chain seals `n` random rows from genesis; ids increase by 2 to 4, so
// that id + 1 is never sealed.
std::vector<SealedEntry> make_chain(uint64_t seed, size_t n) {
    std::mt19937_64 rng(seed);
    std::vector<SealedEntry> chain;
    int64_t id = 0;
    int64_t recorded_at = 1'700'000'000'000'000;
    Hash prev = genesis();
    for (size_t i = 0; i < n; ++i) {
        id += 2 + static_cast<int64_t>(rng() % 3);
        recorded_at += static_cast<int64_t>(rng() % 1'000'000);
        SealedEntry entry;
        entry.position = static_cast<int64_t>(i) + 1;
        entry.audit_id = id;
        entry.fields = random_row(rng, id, recorded_at);
        entry.prev_hash = prev;
        entry.hash = expected_link(prev, *entry.fields);
        prev = entry.hash;
        chain.push_back(std::move(entry));
    }
    return chain;
}

void renumber(std::vector<SealedEntry>& chain) {
    for (size_t i = 0; i < chain.size(); ++i) chain[i].position = static_cast<int64_t>(i) + 1;
}

std::string row(int64_t id) { return "row " + std::to_string(id); }

// EXPECT_BROKEN checks an invalid verdict's checked count, id and reason.
#define EXPECT_BROKEN(verdict, expected_checked, expected_id, expected_reason)    \
    do {                                                                          \
        const Verdict verdict_ = (verdict);                                       \
        EXPECT_FALSE(verdict_.valid);                                             \
        EXPECT_EQ(verdict_.checked, static_cast<int64_t>(expected_checked));      \
        EXPECT_EQ(verdict_.first_broken_id, std::optional<int64_t>(expected_id)); \
        EXPECT_EQ(verdict_.reason, std::optional<std::string>(expected_reason));  \
    } while (0)

#define EXPECT_VALID(verdict, expected_checked)                              \
    do {                                                                     \
        const Verdict verdict_ = (verdict);                                  \
        EXPECT_TRUE(verdict_.valid) << verdict_.reason.value_or("");         \
        EXPECT_EQ(verdict_.checked, static_cast<int64_t>(expected_checked)); \
        EXPECT_EQ(verdict_.first_broken_id, std::nullopt);                   \
        EXPECT_EQ(verdict_.reason, std::nullopt);                            \
    } while (0)

constexpr size_t kChainLength = 40;
constexpr std::array<uint64_t, 3> kSeeds{1, 2, 20260301};
// Where tampering is tried: the first seal, one in the middle, the last.
constexpr std::array<size_t, 3> kWhere{0, kChainLength / 2, kChainLength - 1};

// --- link_hash ------------------------------------------------------------------

TEST(AuditHash, GenesisIsThirtyTwoZeroBytes) {
    Hash zero{};
    EXPECT_EQ(genesis(), zero);
    EXPECT_EQ(hex(genesis()), std::string(64, '0'));
}

TEST(AuditHash, KnownAnswerAgainstOneShotSha256) {
    Hash other{};
    for (size_t i = 0; i < other.size(); ++i) other[i] = static_cast<unsigned char>(0xA0 + i);
    const std::vector<Fields> cases{
        {},
        {""},
        {"", ""},
        {"1", "1700000000000000", "alice", "install_license", "tenant-a", R"({"tier": "enterprise"})"},
        {"a\0b"s, "\0"s, std::string(300, 'x')},  // NULs; a length above 255 needs two length bytes
        {std::string(70000, '\xff')},
    };
    for (const auto& prev : {genesis(), other}) {
        for (const auto& fields : cases) {
            EXPECT_EQ(hex(link_hash(prev, fields)), hex(expected_link(prev, fields))) << fields.size() << " fields";
        }
    }
}

// Pinned values (computed with Python's hashlib over the same layout), so that
// a change of the layout cannot pass unnoticed and the SQL side can check
// itself against the same numbers.
TEST(AuditHash, GoldenValues) {
    EXPECT_EQ(hex(link_hash(genesis(), {})), "66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925");
    Hash first = link_hash(
        genesis(), {"1", "1700000000000000", "alice", "install_license", "tenant-a", R"({"tier": "enterprise"})"});
    EXPECT_EQ(hex(first), "5c1d7cbdb15b209173bcaaf542336db59ce6f67d3157762090cd8acc4c211206");
    Hash second = link_hash(first, {"2", "1700000000000001", "bob", "report_usage", "api-calls", R"({"value": 5})"});
    EXPECT_EQ(hex(second), "65c30921a9a33833fdb7136817becf5571a1aac7b7911c4825e2b268cbf846a3");
}

TEST(AuditHash, FieldBoundariesAreUnambiguous) {
    const std::vector<Fields> cases{
        {"ab", "c"}, {"a", "bc"}, {"abc"}, {"a", "b", "c"}, {},       {""},      {"", ""},
        {"a\0b"s},   {"a", "b"},  {"a"},   {"a\0"s},        {"\0a"s}, {"a", ""}, {"", "a"},
    };
    std::set<std::string> seen;
    for (const auto& fields : cases) {
        EXPECT_TRUE(seen.insert(hex(link_hash(genesis(), fields))).second)
            << "a collision among " << cases.size() << " layouts at " << fields.size() << " fields";
    }
    EXPECT_NE(link_hash(genesis(), {"ab", "c"}), link_hash(genesis(), {"a", "bc"}));
}

TEST(AuditHash, EveryByteOfAFieldWithNulsCounts) {
    const std::string base = "x\0y\0z"s;
    const Hash reference = link_hash(genesis(), {base});
    EXPECT_EQ(reference, expected_link(genesis(), {base}));
    for (size_t i = 0; i < base.size(); ++i) {
        std::string changed = base;
        changed[i] = static_cast<char>(changed[i] ^ 1);
        EXPECT_NE(link_hash(genesis(), {changed}), reference) << "byte " << i;
    }
    EXPECT_NE(link_hash(genesis(), {"x"}), reference);  // nothing is cut at the first NUL
}

TEST(AuditHash, DependsOnPrevious) {
    Hash prev = genesis();
    for (size_t i = 0; i < prev.size(); ++i) {
        Hash changed = prev;
        changed[i] = 1;
        EXPECT_NE(link_hash(changed, {"row"}), link_hash(prev, {"row"})) << "byte " << i;
    }
}

// --- hex --------------------------------------------------------------------------

TEST(AuditHex, RoundTripsRandomHashes) {
    std::mt19937_64 rng(7);
    for (int n = 0; n < 200; ++n) {
        Hash hash{};
        for (auto& byte : hash) byte = static_cast<unsigned char>(rng());
        std::string text = hex(hash);
        ASSERT_EQ(text.size(), 64u);
        EXPECT_EQ(text.find_first_not_of("0123456789abcdef"), std::string::npos) << text;
        EXPECT_EQ(from_hex(text), hash);
    }
}

TEST(AuditHex, AcceptsEitherCase) {
    const std::string lower = "5c1d7cbdb15b209173bcaaf542336db59ce6f67d3157762090cd8acc4c211206";
    std::string upper = lower;
    std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return std::toupper(c); });
    auto a = from_hex(lower);
    auto b = from_hex(upper);
    ASSERT_TRUE(a && b);
    EXPECT_EQ(*a, *b);
    EXPECT_EQ(hex(*b), lower);
    EXPECT_EQ((*a)[0], 0x5c);
    EXPECT_EQ((*a)[31], 0x06);
}

TEST(AuditHex, RefusesAnythingButSixtyFourHexDigits) {
    const std::string good(64, 'a');
    EXPECT_TRUE(from_hex(good));
    EXPECT_FALSE(from_hex(""));
    EXPECT_FALSE(from_hex(good.substr(1)));
    EXPECT_FALSE(from_hex(good + "a"));
    EXPECT_FALSE(from_hex(good + "aa"));
    EXPECT_FALSE(from_hex("\\x" + good));
    EXPECT_FALSE(from_hex(" " + good.substr(1)));
    EXPECT_FALSE(from_hex(good.substr(1) + "\n"));
    for (char bad : {'g', 'G', 'z', ' ', '-', '+', '\0', '\xff', 'x'}) {
        for (size_t at : {size_t{0}, size_t{31}, size_t{63}}) {
            std::string text = good;
            text[at] = bad;
            EXPECT_FALSE(from_hex(text)) << "byte " << static_cast<int>(bad) << " at " << at;
        }
    }
}

// --- verify: good chains ----------------------------------------------------------

TEST(AuditVerify, EmptyChainIsValidWithNothingChecked) {
    EXPECT_VALID(verify({}, {}), 0);
    EXPECT_EQ(verify({}, {}).to_json().dump(), R"({"valid":true,"checked":0,"firstBrokenId":null,"reason":null})");
}

TEST(AuditVerify, RandomChainsAreValid) {
    for (uint64_t seed : kSeeds) {
        for (size_t n : {size_t{1}, size_t{2}, size_t{3}, kChainLength, size_t{500}}) {
            SCOPED_TRACE("seed " + std::to_string(seed) + ", " + std::to_string(n) + " rows");
            EXPECT_VALID(verify(make_chain(seed, n), {}), n);
        }
    }
}

TEST(AuditVerify, VerdictJsonHasExactlyTheSpecKeysInOrder) {
    auto chain = make_chain(1, 3);
    EXPECT_EQ(verify(chain, {}).to_json().dump(), R"({"valid":true,"checked":3,"firstBrokenId":null,"reason":null})");
    (*chain[1].fields)[2] = "mallory";
    const std::string expected = R"({"valid":false,"checked":1,"firstBrokenId":)" + std::to_string(chain[1].audit_id) +
                                 R"(,"reason":"row )" + std::to_string(chain[1].audit_id) + R"( was modified"})";
    EXPECT_EQ(verify(chain, {}).to_json().dump(), expected);
}

// --- verify: from an anchor (retention dropped the oldest seals) -----------------

// The chain after its first `pruned` seals were dropped, and the anchor
// retention left: the last dropped seal's position and hash.
std::pair<std::vector<SealedEntry>, ChainStart> pruned_chain(uint64_t seed, size_t n, size_t pruned) {
    auto chain = make_chain(seed, n);
    ChainStart start{static_cast<int64_t>(pruned), chain[pruned - 1].hash};
    chain.erase(chain.begin(), chain.begin() + static_cast<std::ptrdiff_t>(pruned));
    return {chain, start};
}

TEST(AuditVerify, ChainAfterItsAnchorIsValid) {
    for (uint64_t seed : kSeeds) {
        for (size_t pruned : {size_t{1}, size_t{7}, kChainLength - 1, kChainLength}) {
            SCOPED_TRACE("seed " + std::to_string(seed) + ", " + std::to_string(pruned) + " pruned");
            auto [rest, start] = pruned_chain(seed, kChainLength, pruned);
            EXPECT_VALID(verify(rest, {}, start), kChainLength - pruned);
        }
    }
}

TEST(AuditVerify, AnchorWithAnotherHashOrPositionBreaksTheFirstLink) {
    auto [rest, start] = pruned_chain(5, kChainLength, 10);
    ChainStart wrong_hash = start;
    wrong_hash.hash[0] ^= 0x01;
    EXPECT_BROKEN(verify(rest, {}, wrong_hash), 0, rest[0].audit_id,
                  "seal of " + row(rest[0].audit_id) + " does not follow the previous seal");
    // From genesis (the anchor ignored), the seals before it are missing.
    EXPECT_BROKEN(verify(rest, {}), 0, rest[0].audit_id, "seal 1 is missing");
    ChainStart behind = start;
    behind.position -= 1;  // an anchor one seal short: seal 10 looks missing
    EXPECT_BROKEN(verify(rest, {}, behind), 0, rest[0].audit_id, "seal 10 is missing");
    ChainStart ahead = start;
    ahead.position += 1;
    EXPECT_BROKEN(verify(rest, {}, ahead), 0, rest[0].audit_id, "seals out of order");
}

TEST(AuditVerify, TamperingAfterTheAnchorIsCaughtAtItsPlace) {
    auto [rest, start] = pruned_chain(6, kChainLength, 4);
    (*rest[3].fields)[4] += "!";
    EXPECT_BROKEN(verify(rest, {}, start), 3, rest[3].audit_id, row(rest[3].audit_id) + " was modified");
    auto [rest2, start2] = pruned_chain(6, kChainLength, 4);
    rest2.erase(rest2.begin() + 2);
    EXPECT_BROKEN(verify(rest2, {}, start2), 2, rest2[2].audit_id, "seal 7 is missing");
}

// --- verify: tampering with rows -------------------------------------------------

TEST(AuditVerify, ModifiedFieldIsCaught) {
    for (uint64_t seed : kSeeds) {
        for (size_t at : kWhere) {
            for (size_t field = 0; field < 6; ++field) {
                SCOPED_TRACE("seed " + std::to_string(seed) + ", entry " + std::to_string(at) + ", field " +
                             std::to_string(field));
                auto chain = make_chain(seed, kChainLength);
                (*chain[at].fields)[field] += "!";
                EXPECT_BROKEN(verify(chain, {}), at, chain[at].audit_id, row(chain[at].audit_id) + " was modified");
            }
        }
    }
}

TEST(AuditVerify, ModifiedSingleBitAndMovedBoundaryAreCaught) {
    auto chain = make_chain(3, kChainLength);
    auto flipped = chain;
    (*flipped[5].fields)[5][0] = static_cast<char>((*flipped[5].fields)[5][0] ^ 0x01);
    EXPECT_BROKEN(verify(flipped, {}), 5, chain[5].audit_id, row(chain[5].audit_id) + " was modified");

    // Moving one byte from a field into the next keeps the concatenation.
    auto moved = chain;
    auto& fields = *moved[7].fields;
    fields[2].push_back(fields[3].front());  // actor and action are never empty
    fields[3].erase(0, 1);
    EXPECT_BROKEN(verify(moved, {}), 7, chain[7].audit_id, row(chain[7].audit_id) + " was modified");

    auto extra = chain;
    extra[9].fields->push_back("");
    EXPECT_BROKEN(verify(extra, {}), 9, chain[9].audit_id, row(chain[9].audit_id) + " was modified");
}

TEST(AuditVerify, DeletedRowIsCaught) {
    for (uint64_t seed : kSeeds) {
        for (size_t at : kWhere) {
            SCOPED_TRACE("seed " + std::to_string(seed) + ", entry " + std::to_string(at));
            auto chain = make_chain(seed, kChainLength);
            chain[at].fields.reset();
            EXPECT_BROKEN(verify(chain, {}), at, chain[at].audit_id, row(chain[at].audit_id) + " was deleted");
        }
    }
}

TEST(AuditVerify, UnsealedRowIsCaught) {
    auto chain = make_chain(1, kChainLength);
    // Rows inserted behind the chain's back, between sealed ids (make_chain
    // leaves gaps); the list need not be sorted, the smallest id is reported.
    const std::vector<int64_t> unsealed{chain[30].audit_id + 1, chain[3].audit_id + 1, chain[20].audit_id + 1};
    EXPECT_BROKEN(verify(chain, unsealed), kChainLength, chain[3].audit_id + 1,
                  row(chain[3].audit_id + 1) + " is not in the chain (added after sealing)");
    EXPECT_BROKEN(verify(chain, {42}), kChainLength, 42, "row 42 is not in the chain (added after sealing)");
    EXPECT_BROKEN(verify({}, {7}), 0, 7, "row 7 is not in the chain (added after sealing)");
}

TEST(AuditVerify, ABrokenChainIsReportedBeforeUnsealedRows) {
    auto chain = make_chain(2, kChainLength);
    chain[30].fields.reset();
    EXPECT_BROKEN(verify(chain, {1}), 30, chain[30].audit_id, row(chain[30].audit_id) + " was deleted");
}

// --- verify: tampering with seals --------------------------------------------------

TEST(AuditVerify, DeletedSealIsCaught) {
    for (uint64_t seed : kSeeds) {
        for (size_t at : {size_t{0}, kChainLength / 2, kChainLength - 2}) {
            SCOPED_TRACE("seed " + std::to_string(seed) + ", entry " + std::to_string(at));
            auto chain = make_chain(seed, kChainLength);
            chain.erase(chain.begin() + static_cast<std::ptrdiff_t>(at));
            // The walk stops at the seal after the gap.
            EXPECT_BROKEN(verify(chain, {}), at, chain[at].audit_id, "seal " + std::to_string(at + 1) + " is missing");
        }
    }
}

TEST(AuditVerify, DeletedSealWithPositionsRenumberedIsCaught) {
    for (size_t at : {size_t{0}, kChainLength / 2, kChainLength - 2}) {
        SCOPED_TRACE("entry " + std::to_string(at));
        auto chain = make_chain(1, kChainLength);
        chain.erase(chain.begin() + static_cast<std::ptrdiff_t>(at));
        renumber(chain);
        EXPECT_BROKEN(verify(chain, {}), at, chain[at].audit_id,
                      "seal of " + row(chain[at].audit_id) + " does not follow the previous seal");
    }
}

// The chain alone cannot see seals cut from its end: the rows look unsealed,
// and the database anchors the chain's end elsewhere (audit.sealed events).
TEST(AuditVerify, LastSealsCutOffAreInvisibleToTheChainAlone) {
    auto chain = make_chain(1, kChainLength);
    chain.resize(kChainLength - 3);
    EXPECT_VALID(verify(chain, {}), kChainLength - 3);
}

TEST(AuditVerify, ReorderedSealsAreCaught) {
    for (uint64_t seed : kSeeds) {
        for (size_t at : {size_t{0}, kChainLength / 2, kChainLength - 2}) {
            SCOPED_TRACE("seed " + std::to_string(seed) + ", entry " + std::to_string(at));
            const auto original = make_chain(seed, kChainLength);

            // Swapped in chain order, positions and all.
            auto swapped = original;
            std::swap(swapped[at], swapped[at + 1]);
            EXPECT_BROKEN(verify(swapped, {}), at, original[at + 1].audit_id, "seals out of order");

            // Swapped and renumbered, so that positions look fine.
            renumber(swapped);
            EXPECT_BROKEN(verify(swapped, {}), at, original[at + 1].audit_id,
                          "seal of " + row(original[at + 1].audit_id) + " does not follow the previous seal");
        }
    }
}

TEST(AuditVerify, ChangedSealHashIsCaught) {
    for (size_t at : kWhere) {
        SCOPED_TRACE("entry " + std::to_string(at));
        auto chain = make_chain(2, kChainLength);
        chain[at].hash[at % 32] ^= 0x80;
        EXPECT_BROKEN(verify(chain, {}), at, chain[at].audit_id, row(chain[at].audit_id) + " was modified");
    }
}

TEST(AuditVerify, ChangedPrevHashIsCaught) {
    for (size_t at : kWhere) {
        SCOPED_TRACE("entry " + std::to_string(at));
        auto chain = make_chain(2, kChainLength);
        chain[at].prev_hash[31 - at % 32] ^= 0x01;
        EXPECT_BROKEN(verify(chain, {}), at, chain[at].audit_id,
                      "seal of " + row(chain[at].audit_id) + " does not follow the previous seal");
    }
}

// A row modified and its seal recomputed: that seal is consistent, but the
// next one no longer follows it.
TEST(AuditVerify, ModifiedRowWithItsSealRecomputedIsCaughtAtTheNextSeal) {
    auto chain = make_chain(3, kChainLength);
    (*chain[12].fields)[2] = "someone-else";
    chain[12].hash = link_hash(chain[12].prev_hash, *chain[12].fields);
    EXPECT_BROKEN(verify(chain, {}), 13, chain[13].audit_id,
                  "seal of " + row(chain[13].audit_id) + " does not follow the previous seal");
}

TEST(AuditVerify, ExtraSealIsCaught) {
    const auto original = make_chain(1, kChainLength);
    const size_t at = 10;

    // A copy of a seal at a repeated position.
    auto repeated = original;
    repeated.insert(repeated.begin() + at + 1, original[at]);
    EXPECT_BROKEN(verify(repeated, {}), at + 1, original[at].audit_id, "seals out of order");

    // A forged seal for a forged row, correctly linked to its predecessor,
    // with the positions after it renumbered: the next seal does not follow.
    auto forged = original;
    SealedEntry extra;
    extra.audit_id = original[at - 1].audit_id + 1;
    extra.fields = Fields{std::to_string(extra.audit_id), "1", "mallory", "report_usage", "api-calls", "{}"};
    extra.prev_hash = original[at - 1].hash;
    extra.hash = link_hash(extra.prev_hash, *extra.fields);
    forged.insert(forged.begin() + at, extra);
    renumber(forged);
    EXPECT_BROKEN(verify(forged, {}), at + 1, original[at].audit_id,
                  "seal of " + row(original[at].audit_id) + " does not follow the previous seal");

    // The same seal at a position past the end, without renumbering.
    auto past_end = original;
    extra.position = static_cast<int64_t>(kChainLength) + 1;
    past_end.insert(past_end.begin() + at, extra);
    EXPECT_BROKEN(verify(past_end, {}), at, extra.audit_id, "seals out of order");
}

TEST(AuditVerify, SealPointingAtAnotherRowIsCaught) {
    auto chain = make_chain(1, kChainLength);
    chain[4].audit_id = chain[5].audit_id;
    chain[4].fields = chain[5].fields;
    EXPECT_BROKEN(verify(chain, {}), 4, chain[5].audit_id, row(chain[5].audit_id) + " was modified");
}

TEST(AuditVerify, PositionRules) {
    auto chain = make_chain(1, 5);
    auto with_positions = [&](std::vector<int64_t> positions) {
        auto copy = chain;
        for (size_t i = 0; i < positions.size(); ++i) copy[i].position = positions[i];
        return copy;
    };
    EXPECT_BROKEN(verify(with_positions({0, 2, 3, 4, 5}), {}), 0, chain[0].audit_id, "seals out of order");
    EXPECT_BROKEN(verify(with_positions({-1, 2, 3, 4, 5}), {}), 0, chain[0].audit_id, "seals out of order");
    EXPECT_BROKEN(verify(with_positions({1, 1, 3, 4, 5}), {}), 1, chain[1].audit_id, "seals out of order");
    EXPECT_BROKEN(verify(with_positions({1, 3, 2, 4, 5}), {}), 1, chain[1].audit_id, "seals out of order");
    EXPECT_BROKEN(verify(with_positions({1, 2, 4, 5, 6}), {}), 2, chain[2].audit_id, "seal 3 is missing");
    EXPECT_BROKEN(verify(with_positions({1, 2, 3, 4, 9}), {}), 4, chain[4].audit_id, "seal 5 is missing");
    EXPECT_BROKEN(verify(with_positions({2, 3, 4, 5, 6}), {}), 0, chain[0].audit_id, "seal 1 is missing");
    EXPECT_BROKEN(verify(with_positions({1, 2, 3, 4, INT64_MAX}), {}), 4, chain[4].audit_id, "seal 5 is missing");
    EXPECT_BROKEN(verify(with_positions({1, 2, 3, 4, INT64_MIN}), {}), 4, chain[4].audit_id, "seals out of order");
}

TEST(AuditVerify, FirstBreakInChainOrderWins) {
    auto chain = make_chain(2, kChainLength);
    chain[30].fields.reset();
    chain[20].hash[0] ^= 1;
    chain[10].prev_hash[0] ^= 1;
    EXPECT_BROKEN(verify(chain, {1}), 10, chain[10].audit_id,
                  "seal of " + row(chain[10].audit_id) + " does not follow the previous seal");
    // Within one entry: position, then prev_hash, then the row, then its hash.
    chain = make_chain(2, kChainLength);
    chain[10].fields.reset();
    chain[10].prev_hash[0] ^= 1;
    EXPECT_BROKEN(verify(chain, {}), 10, chain[10].audit_id,
                  "seal of " + row(chain[10].audit_id) + " does not follow the previous seal");
    chain[10].position = 99;
    EXPECT_BROKEN(verify(chain, {}), 10, chain[10].audit_id, "seal 11 is missing");
}

// Any single random change to any entry is caught at that entry (or, for a
// position change, at the entry it breaks): a seeded property run.
TEST(AuditVerify, RandomSingleChangesAreCaughtWhereTheyAre) {
    std::mt19937_64 rng(99);
    const auto original = make_chain(4, kChainLength);
    for (int n = 0; n < 2000; ++n) {
        auto chain = original;
        const size_t at = rng() % chain.size();
        auto& entry = chain[at];
        switch (rng() % 4) {
            case 0: {
                auto& field = (*entry.fields)[rng() % entry.fields->size()];
                if (field.empty()) {
                    field.push_back('\0');
                } else {
                    field[rng() % field.size()] ^= static_cast<char>(1 + rng() % 255);
                }
                break;
            }
            case 1: entry.hash[rng() % 32] ^= static_cast<unsigned char>(1 + rng() % 255); break;
            case 2: entry.prev_hash[rng() % 32] ^= static_cast<unsigned char>(1 + rng() % 255); break;
            default: entry.position += 1 + static_cast<int64_t>(rng() % 3); break;
        }
        const Verdict verdict = verify(chain, {});
        ASSERT_FALSE(verdict.valid) << "change " << n;
        ASSERT_EQ(verdict.checked, static_cast<int64_t>(at)) << "change " << n << ": " << *verdict.reason;
        ASSERT_EQ(verdict.first_broken_id, original[at].audit_id) << "change " << n;
    }
}

}  // namespace
}  // namespace kaireon::audit
