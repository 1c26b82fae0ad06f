// policy_state.h - what contact policies (SPEC 6.3) read from the database:
// the customer's interaction summary (kaireon.interactions, through the
// interactions_customer index), local time from PostgreSQL's time zone
// data, and the offers' budgets. Budgets count like frequency caps
// (cap_state.h): durable as the interactions, exact in the limit gate's
// counted mode, so a budget_exhausted check is one LWLock per budgeted
// offer, never a scan.
#pragma once
#include "core/catalog_compiled.h"
#include "core/contact_policies.h"
#include "core/pipeline.h"

#include <cstdint>
#include <string>

namespace kaireon::pg {

// local_time is policies::LocalClock over PostgreSQL's time zones (an
// unknown or empty zone is UTC).
policies::LocalTime local_time(const std::string& zone, int64_t now);

// customer_history reads the customer's interaction summary for `needs`.
policies::History customer_history(const std::string& tenant, const std::string& customer_id,
                                   const policies::Needs& needs);

// read_customer_history reads the customer's interaction summary for the
// catalog's policies and metrics, and puts the metrics into the view's
// customer (what metric() reads). Empty when nothing needs it.
policies::History read_customer_history(const std::string& tenant, const catalog::CompiledCatalog& catalog,
                                        decision::CustomerView& view, int64_t now);

// CustomerPolicies is what one decision needs for step 4 and metric(): the
// history (read_customer_history) and the spent budgets.
struct CustomerPolicies {
    policies::History history;
    policies::BudgetSpent budgets;
};
CustomerPolicies read_customer_policies(const std::string& tenant, const catalog::CompiledCatalog& catalog,
                                        decision::CustomerView& view, int64_t now);

// budget_spent returns what the offer's budget has spent in its period
// that contains `now` (committed interactions and those of open
// transactions).
double budget_spent(const std::string& tenant, const catalog::CompiledOffer& offer, int64_t now);

// count_budget adds an interaction of the offer to its budget (an
// impression to an impressions budget; its value to a value budget).
void count_budget(const std::string& tenant, const catalog::CompiledOffer& offer, const std::string& kind,
                  std::optional<double> value, int64_t now);

}  // namespace kaireon::pg
