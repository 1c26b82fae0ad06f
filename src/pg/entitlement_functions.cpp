// entitlement_functions.cpp - the SQL API of features, plans and
// entitlements (SPEC section 3).
#include "core/entitlements.h"
#include "core/license.h"

#include "pg/audit.h"
#include "pg/clock.h"
#include "pg/entitlement_state.h"
#include "pg/guard.h"
#include "pg/jsonb.h"
#include "pg/shared_state.h"
#include "pg/spi.h"
#include "pg/tenant_access.h"

#include <cmath>

using namespace kaireon;
using kaireon::pg::required_text;
using kaireon::pg::text_from_datum;

namespace {

Json optional_json(FunctionCallInfo fcinfo, int n, const char* what) {
    if (PG_ARGISNULL(n)) return Json(nullptr);
    return pg::json_from_jsonb(PG_GETARG_DATUM(n), what);
}

// record_evaluation appends an API evaluation to the audit trail.
void record_evaluation(const std::string& tenant, const char* api, const entitlements::Evaluation& evaluation,
                       std::optional<double> requested) {
    pg::audit(tenant, "entitlement.evaluated", evaluation.feature,
              Json{{"api", api},
                   {"requested", requested ? json_number(*requested) : Json(nullptr)},
                   {"status", std::string(entitlements::name(evaluation.status))},
                   {"result", entitlements::evaluation_json(evaluation)}});
}

// Evaluated is an API evaluation for the current tenant.
struct Evaluated {
    std::string tenant;
    pg::FeaturePtr feature;
    entitlements::Evaluation evaluation;
};

Evaluated evaluate_api(FunctionCallInfo fcinfo, const char* api, double requested, bool with_usage,
                       std::optional<double> audited_request = std::nullopt) {
    std::string tenant = pg::require_current_tenant();
    pg::FeaturePtr feature = pg::find_feature(required_text(fcinfo, 0, "feature"));
    entitlements::Evaluation evaluation = pg::evaluate_entitlement(tenant, *feature, requested, with_usage);
    record_evaluation(tenant, api, evaluation, audited_request);
    return Evaluated{tenant, feature, std::move(evaluation)};
}

}  // namespace

// kaireon_define_feature(key, type, options) creates or redefines a feature
// and returns {key, type, options}.
KAIREON_FUNCTION(kaireon_define_feature) {
    std::string key = required_text(fcinfo, 0, "key");
    std::string type = required_text(fcinfo, 1, "type");
    Json options = optional_json(fcinfo, 2, "options");
    if (std::string problem = entitlements::feature_key_problem(key); !problem.empty()) {
        throw_bad_request(problem, Json{{"path", "key"}});
    }
    auto definition = entitlements::FeatureDefinition::from_options(key, type, options.is_null() ? Json::object() : options);
    pg::SpiSession spi;
    spi.execute("SELECT builtin, type, options ->> 'period' FROM kaireon.features WHERE key = $1 FOR UPDATE",
                {pg::text_arg(key)});
    std::optional<std::string> old_period;
    if (spi.rows() == 1) {
        old_period = spi.text(0, 2);
        if (spi.boolean(0, 0).value_or(false)) {
            throw_bad_request("feature \"" + key + "\" is built in; define your own feature under another key",
                              Json{{"path", "key"}});
        }
        if (spi.text(0, 1).value_or("") != type) {
            spi.execute(
                "SELECT (SELECT count(*) FROM kaireon.plan_entitlements WHERE feature = $1) + "
                "       (SELECT count(*) FROM kaireon.entitlement_overrides WHERE feature = $1)",
                {pg::text_arg(key)});
            if (spi.text(0, 0).value_or("0") != "0") {
                throw_bad_request("feature \"" + key + "\" has plan values or overrides; its type cannot change",
                                  Json{{"path", "type"}});
            }
        }
    }
    std::string options_text = definition.options().dump();
    spi.execute(
        "INSERT INTO kaireon.features (key, type, options, updated_at) VALUES ($1, $2, $3::jsonb, kaireon.clock()) "
        "ON CONFLICT (key) DO UPDATE SET type = EXCLUDED.type, options = EXCLUDED.options, "
        "updated_at = EXCLUDED.updated_at",
        {pg::text_arg(key), pg::text_arg(type), pg::text_arg(options_text)});
    // Rollups are kept per the feature's period: a new period regroups them.
    std::string period(entitlements::name(definition.period));
    if (old_period && definition.type == entitlements::FeatureType::Numeric && *old_period != period) {
        spi.execute("SELECT kaireon._rebuild_usage_rollups($1, $2)", {pg::text_arg(key), pg::text_arg(period)});
    }
    return pg::jsonb_datum(Json{{"key", key}, {"type", type}, {"options", definition.options()}});
}

