// tenant_functions.cpp - SQL-callable functions of tenants and access.
#include "core/tenant.h"

#include "pg/cache_watch.h"
#include "pg/guard.h"
#include "pg/jsonb.h"
#include "pg/tenant_access.h"

// kaireon_current_tenant returns the current tenant, or raises KR400 (none
// set) or KR403 TENANT_ACCESS_DENIED (the calling role is not a member).
KAIREON_FUNCTION(kaireon_current_tenant) {
    std::string tenant = kaireon::pg::require_current_tenant();
    return kaireon::pg::text_datum(tenant);
}

// kaireon_visible_tenant returns the tenant whose rows the current user may
// see (the one in kaireon.tenant, when the user may act on it), else NULL.
// Row-level security policies compare tenant_id with it; it never raises for
// a tenant the user may not see, so a foreign tenant's rows just vanish.
KAIREON_FUNCTION(kaireon_visible_tenant) {
    std::string tenant = kaireon::pg::current_tenant_setting();
    if (tenant.empty()) PG_RETURN_NULL();
    switch (kaireon::pg::tenant_access(GetUserId(), tenant)) {
        case kaireon::pg::TenantAccess::Member:
        case kaireon::pg::TenantAccess::Admin:
            return kaireon::pg::text_datum(tenant);
        default:
            PG_RETURN_NULL();
    }
}

// kaireon_is_admin returns whether the current user is a superuser or a
// member of kaireon_admin (RLS policies use it).
KAIREON_FUNCTION(kaireon_is_admin) {
    PG_RETURN_BOOL(kaireon::pg::is_kaireon_admin(GetUserId()));
}

// kaireon_caller_is_admin returns whether the calling role - the role after
// SET ROLE, not the owner of a SECURITY DEFINER function on the way - is a
// superuser or a member of kaireon_admin (the extension's definer functions
// use it; is_admin() serves RLS policies).
KAIREON_FUNCTION(kaireon_caller_is_admin) {
    PG_RETURN_BOOL(kaireon::pg::is_kaireon_admin(GetOuterUserId()));
}

// kaireon_check_tenant_id returns its argument when it is a valid tenant id,
// else raises KR400 saying what is wrong.
KAIREON_FUNCTION(kaireon_check_tenant_id) {
    if (PG_ARGISNULL(0)) kaireon::throw_bad_request("tenant id is null");
    kaireon::validate_tenant_id(kaireon::pg::text_from_datum(PG_GETARG_DATUM(0)));
    PG_RETURN_DATUM(PG_GETARG_DATUM(0));
}

// kaireon_invalidate_caches is the statement trigger on every table that
// backends cache (tenants, grants, licences, keys, ...): it sends a relcache
// invalidation for the table, which every backend receives after the change
// commits (this one at its next command) and which drops the caches built
// from it. Plain DML fires no invalidation by itself. Returns a null pointer
// (not SQL NULL), as statement triggers do.
KAIREON_FUNCTION(kaireon_invalidate_caches) {
    if (!CALLED_AS_TRIGGER(fcinfo)) kaireon::throw_bad_request("kaireon_invalidate_caches is a trigger");
    auto* trigger_data = reinterpret_cast<TriggerData*>(fcinfo->context);
    kaireon::pg::pg_call([&] { CacheInvalidateRelcacheByRelid(RelationGetRelid(trigger_data->tg_relation)); });
    return PointerGetDatum(nullptr);
}

// Moving a tenant between shards (docs/scale-out.md): the SQL functions
// freeze_tenant, advance_journeys and adopt_moved_tenant call these.

// kaireon_lock_tenant_for_move takes the tenant's move gate exclusively until
// the transaction ends: it waits for every call in flight on the tenant.
KAIREON_FUNCTION(kaireon_lock_tenant_for_move) {
    if (PG_ARGISNULL(0)) kaireon::throw_bad_request("tenant id is null");
    kaireon::pg::hold_move_gate(kaireon::pg::text_from_datum(PG_GETARG_DATUM(0)), /*exclusive=*/true);
    PG_RETURN_VOID();
}

// kaireon_enter_tenant holds the tenant's move gate (shared) and returns
// whether the tenant is here and not frozen, for jobs that act on tenants
// without a call naming them.
KAIREON_FUNCTION(kaireon_enter_tenant) {
    if (PG_ARGISNULL(0)) kaireon::throw_bad_request("tenant id is null");
    PG_RETURN_BOOL(kaireon::pg::tenant_is_usable(kaireon::pg::text_from_datum(PG_GETARG_DATUM(0))));
}

// kaireon_invalidate_all_caches makes every backend drop every kaireon cache
// when this transaction commits (rows loaded with triggers off).
KAIREON_FUNCTION(kaireon_invalidate_all_caches) {
    kaireon::pg::invalidate_all_watched();
    PG_RETURN_VOID();
}
