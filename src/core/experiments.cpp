#include "core/experiments.h"

#include "core/error.h"

#include <openssl/sha.h>

#include <algorithm>
#include <cmath>

namespace kaireon::experiments {
namespace {

double successes_of(double positives, double impressions) { return std::min(positives, impressions); }

Json number_or_null(std::optional<double> value) {
    return value && std::isfinite(*value) ? Json(*value) : Json(nullptr);
}

double holdout_share(const Experiment& experiment) { return std::clamp(experiment.holdout_percent, 0.0, 100.0) / 100; }

Assignment variant_assignment(const Experiment& experiment, const Variant& v) {
    return {v.id, v.flow_id.empty() ? experiment.flow_id : v.flow_id};
}

}  // namespace

double unit_hash(std::string_view tenant, std::string_view experiment, std::string_view customer) {
    std::string material(tenant);
    material.push_back('\0');
    material += experiment;
    material.push_back('\0');
    material += customer;
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(material.data()), material.size(), digest);
    uint64_t x = 0;
    for (int i = 0; i < 8; ++i) x = (x << 8) | digest[i];
    // The top 53 bits: exactly representable, so u < 1 always.
    return static_cast<double>(x >> 11) / 9007199254740992.0;
}

Assignment assign(const Experiment& experiment, std::string_view tenant, std::string_view customer) {
    const double u = unit_hash(tenant, experiment.id, customer);
    const double holdout = holdout_share(experiment);
    if (u < holdout) return {std::string(kHoldout), ""};
    if (experiment.variants.empty()) return {"", experiment.flow_id};  // nothing to choose: the flow itself
    double total = 0;
    for (const auto& v : experiment.variants) total += v.weight;
    // Where u falls in what the holdout leaves, scaled to the weights.
    const double point = holdout < 1 ? (u - holdout) / (1 - holdout) * total : 0;
    double edge = 0;
    for (const auto& v : experiment.variants) {
        edge += v.weight;
        if (point < edge) return variant_assignment(experiment, v);
    }
    return variant_assignment(experiment, experiment.variants.back());  // rounding at the very end
}

bandits::Arm arm_of(double impressions, double positives) {
    const double successes = std::clamp(positives, 0.0, std::max(impressions, 0.0));
    return {successes, std::max(impressions, 0.0) - successes};
}

size_t choose_arm(const BanditSettings& settings, const std::vector<bandits::Arm>& arms, bandits::Rng& rng) {
    if (settings.thompson) return bandits::thompson(arms, settings.prior, rng);
    double pulls = 0;
    for (const auto& arm : arms) pulls += arm.successes + arm.failures;
    return bandits::epsilon_greedy(arms, settings.prior, settings.greedy, static_cast<uint64_t>(pulls), rng);
}

Assignment assign_bandit(const Experiment& experiment, std::string_view tenant, std::string_view customer,
                         const std::vector<bandits::Arm>& arms, bandits::Rng& rng) {
    if (unit_hash(tenant, experiment.id, customer) < holdout_share(experiment)) return {std::string(kHoldout), ""};
    if (experiment.variants.empty()) return {"", experiment.flow_id};
    if (arms.size() != experiment.variants.size())
        throw Error(ErrorCode::Internal, "experiment \"" + experiment.id + "\": " + std::to_string(arms.size()) +
                                             " arms for " + std::to_string(experiment.variants.size()) + " variants");
    return variant_assignment(experiment, experiment.variants[choose_arm(experiment.bandit, arms, rng)]);
}

Interval wilson(double successes, double n, double z) {
    if (n <= 0) return {0, 1};
    const double p = successes / n;
    const double z2 = z * z;
    const double centre = (p + z2 / (2 * n)) / (1 + z2 / n);
    const double half = z / (1 + z2 / n) * std::sqrt(p * (1 - p) / n + z2 / (4 * n * n));
    // No successes (or no failures) bound the interval at exactly 0 (or 1).
    return {successes <= 0 ? 0.0 : std::max(0.0, centre - half), successes >= n ? 1.0 : std::min(1.0, centre + half)};
}

Interval newcombe(double successes1, double n1, double successes2, double n2, double z) {
    const double p1 = successes1 / n1, p2 = successes2 / n2;
    const Interval a = wilson(successes1, n1, z), b = wilson(successes2, n2, z);
    const double d = p1 - p2;
    return {d - std::sqrt((p1 - a.low) * (p1 - a.low) + (b.high - p2) * (b.high - p2)),
            d + std::sqrt((a.high - p1) * (a.high - p1) + (p2 - b.low) * (p2 - b.low))};
}

std::optional<double> two_proportion_p_value(double successes1, double n1, double successes2, double n2) {
    if (n1 <= 0 || n2 <= 0) return std::nullopt;
    const double pooled = (successes1 + successes2) / (n1 + n2);
    const double se = std::sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
    if (!(se > 0)) return std::nullopt;
    const double z = (successes1 / n1 - successes2 / n2) / se;
    return std::erfc(std::fabs(z) / std::sqrt(2.0));
}

Json report(const std::string& experiment_id, const std::vector<VariantCounts>& variants) {
    const VariantCounts* control = nullptr;
    for (const auto& v : variants)
        if (v.control) control = &v;
    Json rows = Json::array();
    for (const auto& v : variants) {
        const double s = successes_of(v.positives, v.impressions);
        Json row = {{"id", v.id},
                    {"control", v.control},
                    {"impressions", json_number(v.impressions)},
                    {"positives", json_number(v.positives)},
                    {"rate", v.impressions > 0 ? Json(s / v.impressions) : Json(nullptr)},
                    {"uplift", nullptr},
                    {"interval", nullptr},
                    {"pValue", nullptr}};
        if (v.control) {
            if (v.impressions > 0) {
                const Interval i = wilson(s, v.impressions);
                row["uplift"] = 0;
                row["interval"] = {{"low", i.low}, {"high", i.high}};
            }
        } else if (control != nullptr && v.impressions > 0 && control->impressions > 0) {
            const double sc = successes_of(control->positives, control->impressions);
            const Interval i = newcombe(s, v.impressions, sc, control->impressions);
            row["uplift"] = s / v.impressions - sc / control->impressions;
            row["interval"] = {{"low", i.low}, {"high", i.high}};
            row["pValue"] = number_or_null(two_proportion_p_value(s, v.impressions, sc, control->impressions));
        }
        rows.push_back(std::move(row));
    }
    return {{"experiment", experiment_id}, {"variants", std::move(rows)}};
}

}  // namespace kaireon::experiments
