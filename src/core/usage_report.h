// usage_report.h - the usage dashboard's content (SPEC section 5): this
// month's decisions against the quota, the daily trend, the per-flow
// breakdown, the projected month-end count and the usage of every numeric
// feature of the tier. The database gathers a ReportData
// (src/pg/quota_functions.cpp); kaireon.usage_summary() returns it as JSON,
// kaireon.usage_dashboard() as rows, kaireon.usage_report_html() as one
// self-contained HTML page with an SVG chart.
#pragma once
#include "core/pure.h"

#include "core/json.h"
#include "core/quota.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace kaireon::quota {

struct DailyCount {
    int64_t day = 0;        // the day's first second (UTC)
    int64_t decisions = 0;  // counted (non-empty) decisions made that day
};

struct FlowCount {
    std::string flow;
    int64_t decisions = 0;  // counted decisions this month
};

struct FeatureUsage {
    std::string feature;
    std::string unit;             // "decisions", "connectors", ...
    std::string period;           // "month", "day", "never", ...
    bool enabled = true;
    double usage = 0;
    std::optional<double> limit;  // nullopt: unlimited
};

struct ReportData {
    std::string tenant_id;
    std::string tenant_name;
    int64_t generated_at = 0;  // Unix seconds
    Snapshot quota;            // the count against the limit (since an upgrade, if one was made this month)
    int64_t month_decisions = 0;     // every counted decision of the calendar month
    std::vector<DailyCount> daily;   // every day of the month up to today, oldest first, zeros included
    std::vector<FlowCount> flows;    // most decisions first
    std::vector<FeatureUsage> features;  // numeric features, by key
};

// report_json: {"tenantId", "tenantName", "generatedAt", "quota" (the
// quota_status shape), "monthDecisions", "projectedMonthEnd",
// "projectedPercent", "daily": [{"day", "decisions", "cumulative"}],
// "flows": [{"flow", "decisions", "percent"}], "features": [{"feature",
// "unit", "period", "enabled", "usage", "limit", "percentageUsed"}]}.
Json report_json(const ReportData& data);

// report_html renders one self-contained HTML page (inline CSS and SVG, no
// scripts, no external resources): the figures above, an SVG chart of the
// cumulative daily trend with the projection to the month's end and the
// 90/95/100 % lines, the per-flow and feature tables. Every text from the
// tenant (names, flow ids) is HTML-escaped.
std::string report_html(const ReportData& data);

}  // namespace kaireon::quota
