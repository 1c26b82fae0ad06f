// license_test.cpp - licence claims, the per-call checks and the licence
// state machine (src/core/license.h). Time is always passed in, so expiry,
// leeway and grace are tested at their exact boundaries without sleeping.
#include "core/error.h"
#include "core/json.h"
#include "core/jwt.h"
#include "core/license.h"

#include <gtest/gtest.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace kaireon::license {
namespace {

constexpr int64_t kDay = 86400;
constexpr int64_t kNow = 1767225600;  // 2026-01-01T00:00:00Z

Json payload() {
    return Json{{"iss", "kaireon"},        {"sub", "acme"},         {"tier", "professional"}, {"iat", kNow - kDay},
                {"nbf", kNow - kDay},      {"exp", kNow + 365 * kDay}, {"jti", "acme-2026-1"}};
}

template <typename Action>
::testing::AssertionResult Rejected(Action&& action, std::string_view reason) {
    try {
        action();
    } catch (const Error& e) {
        if (e.code() != ErrorCode::LicenseInvalid) {
            return ::testing::AssertionFailure() << "code " << error_info(e.code()).name << " (" << e.what() << ")";
        }
        auto it = e.detail().find("reason");
        if (it == e.detail().end() || *it != reason) {
            return ::testing::AssertionFailure() << "reason " << (it == e.detail().end() ? "(none)" : it->dump())
                                                 << ", expected \"" << reason << "\" (" << e.what() << ")";
        }
        return ::testing::AssertionSuccess() << e.what();
    } catch (const std::exception& e) {
        return ::testing::AssertionFailure() << "threw a non-kaireon exception: " << e.what();
    }
    return ::testing::AssertionFailure() << "did not throw (expected reason \"" << reason << "\")";
}

::testing::AssertionResult ClaimsRejected(const Json& p, std::string_view reason) {
    return Rejected([&] { read_claims(p); }, reason);
}

Json with(Json p, const std::string& name, Json value) {
    p[name] = std::move(value);
    return p;
}

Json without(Json p, const std::string& name) {
    p.erase(name);
    return p;
}

// --- names -------------------------------------------------------------------------

TEST(LicenseNames, TiersAndStates) {
    for (Tier tier : {Tier::Community, Tier::Professional, Tier::Enterprise}) {
        EXPECT_EQ(tier_from_name(tier_name(tier)), tier);
    }
    EXPECT_EQ(tier_name(Tier::Community), "community");
    EXPECT_EQ(tier_name(Tier::Professional), "professional");
    EXPECT_EQ(tier_name(Tier::Enterprise), "enterprise");
    EXPECT_FALSE(tier_from_name("Enterprise").has_value());
    EXPECT_FALSE(tier_from_name("").has_value());
    EXPECT_LT(Tier::Community, Tier::Professional);
    EXPECT_LT(Tier::Professional, Tier::Enterprise);
    EXPECT_EQ(state_name(State::Valid), "valid");
    EXPECT_EQ(state_name(State::Grace), "grace");
    EXPECT_EQ(state_name(State::Fallback), "fallback");
    EXPECT_EQ(state_name(State::Missing), "missing");
}

// --- read_claims ---------------------------------------------------------------------

TEST(ReadClaims, ReadsEveryClaim) {
    Json p = payload();
    p["limits"] = Json{{"decisions_per_month", 750000}};
    p["features"] = Json{{"experiments.bandit", {{"enabled", true}}}};
    Claims c = read_claims(p);
    EXPECT_EQ(c.sub, "acme");
    EXPECT_EQ(c.tier, Tier::Professional);
    EXPECT_EQ(c.jti, "acme-2026-1");
    EXPECT_EQ(c.iss, "kaireon");
    EXPECT_EQ(c.iat, kNow - kDay);
    EXPECT_EQ(c.nbf, kNow - kDay);
    EXPECT_EQ(c.exp, kNow + 365 * kDay);
    EXPECT_EQ(c.limits, (Json{{"decisions_per_month", 750000}}));
    EXPECT_EQ(c.features, (Json{{"experiments.bandit", {{"enabled", true}}}}));
}

TEST(ReadClaims, OptionalClaimsAbsentOrNull) {
    Json minimal{{"sub", "acme"}, {"tier", "community"}, {"exp", kNow}, {"jti", "j"}};
    Claims c = read_claims(minimal);
    EXPECT_EQ(c.tier, Tier::Community);
    EXPECT_EQ(c.iss, "");
    EXPECT_FALSE(c.iat.has_value());
    EXPECT_FALSE(c.nbf.has_value());
    EXPECT_EQ(c.limits, Json::object());
    EXPECT_EQ(c.features, Json::object());
    for (const char* name : {"iss", "iat", "nbf", "limits", "features"}) {
        EXPECT_NO_THROW(read_claims(with(minimal, name, nullptr))) << name;
    }
    Claims nulls = read_claims(with(with(minimal, "limits", nullptr), "nbf", nullptr));
    EXPECT_EQ(nulls.limits, Json::object());
    EXPECT_FALSE(nulls.nbf.has_value());
}

TEST(ReadClaims, MissingSub) {
    EXPECT_TRUE(ClaimsRejected(without(payload(), "sub"), "missing_sub"));
    for (const Json& bad : {Json(""), Json(nullptr), Json(42), Json::array({"acme"}), Json{{"id", "acme"}}}) {
        EXPECT_TRUE(ClaimsRejected(with(payload(), "sub", bad), "missing_sub")) << bad.dump();
    }
}

TEST(ReadClaims, MissingJti) {
    EXPECT_TRUE(ClaimsRejected(without(payload(), "jti"), "missing_jti"));
    for (const Json& bad : {Json(""), Json(nullptr), Json(1), Json(true)}) {
        EXPECT_TRUE(ClaimsRejected(with(payload(), "jti", bad), "missing_jti")) << bad.dump();
    }
}

TEST(ReadClaims, MissingExp) {
    EXPECT_TRUE(ClaimsRejected(without(payload(), "exp"), "missing_exp"));
    EXPECT_TRUE(ClaimsRejected(with(payload(), "exp", nullptr), "missing_exp"));
}

TEST(ReadClaims, BadNumericDates) {
    for (const char* name : {"exp", "nbf", "iat"}) {
        for (const Json& bad : {Json("1900000000"), Json(true), Json::array({1}), Json::object(), Json(-1),
                                Json(-0.5), Json(253402300800LL), Json(1e300), Json(18446744073709551615ULL)}) {
            EXPECT_TRUE(ClaimsRejected(with(payload(), name, bad), "bad_claim")) << name << " = " << bad.dump();
        }
    }
}

TEST(ReadClaims, NumericDateRange) {
    EXPECT_EQ(read_claims(with(payload(), "exp", 253402300799LL)).exp, 253402300799LL);  // 9999-12-31T23:59:59Z
    EXPECT_EQ(read_claims(with(payload(), "exp", 253402300799.0)).exp, 253402300799LL);
    EXPECT_EQ(read_claims(with(payload(), "exp", 0)).exp, 0);
    EXPECT_EQ(read_claims(with(payload(), "nbf", 0)).nbf, 0);
}

TEST(ReadClaims, FractionalNumericDatesAreTruncated) {
    Json p = payload();
    p["exp"] = 1900000000.999;
    p["nbf"] = 1700000000.5;
    p["iat"] = 0.25;
    Claims c = read_claims(p);
    EXPECT_EQ(c.exp, 1900000000);
    EXPECT_EQ(c.nbf, 1700000000);
    EXPECT_EQ(c.iat, 0);
}

TEST(ReadClaims, IssMustBeAString) {
    for (const Json& bad : {Json(1), Json(true), Json::array({"kaireon"}), Json::object()}) {
        EXPECT_TRUE(ClaimsRejected(with(payload(), "iss", bad), "bad_claim")) << bad.dump();
    }
}

TEST(ReadClaims, LimitsAndFeaturesMustBeObjects) {
    for (const char* name : {"limits", "features"}) {
        for (const Json& bad : {Json::array(), Json::array({1}), Json("{}"), Json(0), Json(false)}) {
            EXPECT_TRUE(ClaimsRejected(with(payload(), name, bad), "bad_claim")) << name << " = " << bad.dump();
        }
    }
    Json limits{{"decisions_per_month", 10}};
    EXPECT_EQ(read_claims(with(payload(), "limits", limits)).limits, limits);
    EXPECT_EQ(read_claims(with(payload(), "features", limits)).features, limits);
    EXPECT_EQ(read_claims(with(payload(), "features", Json::object())).features, Json::object());
}

TEST(ReadClaims, UnknownTier) {
    EXPECT_TRUE(ClaimsRejected(without(payload(), "tier"), "unknown_tier"));
    for (const Json& bad : {Json("gold"), Json("Enterprise"), Json("PROFESSIONAL"), Json(""), Json(" community"),
                            Json(nullptr), Json(2), Json::array({"enterprise"})}) {
        EXPECT_TRUE(ClaimsRejected(with(payload(), "tier", bad), "unknown_tier")) << bad.dump();
    }
    EXPECT_EQ(read_claims(with(payload(), "tier", "enterprise")).tier, Tier::Enterprise);
}

TEST(ReadClaims, FirstProblemIsReported) {
    // sub, then jti, then exp, then tier.
    EXPECT_TRUE(ClaimsRejected(Json::object(), "missing_sub"));
    EXPECT_TRUE(ClaimsRejected(Json{{"sub", "acme"}}, "missing_jti"));
    EXPECT_TRUE(ClaimsRejected(Json{{"sub", "acme"}, {"jti", "j"}}, "missing_exp"));
    EXPECT_TRUE(ClaimsRejected(Json{{"sub", "acme"}, {"jti", "j"}, {"exp", 1}}, "unknown_tier"));
}

// --- check_current ----------------------------------------------------------------------

Claims claims_at(int64_t nbf, int64_t exp, std::string iss = "") {
    Claims c;
    c.sub = "acme";
    c.tier = Tier::Professional;
    c.jti = "acme-2026-1";
    c.iss = std::move(iss);
    c.nbf = nbf;
    c.exp = exp;
    return c;
}

TEST(CheckCurrent, NotBeforeHonoursTheLeewayExactly) {
    const int64_t nbf = kNow;
    Claims c = claims_at(nbf, kNow + 365 * kDay);
    EXPECT_NO_THROW(check_current(c, nbf, "", false));
    EXPECT_NO_THROW(check_current(c, nbf - kLeewaySeconds, "", false));  // 60 s early: still accepted
    EXPECT_TRUE(Rejected([&] { check_current(c, nbf - kLeewaySeconds - 1, "", false); }, "not_yet_valid"));
    EXPECT_TRUE(Rejected([&] { check_current(c, nbf - kDay, "", false); }, "not_yet_valid"));
}

TEST(CheckCurrent, ExpiryHonoursTheLeewayExactly) {
    // exp is the first moment the licence is no longer valid; the leeway
    // extends that by 60 s: valid while now < exp + 60.
    const int64_t exp = kNow;
    Claims c = claims_at(kNow - kDay, exp);
    EXPECT_NO_THROW(check_current(c, exp - 1, "", false));
    EXPECT_NO_THROW(check_current(c, exp, "", false));
    EXPECT_NO_THROW(check_current(c, exp + kLeewaySeconds - 1, "", false));
    EXPECT_TRUE(Rejected([&] { check_current(c, exp + kLeewaySeconds, "", false); }, "expired"));
    EXPECT_TRUE(Rejected([&] { check_current(c, exp + kDay, "", false); }, "expired"));
}

TEST(CheckCurrent, WithoutNbfOnlyExpMatters) {
    Claims c = claims_at(0, kNow);
    c.nbf.reset();
    EXPECT_NO_THROW(check_current(c, 0, "", false));
    EXPECT_NO_THROW(check_current(c, kNow - 10 * 365 * kDay, "", false));
}

TEST(CheckCurrent, ExpiredMessageNamesTheMoment) {
    Claims c = claims_at(0, 1709164800);  // 2024-02-29T00:00:00Z
    try {
        check_current(c, 1709164800 + kDay, "", false);
        FAIL() << "not refused";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("2024-02-29T00:00:00Z"), std::string::npos) << e.what();
    }
}

