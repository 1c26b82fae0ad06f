// row_id.h - the ids of the rows kaireon writes on every call (a decision,
// an interaction): time-ordered UUIDs (version 7, core/uuid_v7.h), their
// random part drawn in blocks from the same strong randomness as
// gen_random_uuid().
#pragma once
#include "pg/postgres_headers.h"

#include <string>

namespace kaireon::pg {

// time_ordered_uuid returns a version 7 uuid Datum.
//
// Why time-ordered: the tables' primary keys are (tenant_id, id). With
// random (version 4) ids each new row went to a random leaf of that index,
// and every leaf first touched after a checkpoint writes a full-page image
// to WAL; ordered ids land at the right edge of the tenant's range
// (docs/performance.md, "Row ids").
//
// The time is the real clock (never kaireon.clock(), which tests move): an
// id says where a row sorts, not when it happened (decided_at and
// recorded_at do). One backend's ids strictly increase, even when the clock
// steps back.
//
// The random bytes: 4 KiB of pg_strong_random at a time (one OpenSSL request
// per row was 3.6 % of a response's profile), owned by one backend process
// (refilled after a fork, never shared), no byte handed out twice. Throws
// Error (Internal) when no strong randomness is available.
Datum time_ordered_uuid();

// uuid_text is a uuid Datum's text (as uuid_out prints it).
std::string uuid_text(Datum uuid);

}  // namespace kaireon::pg
