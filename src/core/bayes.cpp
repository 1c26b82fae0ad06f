#include "core/bayes.h"

namespace kaireon::bayes {
namespace {

// blend returns Beta(P + n mean, F + n (1 - mean)), or the plain prior's
// update when blending is off.
Posterior blend(const Counts& own, double parent_mean, const Params& params) {
    Posterior out;
    out.own = own;
    if (params.min_impressions <= 0) {
        out.alpha = params.alpha + own.successes();
        out.beta = params.beta + own.failures();
    } else {
        out.alpha = own.successes() + params.min_impressions * parent_mean;
        out.beta = own.failures() + params.min_impressions * (1 - parent_mean);
    }
    return out;
}

}  // namespace

Params params_of(const Json& definition) {
    Params p;
    if (definition.contains("prior")) {
        p.alpha = definition["prior"].value("alpha", 1.0);
        p.beta = definition["prior"].value("beta", 1.0);
    }
    p.min_impressions = definition.value("minImpressions", 100.0);
    p.by_segment = definition.value("bySegment", false);
    return p;
}

Model::Model(const catalog::CompiledCatalog& catalog, const Params& params, const Stats& stats)
    : params_(params), stats_(stats) {
    Counts all;
    for (const auto& [offer_id, counts] : stats.offers) {
        all.impressions += counts.impressions;
        all.positives += counts.successes();
        const catalog::CompiledOffer* offer = catalog.offer(offer_id);
        if (offer == nullptr || offer->category_id.empty()) continue;
        Counts& category = categories_[offer->category_id];
        category.impressions += counts.impressions;
        category.positives += counts.successes();
    }
    tenant_mean_ = (all.positives + params.alpha) / (all.impressions + params.alpha + params.beta);
}

double Model::category_mean(const std::string& category_id) const {
    auto it = categories_.find(category_id);
    if (it == categories_.end() || params_.min_impressions <= 0) return tenant_mean_;
    const double n = params_.min_impressions;
    return (it->second.positives + n * tenant_mean_) / (it->second.impressions + n);
}

Posterior Model::posterior(const catalog::CompiledOffer& offer, const std::vector<std::string>& segments) const {
    auto it = stats_.offers.find(offer.id);
    const Counts own = it != stats_.offers.end() ? it->second : Counts{};
    Posterior at_offer = blend(own, category_mean(offer.category_id), params_);
    at_offer.level = "offer";
    if (!params_.by_segment) return at_offer;
    const Counts* best = nullptr;
    const std::string* best_segment = nullptr;
    for (const auto& segment : segments) {
        auto s = stats_.segments.find({offer.id, segment});
        if (s == stats_.segments.end() || s->second.impressions <= 0) continue;
        if (best == nullptr || s->second.impressions > best->impressions ||
            (s->second.impressions == best->impressions && segment < *best_segment)) {
            best = &s->second;
            best_segment = &segment;
        }
    }
    if (best == nullptr) return at_offer;
    Posterior at_segment = blend(*best, at_offer.mean(), params_);
    at_segment.level = "segment:" + *best_segment;
    return at_segment;
}

}  // namespace kaireon::bayes