TEST(CheckCurrent, Issuer) {
    Claims mine = claims_at(kNow - kDay, kNow + kDay, "kaireon");
    Claims none = claims_at(kNow - kDay, kNow + kDay, "");
    Claims other = claims_at(kNow - kDay, kNow + kDay, "someone-else");
    // Not required: any issuer, or none.
    EXPECT_NO_THROW(check_current(mine, kNow, "", false));
    EXPECT_NO_THROW(check_current(none, kNow, "", false));
    EXPECT_NO_THROW(check_current(other, kNow, "", false));
    // Required: exactly that one.
    EXPECT_NO_THROW(check_current(mine, kNow, "kaireon", false));
    EXPECT_TRUE(Rejected([&] { check_current(none, kNow, "kaireon", false); }, "wrong_issuer"));
    EXPECT_TRUE(Rejected([&] { check_current(other, kNow, "kaireon", false); }, "wrong_issuer"));
    EXPECT_TRUE(Rejected([&] { check_current(mine, kNow, "Kaireon", false); }, "wrong_issuer"));
    EXPECT_TRUE(Rejected([&] { check_current(mine, kNow, "kaireon ", false); }, "wrong_issuer"));
}

TEST(CheckCurrent, RevokedJti) {
    Claims c = claims_at(kNow - kDay, kNow + kDay);
    EXPECT_TRUE(Rejected([&] { check_current(c, kNow, "", true); }, "revoked_jti"));
    // Revocation is reported before anything else, also for an expired licence.
    EXPECT_TRUE(Rejected([&] { check_current(c, kNow + 30 * kDay, "x", true); }, "revoked_jti"));
}

