#include "core/license.h"

#include "core/error.h"

#include <array>
#include <cmath>
#include <ctime>
#include <limits>

namespace kaireon::license {
namespace {

constexpr std::array<std::pair<std::string_view, Tier>, 3> kTiers{{
    {"community", Tier::Community},
    {"professional", Tier::Professional},
    {"enterprise", Tier::Enterprise},
}};

// numeric_date reads a NumericDate claim (seconds since the epoch; JWT allows
// fractions, which are truncated).
std::optional<int64_t> numeric_date(const Json& payload, const char* name) {
    auto it = payload.find(name);
    if (it == payload.end() || it->is_null()) return std::nullopt;
    if (!it->is_number()) jwt::reject("bad_claim", std::string("claim \"") + name + "\" must be a number of seconds");
    double value = it->get<double>();
    if (!std::isfinite(value) || value < 0 || value > 253402300799.0) {  // up to 9999-12-31
        jwt::reject("bad_claim", std::string("claim \"") + name + "\" is out of range");
    }
    return static_cast<int64_t>(value);
}

std::string required_string(const Json& payload, const char* name, const char* reason) {
    auto it = payload.find(name);
    if (it == payload.end() || !it->is_string() || it->get<std::string>().empty()) {
        jwt::reject(reason, std::string("the licence has no \"") + name + "\" claim");
    }
    return it->get<std::string>();
}

Json optional_object(const Json& payload, const char* name) {
    auto it = payload.find(name);
    if (it == payload.end() || it->is_null()) return Json::object();
    if (!it->is_object()) jwt::reject("bad_claim", std::string("claim \"") + name + "\" must be an object");
    return *it;
}

}  // namespace

std::optional<Tier> tier_from_name(std::string_view name) {
    for (const auto& [text, tier] : kTiers) {
        if (text == name) return tier;
    }
    return std::nullopt;
}

std::string_view tier_name(Tier tier) { return kTiers.at(static_cast<size_t>(tier)).first; }

Claims read_claims(const Json& payload) {
    Claims claims;
    claims.sub = required_string(payload, "sub", "missing_sub");
    claims.jti = required_string(payload, "jti", "missing_jti");
    auto exp = numeric_date(payload, "exp");
    if (!exp) jwt::reject("missing_exp", "the licence has no \"exp\" claim: licences must expire");
    claims.exp = *exp;
    claims.nbf = numeric_date(payload, "nbf");
    claims.iat = numeric_date(payload, "iat");
    auto iss = payload.find("iss");
    if (iss != payload.end() && !iss->is_null()) {
        if (!iss->is_string()) jwt::reject("bad_claim", "claim \"iss\" must be a string");
        claims.iss = iss->get<std::string>();
    }
    auto tier = payload.find("tier");
    if (tier == payload.end() || !tier->is_string()) jwt::reject("unknown_tier", "the licence has no \"tier\" claim");
    auto known = tier_from_name(tier->get<std::string>());
    if (!known) jwt::reject("unknown_tier", "unknown tier \"" + tier->get<std::string>() + "\"");
    claims.tier = *known;
    claims.limits = optional_object(payload, "limits");
    claims.features = optional_object(payload, "features");
    return claims;
}

void check_current(const Claims& claims, int64_t now, std::string_view required_issuer, bool jti_revoked) {
    if (jti_revoked) jwt::reject("revoked_jti", "licence \"" + claims.jti + "\" has been revoked");
    if (!required_issuer.empty() && claims.iss != required_issuer) {
        jwt::reject("wrong_issuer", "the licence was issued by \"" + claims.iss + "\", not by \"" +
                                        std::string(required_issuer) + "\"");
    }
    if (claims.nbf && now + kLeewaySeconds < *claims.nbf) {
        jwt::reject("not_yet_valid", "the licence is not valid before " + iso8601(*claims.nbf));
    }
    if (now - kLeewaySeconds >= claims.exp) jwt::reject("expired", "the licence expired at " + iso8601(claims.exp));
}

Claims verify_token(std::string_view token, const std::function<jwt::KeyLookup(const std::string& kid)>& lookup) {
    jwt::Token parsed = jwt::parse(token);
    jwt::verify_signature(parsed, lookup);
    return read_claims(parsed.payload);
}

std::string_view state_name(State state) {
    switch (state) {
        case State::Valid: return "valid";
        case State::Grace: return "grace";
        case State::Fallback: return "fallback";
        case State::Missing: return "missing";
    }
    return "missing";
}

Status evaluate(bool has_license, const std::optional<Claims>& claims, const std::optional<Failure>& failure,
                const Stored& stored, int64_t now) {
    Status status;
    if (!has_license) {
        status.state = State::Missing;
        status.effective_tier = Tier::Community;
        return status;
    }
    if (claims) {
        status.tier = claims->tier;
        status.expires_at = claims->exp;
    } else {
        status.tier = stored.tier;
        status.expires_at = stored.expires_at;
    }
    if (!failure) {
        status.state = State::Valid;
        status.effective_tier = claims ? claims->tier : Tier::Community;
        return status;
    }
    status.reason = failure->message;
    status.reason_code = failure->reason_code;
    int64_t first = stored.first_failure ? std::min(*stored.first_failure, failure->since) : failure->since;
    status.grace_until = first + kGraceSeconds;
    if (now < *status.grace_until) {
        status.state = State::Grace;
        status.effective_tier = stored.verified_tier;
    } else {
        status.state = State::Fallback;
        status.effective_tier = Tier::Community;
    }
    return status;
}

std::optional<int> expiring_notice(int64_t exp, int64_t now) {
    if (now >= exp) return std::nullopt;
    std::optional<int> due;
    for (int days : kExpiringNoticeDays) {
        if (now >= exp - int64_t{days} * 86400) due = days;  // thresholds descend: keep the smallest reached
    }
    return due;
}

Json status_json(const std::string& tenant, const Status& status) {
    Json out = Json::object();
    out["tenant"] = tenant;
    out["tier"] = status.tier ? Json(std::string(tier_name(*status.tier))) : Json(nullptr);
    out["effectiveTier"] = std::string(tier_name(status.effective_tier));
    out["state"] = std::string(state_name(status.state));
    out["expiresAt"] = status.expires_at ? Json(iso8601(*status.expires_at)) : Json(nullptr);
    out["graceUntil"] = status.grace_until ? Json(iso8601(*status.grace_until)) : Json(nullptr);
    out["reason"] = status.reason.empty() ? Json(nullptr) : Json(status.reason);
    return out;
}

std::string iso8601(int64_t seconds) {
    std::time_t t = static_cast<std::time_t>(seconds);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buffer[32];
    std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buffer;
}

}  // namespace kaireon::license
