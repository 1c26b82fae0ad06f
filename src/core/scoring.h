// scoring.h - step 5 of the pipeline (SPEC 6.2): the scorers of the
// built-in model types. The priority default (no model: score = priority /
// 100, no propensity), scorecards, Bayesian posteriors (bayes.h) and
// gradient-boosted trees (xgboost.h), and bandits over offers. Custom models call a SQL function:
// the PostgreSQL layer scores them (src/pg/custom_scorer.cpp).
#pragma once
#include "core/pure.h"

#include "core/bayes.h"
#include "core/catalog_compiled.h"
#include "core/experiments.h"
#include "core/pipeline.h"

#include <memory>
#include <string>

namespace kaireon::decision {

// builtin_scorer returns the scorer of `model` for one decision: the
// priority default when it is null, else the scorer of its type. A
// bayesian model reads `stats` (null: no data yet, the prior alone).
// Throws Error(BadRequest) for a type it cannot score (custom).
std::unique_ptr<Scorer> builtin_scorer(const catalog::CompiledModel* model, const std::string& flow_id,
                                       const catalog::CompiledCatalog* catalog = nullptr,
                                       const bayes::Stats* stats = nullptr);

// offer_bandit_scorer returns the scorer of a bandit experiment over
// offers (SPEC 6.5) for one decision: each candidate's value is drawn (or,
// epsilon-greedy, taken) from its offer's Beta posterior over `stats`'
// impressions and positives (all customers). The scorer draws from `rng`
// in the order the candidates are scored; `stats` and `rng` must outlive
// it (the settings are copied).
std::unique_ptr<Scorer> offer_bandit_scorer(const experiments::BanditSettings& settings, const bayes::Stats& stats,
                                            bandits::Rng& rng);

// feature_value is a gradient-boosted model's input from a resolved path:
// a number as float, a boolean as 1 or 0, anything else (null, text, a
// list) missing (NaN).
float feature_value(const expr::Value& value);

}  // namespace kaireon::decision
