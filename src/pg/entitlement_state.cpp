#include "core/catalog.h"
#include "core/catalog_compiled.h"
#include "core/pipeline.h"
#include "core/entitlements.h"
#include "core/license.h"
#include "core/period.h"
#include "core/quota.h"
#include "core/usage.h"

#include "pg/entitlement_state.h"
#include "pg/quota_state.h"

#include "pg/cache_watch.h"
#include "pg/catalog_state.h"
#include "pg/clock.h"
#include "pg/jsonb.h"
#include "pg/license_state.h"
#include "pg/shared_state.h"
#include "pg/spi.h"
#include "pg/usage_ingest.h"

#include <algorithm>
#include <map>
#include <unordered_map>
#include <vector>

namespace kaireon::pg {
namespace {

constexpr std::string_view kTracesFeature = "decision_traces_per_day";
constexpr std::string_view kDecisionsFeature = "decisions_per_month";

using entitlements::Value;

// --- features and plans -----------------------------------------------------

using Catalog = std::unordered_map<std::string, FeaturePtr>;
std::shared_ptr<const Catalog> g_catalog;

void forget_overrides_all() noexcept;

void forget_catalog() noexcept {
    g_catalog.reset();
    forget_overrides_all();  // overrides are parsed against the definitions
}
CacheWatch g_catalog_watch({"features", "plan_defaults", "plan_entitlements"}, forget_catalog);

int tier_index(const std::string& tier) {
    auto parsed = license::tier_from_name(tier);
    return parsed ? static_cast<int>(*parsed) : -1;
}

std::shared_ptr<const Catalog> catalog() {
    if (g_catalog) return g_catalog;
    g_catalog_watch.resolve();
    uint64_t generation = g_catalog_watch.generation();
    std::map<std::string, FeatureEntry> entries;
    {
        AsExtensionOwner owner;
        LatestSnapshot latest;
        SpiSession spi;
        spi.execute("SELECT key, type, options::text, builtin FROM kaireon.features", {}, true);
        for (uint64 row = 0; row < spi.rows(); ++row) {
            FeatureEntry entry;
            std::string key = spi.text(row, 0).value_or("");
            entry.definition = entitlements::FeatureDefinition::from_options(
                key, spi.text(row, 1).value_or(""), parse_json(spi.text(row, 2).value_or("{}"), "feature options"));
            entry.builtin = spi.boolean(row, 3).value_or(false);
            entries.emplace(key, std::move(entry));
        }
        // Defaults first, then the administrator's changes over them.
        spi.execute(
            "SELECT tier, feature, value::text FROM kaireon.plan_defaults d "
            "WHERE NOT EXISTS (SELECT 1 FROM kaireon.plan_entitlements c WHERE c.tier = d.tier AND c.feature = d.feature) "
            "UNION ALL SELECT tier, feature, value::text FROM kaireon.plan_entitlements",
            {}, true);
        for (uint64 row = 0; row < spi.rows(); ++row) {
            auto it = entries.find(spi.text(row, 1).value_or(""));
            int tier = tier_index(spi.text(row, 0).value_or(""));
            if (it == entries.end() || tier < 0) continue;
            Json value = parse_json(spi.text(row, 2).value_or("null"), "plan value");
            it->second.tiers[tier] = entitlements::parse_value(it->second.definition, value);
        }
    }
    auto loaded = std::make_shared<Catalog>();
    for (auto& [key, entry] : entries) loaded->emplace(key, std::make_shared<const FeatureEntry>(std::move(entry)));
    if (g_catalog_watch.generation() == generation) g_catalog = loaded;
    return loaded;
}

// --- overrides ------------------------------------------------------------------

struct Override {
    Value value;
    std::optional<int64_t> expires_at;
};
using Overrides = std::unordered_map<std::string, Override>;  // by feature
std::unordered_map<std::string, std::shared_ptr<const Overrides>> g_overrides;  // by tenant

void forget_overrides_all() noexcept { g_overrides.clear(); }
CacheWatch g_overrides_watch({"entitlement_overrides"}, forget_overrides_all);

std::shared_ptr<const Overrides> overrides_of(const std::string& tenant, const Catalog& features) {
    if (auto it = g_overrides.find(tenant); it != g_overrides.end()) return it->second;
    g_overrides_watch.resolve();
    uint64_t generation = g_overrides_watch.generation();
    auto loaded = std::make_shared<Overrides>();
    {
        AsExtensionOwner owner;
        LatestSnapshot latest;
        SpiSession spi;
        spi.execute(
            "SELECT feature, value::text, floor(extract(epoch FROM expires_at))::int8 "
            "FROM kaireon.entitlement_overrides WHERE tenant_id = $1",
            {text_arg(tenant)}, true);
        for (uint64 row = 0; row < spi.rows(); ++row) {
            std::string feature = spi.text(row, 0).value_or("");
            auto definition = features.find(feature);
            if (definition == features.end()) continue;
            Override entry;
            try {
                entry.value = entitlements::parse_value(definition->second->definition,
                                                        parse_json(spi.text(row, 1).value_or("null"), "override"));
            } catch (const Error&) {
                continue;  // written for an earlier definition of the feature: not in force
            }
            if (auto expires = spi.text(row, 2)) entry.expires_at = std::stoll(*expires);
            loaded->emplace(feature, std::move(entry));
        }
    }
    if (g_overrides_watch.generation() == generation) g_overrides[tenant] = loaded;
    return loaded;
}

// current_usage returns the usage of a numeric feature in its current period,
// as this transaction sees it.
double current_usage(const std::string& tenant, const entitlements::FeatureDefinition& feature, int64_t now) {
    if (const catalog::Entity* counted = catalog::entity_counted_by(feature.key)) {
        return static_cast<double>(count_catalog_rows(*counted, tenant, false));
    }
    if (feature.key == kDecisionsFeature) return quota_now(tenant).snapshot.current;
    if (feature.key == kTracesFeature) {
        AsExtensionOwner owner;
        SpiSession spi;
        spi.execute("SELECT count(*)::text FROM kaireon.decision_traces t WHERE t.tenant_id = $1 AND t.traced_at >= $2",
                    {text_arg(tenant), SpiArg{TIMESTAMPTZOID, TimestampTzGetDatum(period_start_timestamp(
                                                                  "day", timestamp_from_seconds(now)))}},
                    true);
        return std::stod(*spi.text(0, 0));
    }
    TimestampTz start = period_start_timestamp(entitlements::name(feature.period), timestamp_from_seconds(now));
    return read_usage(tenant, feature, start, false).value;
}

}  // namespace

std::string counted_source(std::string_view feature) {
    if (const catalog::Entity* counted = catalog::entity_counted_by(feature))
        return "the rows of kaireon." + std::string(counted->table);
    if (feature == kTracesFeature) return "the decision traces stored today";
    if (feature == kDecisionsFeature) return "the non-empty decisions of kaireon_recommend";
    return {};
}

void forget_overrides(const std::string& tenant) { g_overrides.erase(tenant); }

std::vector<FeaturePtr> all_features() {
    auto features = catalog();
    std::vector<FeaturePtr> out;
    out.reserve(features->size());
    for (const auto& [key, feature] : *features) out.push_back(feature);
    std::sort(out.begin(), out.end(), [](const FeaturePtr& a, const FeaturePtr& b) {
        return a->definition.key < b->definition.key;
    });
    return out;
}

FeaturePtr find_feature(const std::string& key) {
    auto features = catalog();
    auto it = features->find(key);
    if (it == features->end()) {
        throw_bad_request("unknown feature \"" + key + "\"", Json{{"feature", key}});
    }
    return it->second;
}

entitlements::Evaluation evaluate_entitlement(const std::string& tenant, const FeatureEntry& feature,
                                              double requested, bool with_usage) {
    int64_t now = now_seconds();
    EffectiveLicense licence = effective_license(tenant);
    entitlements::Candidates candidates;
    auto features = catalog();
    auto overrides = overrides_of(tenant, *features);
    if (auto it = overrides->find(feature.definition.key); it != overrides->end()) {
        candidates.override_value = it->second.value;
        candidates.override_expires_at = it->second.expires_at;
    }
    // A licence's own limits and features count while it is in force (valid,
    // or in grace); a fallback is Community without claims.
    bool claims_in_force = licence.status.state == license::State::Valid ||
                           licence.status.state == license::State::Grace;
    if (claims_in_force && licence.claims) {
        candidates.license_value = entitlements::license_claim(feature.definition, *licence.claims);
    }
    candidates.plan_value = feature.tiers[static_cast<int>(licence.status.effective_tier)];
    entitlements::Resolved resolved = entitlements::resolve(candidates, now);
    double usage = 0;
    if (with_usage && feature.definition.type == entitlements::FeatureType::Numeric && resolved.value &&
        resolved.value->enabled) {
        usage = current_usage(tenant, feature.definition, now);
    }
    return entitlements::evaluate(feature.definition, resolved.value, resolved.source, usage, requested);
}

void throw_not_entitled(const FeatureEntry& feature, entitlements::Source source) {
    const std::string& key = feature.definition.key;
    if (source == entitlements::Source::Override) {
        throw Error(ErrorCode::FeatureNotEntitled, "feature \"" + key + "\" is disabled for the tenant by an override",
                    Json{{"feature", key}, {"source", "override"}},
                    "An administrator removes the override with kaireon.clear_override(feature).");
    }
    auto needed = entitlements::lowest_tier(feature.tiers);
    std::string message = "feature \"" + key + "\" is not included in the tenant's plan";
    if (needed) message += "; it needs the " + std::string(license::tier_name(*needed)) + " tier";
    throw Error(ErrorCode::FeatureNotEntitled, message,
                Json{{"feature", key},
                     {"requiredTier", needed ? Json(std::string(license::tier_name(*needed))) : Json(nullptr)}},
                needed ? "Upgrade the licence to " + std::string(license::tier_name(*needed)) + " or higher." : "");
}

bool feature_enabled(const std::string& tenant, const std::string& key) {
    return evaluate_entitlement(tenant, *find_feature(key), 0, false).enabled;
}

void require_feature_enabled(const std::string& tenant, const std::string& key) {
    FeaturePtr feature = find_feature(key);
    entitlements::Evaluation evaluation = evaluate_entitlement(tenant, *feature, 0, false);
    if (evaluation.enabled) return;
    stat_add(tenant, Stat::EntitlementRefusals);
    throw_not_entitled(*feature, evaluation.source);
}

}  // namespace kaireon::pg
