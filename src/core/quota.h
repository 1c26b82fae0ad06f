// quota.h - the decision quota's rules (SPEC section 5), pure: the period a
// decision counts in, the one shape of quota_status() and of the response's
// `quota` object, the 429 body, the 90/95/100 % alerts and the month-end
// projection. The database side (counting, locking, events) is
// src/pg/quota_state.cpp.
#pragma once
#include "core/pure.h"

#include "core/json.h"
#include "core/license.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kaireon::quota {

// Period is what the quota counts over: the calendar month (UTC) that
// contains the moment, started again at a licence upgrade made within it
// (`start` is then the upgrade's instant). `end` is the next month's first
// second (exclusive); `month_start` the month's first second.
struct Period {
    int64_t start = 0;
    int64_t end = 0;
    int64_t month_start = 0;
};

// current_period returns the period in force at `now` for a tenant whose last
// upgrade happened at `reset_at` (if any): an upgrade in an earlier month no
// longer matters, one in the future (a clock moved back) is ignored.
Period current_period(int64_t now, std::optional<int64_t> reset_at);

enum class Status { Ok, Warning, Exceeded };
std::string_view status_name(Status status);

// Snapshot is a tenant's quota at one moment.
struct Snapshot {
    license::Tier tier = license::Tier::Community;
    double current = 0;           // decisions counted in the period
    std::optional<double> limit;  // nullopt: unlimited
    Period period;
};

// The alert levels, in percent of the limit.
inline constexpr int kWarningPercent = 90;
inline constexpr int kNotifyPercent = 95;
inline constexpr int kExceededPercent = 100;

// status_of: Ok below 90 %, Warning from 90 %, Exceeded when the limit is
// used up (current >= limit). Unlimited is always Ok.
Status status_of(const Snapshot& quota);

// percentage_used returns current / limit in percent, down to one decimal
// (nullopt when unlimited; a zero limit counts as 100 %).
std::optional<double> percentage_used(const Snapshot& quota);

// banner returns the text clients show from 90 % on ("" below).
std::string banner(const Snapshot& quota);

// usage_json: {"current", "limit", "periodStart", "periodEnd"}; periodEnd is
// the period's last second ("2026-03-31T23:59:59Z"), as in the seed's body.
Json usage_json(const Snapshot& quota);

// quota_json: {"tier", "status", "usage", "percentageUsed", "banner",
// "retryAfter"} - quota_status() and every recommend response. retryAfter
// (the next period's start) is set only when the quota is exhausted.
Json quota_json(const Snapshot& quota);

// exceeded_body is the 429 body of the seed, key for key: {"error",
// "code", "tier", "usage", "retryAfter"}.
Json exceeded_body(const Snapshot& quota);

// retry_after_seconds: whole seconds from `now` until the next period (at
// least 1, so a client never retries at once).
int64_t retry_after_seconds(const Snapshot& quota, int64_t now);

// Alert is one of the quota's events: the decision that brings usage to
// `percent` of the limit emits `event_type`, once per period.
struct Alert {
    int percent;
    std::string_view event_type;
};

// reached_alerts returns the alerts whose level `quota.current` has reached
// (none when unlimited), lowest first; deduplication per period is the
// caller's.
std::vector<Alert> reached_alerts(const Snapshot& quota);

// alert_payload is the event's payload (see event_types.cpp); a
// quota.admin_notified event carries the e-mail to `admin_email`.
Json alert_payload(const Alert& alert, const Snapshot& quota, std::string_view tenant_name,
                   std::string_view admin_email);

// projected_usage estimates the count at the end of the month: the
// decisions so far plus the average rate since the period started, carried
// to the period's end. The rate is taken over at least one hour, so the
// first decisions of a period do not project wildly; past the end, the
// count itself.
double projected_usage(const Snapshot& quota, int64_t now);

}  // namespace kaireon::quota