// kaireon_set_plan_entitlement(tier, feature, value) sets what a tier
// includes; a null value reverts to the built-in default. Returns {tier,
// feature, value, source}.
KAIREON_FUNCTION(kaireon_set_plan_entitlement) {
    std::string tier = required_text(fcinfo, 0, "tier");
    if (!license::tier_from_name(tier)) {
        throw_bad_request("unknown tier \"" + tier + "\"; use community, professional or enterprise",
                          Json{{"path", "tier"}});
    }
    pg::FeaturePtr feature = pg::find_feature(required_text(fcinfo, 1, "feature"));
    Json value = optional_json(fcinfo, 2, "value");
    pg::SpiSession spi;
    if (value.is_null()) {
        spi.execute("DELETE FROM kaireon.plan_entitlements WHERE tier = $1 AND feature = $2",
                    {pg::text_arg(tier), pg::text_arg(feature->definition.key)});
        spi.execute("SELECT value::text FROM kaireon.plan_defaults WHERE tier = $1 AND feature = $2",
                    {pg::text_arg(tier), pg::text_arg(feature->definition.key)});
        Json in_force = spi.rows() == 1 ? parse_json(spi.text(0, 0).value_or("null")) : Json(nullptr);
        return pg::jsonb_datum(Json{{"tier", tier},
                                    {"feature", feature->definition.key},
                                    {"value", in_force},
                                    {"source", in_force.is_null() ? "none" : "default"}});
    }
    entitlements::Value parsed = entitlements::parse_value(feature->definition, value);
    Json stored = entitlements::value_json(feature->definition.type, parsed);
    spi.execute(
        "INSERT INTO kaireon.plan_entitlements (tier, feature, value, updated_at) "
        "VALUES ($1, $2, $3::jsonb, kaireon.clock()) "
        "ON CONFLICT (tier, feature) DO UPDATE SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at",
        {pg::text_arg(tier), pg::text_arg(feature->definition.key), pg::text_arg(stored.dump())});
    return pg::jsonb_datum(
        Json{{"tier", tier}, {"feature", feature->definition.key}, {"value", stored}, {"source", "custom"}});
}

// kaireon_set_override(feature, value, expires_at) gives the current tenant
// its own value of a feature (a trial, a deal), replacing any previous one;
// expires_at NULL = never. Returns {feature, value, expiresAt, inForce}.
KAIREON_FUNCTION(kaireon_set_override) {
    std::string tenant = pg::require_current_tenant();
    pg::FeaturePtr feature = pg::find_feature(required_text(fcinfo, 0, "feature"));
    if (PG_ARGISNULL(1)) throw_bad_request("value must not be null (clear_override removes an override)",
                                           Json{{"path", "value"}});
    entitlements::Value parsed = entitlements::parse_value(feature->definition, optional_json(fcinfo, 1, "value"));
    Json stored = entitlements::value_json(feature->definition.type, parsed);
    std::optional<int64_t> expires_at;
    if (!PG_ARGISNULL(2)) expires_at = pg::seconds_from_timestamp(PG_GETARG_TIMESTAMPTZ(2));
    pg::SpiSession spi;
    spi.execute(
        "INSERT INTO kaireon.entitlement_overrides (tenant_id, feature, value, expires_at, created_at) "
        "VALUES ($1, $2, $3::jsonb, $4, kaireon.clock()) "
        "ON CONFLICT (tenant_id, feature) DO UPDATE SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at, "
        "created_at = EXCLUDED.created_at",
        {pg::text_arg(tenant), pg::text_arg(feature->definition.key), pg::text_arg(stored.dump()),
         PG_ARGISNULL(2) ? pg::SpiArg{TIMESTAMPTZOID, 0, true} : pg::SpiArg{TIMESTAMPTZOID, PG_GETARG_DATUM(2)}});
    pg::forget_overrides(tenant);
    bool in_force = !expires_at || *expires_at > pg::now_seconds();
    return pg::jsonb_datum(Json{{"feature", feature->definition.key},
                                {"value", stored},
                                {"expiresAt", expires_at ? Json(license::iso8601(*expires_at)) : Json(nullptr)},
                                {"inForce", in_force}});
}

