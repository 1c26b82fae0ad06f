// quota_state.h - the decision quota (SPEC section 5) in the database: the
// count of each tenant's non-empty decisions per period, kept exact by the
// limit gate's counted mode (limit_gate.h), the KR429 refusal, and the
// 90/95/100 % alerts.
//
// The count is durable as the decision records themselves: each counted
// decision's row in kaireon.decisions carries the start of the period it
// counted in (quota_period). Shared memory holds the running total, loaded
// from those rows once per server lifetime, so deciding costs no query.
#pragma once
#include "core/quota.h"

#include <cstdint>
#include <string>

namespace kaireon::pg {

// QuotaCount is where a tenant's decisions count now.
struct QuotaCount {
    quota::Snapshot snapshot;  // the count as the gate sees it: committed, in flight, this transaction's
    std::string tenant;
};

// quota_now returns the tenant's quota at this moment, counting nothing.
QuotaCount quota_now(const std::string& tenant);

// count_decisions counts `decisions` (> 0) non-empty decisions of this
// transaction, all or none: past the limit it throws KR429 `Decision quota
// exceeded` with the seed's body as DETAIL and `Retry-After: <seconds>` as
// HINT (the refusal counted in kaireon.stats, which outlives the refused
// transaction). Returns the quota after them and emits the alerts they
// reached (once per period) and the tenant's own usage thresholds.
QuotaCount count_decisions(const std::string& tenant, int64_t decisions);

// forget_counts_at_commit makes the tenant's counts (the decision quota's and
// the frequency caps') load again from their records once this transaction
// commits (drop_tenant deletes them).
void forget_counts_at_commit(const std::string& tenant);

}  // namespace kaireon::pg
