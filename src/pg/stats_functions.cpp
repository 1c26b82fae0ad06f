// stats_functions.cpp - the rows behind the kaireon.stats view.
#include "pg/guard.h"
#include "pg/jsonb.h"
#include "pg/shared_state.h"
#include "pg/tenant_access.h"

#include <algorithm>
#include <vector>

// kaireon_stats returns one row per tenant of this database that has
// counters (tenant NULL = not tied to a tenant), limited to the tenants the
// current user may act on; administrators see them all.
KAIREON_FUNCTION(kaireon_stats) {
    using namespace kaireon::pg;
    std::vector<TenantStats> rows(static_cast<size_t>(max_tenant_slots()) + 64);
    rows.resize(snapshot_stats(rows.data(), rows.size()));

    Oid role = GetUserId();
    bool admin = is_kaireon_admin(role);
    auto* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
    pg_call([&] { InitMaterializedSRF(fcinfo, 0); });
    // The SQL declares the counters of its extension version (older versions
    // have fewer columns while ALTER EXTENSION UPDATE is pending).
    const int columns = std::min(kStatCount, rsinfo->setDesc->natts - 1);
    for (const TenantStats& row : rows) {
        std::string tenant(row.tenant);
        if (!admin && (tenant.empty() || tenant_access(role, tenant) != TenantAccess::Member)) continue;
        Datum values[1 + kStatCount];
        bool nulls[1 + kStatCount] = {};
        if (tenant.empty()) {
            nulls[0] = true;
            values[0] = 0;
        } else {
            values[0] = text_datum(tenant);
        }
        for (int i = 0; i < columns; ++i) values[1 + i] = Int64GetDatum(static_cast<int64>(row.counters[i]));
        pg_call([&] { tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls); });
    }
    return static_cast<Datum>(0);
}
