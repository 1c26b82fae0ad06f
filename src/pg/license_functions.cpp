// license_functions.cpp - the SQL API of licences (SPEC section 2).
#include "core/jwt.h"
#include "core/license.h"
#include "core/tenant.h"

#include "pg/clock.h"
#include "pg/events.h"
#include "pg/guard.h"
#include "pg/jsonb.h"
#include "pg/license_state.h"
#include "pg/shared_state.h"
#include "pg/spi.h"
#include "pg/tenant_access.h"

using namespace kaireon;
using kaireon::pg::required_text;
using kaireon::pg::text_from_datum;

namespace {

void check_kid(const std::string& kid) {
    if (kid.empty() || kid.size() > 200) throw_bad_request("kid must be 1 to 200 characters", Json{{"field", "kid"}});
    for (unsigned char c : kid) {
        if (c < 0x21 || c > 0x7e) {
            throw_bad_request("kid may contain only printable ASCII without spaces", Json{{"field", "kid"}});
        }
    }
}

}  // namespace

// kaireon_add_license_key(kid, alg, public_key_pem) registers a public key
// bound to one algorithm and returns {kid, alg, createdAt}.
KAIREON_FUNCTION(kaireon_add_license_key) {
    std::string kid = required_text(fcinfo, 0, "kid");
    std::string alg_name = required_text(fcinfo, 1, "alg");
    std::string pem = required_text(fcinfo, 2, "publicKey");
    check_kid(kid);
    auto alg = jwt::algorithm_from_name(alg_name);
    if (!alg) {
        throw_bad_request("algorithm \"" + alg_name + "\" is not accepted; use RS256, PS256, ES256 or EdDSA",
                          Json{{"field", "alg"}});
    }
    jwt::PublicKey::from_pem(pem, *alg);  // refuses bad PEM, wrong key type, RSA under 2048 bits
    pg::SpiSession spi;
    uint64 added = spi.execute(
        "INSERT INTO kaireon.license_keys (kid, alg, public_key_pem, created_at) VALUES ($1, $2, $3, kaireon.clock()) "
        "ON CONFLICT (kid) DO NOTHING",
        {pg::text_arg(kid), pg::text_arg(alg_name), pg::text_arg(pem)});
    if (added == 0) {
        throw_bad_request("signing key \"" + kid + "\" already exists; register a new kid to rotate keys",
                          Json{{"kid", kid}});
    }
    return pg::jsonb_datum(Json{{"kid", kid}, {"alg", alg_name}, {"createdAt", license::iso8601(pg::now_seconds())}});
}

// kaireon_revoke_license_key(kid) revokes a signing key: licences signed with
// it stop verifying (grace starts). Returns {kid, revokedAt}.
KAIREON_FUNCTION(kaireon_revoke_license_key) {
    std::string kid = required_text(fcinfo, 0, "kid");
    pg::SpiSession spi;
    spi.execute("UPDATE kaireon.license_keys SET revoked_at = coalesce(revoked_at, kaireon.clock()) WHERE kid = $1 "
                "RETURNING floor(extract(epoch FROM revoked_at))::int8",
                {pg::text_arg(kid)});
    if (spi.rows() == 0) throw_bad_request("signing key \"" + kid + "\" is not registered", Json{{"kid", kid}});
    int64_t revoked_at = std::stoll(spi.text(0, 0).value_or("0"));
    return pg::jsonb_datum(Json{{"kid", kid}, {"revokedAt", license::iso8601(revoked_at)}});
}

// kaireon_revoke_license(jti) revokes one licence by its jti (also before it
// is ever installed). Returns {jti, revokedAt}.
KAIREON_FUNCTION(kaireon_revoke_license) {
    std::string jti = required_text(fcinfo, 0, "jti");
    if (jti.size() > 200) throw_bad_request("jti must be at most 200 characters", Json{{"field", "jti"}});
    pg::SpiSession spi;
    spi.execute(
        "INSERT INTO kaireon.revoked_licenses (jti, revoked_at) VALUES ($1, kaireon.clock()) "
        "ON CONFLICT (jti) DO UPDATE SET jti = EXCLUDED.jti "
        "RETURNING floor(extract(epoch FROM revoked_at))::int8",
        {pg::text_arg(jti)});
    int64_t revoked_at = std::stoll(spi.text(0, 0).value_or("0"));
    return pg::jsonb_datum(Json{{"jti", jti}, {"revokedAt", license::iso8601(revoked_at)}});
}

