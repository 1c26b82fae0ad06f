// error_functions.cpp - lets the SQL parts of the extension raise catalog
// errors, so SQLSTATEs and DETAIL bodies come from one place (core/error).
#include "core/error.h"
#include "core/json.h"

#include "pg/guard.h"

extern "C" {
#include "utils/jsonb.h"
}

namespace {

std::string text_argument(FunctionCallInfo fcinfo, int n) {
    return kaireon::pg::pg_call([&] { return text_to_cstring(PG_GETARG_TEXT_PP(n)); });
}

}  // namespace

// kaireon_raise(code text, message text, extra jsonb, hint text) never
// returns: it raises the catalog error `code` (e.g. 'BAD_REQUEST') with
// `message`, a JSON DETAIL of {error, code} plus `extra`, and `hint`.
KAIREON_FUNCTION(kaireon_raise) {
    if (PG_ARGISNULL(0) || PG_ARGISNULL(1)) {
        throw kaireon::Error(kaireon::ErrorCode::Internal, "kaireon._raise needs a code and a message");
    }
    std::string name = text_argument(fcinfo, 0);
    auto code = kaireon::error_code_from_name(name);
    if (!code) throw kaireon::Error(kaireon::ErrorCode::Internal, "unknown kaireon error code \"" + name + "\"");
    kaireon::Json extra = kaireon::Json::object();
    if (!PG_ARGISNULL(2)) {
        const char* json = kaireon::pg::pg_call([&] {
            Jsonb* value = PG_GETARG_JSONB_P(2);
            return JsonbToCString(nullptr, &value->root, VARSIZE(value));
        });
        extra = kaireon::parse_json(json, "error detail");
    }
    std::string hint = PG_ARGISNULL(3) ? std::string() : text_argument(fcinfo, 3);
    throw kaireon::Error(*code, text_argument(fcinfo, 1), extra, hint);
}
