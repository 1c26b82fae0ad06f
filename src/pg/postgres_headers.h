// postgres_headers.h - the PostgreSQL headers the glue layer uses, included
// with C linkage. Every src/pg file includes core headers first, then this.
#pragma once

// nlohmann/json and the core must be seen before postgres.h, whose macros
// (snprintf, ...) break C++ headers.
#include "core/error.h"
#include "core/json.h"

extern "C" {
#include "postgres.h"

#include "access/parallel.h"
#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_class.h"
#include "catalog/pg_namespace.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/elog.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
}