namespace {

// install verifies `token` and stores it for its tenant; returns the tenant.
std::string install(const std::string& token) {
    license::Claims claims = pg::verify_license_token(token);
    const std::string& tenant = claims.sub;
    if (!tenant_id_problem(tenant).empty()) jwt::reject("bad_claim", "the licence's sub is not a tenant id");
    switch (pg::tenant_access(GetOuterUserId(), tenant)) {
        case pg::TenantAccess::Member:
        case pg::TenantAccess::Admin:
            break;
        case pg::TenantAccess::UnknownTenant:
            throw_bad_request("the licence is for tenant \"" + tenant + "\", which does not exist",
                              Json{{"tenant", tenant}});
        case pg::TenantAccess::Denied:
            throw Error(ErrorCode::TenantAccessDenied, "the calling role may not act on tenant \"" + tenant + "\"",
                        Json{{"tenant", tenant}});
    }
    // An upgrade restarts the current period's decision quota under the new
    // limit; the quota component counts from quota_reset_at.
    pg::EffectiveLicense before = pg::effective_license(tenant);
    bool upgrade = claims.tier > before.status.effective_tier;
    std::string payload = Json{{"tier", std::string(license::tier_name(claims.tier))},
                               {"limits", claims.limits},
                               {"features", claims.features}}
                              .dump();
    {
        pg::SpiSession spi;
        spi.execute(
            "INSERT INTO kaireon.licenses AS l (tenant_id, token, jti, tier, issuer, issued_at, not_before, expires_at, "
            "    claims, installed_at, verified_tier, verified_at, quota_reset_at) "
            "VALUES ($1, $2, $3, $4, NULLIF($5, ''), to_timestamp($6::float8), to_timestamp($7::float8), "
            "    to_timestamp($8::float8), $9::jsonb, kaireon.clock(), $4, kaireon.clock(), "
            "    CASE WHEN $10 THEN kaireon.clock() END) "
            "ON CONFLICT (tenant_id) DO UPDATE SET token = EXCLUDED.token, jti = EXCLUDED.jti, tier = EXCLUDED.tier, "
            "    issuer = EXCLUDED.issuer, issued_at = EXCLUDED.issued_at, not_before = EXCLUDED.not_before, "
            "    expires_at = EXCLUDED.expires_at, claims = EXCLUDED.claims, installed_at = EXCLUDED.installed_at, "
            "    verified_tier = EXCLUDED.verified_tier, verified_at = EXCLUDED.verified_at, first_failure_at = NULL, "
            "    failure_reason = NULL, quota_reset_at = CASE WHEN $10 THEN kaireon.clock() ELSE l.quota_reset_at END",
            {pg::text_arg(tenant), pg::text_arg(token), pg::text_arg(claims.jti),
             pg::text_arg(std::string(license::tier_name(claims.tier))), pg::text_arg(claims.iss),
             claims.iat ? pg::text_arg(std::to_string(*claims.iat)) : pg::null_text_arg(),
             claims.nbf ? pg::text_arg(std::to_string(*claims.nbf)) : pg::null_text_arg(),
             pg::text_arg(std::to_string(claims.exp)), pg::text_arg(payload), pg::SpiArg{BOOLOID, BoolGetDatum(upgrade)}});
    }
    pg::forget_license(tenant);
    pg::emit_event(tenant, "license.installed",
                   Json{{"tenant", tenant},
                        {"jti", claims.jti},
                        {"tier", std::string(license::tier_name(claims.tier))},
                        {"previousTier", std::string(license::tier_name(before.status.effective_tier))},
                        {"expiresAt", license::iso8601(claims.exp)},
                        {"upgrade", upgrade}});
    if (upgrade) {
        pg::emit_event(tenant, "quota.reset",
                       Json{{"tier", std::string(license::tier_name(claims.tier))},
                            {"periodStart", license::iso8601(pg::now_seconds())},
                            {"reason", "upgrade"},
                            {"previousPeriod", nullptr}});
    }
    return tenant;
}

}  // namespace

// kaireon_install_license(token) verifies a licence and stores it for the
// tenant in its sub claim (the caller must be allowed on that tenant);
// returns license_status() of that tenant. A token that fails raises KR401
// with the reason; the failure is logged (never the token) and counted.
KAIREON_FUNCTION(kaireon_install_license) {
    if (PG_ARGISNULL(0)) jwt::reject("segments", "the licence token is null");
    std::string token = text_from_datum(PG_GETARG_DATUM(0));
    std::string tenant;
    try {
        tenant = install(token);
    } catch (pg::PgError& e) {
        e.edata()->hide_stmt = true;  // the statement holds the token
        throw;
    } catch (Error& e) {
        if (e.code() == ErrorCode::LicenseInvalid) {
            std::string subject = pg::peek_token_subject(token);
            pg::stat_add(subject, pg::Stat::LicenseFailures);
            std::string reason = e.detail().value("reason", "invalid");
            std::string message = e.what();
            pg::pg_call([&] {
                ereport(LOG, (errmsg("kaireon: licence refused for tenant \"%s\": %s (%s)",
                                     subject.empty() ? "?" : subject.c_str(), message.c_str(), reason.c_str()),
                              errhidestmt(true)));
            });
        }
        throw e.mark_sensitive();
    }
    return pg::jsonb_datum(license::status_json(tenant, pg::effective_license(tenant).status));
}

// kaireon_license_status() returns {tenant, tier, effectiveTier, state,
// expiresAt, graceUntil, reason} for the current tenant.
KAIREON_FUNCTION(kaireon_license_status) {
    std::string tenant = pg::require_current_tenant();
    return pg::jsonb_datum(license::status_json(tenant, pg::effective_license(tenant).status));
}
