#include "pg/clock.h"

#include "pg/guard.h"

#include <string>

extern "C" {
#include "utils/timestamp.h"
}

namespace kaireon::pg {
namespace {

char* g_test_clock = nullptr;

// The parsed value of kaireon.test_clock, kept while the text is unchanged.
std::string g_parsed_text;
TimestampTz g_parsed_value = 0;

constexpr int64_t kUnixEpochInPostgres = (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY;

}  // namespace

TimestampTz now_timestamp() {
    if (g_test_clock == nullptr || g_test_clock[0] == '\0') return GetCurrentTransactionStartTimestamp();
    if (g_parsed_text != g_test_clock) {
        const char* text = g_test_clock;
        TimestampTz value = pg_call([&] {
            return DatumGetTimestampTz(DirectFunctionCall3(timestamptz_in, CStringGetDatum(text),
                                                           ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
        });
        g_parsed_value = value;
        g_parsed_text = text;
    }
    return g_parsed_value;
}

int64_t seconds_from_timestamp(TimestampTz ts) {
    // Floor division: instants before 1970 round down, like to_timestamp.
    int64_t seconds = ts / USECS_PER_SEC;
    if (ts % USECS_PER_SEC < 0) --seconds;
    return seconds + kUnixEpochInPostgres;
}

TimestampTz timestamp_from_seconds(int64_t seconds) { return (seconds - kUnixEpochInPostgres) * USECS_PER_SEC; }

int64_t now_seconds() { return seconds_from_timestamp(now_timestamp()); }

void clock_init() {
    DefineCustomStringVariable("kaireon.test_clock", "Overrides the time kaireon acts at (for tests).",
                               "Empty = the transaction's start time. Superuser only.", &g_test_clock, "", PGC_SUSET, 0,
                               nullptr, nullptr, nullptr);
}

}  // namespace kaireon::pg

// kaireon_clock() is kaireon.clock(): the time kaireon acts at. In C rather
// than SQL: it is the default of columns written on every report, and a SQL
// function with a SET clause is parsed on every call.
KAIREON_FUNCTION(kaireon_clock) { PG_RETURN_TIMESTAMPTZ(kaireon::pg::now_timestamp()); }