// kaireon_clear_override(feature) removes the current tenant's override and
// returns whether there was one.
KAIREON_FUNCTION(kaireon_clear_override) {
    std::string tenant = pg::require_current_tenant();
    pg::FeaturePtr feature = pg::find_feature(required_text(fcinfo, 0, "feature"));
    pg::SpiSession spi;
    uint64 removed = spi.execute("DELETE FROM kaireon.entitlement_overrides WHERE tenant_id = $1 AND feature = $2",
                                 {pg::text_arg(tenant), pg::text_arg(feature->definition.key)});
    pg::forget_overrides(tenant);
    PG_RETURN_BOOL(removed > 0);
}

// kaireon_set_thresholds(feature, percents) sets the current tenant's usage
// alert thresholds for a numeric feature (NULL = the feature's defaults) and
// returns {feature, thresholds}.
KAIREON_FUNCTION(kaireon_set_thresholds) {
    std::string tenant = pg::require_current_tenant();
    pg::FeaturePtr feature = pg::find_feature(required_text(fcinfo, 0, "feature"));
    if (feature->definition.type != entitlements::FeatureType::Numeric) {
        throw_bad_request("thresholds apply to numeric features; \"" + feature->definition.key + "\" is " +
                              std::string(entitlements::name(feature->definition.type)),
                          Json{{"path", "feature"}});
    }
    pg::SpiSession spi;
    if (PG_ARGISNULL(1)) {
        spi.execute("DELETE FROM kaireon.feature_thresholds WHERE tenant_id = $1 AND feature = $2",
                    {pg::text_arg(tenant), pg::text_arg(feature->definition.key)});
        const auto& defaults = feature->definition.thresholds.empty() ? entitlements::kDefaultThresholds
                                                                       : feature->definition.thresholds;
        return pg::jsonb_datum(Json{{"feature", feature->definition.key}, {"thresholds", defaults}});
    }
    // Validate through the feature-option rules, one place for them.
    Json percents = parse_json(
        pg::text_from_datum(pg::pg_call([&] { return DirectFunctionCall1(array_to_json, PG_GETARG_DATUM(1)); })),
        "percents");
    Json options = Json{{"thresholds", percents}};
    std::vector<int> thresholds;
    try {
        thresholds = entitlements::FeatureDefinition::from_options(feature->definition.key, "numeric", options).thresholds;
    } catch (const Error& e) {
        std::string message = e.what();
        if (message.rfind("options.thresholds", 0) == 0) message = "percents" + message.substr(18);
        throw_bad_request(message, Json{{"path", "percents"}});
    }
    if (thresholds.empty()) throw_bad_request("percents must not be empty (NULL restores the defaults)",
                                              Json{{"path", "percents"}});
    Json list = thresholds;
    spi.execute(
        "INSERT INTO kaireon.feature_thresholds (tenant_id, feature, percents, updated_at) "
        "SELECT $1, $2, array_agg(p::int ORDER BY ord), kaireon.clock() "
        "FROM jsonb_array_elements_text($3::jsonb) WITH ORDINALITY AS t (p, ord) "
        "ON CONFLICT (tenant_id, feature) DO UPDATE SET percents = EXCLUDED.percents, updated_at = EXCLUDED.updated_at",
        {pg::text_arg(tenant), pg::text_arg(feature->definition.key), pg::text_arg(list.dump())});
    return pg::jsonb_datum(Json{{"feature", feature->definition.key}, {"thresholds", list}});
}

