// random_uuid.h - version 4 UUIDs for the rows kaireon writes on every call
// (an interaction, a decision), made from the same strong randomness as
// gen_random_uuid() but drawn in blocks.
#pragma once
#include "pg/postgres_headers.h"

namespace kaireon::pg {

// random_uuid returns a random (version 4, RFC 4122 variant) uuid Datum.
// gen_random_uuid() asks OpenSSL for 16 bytes per call, and that request
// (its status check and DRBG lock included) was 3.6 % of a response's
// profile; this takes 4 KiB of pg_strong_random at a time and hands out 16
// bytes per id. The block belongs to one backend process (refilled after a
// fork, never shared), and no byte is handed out twice. Throws Error
// (Internal) when no strong randomness is available.
Datum random_uuid();

}  // namespace kaireon::pg