TEST(CheckCurrent, OrderIssuerThenNbfThenExp) {
    Claims c = claims_at(kNow + kDay, kNow + 2 * kDay, "other");
    EXPECT_TRUE(Rejected([&] { check_current(c, kNow, "kaireon", false); }, "wrong_issuer"));
    Claims inverted = claims_at(kNow + kDay, kNow - kDay);  // nbf after exp
    EXPECT_TRUE(Rejected([&] { check_current(inverted, kNow, "", false); }, "not_yet_valid"));
}

// --- verify_token ------------------------------------------------------------------------------

struct PkeyFree {
    void operator()(EVP_PKEY* p) const noexcept { EVP_PKEY_free(p); }
};

EVP_PKEY* rsa_key() {
    static std::unique_ptr<EVP_PKEY, PkeyFree> key(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048}));
    if (!key) throw std::runtime_error("RSA key generation failed");
    return key.get();
}

std::string b64url(std::string_view bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
    int length = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                 reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
    out.resize(static_cast<size_t>(length));
    while (!out.empty() && out.back() == '=') out.pop_back();
    std::replace(out.begin(), out.end(), '+', '-');
    std::replace(out.begin(), out.end(), '/', '_');
    return out;
}

std::string mint_rs256(const Json& claims) {
    std::string input = b64url(Json{{"alg", "RS256"}, {"typ", "JWT"}, {"kid", "k"}}.dump()) + "." + b64url(claims.dump());
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    size_t length = 0;
    const auto* data = reinterpret_cast<const unsigned char*>(input.data());
    if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, rsa_key()) != 1 ||
        EVP_DigestSign(ctx.get(), nullptr, &length, data, input.size()) != 1) {
        throw std::runtime_error("signing failed");
    }
    std::string signature(length, '\0');
    if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &length, data, input.size()) != 1) {
        throw std::runtime_error("signing failed");
    }
    signature.resize(length);
    return input + "." + b64url(signature);
}

