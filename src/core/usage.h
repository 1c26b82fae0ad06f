// usage.h - metering arithmetic (SPEC section 4), pure: the rollup that a
// statement's usage events fold into, the checks on one event, the hard-limit
// rule of each aggregation, and which thresholds a usage level has reached.
// The database layer supplies the numbers; numeric precision stays there (a
// Rollup is generic over the number type).
#pragma once
#include "core/pure.h"

#include "core/entitlements.h"

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace kaireon::usage {

// EventStamp orders events for LATEST: by occurred_at, ties by the later
// event (the greater id).
struct EventStamp {
    int64_t occurred_at = 0;  // any monotonic unit (microseconds in the database)
    int64_t id = 0;
    auto operator<=>(const EventStamp&) const = default;
};

// Rollup is SUM, COUNT, MAX, MIN and LATEST of a set of events; AVERAGE is
// sum / count. Number needs +, < and copy. Rollups merge associatively, so
// per-statement rollups fold into per-slot rows in any order.
template <class Number>
struct Rollup {
    Number sum{};
    int64_t count = 0;
    std::optional<Number> max;
    std::optional<Number> min;
    std::optional<Number> latest;
    EventStamp latest_at{};

    void add(const Number& value, EventStamp at) {
        sum = count == 0 ? value : sum + value;
        ++count;
        if (!max || *max < value) max = value;
        if (!min || value < *min) min = value;
        if (!latest || latest_at < at) {
            latest = value;
            latest_at = at;
        }
    }

    void merge(const Rollup& other) {
        if (other.count == 0) return;
        if (count == 0) {
            *this = other;
            return;
        }
        sum = sum + other.sum;
        count += other.count;
        if (*max < *other.max) max = other.max;
        if (*other.min < *min) min = other.min;
        if (latest_at < other.latest_at) {
            latest = other.latest;
            latest_at = other.latest_at;
        }
    }
};

// additive tells whether usage under `aggregation` grows by each event's
// contribution (sum: the value, count: 1), so that in-flight reports can be
// reserved against a limit; max, min, latest and average are not.
bool additive(entitlements::Aggregation aggregation);

// contribution returns what a statement with `total` summed value over
// `events` events adds to usage under an additive aggregation.
double contribution(entitlements::Aggregation aggregation, double total, int64_t events);

// Timing limits of one event, in seconds.
inline constexpr int64_t kMaxFutureSkew = 300;  // occurred_at may be ahead of the clock by this much

// occurred_at_problem returns why an event that occurred at `occurred_at`
// (Unix seconds) is refused at `now` with `max_lateness` seconds of allowed
// lateness, or "" when it is accepted.
std::string occurred_at_problem(double occurred_at, double now, int64_t max_lateness);

// Limits: what a report would make usage, and whether that passes the cap.
struct Current {
    double value = 0;         // usage so far under the feature's aggregation
    double sum = 0;           // for average
    int64_t count = 0;        // for average
};

// limited_usage returns the usage a statement is checked against the cap
// with: it adds `total` over `events` events whose largest value is
// `largest`, smallest `smallest` and latest `latest_value`.
//  - sum: current + total; count: current + events;
//  - average: (sum + total) / (count + events); min: the resulting minimum;
//  - max and latest: the statement's own largest / latest value (each value
//    is checked, whatever came before).
double limited_usage(entitlements::Aggregation aggregation, const Current& current, double total, int64_t events,
                     double largest, double smallest, double latest_value);

// threshold_percents returns the tenant's thresholds in force: the tenant's
// own (set_thresholds), else the feature's, else the defaults; sorted.
std::vector<int> threshold_percents(const std::optional<std::vector<int>>& tenant_percents,
                                    const entitlements::FeatureDefinition& feature);

// reached_thresholds returns the percents of `percents` that `usage` has
// reached against `limit` (usage >= limit * p / 100); none when limit <= 0.
std::vector<int> reached_thresholds(const std::vector<int>& percents, double usage, double limit);

// idempotency_key_problem returns why `key` is not a usable idempotency key
// (empty, over 255 characters, an ASCII control character), or "". The
// database checked the text is valid UTF-8.
std::string idempotency_key_problem(const std::string& key);

}  // namespace kaireon::usage
