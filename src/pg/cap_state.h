// cap_state.h - the counts of system-wide frequency caps (SPEC 6.4): every
// impression kaireon_respond records in the cap's current period, matching
// its scope. Like the decision quota (quota_state.h) the count is durable as
// the records themselves (kaireon.interactions) and runs in the limit
// gate's counted mode: exact, never lost or double-counted, and an
// impression on a hot cap takes one short LWLock, not a row lock.
//
// A count is keyed by the cap's scope. When caps change (made, edited,
// removed), the tenant's counts load again from the records after the
// change commits; the change waits for transactions recording impressions
// (a shared lock each takes, NameSpace::CapCounting) and holds new ones
// back, so no impression is in flight under the old caps when the new ones
// load their counts.
#pragma once
#include "core/caps.h"
#include "core/catalog_compiled.h"

#include <cstdint>
#include <string>
#include <vector>

namespace kaireon::pg {

// cap_count returns the cap's count in its period that contains `now`:
// committed impressions, and those of open transactions.
int64_t cap_count(const std::string& tenant, const catalog::CompiledCap& cap, int64_t now);

// exhausted_caps returns the enabled caps whose count reached max_volume
// (pipeline step 4 leaves their scopes out).
std::vector<caps::CountedCap> exhausted_caps(const std::string& tenant, const catalog::CompiledCatalog& catalog,
                                             int64_t now);

// count_impression adds an impression to every cap it matches (enabled or
// not, so that a cap enabled later has counted all along; counting goes on
// past max_volume) and returns those caps with their counts after it. The
// impression that brings an enabled cap to its max_volume emits
// cap.exhausted, once per cap and period.
std::vector<caps::CountedCap> count_impression(const std::string& tenant, const catalog::CompiledCatalog& catalog,
                                               const std::string& offer_id, const std::string& category_id,
                                               const std::string& channel, const std::string& customer_id,
                                               int64_t now);

// matching_caps returns the caps an impression would touch, with their
// counts (a replayed response touches nothing).
std::vector<caps::CountedCap> matching_caps(const std::string& tenant, const catalog::CompiledCatalog& catalog,
                                            const std::string& offer_id, const std::string& category_id,
                                            const std::string& channel, int64_t now);

}  // namespace kaireon::pg
