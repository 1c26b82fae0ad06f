// error_functions.cpp - lets the SQL parts of the extension raise catalog
// errors, so SQLSTATEs and DETAIL bodies come from one place (core/error).
#include "core/error.h"
#include "core/json.h"

#include "pg/guard.h"
#include "pg/jsonb.h"

using kaireon::pg::text_from_datum;

// kaireon_raise(code text, message text, extra jsonb, hint text) never
// returns: it raises the catalog error `code` (e.g. 'BAD_REQUEST') with
// `message`, a JSON DETAIL of {error, code} plus `extra`, and `hint`.
KAIREON_FUNCTION(kaireon_raise) {
    if (PG_ARGISNULL(0) || PG_ARGISNULL(1)) {
        throw kaireon::Error(kaireon::ErrorCode::Internal, "kaireon._raise needs a code and a message");
    }
    std::string name = text_from_datum(PG_GETARG_DATUM(0));
    auto code = kaireon::error_code_from_name(name);
    if (!code) throw kaireon::Error(kaireon::ErrorCode::Internal, "unknown kaireon error code \"" + name + "\"");
    kaireon::Json extra = kaireon::Json::object();
    if (!PG_ARGISNULL(2)) extra = kaireon::pg::json_from_jsonb(PG_GETARG_DATUM(2), "error detail");
    std::string hint = PG_ARGISNULL(3) ? std::string() : text_from_datum(PG_GETARG_DATUM(3));
    throw kaireon::Error(*code, text_from_datum(PG_GETARG_DATUM(1)), extra, hint);
}