std::function<jwt::KeyLookup(const std::string&)> ring() {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
    PEM_write_bio_PUBKEY(bio.get(), rsa_key());
    char* data = nullptr;
    long size = BIO_get_mem_data(bio.get(), &data);
    auto key = std::make_shared<const jwt::PublicKey>(
        jwt::PublicKey::from_pem(std::string_view(data, static_cast<size_t>(size)), jwt::Algorithm::RS256));
    return [key](const std::string& kid) { return kid == "k" ? jwt::KeyLookup{key, false} : jwt::KeyLookup{}; };
}

TEST(VerifyToken, ReturnsTheClaimsOfAValidToken) {
    Claims c = verify_token(mint_rs256(payload()), ring());
    EXPECT_EQ(c.sub, "acme");
    EXPECT_EQ(c.tier, Tier::Professional);
    EXPECT_EQ(c.exp, kNow + 365 * kDay);
}

TEST(VerifyToken, DoesNotCheckTheMoment) {
    // An expired licence still verifies: expiry is check_current's job (and
    // decides grace), so the result can be cached per token.
    Claims c = verify_token(mint_rs256(with(payload(), "exp", 1)), ring());
    EXPECT_EQ(c.exp, 1);
    EXPECT_TRUE(Rejected([&] { check_current(c, kNow, "", false); }, "expired"));
}

