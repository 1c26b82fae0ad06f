// tenant_access.h - who may act on which tenant.
//
// The current tenant is the setting kaireon.tenant. A role may act on a
// tenant when it is a member of a role granted the tenant with
// kaireon.grant_tenant, or when it is a superuser or a member of
// kaireon_admin. Grants are cached per backend and the cache is dropped when
// kaireon.tenants or kaireon.tenant_grants change (relcache invalidation
// fired by their triggers) or when roles change (syscache invalidation).
#pragma once
#include "pg/postgres_headers.h"

#include <string>

namespace kaireon::pg {

enum class TenantAccess {
    Member,         // granted, directly or through role membership
    Admin,          // superuser or kaireon_admin: any existing tenant
    UnknownTenant,  // an administrator asked for a tenant that does not exist
    Denied,
};

// tenant_access returns what `role` may do on `tenant`.
TenantAccess tenant_access(Oid role, const std::string& tenant);

// current_tenant_setting returns the value of kaireon.tenant ("" when unset).
std::string current_tenant_setting();

// is_maintenance_load tells whether the caller is a superuser writing
// without kaireon.tenant, as pg_restore does: rows are loaded as they were,
// with no counting again, limits or events.
bool is_maintenance_load();

// require_current_tenant returns the current tenant after checking that the
// calling role (the one in effect after SET ROLE, not the owner of a
// SECURITY DEFINER function) may act on it; it throws KR400 when no tenant
// is set, KR403 TENANT_ACCESS_DENIED when the role is not a member, and KR503
// TENANT_MOVING while a move freezes the tenant or after it moved away.
std::string require_current_tenant();

// hold_move_gate takes the tenant's move gate until the transaction ends:
// shared for a call acting on the tenant (require_current_tenant), exclusive
// for freeze_tenant, which so waits for the calls in flight.
void hold_move_gate(const std::string& tenant, bool exclusive);

// tenant_is_usable holds the gate (shared) and tells whether the tenant
// exists here and is not frozen: background jobs (advance_journeys) skip a
// tenant that is not.
bool tenant_is_usable(const std::string& tenant);

// throw_tenant_moving raises KR503 TENANT_MOVING: the tenant is frozen for a
// move, or (`moved`) has left this database for another shard.
[[noreturn]] void throw_tenant_moving(const std::string& tenant, bool moved);

// is_kaireon_admin returns whether `role` is a superuser or kaireon_admin.
bool is_kaireon_admin(Oid role);

// tenant_access_init defines kaireon.tenant and registers the invalidation
// callbacks (from _PG_init).
void tenant_access_init();

}  // namespace kaireon::pg
