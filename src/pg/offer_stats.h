// offer_stats.h - the statistics Bayesian models learn from (SPEC 6.2 step
// 5, docs/models.md): impressions and positive outcomes per offer and per
// (offer, customer segment), in kaireon.offer_stat_slots. kaireon_respond
// adds to them while the tenant's catalog has a bayesian model; a decision
// reads them through a per-backend cache at most kaireon.model_stats_max_age
// old.
#pragma once
#include "core/bayes.h"
#include "core/catalog_compiled.h"

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

// offer_stats_init defines kaireon.model_stats_max_age (from _PG_init).
void offer_stats_init();

}  // namespace kaireon::pg