TEST(VerifyToken, ClaimsAreCheckedAfterTheSignature) {
    auto lookup = ring();
    EXPECT_TRUE(Rejected([&] { verify_token(mint_rs256(without(payload(), "sub")), lookup); }, "missing_sub"));
    EXPECT_TRUE(Rejected([&] { verify_token(mint_rs256(with(payload(), "tier", "gold")), lookup); }, "unknown_tier"));
    // Bad claims under a bad signature: the signature is what is reported.
    std::string token = mint_rs256(without(payload(), "sub"));
    token.back() = token.back() == 'A' ? 'Q' : 'A';
    EXPECT_TRUE(Rejected([&] { verify_token(token, lookup); }, "bad_signature"));
    EXPECT_TRUE(Rejected([&] { verify_token("", lookup); }, "segments"));
}

// --- evaluate ------------------------------------------------------------------------------

Claims enterprise_claims(int64_t exp) {
    Claims c = claims_at(kNow - 365 * kDay, exp);
    c.tier = Tier::Enterprise;
    return c;
}

Failure failure(const char* code, int64_t since) { return Failure{code, std::string("because ") + code, since}; }

TEST(Evaluate, MissingLicenceIsCommunity) {
    Status s = evaluate(false, std::nullopt, std::nullopt, Stored{}, kNow);
    EXPECT_EQ(s.state, State::Missing);
    EXPECT_EQ(s.effective_tier, Tier::Community);
    EXPECT_FALSE(s.tier.has_value());
    EXPECT_FALSE(s.expires_at.has_value());
    EXPECT_FALSE(s.grace_until.has_value());
    EXPECT_EQ(s.reason, "");
    EXPECT_EQ(s.reason_code, "");
    // has_license decides, whatever else is passed.
    Stored stored{Tier::Enterprise, kNow - kDay, Tier::Enterprise, kNow + kDay};
    Status also = evaluate(false, enterprise_claims(kNow + kDay), failure("expired", kNow), stored, kNow);
    EXPECT_EQ(also.state, State::Missing);
    EXPECT_EQ(also.effective_tier, Tier::Community);
}

TEST(Evaluate, ValidAtItsTier) {
    Stored stored{Tier::Professional, std::nullopt, Tier::Professional, kNow};
    Status s = evaluate(true, enterprise_claims(kNow + 30 * kDay), std::nullopt, stored, kNow);
    EXPECT_EQ(s.state, State::Valid);
    EXPECT_EQ(s.tier, Tier::Enterprise);
    EXPECT_EQ(s.effective_tier, Tier::Enterprise);
    EXPECT_EQ(s.expires_at, kNow + 30 * kDay);
    EXPECT_FALSE(s.grace_until.has_value());
    EXPECT_EQ(s.reason, "");
    EXPECT_EQ(s.reason_code, "");
}

TEST(Evaluate, GraceStartsAtTheFailuresSince) {
    // An expiry fails since exp, not since the first call that noticed it.
    const int64_t exp = kNow - 3 * kDay;
    Stored stored{Tier::Enterprise, std::nullopt, Tier::Enterprise, exp};
    Status s = evaluate(true, enterprise_claims(exp), failure("expired", exp), stored, kNow);
    EXPECT_EQ(s.state, State::Grace);
    EXPECT_EQ(s.grace_until, exp + kGraceSeconds);
    EXPECT_EQ(s.effective_tier, Tier::Enterprise);
    EXPECT_EQ(s.tier, Tier::Enterprise);
    EXPECT_EQ(s.expires_at, exp);
    EXPECT_EQ(s.reason, "because expired");
    EXPECT_EQ(s.reason_code, "expired");
}

