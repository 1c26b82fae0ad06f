// audit_fuzz.cpp - libFuzzer target for the audit hash chain (src/core/audit.h).
//
// The input describes a chain of rows (any bytes, NULs included), which is
// sealed with link_hash, then a list of tampering operations (change a byte
// of a field, delete a row, delete / swap / duplicate a seal, change a hash,
// a prev_hash or a position, report an unsealed id). Contract under test:
//  - an untampered chain verifies valid with every entry checked;
//  - every verdict is well formed: valid iff it has neither id nor reason,
//    checked is within the chain, and the reason is one of audit.h's texts
//    naming first_broken_id, which is the id of the entry at index checked
//    (or, for "not in the chain", the smallest unsealed id);
//  - the `checked` entries before the break really are good, re-checked here
//    independently of verify();
//  - from_hex accepts exactly 64 hex digits and round-trips through hex.
// Anything else (an exception, a crash, a sanitizer report) aborts.
//
// Built by CMakeLists.txt with clang++-14; run by the ctest test fuzz_audit,
// or by hand:  build/core/fuzz/audit_fuzz -max_total_time=300 /tmp/corpus test/fuzz/corpus/audit
#include "core/audit.h"

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

namespace {

using kaireon::audit::Hash;
using kaireon::audit::SealedEntry;
using kaireon::audit::Verdict;

[[noreturn]] void fail(const char* what, const std::string& detail) {
    std::fprintf(stderr, "audit_fuzz: %s: %s\n", what, detail.c_str());
    std::abort();
}

// Reader hands out the input's bytes; past the end it returns zeros.
class Reader {
public:
    Reader(const uint8_t* data, size_t size) : data_(data), size_(size) {}
    bool done() const { return at_ >= size_; }
    uint8_t byte() { return at_ < size_ ? data_[at_++] : 0; }
    std::string bytes(size_t n) {
        n = std::min(n, size_ - std::min(at_, size_));
        std::string out(reinterpret_cast<const char*>(data_ + at_), n);
        at_ += n;
        return out;
    }
    int64_t int64() {
        uint64_t value = 0;
        for (int i = 0; i < 8; ++i) value = (value << 8) | byte();
        return static_cast<int64_t>(value);
    }

private:
    const uint8_t* data_;
    size_t size_;
    size_t at_ = 0;
};

std::string describe(const Verdict& verdict) { return verdict.to_json().dump(); }

void check_hex(std::string_view text) {
    auto hash = kaireon::audit::from_hex(text);
    bool is_hex = text.size() == 64 && std::all_of(text.begin(), text.end(), [](char c) {
                      return std::isxdigit(static_cast<unsigned char>(c)) != 0;
                  });
    if (hash.has_value() != is_hex) fail("from_hex accepted or refused the wrong text", std::string(text));
    if (!hash) return;
    std::string lower(text);
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    if (kaireon::audit::hex(*hash) != lower) fail("hex(from_hex(text)) is not text in lowercase", lower);
}

// check_verdict checks `verdict` against the chain it judged.
void check_verdict(const Verdict& verdict, const std::vector<SealedEntry>& chain,
                   const std::vector<int64_t>& unsealed) {
    const auto size = static_cast<int64_t>(chain.size());
    if (verdict.valid != !verdict.first_broken_id.has_value() || verdict.valid != !verdict.reason.has_value()) {
        fail("valid disagrees with firstBrokenId / reason", describe(verdict));
    }
    if (verdict.checked < 0 || verdict.checked > size) fail("checked out of range", describe(verdict));
    auto json = verdict.to_json();
    std::vector<std::string> keys;
    for (const auto& [key, value] : json.items()) keys.push_back(key);
    if (keys != std::vector<std::string>{"valid", "checked", "firstBrokenId", "reason"}) {
        fail("to_json keys", json.dump());
    }

    // The entries before the break are good, checked independently.
    Hash prev = kaireon::audit::genesis();
    for (int64_t i = 0; i < verdict.checked; ++i) {
        const auto& entry = chain[static_cast<size_t>(i)];
        if (entry.position != i + 1 || entry.prev_hash != prev || !entry.fields ||
            kaireon::audit::link_hash(prev, *entry.fields) != entry.hash) {
            fail("an entry counted as checked is broken", describe(verdict));
        }
        prev = entry.hash;
    }

    if (verdict.valid) {
        if (verdict.checked != size || !unsealed.empty()) fail("valid, yet not everything is good", describe(verdict));
        return;
    }
    const int64_t id = *verdict.first_broken_id;
    const std::string row = "row " + std::to_string(id);
    const std::string& reason = *verdict.reason;
    if (verdict.checked == size) {
        if (unsealed.empty() || id != *std::min_element(unsealed.begin(), unsealed.end()) ||
            reason != row + " is not in the chain (added after sealing)") {
            fail("a whole chain checked, yet not an unsealed row", describe(verdict));
        }
        return;
    }
    const auto& entry = chain[static_cast<size_t>(verdict.checked)];
    if (id != entry.audit_id) fail("firstBrokenId is not the entry at index checked", describe(verdict));
    const int64_t expected = verdict.checked + 1;
    bool ok = false;
    if (entry.position != expected) {
        ok = reason == "seals out of order" || reason == "seal " + std::to_string(expected) + " is missing";
    } else if (entry.prev_hash != prev) {
        ok = reason == "seal of " + row + " does not follow the previous seal";
    } else if (!entry.fields) {
        ok = reason == row + " was deleted";
    } else {
        ok = reason == row + " was modified" && kaireon::audit::link_hash(prev, *entry.fields) != entry.hash;
    }
    if (!ok) fail("the reason does not match the break", describe(verdict));
}

void run(const uint8_t* data, size_t size) {
    Reader in(data, size);
    const size_t rows = in.byte() % 17;
    std::vector<SealedEntry> chain;
    Hash prev = kaireon::audit::genesis();
    int64_t id = 0;
    for (size_t i = 0; i < rows; ++i) {
        id += 1 + in.byte() % 4;
        std::vector<std::string> fields;
        const size_t count = in.byte() % 7;
        for (size_t f = 0; f < count; ++f) fields.push_back(in.bytes(in.byte() % 24));
        SealedEntry entry;
        entry.position = static_cast<int64_t>(i) + 1;
        entry.audit_id = id;
        entry.prev_hash = prev;
        entry.hash = kaireon::audit::link_hash(prev, fields);
        entry.fields = std::move(fields);
        prev = entry.hash;
        chain.push_back(std::move(entry));
    }

    Verdict clean = kaireon::audit::verify(chain, {});
    if (!clean.valid || clean.checked != static_cast<int64_t>(chain.size())) {
        fail("an untampered chain does not verify", describe(clean));
    }
    check_verdict(clean, chain, {});

    std::vector<int64_t> unsealed;
    const size_t operations = in.byte() % 5;
    for (size_t n = 0; n < operations && !in.done(); ++n) {
        const uint8_t op = in.byte() % 9;
        if (op == 8) {
            unsealed.push_back(in.int64());
            continue;
        }
        if (chain.empty()) break;
        const size_t at = in.byte() % chain.size();
        auto& entry = chain[at];
        switch (op) {
            case 0:
                if (entry.fields && !entry.fields->empty()) {
                    auto& field = (*entry.fields)[in.byte() % entry.fields->size()];
                    if (field.empty()) {
                        field.push_back(static_cast<char>(in.byte()));
                    } else {
                        field[in.byte() % field.size()] ^= static_cast<char>(in.byte());
                    }
                } else if (entry.fields) {
                    entry.fields->push_back(in.bytes(in.byte() % 8));
                }
                break;
            case 1: entry.fields.reset(); break;
            case 2: chain.erase(chain.begin() + static_cast<std::ptrdiff_t>(at)); break;
            case 3: std::swap(chain[at], chain[in.byte() % chain.size()]); break;
            case 4: entry.hash[in.byte() % 32] ^= in.byte(); break;
            case 5: entry.prev_hash[in.byte() % 32] ^= in.byte(); break;
            case 6:
                // A small step (wrapping, never signed overflow) or any value.
                entry.position = in.byte() < 128
                                     ? static_cast<int64_t>(static_cast<uint64_t>(entry.position) +
                                                            static_cast<uint64_t>(static_cast<int8_t>(in.byte())))
                                     : in.int64();
                break;
            default:
                chain.insert(chain.begin() + static_cast<std::ptrdiff_t>(at), chain[in.byte() % chain.size()]);
                break;
        }
    }
    check_verdict(kaireon::audit::verify(chain, unsealed), chain, unsealed);

    // The rest of the input, and its first 64 bytes, as hex.
    std::string rest = in.bytes(1000);
    check_hex(rest);
    check_hex(std::string_view(rest).substr(0, 64));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    try {
        run(data, size);
    } catch (const std::exception& e) {
        fail("exception", e.what());
    } catch (...) {
        fail("non-std exception", "?");
    }
    return 0;
}
