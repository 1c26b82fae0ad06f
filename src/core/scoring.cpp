#include "core/scoring.h"

#include "core/error.h"
#include "core/xgboost.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <vector>

namespace kaireon::decision {
namespace {

using catalog::CompiledOffer;

class PriorityScorer final : public Scorer {
public:
    Score score(const CompiledOffer& offer, const CustomerView&, const Json&, double) const override {
        return {offer.priority / 100, std::nullopt};
    }
};

// ScorecardScorer: raw = base + the points of every rule whose `when` holds;
// linear: score = factor x raw, propensity = score clamped to [0, 1];
// logistic: score = propensity = 1 / (1 + e^(-factor x raw)). The rules'
// customer and context paths are resolved once per decision, and the rules
// that read no offer path are judged once per decision (`met_`); the
// points are still added in the rules' order, so the sum is the same to
// the bit.
class ScorecardScorer final : public Scorer {
public:
    explicit ScorecardScorer(const catalog::CompiledModel& model) : model_(model) {}
    Score score(const CompiledOffer& offer, const CustomerView& view, const Json& context, double now) const override {
        if (!subject_ && !model_.rules.empty()) subject_.emplace(model_.rules.front().first.table, view.customer, context);
        catalog::SubjectValues* subject = subject_ ? &*subject_ : nullptr;
        const std::vector<Met>& met = judged(offer, view, context, now);
        double raw = model_.base;
        for (size_t i = 0; i < model_.rules.size(); ++i) {
            const auto& [when, points] = model_.rules[i];
            const Met known = i < met.size() ? met[i] : Met::PerOffer;
            if (known == Met::PerOffer ? catalog::holds(when, view.customer, &offer, context, now, subject)
                                       : known == Met::Yes)
                raw += points;
        }
        if (model_.logistic) {
            double p = 1 / (1 + std::exp(-model_.factor * raw));
            return {p, p};
        }
        double score = model_.factor * raw;
        if (!std::isfinite(score)) score = 0;
        return {score, std::clamp(score, 0.0, 1.0)};
    }

private:
    enum class Met : uint8_t { PerOffer, Yes, No };

    // judged returns, by rule, whether each rule that reads no offer path
    // holds for this decision's customer, context and `now` (PerOffer: the
    // rule reads the offer, or the subject is another customer's or
    // context's: judged for each offer).
    const std::vector<Met>& judged(const CompiledOffer& offer, const CustomerView& view, const Json& context,
                                   double now) const {
        static const std::vector<Met> kNone;
        if (!subject_) return kNone;
        if (&view.customer != &subject_->customer() || &context != &subject_->context()) return kNone;
        if (!met_.empty() && met_now_ == now) return met_;
        met_.assign(model_.rules.size(), Met::PerOffer);
        met_now_ = now;
        for (size_t i = 0; i < model_.rules.size(); ++i) {
            const catalog::Expression& when = model_.rules[i].first;
            if (when.reads_offer || !subject_->serves(when, view.customer, context)) continue;
            met_[i] = catalog::holds(when, view.customer, &offer, context, now, &*subject_) ? Met::Yes : Met::No;
        }
        return met_;
    }

    const catalog::CompiledModel& model_;
    mutable std::optional<catalog::SubjectValues> subject_;  // this decision's (holds ignores it for another customer)
    mutable std::vector<Met> met_;
    mutable double met_now_ = 0;
};

// BayesianScorer: score = propensity = the posterior mean (bayes.h).
class BayesianScorer final : public Scorer {
public:
    BayesianScorer(const catalog::CompiledCatalog& catalog, const catalog::CompiledModel& model, const bayes::Stats& stats)
        : model_(catalog, bayes::params_of(model.definition), stats) {}
    Score score(const CompiledOffer& offer, const CustomerView& view, const Json&, double) const override {
        const double mean = model_.posterior(offer, view.customer.segments).mean();
        return {mean, mean};
    }

private:
    bayes::Model model_;
};

// GradientBoostedScorer: feature i is the value at the definition's path i;
// score = propensity = the model's prediction. The paths that do not read
// the offer are resolved once per decision.
class GradientBoostedScorer final : public Scorer {
public:
    explicit GradientBoostedScorer(const catalog::CompiledModel& model) : model_(model) {}
    Score score(const CompiledOffer& offer, const CustomerView& view, const Json& context, double) const override {
        const auto& paths = model_.features;
        if (!shared_) {
            // As many as the model reads (the catalog makes them equal).
            shared_.emplace(std::max(paths.size(), model_.forest->num_features), std::numeric_limits<float>::quiet_NaN());
            for (size_t i = 0; i < paths.size(); ++i)
                if (!reads_offer(paths[i])) (*shared_)[i] = feature_value(catalog::resolve(paths[i], view.customer, nullptr, context));
        }
        features_ = *shared_;
        for (size_t i = 0; i < paths.size(); ++i)
            if (reads_offer(paths[i])) features_[i] = feature_value(catalog::resolve(paths[i], view.customer, &offer.row, context));
        const double p = model_.forest->predict(features_.data());
        return {p, p};
    }

private:
    static bool reads_offer(const std::string& path) { return path.starts_with("offer."); }