TEST(Evaluate, GraceIsAtTheLastVerifiedTier) {
    // The token says enterprise, but it last verified as professional.
    Stored stored{Tier::Professional, std::nullopt, Tier::Enterprise, kNow + kDay};
    Status s = evaluate(true, enterprise_claims(kNow + kDay), failure("revoked_kid", kNow), stored, kNow);
    EXPECT_EQ(s.state, State::Grace);
    EXPECT_EQ(s.tier, Tier::Enterprise);
    EXPECT_EQ(s.effective_tier, Tier::Professional);
    EXPECT_EQ(s.grace_until, kNow + kGraceSeconds);
}

TEST(Evaluate, FallbackExactlyAtGraceUntil) {
    const int64_t since = kNow;
    Stored stored{Tier::Enterprise, std::nullopt, Tier::Enterprise, kNow + 30 * kDay};
    auto at = [&](int64_t now) {
        return evaluate(true, enterprise_claims(kNow + 30 * kDay), failure("wrong_issuer", since), stored, now);
    };
    Status before = at(since + kGraceSeconds - 1);
    EXPECT_EQ(before.state, State::Grace);
    EXPECT_EQ(before.effective_tier, Tier::Enterprise);
    Status at_end = at(since + kGraceSeconds);
    EXPECT_EQ(at_end.state, State::Fallback);
    EXPECT_EQ(at_end.effective_tier, Tier::Community);
    EXPECT_EQ(at_end.grace_until, since + kGraceSeconds);
    EXPECT_EQ(at_end.tier, Tier::Enterprise);  // still shows what the licence says
    EXPECT_EQ(at_end.reason_code, "wrong_issuer");
    EXPECT_EQ(at(since + 365 * kDay).state, State::Fallback);
    EXPECT_EQ(kGraceSeconds, 7 * kDay);
}

TEST(Evaluate, StoredFirstFailureEarlierThanSinceWins) {
    const int64_t first = kNow - 5 * kDay;
    Stored stored{Tier::Professional, first, Tier::Professional, kNow + kDay};
    Status s = evaluate(true, claims_at(0, kNow + kDay), failure("revoked_jti", kNow), stored, kNow);
    EXPECT_EQ(s.grace_until, first + kGraceSeconds);
    EXPECT_EQ(s.state, State::Grace);
    EXPECT_EQ(evaluate(true, claims_at(0, kNow + kDay), failure("revoked_jti", kNow), stored, first + kGraceSeconds)
                  .state,
              State::Fallback);
}

TEST(Evaluate, SinceEarlierThanStoredFirstFailureWins) {
    // A later-recorded first failure never stretches grace past since + 7 days.
    const int64_t since = kNow - 6 * kDay;
    Stored stored{Tier::Professional, kNow - kDay, Tier::Professional, since};
    Status s = evaluate(true, claims_at(0, since), failure("expired", since), stored, kNow);
    EXPECT_EQ(s.grace_until, since + kGraceSeconds);
}

TEST(Evaluate, ClaimsAbsentShowsStoredTierAndExpiry) {
    // The token no longer parses or verifies: what was verified at install is shown.
    Stored stored{Tier::Enterprise, std::nullopt, Tier::Enterprise, kNow + 90 * kDay};
    Status s = evaluate(true, std::nullopt, failure("unknown_kid", kNow), stored, kNow + kDay);
    EXPECT_EQ(s.state, State::Grace);
    EXPECT_EQ(s.tier, Tier::Enterprise);
    EXPECT_EQ(s.expires_at, kNow + 90 * kDay);
    EXPECT_EQ(s.effective_tier, Tier::Enterprise);
    EXPECT_EQ(s.grace_until, kNow + kGraceSeconds);
    Status unknown = evaluate(true, std::nullopt, failure("bad_signature", kNow), Stored{}, kNow);
    EXPECT_FALSE(unknown.tier.has_value());
    EXPECT_FALSE(unknown.expires_at.has_value());
    EXPECT_EQ(unknown.effective_tier, Tier::Community);
}

TEST(Evaluate, ClaimsWinOverStoredForDisplay) {
    Stored stored{Tier::Professional, std::nullopt, Tier::Professional, kNow + 10 * kDay};
    Status s = evaluate(true, enterprise_claims(kNow + 20 * kDay), failure("revoked_jti", kNow), stored, kNow);
    EXPECT_EQ(s.tier, Tier::Enterprise);
    EXPECT_EQ(s.expires_at, kNow + 20 * kDay);
}

