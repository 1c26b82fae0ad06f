// usage_ingest.h - what happens to every event inserted into
// kaireon.usage_events, whether an application bulk-loaded many or
// report_usage wrote one: the statement-level trigger (or, for the event
// report_usage inserts directly, aggregate_reported_event, the same code)
// validates each row, folds the statement into one rollup per feature and
// period (C++, one pass over the transition table), enforces hard limits
// through the limit gate, adds the rollups to this backend's slot rows,
// registers idempotency keys and emits threshold events.
#pragma once
#include "core/entitlements.h"
#include "core/usage.h"

#include "pg/postgres_headers.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kaireon::pg {

// While a ReportScope is alive, the trigger leaves idempotency keys to
// report_usage, which answers replays itself.
class ReportScope {
public:
    ReportScope();
    ~ReportScope();
    ReportScope(const ReportScope&) = delete;
    ReportScope& operator=(const ReportScope&) = delete;
};

// kUsageAggregateTrigger is kaireon.usage_events' statement trigger, whose
// work report_usage does itself for the event it inserts directly
// (direct_insert.h): aggregate_reported_event judges the event, applies the
// limits and writes the slot, thresholds and audit record exactly as the
// trigger does for a statement of one row. (The event's idempotency key is
// report_usage's, as under a ReportScope.)
inline constexpr const char* kUsageAggregateTrigger = "aggregate";
void aggregate_reported_event(const std::string& tenant, int64_t id, const std::string& feature, Datum value,
                              TimestampTz occurred_at, const std::optional<std::string>& key, Datum properties);

// The settings: kaireon.idempotency_ttl and kaireon.max_event_lateness, in
// seconds.
int64_t idempotency_ttl_seconds();
int64_t max_event_lateness_seconds();

// period_start_timestamp returns the start of the period `period` ("hour",
// "day", "week", "month", "never") that contains `at`; -infinity for never.
TimestampTz period_start_timestamp(std::string_view period, TimestampTz at);

// read_usage returns a feature's usage in the period that starts at
// `period_start` (-infinity for never): committed usage with the latest
// snapshot when `latest` (what limits are checked against), else as this
// transaction sees it. Its own writes are included either way.
usage::Current read_usage(const std::string& tenant, const entitlements::FeatureDefinition& feature,
                          TimestampTz period_start, bool latest);

// emit_thresholds emits usage.threshold_reached for each threshold in force
// that `usage_after` has reached against `limit`, once per tenant, feature,
// period and threshold.
//  - UsageReport: every threshold in force; when another open transaction
//    is sending the same event, wait for it (and send it if it rolled back).
//  - Decision: only the tenant's own thresholds (set_thresholds) - the
//    quota's 90/95/100 % have events of their own - and never wait: a
//    decision may hold other locks (the trace allowance), and a later
//    decision past the threshold sends an event whose sender rolled back.
enum class ThresholdCaller { UsageReport, Decision };
struct FeatureEntry;
void emit_thresholds(const std::string& tenant, const FeatureEntry& feature, double limit, double usage_after,
                     TimestampTz period_start, ThresholdCaller caller);

// usage_ingest_init defines the settings (from _PG_init).
void usage_ingest_init();

}  // namespace kaireon::pg
