// license.h - licence claims, tiers, and the licence state machine (valid,
// grace, fallback, missing). Pure: time is always passed in (Unix seconds),
// so grace and expiry are tested without sleeping.
#pragma once
#include "core/pure.h"

#include "core/json.h"
#include "core/jwt.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kaireon::license {

enum class Tier { Community, Professional, Enterprise };  // in rank order

std::optional<Tier> tier_from_name(std::string_view name);
std::string_view tier_name(Tier tier);

inline constexpr int64_t kLeewaySeconds = 60;
inline constexpr int64_t kGraceSeconds = 7 * 86400;
inline constexpr int kExpiringNoticeDays[] = {14, 7, 1};

// Claims are the verified contents of a licence token.
struct Claims {
    std::string sub;  // the tenant id
    Tier tier = Tier::Community;
    std::string jti;
    std::string iss;  // empty when absent
    std::optional<int64_t> iat;
    std::optional<int64_t> nbf;
    int64_t exp = 0;
    Json limits = Json::object();    // overrides of numeric entitlements
    Json features = Json::object();  // overrides of boolean/config entitlements
};

// read_claims returns the claims of a payload, or throws
// Error(LicenseInvalid) with reason missing_sub, missing_jti, missing_exp,
// bad_claim or unknown_tier.
Claims read_claims(const Json& payload);

// Checks that depend on the moment or on revocations, made on every call:
// nbf/exp within the leeway, the issuer when one is required, the jti not
// revoked. Each throws Error(LicenseInvalid) with reason not_yet_valid,
// expired, wrong_issuer or revoked_jti.
void check_current(const Claims& claims, int64_t now, std::string_view required_issuer, bool jti_revoked);

// verify_token does everything that does not depend on the moment: parse,
// signature against the key ring, claims. Its result can be cached per token.
Claims verify_token(std::string_view token,
                    const std::function<jwt::KeyLookup(const std::string& kid)>& lookup);

enum class State { Valid, Grace, Fallback, Missing };
std::string_view state_name(State state);

// What the database remembers about a tenant's stored licence.
struct Stored {
    Tier verified_tier = Tier::Community;   // the tier when it last verified
    std::optional<int64_t> first_failure;   // when it was first seen failing
    std::optional<Tier> tier;               // as verified at install: shown when the token
    std::optional<int64_t> expires_at;      //   no longer verifies at all
};

// Status is the answer of license_status().
struct Status {
    State state = State::Missing;
    std::optional<Tier> tier;          // the licence's own tier, when known
    Tier effective_tier = Tier::Community;
    std::optional<int64_t> expires_at;
    std::optional<int64_t> grace_until;
    std::string reason;                // why it does not verify; empty when valid
    std::string reason_code;           // the stable slug of the reason
};

// Failure describes a stored licence that does not verify now.
struct Failure {
    std::string reason_code;
    std::string message;
    int64_t since = 0;  // when it started failing: exp for an expiry, else now
};

// evaluate returns the state of a tenant: no licence = Missing (Community);
// verifying = Valid at its tier; failing = Grace at the last verified tier
// for 7 days after the first failure, then Fallback to Community.
// `claims` is what the token says (when it parsed at all).
Status evaluate(bool has_license, const std::optional<Claims>& claims, const std::optional<Failure>& failure,
                const Stored& stored, int64_t now);

// expiring_notice returns the notice (14, 7 or 1 days) due for a licence
// expiring at `exp`: the smallest threshold already reached, if any, while
// the licence has not expired.
std::optional<int> expiring_notice(int64_t exp, int64_t now);

// status_json returns a Status as license_status() shows it.
Json status_json(const std::string& tenant, const Status& status);

// iso8601 returns Unix seconds as "2026-03-01T00:00:00Z".
std::string iso8601(int64_t seconds);

}  // namespace kaireon::license