// --- expiring_notice ------------------------------------------------------------------------

TEST(ExpiringNotice, Thresholds) {
    const int64_t exp = kNow;
    EXPECT_EQ(expiring_notice(exp, exp - 30 * kDay), std::nullopt);
    EXPECT_EQ(expiring_notice(exp, exp - 14 * kDay - 1), std::nullopt);
    EXPECT_EQ(expiring_notice(exp, exp - 14 * kDay), 14);
    EXPECT_EQ(expiring_notice(exp, exp - 7 * kDay - 1), 14);
    EXPECT_EQ(expiring_notice(exp, exp - 7 * kDay), 7);
    EXPECT_EQ(expiring_notice(exp, exp - 1 * kDay - 1), 7);
    EXPECT_EQ(expiring_notice(exp, exp - 1 * kDay), 1);
    EXPECT_EQ(expiring_notice(exp, exp - 1), 1);
}

TEST(ExpiringNotice, NoneOnceExpired) {
    const int64_t exp = kNow;
    EXPECT_EQ(expiring_notice(exp, exp), std::nullopt);
    EXPECT_EQ(expiring_notice(exp, exp + 1), std::nullopt);
    EXPECT_EQ(expiring_notice(exp, exp + 30 * kDay), std::nullopt);
}

// --- status_json and iso8601 -------------------------------------------------------------------

TEST(StatusJson, FieldNamesAndOrderWhenValid) {
    Status s;
    s.state = State::Valid;
    s.tier = Tier::Professional;
    s.effective_tier = Tier::Professional;
    s.expires_at = 1827014400;  // 2027-11-24T00:00:00Z
    Json j = status_json("acme", s);
    EXPECT_EQ(j.dump(), R"({"tenant":"acme","tier":"professional","effectiveTier":"professional","state":"valid",)"
                        R"("expiresAt":"2027-11-24T00:00:00Z","graceUntil":null,"reason":null})");
}

TEST(StatusJson, Grace) {
    Stored stored{Tier::Professional, std::nullopt, Tier::Enterprise, 1709164800};
    Status s = evaluate(true, std::nullopt, Failure{"expired", "the licence expired", 1709164800}, stored,
                        1709164800 + kDay);
    Json j = status_json("acme", s);
    EXPECT_EQ(j.dump(), R"({"tenant":"acme","tier":"enterprise","effectiveTier":"professional","state":"grace",)"
                        R"("expiresAt":"2024-02-29T00:00:00Z","graceUntil":"2024-03-07T00:00:00Z",)"
                        R"("reason":"the licence expired"})");
}

TEST(StatusJson, Missing) {
    Json j = status_json("t-1", evaluate(false, std::nullopt, std::nullopt, Stored{}, kNow));
    EXPECT_EQ(j.dump(), R"({"tenant":"t-1","tier":null,"effectiveTier":"community","state":"missing",)"
                        R"("expiresAt":null,"graceUntil":null,"reason":null})");
}

TEST(StatusJson, KeysInSpecOrder) {
    Json j = status_json("acme", Status{});
    std::vector<std::string> keys;
    for (const auto& [key, value] : j.items()) keys.push_back(key);
    EXPECT_EQ(keys, (std::vector<std::string>{"tenant", "tier", "effectiveTier", "state", "expiresAt", "graceUntil",
                                              "reason"}));
}

TEST(Iso8601, Moments) {
    EXPECT_EQ(iso8601(0), "1970-01-01T00:00:00Z");
    EXPECT_EQ(iso8601(951782400), "2000-02-29T00:00:00Z");
    EXPECT_EQ(iso8601(1709164800), "2024-02-29T00:00:00Z");
    EXPECT_EQ(iso8601(1709251199), "2024-02-29T23:59:59Z");
    EXPECT_EQ(iso8601(1709251200), "2024-03-01T00:00:00Z");
    EXPECT_EQ(iso8601(253402300799), "9999-12-31T23:59:59Z");
}

}  // namespace
}  // namespace kaireon::license
