#include "core/usage_report.h"

#include <cmath>

namespace kaireon::quota {

Json report_json(const ReportData& data) {
    Json out = Json::object();
    out["tenantId"] = data.tenant_id;
    out["tenantName"] = data.tenant_name;
    out["generatedAt"] = license::iso8601(data.generated_at);
    out["quota"] = quota_json(data.quota);
    out["monthDecisions"] = data.month_decisions;
    const double projected = projected_usage(data.quota, data.generated_at);
    out["projectedMonthEnd"] = json_number(projected);
    out["projectedPercent"] = data.quota.limit && *data.quota.limit > 0
                                  ? Json(std::round(projected / *data.quota.limit * 1000.0) / 10.0)
                                  : Json(nullptr);
    Json daily = Json::array();
    int64_t cumulative = 0;
    for (const DailyCount& day : data.daily) {
        cumulative += day.decisions;
        daily.push_back({{"day", license::iso8601(day.day).substr(0, 10)},
                         {"decisions", day.decisions},
                         {"cumulative", cumulative}});
    }
    out["daily"] = std::move(daily);
    Json flows = Json::array();
    for (const FlowCount& flow : data.flows) {
        double percent = data.month_decisions > 0
                             ? std::round(static_cast<double>(flow.decisions) * 1000.0 /
                                          static_cast<double>(data.month_decisions)) / 10.0
                             : 0.0;
        flows.push_back({{"flow", flow.flow}, {"decisions", flow.decisions}, {"percent", json_number(percent)}});
    }
    out["flows"] = std::move(flows);
    Json features = Json::array();
    for (const FeatureUsage& feature : data.features) {
        Json percent = nullptr;
        if (feature.limit && *feature.limit > 0) percent = std::round(feature.usage / *feature.limit * 1000.0) / 10.0;
        features.push_back({{"feature", feature.feature},
                            {"unit", feature.unit},
                            {"period", feature.period},
                            {"enabled", feature.enabled},
                            {"usage", json_number(feature.usage)},
                            {"limit", feature.limit ? json_number(*feature.limit) : Json(nullptr)},
                            {"percentageUsed", std::move(percent)}});
    }
    out["features"] = std::move(features);
    return out;
}

}  // namespace kaireon::quota
