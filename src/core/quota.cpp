#include "core/quota.h"

#include "core/period.h"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace kaireon::quota {
namespace {

constexpr Alert kAlerts[] = {
    {kWarningPercent, "quota.warning"},
    {kNotifyPercent, "quota.admin_notified"},
    {kExceededPercent, "quota.exceeded"},
};

// reached compares current * 100 >= limit * percent without dividing, as
// usage thresholds do (usage.cpp), so 9,000 of 10,000 is exactly 90 %.
bool reached(double current, double limit, int percent) {
    return static_cast<long double>(current) * 100.0L >= static_cast<long double>(limit) * percent;
}

std::string whole(double n) {
    std::ostringstream out;
    out.precision(15);
    out << n;
    return out.str();
}

// one_line returns `text` with every control character (CR and LF included)
// replaced by a space: a tenant name goes into the e-mail's Subject header,
// where a line break would start a header of the name's choosing.
std::string one_line(std::string_view text) {
    std::string out(text);
    for (char& c : out) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
    }
    return out;
}

}  // namespace

Period current_period(int64_t now, std::optional<int64_t> reset_at) {
    Period period;
    period.month_start = period_start(CalendarPeriod::Month, now);
    period.end = period_end(CalendarPeriod::Month, now);
    period.start = period.month_start;
    if (reset_at && *reset_at > period.month_start && *reset_at <= now) period.start = *reset_at;
    return period;
}

std::string_view status_name(Status status) {
    switch (status) {
        case Status::Ok: return "ok";
        case Status::Warning: return "warning";
        case Status::Exceeded: return "exceeded";
    }
    return "ok";
}

Status status_of(const Snapshot& quota) {
    if (!quota.limit) return Status::Ok;
    if (quota.current >= *quota.limit) return Status::Exceeded;
    if (reached(quota.current, *quota.limit, kWarningPercent)) return Status::Warning;
    return Status::Ok;
}

std::optional<double> percentage_used(const Snapshot& quota) {
    if (!quota.limit) return std::nullopt;
    if (*quota.limit <= 0) return 100.0;
    // Down to one decimal, never up: 8,999 of 10,000 reads 89.9 % (status
    // ok), not 90.0 %; 100 % means the limit is reached.
    return std::floor(quota.current * 1000.0 / *quota.limit) / 10.0;
}

std::string banner(const Snapshot& quota) {
    const Status status = status_of(quota);
    if (status == Status::Ok) return {};
    const std::string used = whole(quota.current) + " of " + whole(*quota.limit);
    const std::string next = license::iso8601(quota.period.end);
    if (status == Status::Exceeded) {
        return "Decision quota exceeded: " + used + " decisions used this month. Recommendations resume at " + next +
               " or after an upgrade.";
    }
    std::ostringstream percent;
    percent.precision(3);
    percent << *percentage_used(quota);
    return "Decision quota at " + percent.str() + " %: " + used + " decisions used this month (resets " + next + ").";
}

Json usage_json(const Snapshot& quota) {
    Json usage = json_object(4);
    usage["current"] = json_number(quota.current);
    usage["limit"] = quota.limit ? json_number(*quota.limit) : Json(nullptr);
    usage["periodStart"] = license::iso8601(quota.period.start);
    usage["periodEnd"] = license::iso8601(quota.period.end - 1);
    return usage;
}

Json quota_json(const Snapshot& quota) {
    const Status status = status_of(quota);
    Json out = json_object(6);
    out["tier"] = std::string(license::tier_name(quota.tier));
    out["status"] = std::string(status_name(status));
    out["usage"] = usage_json(quota);
    auto percent = percentage_used(quota);
    out["percentageUsed"] = percent ? Json(*percent) : Json(nullptr);
    std::string text = banner(quota);
    out["banner"] = text.empty() ? Json(nullptr) : Json(text);
    out["retryAfter"] = status == Status::Exceeded ? Json(license::iso8601(quota.period.end)) : Json(nullptr);
    return out;
}

Json exceeded_body(const Snapshot& quota) {
    Json body = Json::object();
    body["error"] = "Decision quota exceeded";
    body["code"] = "QUOTA_EXCEEDED";
    body["tier"] = std::string(license::tier_name(quota.tier));
    body["usage"] = usage_json(quota);
    body["retryAfter"] = license::iso8601(quota.period.end);
    return body;
}

int64_t retry_after_seconds(const Snapshot& quota, int64_t now) { return std::max<int64_t>(1, quota.period.end - now); }

std::vector<Alert> reached_alerts(const Snapshot& quota) {
    std::vector<Alert> out;
    if (!quota.limit) return out;
    for (const Alert& alert : kAlerts) {
        if (reached(quota.current, *quota.limit, alert.percent)) out.push_back(alert);
    }
    return out;
}

Json alert_payload(const Alert& alert, const Snapshot& quota, std::string_view tenant_name,
                   std::string_view admin_email) {
    Json payload = Json::object();
    payload["tier"] = std::string(license::tier_name(quota.tier));
    payload["usage"] = usage_json(quota);
    if (!quota.limit) return payload;  // unlimited quotas have no alerts (reached_alerts); never dereference
    if (alert.percent == kExceededPercent) {
        payload["retryAfter"] = license::iso8601(quota.period.end);
        return payload;
    }
    payload["percentageUsed"] = percentage_used(quota).value_or(0);
    if (alert.percent == kWarningPercent) {
        payload["banner"] = banner(quota);
        return payload;
    }
    const std::string used = whole(quota.current) + " of " + whole(*quota.limit);
    std::ostringstream body;
    body << "Hello,\n\n"
         << "The tenant \"" << tenant_name << "\" has used " << used << " decisions of its "
         << license::tier_name(quota.tier) << " quota for the period from " << license::iso8601(quota.period.start)
         << " to " << license::iso8601(quota.period.end - 1) << ".\n\n"
         << "At 100 % kaireon_recommend refuses further decisions (KR429) until "
         << license::iso8601(quota.period.end)
         << ". Upgrade the licence to raise the limit at once; the count then starts again under the new limit.\n";
    payload["email"] = Json{{"to", std::string(admin_email)},
                            {"subject", "[kaireon] " + one_line(tenant_name) + ": decision quota at " +
                                            whole(*percentage_used(quota)) + " %"},
                            {"body", body.str()}};
    return payload;
}

double projected_usage(const Snapshot& quota, int64_t now) {
    if (now >= quota.period.end) return quota.current;
    const double elapsed = std::max<double>(3600.0, static_cast<double>(now - quota.period.start));
    const double remaining = static_cast<double>(quota.period.end - now);
    return std::round(quota.current + quota.current / elapsed * remaining);
}

}  // namespace kaireon::quota
