// module.cpp - _PG_init, the dispatcher: check the preconditions, then let
// each module define its settings and register its hooks and callbacks.
#include "core/entitlements.h"
#include "core/license.h"
#include "core/usage.h"
#include "core/bayes.h"
#include "core/pipeline.h"

#include "pg/bandit_rng.h"
#include "pg/cache_watch.h"
#include "pg/clock.h"
#include "pg/custom_scorer.h"
#include "pg/guard.h"
#include "pg/license_state.h"
#include "pg/limit_gate.h"
#include "pg/offer_stats.h"
#include "pg/shared_state.h"
#include "pg/tenant_access.h"
#include "pg/usage_ingest.h"
#include "pg/webhooks.h"
#include "pg/xact_state.h"

extern "C" {
PG_MODULE_MAGIC;

void _PG_init(void);
}

void _PG_init(void) {
    if (!process_shared_preload_libraries_in_progress) {
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                        errmsg("kaireon must be loaded via shared_preload_libraries"),
                        errdetail("kaireon keeps per-tenant counters and cache generations in shared memory."),
                        errhint("Add kaireon to shared_preload_libraries in postgresql.conf and restart the "
                                "server.")));
    }
    kaireon::pg::cache_watch_init();
    kaireon::pg::tenant_access_init();
    kaireon::pg::shared_state_init();
    kaireon::pg::clock_init();
    kaireon::pg::license_init();
    kaireon::pg::limit_gate_init();
    kaireon::pg::usage_ingest_init();
    kaireon::pg::xact_state_init();
    kaireon::pg::offer_stats_init();
    kaireon::pg::custom_scorer_init();
    kaireon::pg::bandit_rng_init();
    kaireon::pg::webhooks_init();
    MarkGUCPrefixReserved("kaireon");
}
