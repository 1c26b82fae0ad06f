// name_lock.h - transaction-level locks on names (an event's dedupe key, an
// idempotency key): they serialise the few transactions that work on the
// same name, so that "insert unless it exists" never needs ON CONFLICT, which
// raises a serialization failure under REPEATABLE READ when the conflicting
// row committed after the snapshot. Advisory-lock tags in a field of their
// own, so they never collide with the application's pg_advisory_lock calls.
#pragma once
#include "pg/postgres_headers.h"

#include <string_view>

namespace kaireon::pg {

enum class NameSpace : uint16 { EventDedupe = 1, UsageIdempotency = 2, AuditSeal = 3, CatalogLimit = 4, TraceAllowance = 5,
                              RespondIdempotency = 6, CapCounting = 7, TenantMove = 8 };

// lock_name takes the lock on (space, tenant, name) until the transaction
// ends, exclusive or (`shared`) shared with other shared holders. With
// `wait` it waits (deadlocks are detected by PostgreSQL); without, it
// returns false at once when another transaction holds it.
bool lock_name(NameSpace space, std::string_view tenant, std::string_view name, bool wait, bool shared = false);

}  // namespace kaireon::pg
