// limit_gate.h - exact limits without a hot row. Reporters never lock a
// shared counter row; a limit is enforced against committed usage plus what
// concurrent transactions have been admitted but not yet committed. Those
// in-flight amounts live in shared memory, one entry per (database, tenant,
// counter, period), released when the admitting transaction or
// subtransaction ends.
//
// admit() is exact: every admission is decided under one short LWLock against
// committed usage (read with the latest snapshot, this transaction's own
// writes included) plus the other transactions' in-flight amounts. Releases
// that happen while committed usage is being read would be counted twice, so
// admit() retries until it reads a stable picture (conservative only after
// many retries). An admitted amount counts until its transaction ends, even if
// that transaction later rolls back. (PREPARE TRANSACTION ends it for the
// gate: a prepared transaction's usage counts again once it commits.)
//
// Usage limits (SPEC section 4) use admit(); the decision quota (section 5)
// uses admit_counted(), which keeps the committed count in shared memory.
#pragma once
#include "pg/postgres_headers.h"
#include "pg/spi.h"

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>

namespace kaireon::pg {

struct GateKey {
    std::string tenant;
    std::string counter;       // e.g. "usage:api_calls"
    int64_t period_start = 0;  // Unix seconds; any fixed value for "never"
};

struct Admission {
    bool admitted = false;
    double before = 0;  // usage before this amount: committed + in flight elsewhere
};

// admit adds `amount` (>= 0) to the key's in-flight usage when before +
// amount <= cap (no cap: always). `read_committed` returns committed usage
// including this transaction's own writes. Throws when shared memory holds no
// room for another key (kaireon.max_limit_counters).
Admission admit(const GateKey& key, double amount, std::optional<double> cap,
                const std::function<double()>& read_committed);

// CountedRows is what a counted key's loader finds in the durable records:
// the rows other transactions committed (CommittedSnapshot), and the rows
// this transaction wrote and has not committed yet.
struct CountedRows {
    double committed = 0;
    double own_uncommitted = 0;
};

// admit_counted is admit() for a counter the gate keeps itself: the decision
// quota and the frequency caps, read on every decision. The committed total
// lives in shared memory (loaded once per key and server lifetime with
// `load`; grown by each commit's release), so an admission costs one short
// LWLock section and no query. Rows this transaction wrote before the key
// was loaded become its admission (they count once it commits). `before`
// includes this transaction's own admissions. A transaction holding such an
// admission cannot be prepared (two-phase commit would commit behind the
// gate's back).
Admission admit_counted(const GateKey& key, double amount, std::optional<double> cap,
                        const std::function<CountedRows()>& load);

// count_rows runs a `SELECT count(*)::text ...` query as the extension's
// owner twice - without and with this transaction's own writes - for a
// loader of admit_counted.
CountedRows count_rows(const char* count_sql, std::initializer_list<SpiArg> args);

// forget_counted makes every counted entry of the tenant (in this database)
// load again on next use: after their rows were deleted (a dropped tenant).
// Call it after the deleting transaction committed.
void forget_counted(const std::string& tenant);

// limit_gate_init defines kaireon.max_limit_counters and requests the shared
// memory (from _PG_init).
void limit_gate_init();

}  // namespace kaireon::pg
