#include "core/usage.h"

#include <algorithm>
#include <cmath>

namespace kaireon::usage {

using entitlements::Aggregation;

bool additive(Aggregation aggregation) { return aggregation == Aggregation::Sum || aggregation == Aggregation::Count; }

double contribution(Aggregation aggregation, double total, int64_t events) {
    return aggregation == Aggregation::Count ? static_cast<double>(events) : total;
}

std::string occurred_at_problem(double occurred_at, double now, int64_t max_lateness) {
    if (!std::isfinite(occurred_at) || !std::isfinite(now)) return "occurred_at must be a finite timestamp";
    if (occurred_at > now + static_cast<double>(kMaxFutureSkew)) {
        return "occurred_at is more than " + std::to_string(kMaxFutureSkew) + " seconds in the future";
    }
    if (occurred_at < now - static_cast<double>(max_lateness)) {
        return "occurred_at is older than kaireon.max_event_lateness (" + std::to_string(max_lateness) + " s)";
    }
    return "";
}

double limited_usage(Aggregation aggregation, const Current& current, double total, int64_t events, double largest,
                     double smallest, double latest_value) {
    switch (aggregation) {
        case Aggregation::Sum:
            return current.value + total;
        case Aggregation::Count:
            return current.value + static_cast<double>(events);
        case Aggregation::Max:
            return largest;
        case Aggregation::Latest:
            return latest_value;
        case Aggregation::Min:
            return current.count > 0 ? std::min(current.value, smallest) : smallest;
        case Aggregation::Average: {
            const double count = static_cast<double>(current.count + events);
            return count > 0 ? (current.sum + total) / count : 0;
        }
    }
    return current.value;
}

std::vector<int> threshold_percents(const std::optional<std::vector<int>>& tenant_percents,
                                    const entitlements::FeatureDefinition& feature) {
    std::vector<int> percents = tenant_percents ? *tenant_percents
                                : feature.thresholds.empty() ? entitlements::kDefaultThresholds
                                                             : feature.thresholds;
    std::sort(percents.begin(), percents.end());
    percents.erase(std::unique(percents.begin(), percents.end()), percents.end());
    return percents;
}

std::vector<int> reached_thresholds(const std::vector<int>& percents, double usage, double limit) {
    std::vector<int> reached;
    if (!(limit > 0) || !std::isfinite(usage)) return reached;
    for (int percent : percents) {
        // Compare usage * 100 >= limit * percent: no division, so 29 of 100
        // reaches 29 % exactly; long double's wider exponent keeps products
        // near the top of the double range from overflowing.
        if (static_cast<long double>(usage) * 100.0L >= static_cast<long double>(limit) * percent) {
            reached.push_back(percent);
        }
    }
    return reached;
}

std::string idempotency_key_problem(const std::string& key) {
    if (key.empty()) return "idempotency_key must not be empty (NULL means none)";
    size_t characters = 0;  // UTF-8: every byte that does not continue a character starts one
    for (unsigned char c : key) characters += (c & 0xC0) != 0x80 ? 1 : 0;
    if (characters > 255) return "idempotency_key must be at most 255 characters";
    for (unsigned char c : key) {
        if (c < 0x20 || c == 0x7f) return "idempotency_key must not contain control characters";
    }
    return "";
}

}  // namespace kaireon::usage
