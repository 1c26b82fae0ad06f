// audit.h - the audit trail (SPEC section 4): kaireon.audit_log is written
// here (API evaluations, usage statements) and by row triggers on the tables
// whose changes are audited (tenants, grants, licences, keys, plans,
// features, overrides, thresholds, webhooks); seal_audit() and
// verify_audit() (audit.cpp) keep and check its hash chain.
#pragma once
#include "pg/postgres_headers.h"

#include <optional>
#include <string>
#include <string_view>

namespace kaireon::pg {

// audit appends one record for `tenant` ("" = not tied to a tenant) in the
// calling transaction, as the calling role (the role after SET ROLE, not the
// owner of a SECURITY DEFINER function on the way). Never pass secrets or
// customer attributes in `details`.
void audit(const std::string& tenant, std::string_view action, const std::optional<std::string>& target,
           const Json& details);

// restoring tells whether the current statement is a restore: a
// superuser's COPY, or a superuser session with row_security off (what
// pg_dump scripts and pg_restore set). Restored rows are not audited or
// judged again.
bool restoring();

}  // namespace kaireon::pg
