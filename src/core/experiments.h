// experiments.h - experiments over flows (SPEC 6.5, docs/experiments.md):
// deterministic assignment of a customer to an A/B variant (or the
// holdout), a bandit's choice of a variant (bandits.h draws), and the
// statistics of experiment_report: each variant's rate with a 95 % Wilson
// interval, the uplift versus control with Newcombe's interval (the
// difference of two Wilson intervals), and a two-proportion z-test.
#pragma once
#include "core/pure.h"

#include "core/bandits.h"
#include "core/json.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kaireon::experiments {

struct Variant {
    std::string id;
    double weight = 1;
    std::string flow_id;  // "" when the variant is the experiment's own flow as it is
    bool control = false;
};

// BanditSettings are a bandit experiment's `bandit` object.
struct BanditSettings {
    bool thompson = true;              // else epsilon_greedy
    bandits::Prior prior;              // {alpha, beta}, default 1, 1
    bandits::EpsilonGreedy greedy;     // epsilon default 0.1, decay default 1
};

struct Experiment {
    std::string id, flow_id, type = "ab", status = "draft";
    double holdout_percent = 0;
    std::vector<Variant> variants;  // in the catalog's order
    BanditSettings bandit;          // for type "bandit"

    bool is_bandit() const { return type == "bandit"; }
    // A bandit without variants plays the flow's offers as its arms.
    bool bandit_over_offers() const { return is_bandit() && variants.empty(); }
};

// kHoldout is the variant name of a customer held out: the decision shows
// nothing.
inline constexpr std::string_view kHoldout = "holdout";

// unit_hash maps (tenant, experiment, customer) to [0, 1): the first 8 bytes
// of SHA-256 over the three, NUL-separated. Stable across sessions,
// restarts, servers and catalog re-applies.
double unit_hash(std::string_view tenant, std::string_view experiment, std::string_view customer);

struct Assignment {
    std::string variant;  // a variant id, or kHoldout
    std::string flow_id;  // the flow that decides ("" for the holdout)
};

// assign places the customer: u = unit_hash(...); u < holdoutPercent / 100
// is the holdout; the rest of [0, 1) is cut into the variants in order, in
// proportion to their weights. The variant's flow is its flowId, else the
// experiment's flow. An experiment without variants places every customer
// in its own flow, variant "".
Assignment assign(const Experiment& experiment, std::string_view tenant, std::string_view customer);

// arm_of is a Beta posterior's data from counts: successes = the positives
// (at most the impressions), failures = the impressions without one.
bandits::Arm arm_of(double impressions, double positives);

// choose_arm picks an arm with the experiment's algorithm: Thompson
// sampling, or epsilon-greedy whose pulls are the arms' trials so far
// (successes + failures). `arms` must not be empty.
size_t choose_arm(const BanditSettings& settings, const std::vector<bandits::Arm>& arms, bandits::Rng& rng);

// assign_bandit places the customer in a bandit experiment with variants:
// the holdout as assign() does (a hash, so a customer stays held out),
// else the variant choose_arm picks for this decision; arms[i] are the
// counts of variants[i]. A bandit over offers places everyone (but the
// holdout) in its own flow, variant "".
Assignment assign_bandit(const Experiment& experiment, std::string_view tenant, std::string_view customer,
                         const std::vector<bandits::Arm>& arms, bandits::Rng& rng);

struct Interval {
    double low = 0, high = 0;
};

// kZ95 is the normal quantile of a two-sided 95 % interval.
inline constexpr double kZ95 = 1.959963984540054;

// wilson is the Wilson score interval of successes / n (n > 0).
Interval wilson(double successes, double n, double z = kZ95);

// newcombe is the interval of p1 - p2 from the two Wilson intervals
// (Newcombe 1998, method 10).
Interval newcombe(double successes1, double n1, double successes2, double n2, double z = kZ95);

// two_proportion_p_value is the two-sided p-value of the pooled
// two-proportion z-test of successes1 / n1 against successes2 / n2; nothing
// when it is undefined (an empty side, or no variance at all).
std::optional<double> two_proportion_p_value(double successes1, double n1, double successes2, double n2);

struct VariantCounts {
    std::string id;
    bool control = false;
    double impressions = 0, positives = 0;
};

// report returns experiment_report's body: {"experiment", "variants": [{"id",
// "control", "impressions", "positives", "rate", "uplift", "interval":
// {"low", "high"}, "pValue"}]}. rate = positives / impressions (positives
// count at most the impressions); uplift = rate - the control's rate, its
// interval Newcombe's; the control's own row has its rate's Wilson
// interval, uplift 0 and no p-value. What cannot be computed (no
// impressions) is null.
Json report(const std::string& experiment_id, const std::vector<VariantCounts>& variants);

}  // namespace kaireon::experiments
