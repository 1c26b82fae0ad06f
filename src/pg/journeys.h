// journeys.h - journeys in the database (SPEC 6.7, docs/automation.md):
// enrolling customers, and telling their journeys what happened to them.
// The engine is src/core/journeys.h; instances and their transitions live in
// kaireon.journey_instances and kaireon.journey_transitions.
#pragma once
#include "core/catalog_compiled.h"
#include "core/json.h"

#include <string>

namespace kaireon::pg {

// enroll_in_journey enrols the tenant's customer in `journey_id` with
// `context` (mode skip_if_active, restart or allow_multiple) and advances
// the new instance as far as it goes now, decisions included. The caller has
// checked the `journeys` entitlement. Returns {"journeyId", "customerId",
// "enrolled", "instanceId", "status", "node", "transitions"} or, when the
// customer did not enter, {"enrolled": false, "reason"}.
Json enroll_in_journey(const std::string& tenant, const catalog::CompiledCatalog& catalog,
                       const std::string& customer_id, const std::string& journey_id, const Json& context,
                       const std::string& mode);

// observe_journey_outcome tells the customer's active journeys that
// `outcome` happened to them (a response, an ingested event): it is
// remembered for branches, and ends waits for it. Without `allow_decisions`
// (a response) an instance stops before a recommend node and the next
// tick() makes the decision. Does nothing unless some journey of the
// catalog waits for or branches on `outcome` and the tenant has journeys.
// Returns what moved: [{"instanceId", "journeyId", "status", "node"}].
Json observe_journey_outcome(const std::string& tenant, const catalog::CompiledCatalog& catalog,
                             const std::string& customer_id, const std::string& outcome, bool allow_decisions);

}  // namespace kaireon::pg
