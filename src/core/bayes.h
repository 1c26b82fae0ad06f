// bayes.h - Bayesian propensities (SPEC 6.2, model type "bayesian"): a
// Beta-binomial posterior per offer, optionally per customer segment, from
// the impressions and positive outcomes kaireon_respond recorded.
//
// While an offer's own data is thin its posterior borrows from its
// category's rate, and the category's from the tenant-wide rate
// (hierarchical shrinkage with a pseudo-count n = minImpressions):
//   tenant    mean_t = (P_all + alpha) / (I_all + alpha + beta)
//   category  mean_c = (P_cat + n mean_t) / (I_cat + n)          (no category: mean_t)
//   offer     Beta(P_o + n mean_c, F_o + n (1 - mean_c))
//   segment   Beta(P_os + n mean_o, F_os + n (1 - mean_o))      (bySegment)
// where I are impressions, P positives (at most I: a positive outcome with
// no recorded impression adds none past them, so a rate stays a rate) and
// F = I - P failures. At
// I_o = n the offer's own rate weighs as much as its category's; far past
// it, the offer's own data decides. n = 0 turns blending off: every
// posterior is then Beta(alpha + P, beta + F) over its own counts.
#pragma once
#include "core/pure.h"

#include "core/catalog_compiled.h"

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace kaireon::bayes {

struct Counts {
    double impressions = 0, positives = 0;
    // successes are the positives the model counts: at most the impressions.
    double successes() const { return positives < impressions ? positives : impressions; }
    double failures() const { return impressions - successes(); }
};

// Stats are a tenant's recorded counts: per offer over all customers, and
// per (offer, segment) of the customers in the segment when they responded.
struct Stats {
    std::map<std::string, Counts, std::less<>> offers;
    std::map<std::pair<std::string, std::string>, Counts> segments;  // (offer id, segment)
};

// Params are a bayesian model's definition.
struct Params {
    double alpha = 1, beta = 1;  // prior
    double min_impressions = 100;  // the blending pseudo-count n
    bool by_segment = false;
};
Params params_of(const Json& definition);

struct Posterior {
    double alpha = 1, beta = 1;
    Counts own;         // the counts it was updated with
    std::string level;  // "offer", or "segment:<id>"
    double mean() const { return alpha / (alpha + beta); }
};

// Model holds the tenant-wide and per-category rates of one set of stats,
// computed once per decision.
class Model {
public:
    Model(const catalog::CompiledCatalog& catalog, const Params& params, const Stats& stats);

    // posterior of `offer` for a customer in `segments`: with bySegment, of
    // the customer's segment that has the most impressions of the offer
    // (ties: the smallest id); else, and when none has any, the offer's.
    Posterior posterior(const catalog::CompiledOffer& offer, const std::vector<std::string>& segments) const;

private:
    double category_mean(const std::string& category_id) const;

    Params params_;
    const Stats& stats_;
    double tenant_mean_ = 0.5;
    std::map<std::string, Counts, std::less<>> categories_;
};

}  // namespace kaireon::bayes
