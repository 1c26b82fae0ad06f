#include "core/error.h"
#include "core/tenant.h"

#include "pg/tenant_access.h"

#include "pg/cache_watch.h"
#include "pg/guard.h"
#include "pg/name_lock.h"
#include "pg/spi.h"

#include <unordered_map>
#include <vector>

namespace kaireon::pg {
namespace {

char* g_tenant_setting = nullptr;

// What a backend remembers of one tenant: whether it exists, whether a move
// between shards has frozen it or taken it away (kaireon.tenant_moves), and
// the roles it is granted to.
struct TenantGrants {
    bool exists = false;
    bool frozen = false;  // exists, and freeze_tenant stopped its calls for a move
    bool moved = false;   // gone from this database by a move (not a drop)
    std::vector<Oid> grantees;
};

std::unordered_map<std::string, TenantGrants>& grant_cache() {
    static std::unordered_map<std::string, TenantGrants> cache;
    return cache;
}

void forget_grants() noexcept { grant_cache().clear(); }

// Grants are rebuilt when the tenants or their grants change, when a move
// freezes or releases a tenant...
CacheWatch g_watch({"tenants", "tenant_grants"}, forget_grants);
// (kaireon.tenant_moves is new in 0.15: an older schema, met while
// ALTER EXTENSION UPDATE has not run yet, has no moves to watch.)
CacheWatch g_moves_watch({"tenant_moves"}, forget_grants);

// ... and when roles or role memberships change.
void on_role_invalidation(Datum, int, uint32) { forget_grants(); }

// A backend remembers at most this many tenants (every distinct value of
// kaireon.tenant it checked, existing or not).
constexpr size_t kMaxCachedTenants = 10000;

TenantGrants load_grants(const std::string& tenant) {
    auto& cache = grant_cache();
    if (auto it = cache.find(tenant); it != cache.end()) return it->second;

    g_watch.resolve();
    const bool has_moves = pg_call([] {
        Oid schema = get_namespace_oid("kaireon", true);
        return schema != InvalidOid && get_relname_relid("tenant_moves", schema) != InvalidOid;
    });
    if (has_moves) g_moves_watch.resolve();
    const uint64_t generation = g_watch.generation() + g_moves_watch.generation();
    TenantGrants loaded;
    {
        // As the extension's owner (the calling role, e.g. in an RLS policy,
        // has no privileges on these tables), from the latest committed data.
        AsExtensionOwner owner;
        LatestSnapshot latest;
        SpiSession spi;
        spi.execute(has_moves ? "SELECT EXISTS (SELECT 1 FROM kaireon.tenants WHERE tenant_id = $1), g.role::oid, "
                                "(SELECT m.state FROM kaireon.tenant_moves m WHERE m.tenant_id = $1) "
                                "FROM (SELECT 1) AS one LEFT JOIN kaireon.tenant_grants g ON g.tenant_id = $1"
                              : "SELECT EXISTS (SELECT 1 FROM kaireon.tenants WHERE tenant_id = $1), g.role::oid, NULL::text "
                                "FROM (SELECT 1) AS one LEFT JOIN kaireon.tenant_grants g ON g.tenant_id = $1",
                    {text_arg(tenant)}, /*read_only=*/true);
        for (uint64 row = 0; row < spi.rows(); ++row) {
            loaded.exists = spi.boolean(row, 0).value_or(false);
            if (auto grantee = spi.oid(row, 1)) loaded.grantees.push_back(*grantee);
            const std::string move_state = spi.text(row, 2).value_or("");
            loaded.frozen = loaded.exists && move_state == "frozen";
            loaded.moved = !loaded.exists && move_state == "moved";
        }
    }
    if (g_watch.generation() + g_moves_watch.generation() == generation) {
        if (cache.size() >= kMaxCachedTenants) cache.clear();
        cache.emplace(tenant, loaded);
    }
    return loaded;
}

}  // namespace

bool is_kaireon_admin(Oid role) {
    return pg_call([&] {
        if (superuser_arg(role)) return true;
        Oid admin = get_role_oid("kaireon_admin", true);
        return OidIsValid(admin) && is_member_of_role(role, admin);
    });
}

namespace {

// access_from judges `role` on a (well-formed) tenant from what the cache
// holds of it.
TenantAccess access_from(Oid role, const TenantGrants& grants) {
    if (is_kaireon_admin(role)) return grants.exists ? TenantAccess::Admin : TenantAccess::UnknownTenant;
    if (!grants.exists) return TenantAccess::Denied;
    for (Oid grantee : grants.grantees) {
        if (pg_call([&] { return is_member_of_role(role, grantee); })) return TenantAccess::Member;
    }
    return TenantAccess::Denied;
}

}  // namespace

TenantAccess tenant_access(Oid role, const std::string& tenant) {
    if (!tenant_id_problem(tenant).empty()) return TenantAccess::Denied;
    return access_from(role, load_grants(tenant));
}

void hold_move_gate(const std::string& tenant, bool exclusive) {
    // A parallel worker acts for its leader, which holds the gate already.
    if (IsParallelWorker()) return;
    lock_name(NameSpace::TenantMove, tenant, "", /*wait=*/true, /*shared=*/!exclusive);
}

bool tenant_is_usable(const std::string& tenant) {
    hold_move_gate(tenant, false);
    pg_call([] { AcceptInvalidationMessages(); });
    const TenantGrants& grants = load_grants(tenant);
    return grants.exists && !grants.frozen;
}

[[noreturn]] void throw_tenant_moving(const std::string& tenant, bool moved) {
    if (moved) {
        throw Error(ErrorCode::TenantMoving, "tenant \"" + tenant + "\" has moved to another shard",
                    Json{{"tenant", tenant}, {"moved", true}},
                    "Retry the call: the scale-out router sends it to the tenant's new shard.");
    }
    throw Error(ErrorCode::TenantMoving, "tenant \"" + tenant + "\" is being moved to another shard",
                Json{{"tenant", tenant}, {"moved", false}},
                "Retry in a moment: calls resume on the new shard when the move ends (usually seconds).");
}

std::string current_tenant_setting() { return g_tenant_setting == nullptr ? std::string() : g_tenant_setting; }

bool is_maintenance_load() {
    return current_tenant_setting().empty() && pg_call([] { return superuser(); });
}

std::string require_current_tenant() {
    std::string tenant = current_tenant_setting();
    if (tenant.empty()) {
        throw Error(ErrorCode::BadRequest, "no tenant selected", Json::object(),
                    "SET kaireon.tenant = '<tenant id>' (or SET LOCAL inside a transaction).");
    }
    // Every call holds the tenant's move gate (shared) until its transaction
    // ends, so freeze_tenant waits for the calls in flight and the calls
    // after it see the freeze (docs/scale-out.md, "Moving a tenant").
    hold_move_gate(tenant, /*exclusive=*/false);
    // Every tenant API call starts from the latest committed grants, licences,
    // overrides and catalog: within an open transaction a backend processes
    // other sessions' invalidations only when it takes a new lock, so a
    // second decision of the transaction would otherwise judge by the limits
    // of the first. (Cheap: a flag check when nothing changed.)
    pg_call([] { AcceptInvalidationMessages(); });
    Oid role = GetOuterUserId();
    // The setting's check hook admits only well-formed ids. One cache read
    // serves the access check and the move state.
    const TenantGrants grants = load_grants(tenant);
    switch (access_from(role, grants)) {
        case TenantAccess::Member:
        case TenantAccess::Admin:
            if (grants.frozen) throw_tenant_moving(tenant, false);
            return tenant;
        case TenantAccess::UnknownTenant:
            if (grants.moved) throw_tenant_moving(tenant, true);
            throw_bad_request("unknown tenant \"" + tenant + "\"", Json{{"tenant", tenant}});
        case TenantAccess::Denied:
            if (grants.moved) throw_tenant_moving(tenant, true);
            break;
    }
    const char* name = pg_call([&] { return GetUserNameFromId(role, true); });
    std::string role_name = name != nullptr ? name : "?";
    throw Error(ErrorCode::TenantAccessDenied,
                "role \"" + role_name + "\" may not act on tenant \"" + tenant + "\"",
                Json{{"tenant", tenant}, {"role", role_name}},
                "An administrator grants access with kaireon.grant_tenant(role, tenant_id).");
}

namespace {

bool check_tenant_setting(char** value, void**, GucSource) {
    if (*value == nullptr || **value == '\0') return true;
    // Copied to a plain buffer so that no C++ object is alive when
    // GUC_check_errdetail (which may raise) runs.
    char problem[256] = "";
    try {
        strlcpy(problem, tenant_id_problem(*value).c_str(), sizeof(problem));
    } catch (...) {
        strlcpy(problem, "the tenant id could not be checked", sizeof(problem));
    }
    if (problem[0] == '\0') return true;
    GUC_check_errdetail("%s.", problem);
    return false;
}

}  // namespace

void tenant_access_init() {
    DefineCustomStringVariable("kaireon.tenant", "The tenant that kaireon calls act on.",
                               "SET or SET LOCAL; the calling role must be a member of the tenant.",
                               &g_tenant_setting, "", PGC_USERSET, 0, check_tenant_setting, nullptr, nullptr);
    CacheRegisterSyscacheCallback(AUTHOID, on_role_invalidation, 0);
    CacheRegisterSyscacheCallback(AUTHMEMROLEMEM, on_role_invalidation, 0);
}

}  // namespace kaireon::pg
