#include "pg/jsonb.h"

extern "C" {
#include "utils/jsonb.h"
}

namespace kaireon::pg {

Datum jsonb_datum(const Json& value) {
    std::string text = value.dump(-1, ' ', false, Json::error_handler_t::replace);
    return pg_call([&] { return DirectFunctionCall1(jsonb_in, CStringGetDatum(text.c_str())); });
}

Json json_from_jsonb(Datum value, const char* what, const JsonLimits& limits) {
    const char* text = pg_call([&] {
        Jsonb* jsonb = DatumGetJsonbP(value);
        return JsonbToCString(nullptr, &jsonb->root, VARSIZE(jsonb));
    });
    return parse_json(text, what, limits);
}

Datum text_datum(const std::string& value) {
    return pg_call([&] { return PointerGetDatum(cstring_to_text_with_len(value.data(), static_cast<int>(value.size()))); });
}

std::string text_from_datum(Datum value) {
    return std::string(pg_call([&] { return text_to_cstring(DatumGetTextPP(value)); }));
}

std::string required_text(FunctionCallInfo fcinfo, int n, const char* name) {
    if (PG_ARGISNULL(n)) throw_bad_request(std::string(name) + " must not be null", Json{{"field", name}});
    return text_from_datum(PG_GETARG_DATUM(n));
}

}  // namespace kaireon::pg
