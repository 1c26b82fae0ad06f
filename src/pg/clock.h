// clock.h - the time kaireon acts at: the transaction's start time (as
// now()), or the superuser-only setting kaireon.test_clock, so that tests
// move time (expiry, grace, period rollover) without sleeping.
#pragma once
#include "pg/postgres_headers.h"

#include <cstdint>

namespace kaireon::pg {

// now_seconds returns the current time in Unix seconds.
int64_t now_seconds();

// now_timestamp returns the current time as a TimestampTz.
TimestampTz now_timestamp();

// timestamp_from_seconds / seconds_from_timestamp convert between Unix
// seconds and TimestampTz.
TimestampTz timestamp_from_seconds(int64_t seconds);
int64_t seconds_from_timestamp(TimestampTz ts);

// clock_init defines kaireon.test_clock (from _PG_init).
void clock_init();

}  // namespace kaireon::pg
