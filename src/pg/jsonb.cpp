#include "pg/jsonb.h"

#include <cmath>
#include <string_view>
#include <vector>

extern "C" {
#include "mb/pg_wchar.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"
}

namespace kaireon::pg {

namespace {

// One step of building a jsonb value with pushJsonbValue: what the text
// path (jsonb_in over the dump) would have parsed, without the text.
struct JsonbStep {
    JsonbIteratorToken token;
    enum class Kind : uint8_t { Container, String, Null, Bool, Numeric } kind;
    const char* text = nullptr;  // a string or key: the Json's own bytes
    int length = 0;
    bool boolean = false;
    Datum numeric = 0;
};

// plain_utf8 tells whether `text` goes into jsonb as it is: valid UTF-8
// with no NUL (the dump would replace invalid bytes, and jsonb refuses
// \u0000; both stay with the text path).
bool plain_utf8(std::string_view text) {
    size_t i = 0;
    while (i < text.size()) {
        const auto byte = static_cast<unsigned char>(text[i]);
        if (byte == 0) return false;
        if (byte < 0x80) {
            ++i;
            continue;
        }
        const int length = pg_utf_mblen(reinterpret_cast<const unsigned char*>(text.data() + i));
        if (length < 2 || i + static_cast<size_t>(length) > text.size() ||
            !pg_utf8_islegal(reinterpret_cast<const unsigned char*>(text.data() + i), length))
            return false;
        i += static_cast<size_t>(length);
    }
    return true;
}

// numeric_of returns the numeric jsonb_in would read from the number's
// dump (the same serializer, so the same digits).
Datum numeric_of(const Json& number) {
    const std::string text = number.dump();
    return pg_call([&] { return DirectFunctionCall3(numeric_in, CStringGetDatum(text.c_str()), ObjectIdGetDatum(InvalidOid),
                                                    Int32GetDatum(-1)); });
}

// flatten appends the steps that build `value`; false when the text path
// must decide (see plain_utf8).
bool flatten(const Json& value, JsonbIteratorToken as, std::vector<JsonbStep>& steps) {
    JsonbStep step{as, JsonbStep::Kind::Null};
    switch (value.type()) {
        case Json::value_t::object:
            steps.push_back({WJB_BEGIN_OBJECT, JsonbStep::Kind::Container});
            // The object's own pairs: the steps point at these keys' bytes.
            for (const auto& [key, member] : value.get_ref<const Json::object_t&>()) {
                if (!plain_utf8(key)) return false;
                steps.push_back({WJB_KEY, JsonbStep::Kind::String, key.data(), static_cast<int>(key.size())});
                if (!flatten(member, WJB_VALUE, steps)) return false;
            }
            steps.push_back({WJB_END_OBJECT, JsonbStep::Kind::Container});
            return true;
        case Json::value_t::array:
            steps.push_back({WJB_BEGIN_ARRAY, JsonbStep::Kind::Container});
            for (const Json& element : value)
                if (!flatten(element, WJB_ELEM, steps)) return false;
            steps.push_back({WJB_END_ARRAY, JsonbStep::Kind::Container});
            return true;
        case Json::value_t::string: {
            const std::string& text = value.get_ref<const std::string&>();
            if (!plain_utf8(text)) return false;
            step.kind = JsonbStep::Kind::String;
            step.text = text.data();
            step.length = static_cast<int>(text.size());
            break;
        }
        case Json::value_t::boolean:
            step.kind = JsonbStep::Kind::Bool;
            step.boolean = value.get<bool>();
            break;
        case Json::value_t::number_float:
            // NaN and infinities dump as null.
            if (!std::isfinite(value.get<double>())) break;
            [[fallthrough]];
        case Json::value_t::number_integer:
        case Json::value_t::number_unsigned:
            step.kind = JsonbStep::Kind::Numeric;
            step.numeric = numeric_of(value);
            break;
        default:  // null, and what dumps as null (discarded, binary: never built here)
            if (value.type() != Json::value_t::null) return false;
            break;
    }
    steps.push_back(step);
    return true;
}

// build runs the steps: one guarded call, over plain data only (no C++
// object is made or destroyed inside it).
Datum build(const std::vector<JsonbStep>& steps) {
    return pg_call([&] {
        JsonbParseState* state = nullptr;
        JsonbValue* result = nullptr;
        for (const JsonbStep& step : steps) {
            if (step.kind == JsonbStep::Kind::Container) {
                result = pushJsonbValue(&state, step.token, nullptr);
                continue;
            }
            JsonbValue scalar;
            switch (step.kind) {
                case JsonbStep::Kind::String:
                    scalar.type = jbvString;
                    scalar.val.string.val = const_cast<char*>(step.text);
                    scalar.val.string.len = step.length;
                    break;
                case JsonbStep::Kind::Bool:
                    scalar.type = jbvBool;
                    scalar.val.boolean = step.boolean;
                    break;
                case JsonbStep::Kind::Numeric:
                    scalar.type = jbvNumeric;
                    scalar.val.numeric = DatumGetNumeric(step.numeric);
                    break;
                default:
                    scalar.type = jbvNull;
                    break;
            }
            result = pushJsonbValue(&state, step.token, &scalar);
        }
        return JsonbPGetDatum(JsonbValueToJsonb(result));
    });
}

}  // namespace

Datum jsonb_datum_via_text(const Json& value) {
    std::string text = value.dump(-1, ' ', false, Json::error_handler_t::replace);
    return pg_call([&] { return DirectFunctionCall1(jsonb_in, CStringGetDatum(text.c_str())); });
}

Datum jsonb_datum(const Json& value) {
    // Objects and arrays are built directly (the answers of the API): no
    // dump to text and jsonb_in parsing it back. A scalar on its own, a
    // database not in UTF-8, or a string jsonb_in would change or refuse
    // goes through the text, as before.
    if (!value.is_object() && !value.is_array()) return jsonb_datum_via_text(value);
    if (GetDatabaseEncoding() != PG_UTF8) return jsonb_datum_via_text(value);
    std::vector<JsonbStep> steps;
    steps.reserve(64);
    if (!flatten(value, WJB_VALUE, steps)) return jsonb_datum_via_text(value);
    return build(steps);
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