// kaireon_entitlement(feature) returns the current tenant's entitlement in
// the usage shape {entitlement, type, enabled, limit, currentUsage,
// percentageUsed, status}.
KAIREON_FUNCTION(kaireon_entitlement) {
    Evaluated result = evaluate_api(fcinfo, "entitlement", 0, true);
    return pg::jsonb_datum(entitlements::evaluation_json(result.evaluation));
}

// kaireon_has_feature(feature) returns whether the current tenant is entitled
// to the feature at all (usage against a limit is not considered).
KAIREON_FUNCTION(kaireon_has_feature) {
    Evaluated result = evaluate_api(fcinfo, "has_feature", 0, false);
    PG_RETURN_BOOL(result.evaluation.enabled);
}

// kaireon_require_feature(feature) returns nothing when the current tenant is
// entitled to the feature and raises KR403 FEATURE_NOT_ENTITLED naming the
// lowest tier that has it otherwise.
KAIREON_FUNCTION(kaireon_require_feature) {
    Evaluated result = evaluate_api(fcinfo, "require_feature", 0, false);
    if (result.evaluation.enabled) PG_RETURN_VOID();
    pg::stat_add(result.tenant, pg::Stat::EntitlementRefusals);  // counted even though the caller rolls back
    pg::throw_not_entitled(*result.feature, result.evaluation.source);
}

// kaireon_check_usage(feature, requested) answers whether `requested` more
// would be allowed, in the entitlement() shape as if it were used; it records
// no usage.
KAIREON_FUNCTION(kaireon_check_usage) {
    if (PG_ARGISNULL(1)) throw_bad_request("requested must not be null", Json{{"path", "requested"}});
    double requested = pg::pg_call([&] {
        return DatumGetFloat8(DirectFunctionCall1(numeric_float8, PG_GETARG_DATUM(1)));
    });
    if (!std::isfinite(requested) || requested < 0) {
        throw_bad_request("requested must be a finite number >= 0", Json{{"path", "requested"}});
    }
    Evaluated result = evaluate_api(fcinfo, "check_usage", requested, true, requested);
    return pg::jsonb_datum(entitlements::evaluation_json(result.evaluation));
}

// kaireon_builtin_features() returns the built-in features (key, type,
// options, description) for the extension script.
KAIREON_FUNCTION(kaireon_builtin_features) {
    auto* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
    pg::pg_call([&] { InitMaterializedSRF(fcinfo, 0); });
    for (const auto& builtin : entitlements::builtin_features()) {
        Datum values[4] = {pg::text_datum(builtin.definition.key),
                           pg::text_datum(std::string(entitlements::name(builtin.definition.type))),
                           pg::jsonb_datum(builtin.definition.options()), pg::text_datum(builtin.description)};
        bool nulls[4] = {};
        pg::pg_call([&] { tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls); });
    }
    return static_cast<Datum>(0);
}

// kaireon_builtin_plan_values() returns the tiers' built-in values (tier,
// feature, value) for the extension script.
KAIREON_FUNCTION(kaireon_builtin_plan_values) {
    auto* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
    pg::pg_call([&] { InitMaterializedSRF(fcinfo, 0); });
    for (const auto& builtin : entitlements::builtin_features()) {
        for (int tier = 0; tier < 3; ++tier) {
            if (!builtin.tiers[tier]) continue;
            Datum values[3] = {pg::text_datum(std::string(license::tier_name(static_cast<license::Tier>(tier)))),
                               pg::text_datum(builtin.definition.key),
                               pg::jsonb_datum(entitlements::value_json(builtin.definition.type, *builtin.tiers[tier]))};
            bool nulls[3] = {};
            pg::pg_call([&] { tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls); });
        }
    }
    return static_cast<Datum>(0);
}
