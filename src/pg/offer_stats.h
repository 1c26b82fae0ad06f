// offer_stats.h - the statistics Bayesian models and bandits learn from
// (SPEC 6.2 step 5 and 6.5, docs/models.md, docs/experiments.md):
// impressions and positive outcomes per offer and per (offer, customer
// segment), in kaireon.offer_stat_slots, and per (bandit experiment,
// variant), in kaireon.bandit_arm_slots. kaireon_respond adds to them while
// the tenant's catalog has a model or bandit that reads them; a decision
// reads them through a per-backend cache at most
// kaireon.model_stats_max_age old.
#pragma once
#include "core/bayes.h"
#include "core/catalog_compiled.h"

#include <map>
#include <memory>
#include <string>

namespace kaireon::pg {

// count_offer_stats adds one interaction of `kind` (impression, positive;
// others count nothing) of the offer to its statistics, and to those of
// each segment the customer is in when the catalog counts by segment.
// Never waits for another transaction: it adds to a slot nobody else holds.
void count_offer_stats(const std::string& tenant, const catalog::CompiledCatalog& catalog, const std::string& offer_id,
                       const std::string& customer_id, const std::string& kind);

// offer_stats returns the tenant's statistics for a decision.
std::shared_ptr<const bayes::Stats> offer_stats(const std::string& tenant);

// rebuild_offer_stats counts the tenant's statistics again from its
// recorded interactions (latest committed data), per offer and per segment
// the customers are in now, and adds the differences as correction slots.
// The caller holds responding transactions back.
void rebuild_offer_stats(const std::string& tenant);

// ArmStats are the counts of bandit arms by (experiment id, variant).
using ArmStats = std::map<std::pair<std::string, std::string>, bayes::Counts>;

// count_bandit_arm adds one interaction of `kind` answering a decision a
// bandit experiment placed in `variant` to that arm's counts (nothing for
// other kinds, other experiments or no variant). Never waits either.
void count_bandit_arm(const std::string& tenant, const catalog::CompiledCatalog& catalog,
                      const std::string& experiment_id, const std::string& variant, const std::string& kind);

// bandit_arm_stats returns the tenant's arm counts for a decision.
std::shared_ptr<const ArmStats> bandit_arm_stats(const std::string& tenant);

// rebuild_bandit_arms counts one experiment's arms again from the recorded
// interactions (latest committed data) and adds the differences as
// correction slots. The caller holds responding transactions back.
void rebuild_bandit_arms(const std::string& tenant, const std::string& experiment_id);

// offer_stats_init defines kaireon.model_stats_max_age (from _PG_init).
void offer_stats_init();

}  // namespace kaireon::pg