    const catalog::CompiledModel& model_;
    mutable std::optional<std::vector<float>> shared_;  // this decision's customer and context features
    mutable std::vector<float> features_;
};

// OfferBanditScorer: a bandit over offers (SPEC 6.5) scores each candidate
// with its arm's value for this decision, from the offer's impressions and
// positives: Thompson, a draw from Beta(alpha + successes, beta +
// failures); epsilon-greedy, the posterior mean, or (exploring, one coin
// per decision) a uniform draw, which orders the candidates at random.
// score = propensity = that value.
class OfferBanditScorer final : public Scorer {
public:
    OfferBanditScorer(const experiments::BanditSettings& settings, const bayes::Stats& stats, bandits::Rng& rng)
        : settings_(settings), stats_(stats), rng_(rng) {
        if (!settings.thompson) {
            double pulls = 0;
            for (const auto& [offer, counts] : stats.offers) pulls += std::max(counts.impressions, 0.0);
            exploring_ = rng.uniform() < bandits::epsilon_at(settings.greedy, static_cast<uint64_t>(pulls));
        }
    }
    Score score(const CompiledOffer& offer, const CustomerView&, const Json&, double) const override {
        auto it = stats_.offers.find(offer.id);
        const bayes::Counts counts = it != stats_.offers.end() ? it->second : bayes::Counts{};
        const bandits::Arm arm = experiments::arm_of(counts.impressions, counts.positives);
        const bandits::Prior& prior = settings_.prior;
        double value;
        if (settings_.thompson) value = rng_.beta(prior.alpha + arm.successes, prior.beta + arm.failures);
        else if (exploring_) value = rng_.uniform();
        else value = (prior.alpha + arm.successes) / (prior.alpha + prior.beta + arm.successes + arm.failures);
        return {value, value};
    }

private:
    const experiments::BanditSettings settings_;  // a copy: callers may pass a temporary
    const bayes::Stats& stats_;
    bandits::Rng& rng_;
    bool exploring_ = false;
};

}  // namespace

std::unique_ptr<Scorer> offer_bandit_scorer(const experiments::BanditSettings& settings, const bayes::Stats& stats,
                                            bandits::Rng& rng) {
    return std::make_unique<OfferBanditScorer>(settings, stats, rng);
}

float feature_value(const expr::Value& value) {
    if (value.is_number()) return static_cast<float>(value.as_number());
    if (value.is_bool()) return value.as_bool() ? 1.0f : 0.0f;
    return std::numeric_limits<float>::quiet_NaN();
}

std::unique_ptr<Scorer> builtin_scorer(const catalog::CompiledModel* model, const std::string& flow_id,
                                       const catalog::CompiledCatalog* catalog, const bayes::Stats* stats) {
    if (model == nullptr) return std::make_unique<PriorityScorer>();
    if (model->type == "scorecard") return std::make_unique<ScorecardScorer>(*model);
    if (model->type == "gradient_boosted" && model->forest) return std::make_unique<GradientBoostedScorer>(*model);
    if (model->type == "bayesian" && catalog != nullptr) {
        static const bayes::Stats kNoStats;
        return std::make_unique<BayesianScorer>(*catalog, *model, stats != nullptr ? *stats : kNoStats);
    }
    throw_bad_request("flow \"" + flow_id + "\": models of type " + model->type + " cannot score here",
                      {{"flow", flow_id}, {"modelId", model->id}, {"type", model->type}});
}

}  // namespace kaireon::decision
