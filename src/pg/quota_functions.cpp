// quota_functions.cpp - the decision quota's SQL API (SPEC section 5):
// quota_status(), and the usage dashboard's data (usage_summary(), whose
// JSON the dashboard views and usage_dashboard() read) and HTML page
// (usage_report_html()).
#include "core/entitlements.h"
#include "core/period.h"
#include "core/quota.h"
#include "core/usage_report.h"

#include "pg/clock.h"
#include "pg/entitlement_state.h"
#include "pg/guard.h"
#include "pg/jsonb.h"
#include "pg/quota_state.h"
#include "pg/spi.h"
#include "pg/tenant_access.h"

#include <map>
#include <string>

namespace kaireon {
namespace {

pg::SpiArg timestamp_arg(int64_t seconds) {
    return pg::SpiArg{TIMESTAMPTZOID, TimestampTzGetDatum(pg::timestamp_from_seconds(seconds))};
}

// gather reads what the dashboard shows of `tenant`, as this transaction
// sees it (the quota count as the gate sees it).
quota::ReportData gather(const std::string& tenant) {
    quota::ReportData data;
    data.tenant_id = tenant;
    data.generated_at = pg::now_seconds();
    data.quota = pg::quota_now(tenant).snapshot;
    const quota::Period& period = data.quota.period;
    {
        pg::AsExtensionOwner owner;
        pg::SpiSession spi;
        spi.execute("SELECT name FROM kaireon.tenants WHERE tenant_id = $1", {pg::text_arg(tenant)}, true);
        data.tenant_name = spi.rows() == 1 ? spi.text(0, 0).value_or(tenant) : tenant;

        // Every counted decision of the month: quota_period is within it
        // (the month's start, or an upgrade's instant).
        spi.execute(
            "SELECT floor(extract(epoch FROM date_trunc('day', decided_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'))"
            "::int8::text, count(*)::text "
            "FROM kaireon.decisions WHERE tenant_id = $1 AND quota_period >= $2 AND quota_period < $3 "
            "GROUP BY 1 ORDER BY 1",
            {pg::text_arg(tenant), timestamp_arg(period.month_start), timestamp_arg(period.end)}, true);
        std::map<int64_t, int64_t> by_day;
        for (uint64 row = 0; row < spi.rows(); ++row) {
            int64_t count = std::stoll(spi.text(row, 1).value_or("0"));
            by_day[std::stoll(spi.text(row, 0).value_or("0"))] += count;
            data.month_decisions += count;
        }
        const int64_t today = period_start(CalendarPeriod::Day, std::min(data.generated_at, period.end - 1));
        for (int64_t day = period.month_start; day <= today; day = period_end(CalendarPeriod::Day, day)) {
            auto found = by_day.find(day);
            data.daily.push_back({day, found == by_day.end() ? 0 : found->second});
        }

        spi.execute(
            "SELECT flow, count(*)::text FROM kaireon.decisions "
            "WHERE tenant_id = $1 AND quota_period >= $2 AND quota_period < $3 GROUP BY 1 ORDER BY count(*) DESC, 1",
            {pg::text_arg(tenant), timestamp_arg(period.month_start), timestamp_arg(period.end)}, true);
        for (uint64 row = 0; row < spi.rows(); ++row) {
            data.flows.push_back({spi.text(row, 0).value_or(""), std::stoll(spi.text(row, 1).value_or("0"))});
        }
    }
    for (const pg::FeaturePtr& feature : pg::all_features()) {
        const entitlements::FeatureDefinition& definition = feature->definition;
        if (definition.type != entitlements::FeatureType::Numeric) continue;
        entitlements::Evaluation evaluation = pg::evaluate_entitlement(tenant, *feature, 0, true);
        data.features.push_back({definition.key, definition.unit, std::string(entitlements::name(definition.period)),
                                 evaluation.enabled, evaluation.current_usage, evaluation.limit});
    }
    return data;
}

}  // namespace
}  // namespace kaireon

using namespace kaireon;

// kaireon_quota_status() returns the current tenant's decision quota in the
// shape of the recommend response's `quota` object.
KAIREON_FUNCTION(kaireon_quota_status) {
    std::string tenant = pg::require_current_tenant();
    return pg::jsonb_datum(quota::quota_json(pg::quota_now(tenant).snapshot));
}

// kaireon_usage_summary() returns the usage dashboard's data as jsonb
// (quota::report_json).
KAIREON_FUNCTION(kaireon_usage_summary) {
    std::string tenant = pg::require_current_tenant();
    return pg::jsonb_datum(quota::report_json(gather(tenant)));
}

// kaireon_usage_report_html() returns the dashboard as one HTML page.
KAIREON_FUNCTION(kaireon_usage_report_html) {
    std::string tenant = pg::require_current_tenant();
    return pg::text_datum(quota::report_html(gather(tenant)));
}
