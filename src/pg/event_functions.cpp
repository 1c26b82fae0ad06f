// event_functions.cpp - the SQL side of the event catalog (SPEC section 4);
// consumers and webhook endpoints are SQL (kaireon--0.5--0.6.sql).
#include "core/event_types.h"

#include "pg/guard.h"
#include "pg/jsonb.h"

using namespace kaireon;

// kaireon_builtin_event_types() returns the built-in event types (type,
// category, description, payload_schema) for the extension script.
KAIREON_FUNCTION(kaireon_builtin_event_types) {
    auto* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
    pg::pg_call([&] { InitMaterializedSRF(fcinfo, 0); });
    for (const auto& type : events::builtin_event_types()) {
        Datum values[4] = {pg::text_datum(type.type), pg::text_datum(type.category), pg::text_datum(type.description),
                           pg::jsonb_datum(type.payload_schema)};
        bool nulls[4] = {};
        pg::pg_call([&] { tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls); });
    }
    return static_cast<Datum>(0);
}
