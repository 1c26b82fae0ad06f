#include "pg/jsonb.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>
#include <vector>

extern "C" {
#include "common/jsonapi.h"
#include "mb/pg_wchar.h"
#include "utils/array.h"
#include "utils/datetime.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"
}

namespace kaireon::pg {

namespace {

// plain_utf8 tells whether `text` goes into jsonb as it is: valid UTF-8
// with no NUL (the dump would replace invalid bytes, and jsonb refuses
// \u0000; both stay with the text path).
bool plain_utf8(std::string_view text) {
    size_t i = 0;
    while (i < text.size()) {
        // Eight ASCII bytes at a time, none of them NUL (most text is).
        if (i + 8 <= text.size()) {
            uint64_t word;
            memcpy(&word, text.data() + i, 8);
            constexpr uint64_t high = 0x8080808080808080ull, ones = 0x0101010101010101ull;
            if ((word & high) == 0 && ((word - ones) & ~word & high) == 0) {
                i += 8;
                continue;
            }
        }
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
// dump (the same serializer, so the same digits). An integer within int64
// is that numeric already (scale 0), without the text.
Datum numeric_of(const Json& number) {
    const bool beyond_int64 = number.is_number_unsigned() && number.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX);
    if (number.is_number_integer() && !beyond_int64) {
        const int64 integer = number.get<int64_t>();
        return pg_call([&] { return NumericGetDatum(int64_to_numeric(integer)); });
    }
    // A double's digits as dump() writes them (its serializer's to_chars),
    // without the string and output adapter dump() makes around them.
    char digits[64];
    std::string unsigned_text;
    const char* text = digits;
    if (number.is_number_float()) {
        *nlohmann::detail::to_chars(digits, digits + sizeof(digits) - 1, number.get<double>()) = '\0';
    } else {
        unsigned_text = number.dump();
        text = unsigned_text.c_str();
    }
    return pg_call([&] { return DirectFunctionCall3(numeric_in, CStringGetDatum(text), ObjectIdGetDatum(InvalidOid),
                                                    Int32GetDatum(-1)); });
}

// The most members jsonb takes in one object or array (jsonb_util.c's
// JSONB_MAX_PAIRS and JSONB_MAX_ELEMS); beyond, the text path refuses it.
constexpr size_t max_pairs = std::min<size_t>(MaxAllocSize / sizeof(JsonbPair), JB_CMASK);
constexpr size_t max_elements = std::min<size_t>(MaxAllocSize / sizeof(JsonbValue), JB_CMASK);

// JsonbTree is the JsonbValue tree of a Json object or array, as
// pushJsonbValue would leave it (each object's pairs in jsonb's key order,
// the last of equal keys kept), for JsonbValueToJsonb to write out in one
// pass. Its pairs and elements live here, in two arrays sized by a first
// walk, so their addresses hold; strings and keys point at the Json's own
// bytes, numbers are palloc'd. Built outside any PostgreSQL call but the
// numbers' (no sort or copy through pushJsonbValue's state).
class JsonbTree {
public:
    // plain is false when the text path must decide (see plain_utf8, the
    // limits above, and what dumps as null).
    explicit JsonbTree(const Json& value) {
        plain_ = count(value);
        if (!plain_) return;
        pairs_.resize(pair_count_);
        elements_.resize(element_count_);
        fill(value, root_);
    }
    bool plain() const { return plain_; }
    Datum datum() {
        return pg_call([&] { return JsonbPGetDatum(JsonbValueToJsonb(&root_)); });
    }

private:
    static bool fits(std::string_view text) { return text.size() <= JENTRY_OFFLENMASK && plain_utf8(text); }

    bool count(const Json& value) {
        switch (value.type()) {
            case Json::value_t::object:
                if (value.size() > max_pairs) return false;
                pair_count_ += value.size();
                for (const auto& [key, member] : value.get_ref<const Json::object_t&>())
                    if (!fits(key) || !count(member)) return false;
                return true;
            case Json::value_t::array:
                if (value.size() > max_elements) return false;
                element_count_ += value.size();
                for (const Json& element : value)
                    if (!count(element)) return false;
                return true;
            case Json::value_t::string: return fits(value.get_ref<const std::string&>());
            case Json::value_t::discarded:
            case Json::value_t::binary: return false;
            default: return true;
        }
    }

    // Jsonb's key order: shorter first, then bytewise.
    static int key_order(const JsonbPair& a, const JsonbPair& b) {
        const auto& x = a.key.val.string;
        const auto& y = b.key.val.string;
        if (x.len != y.len) return x.len < y.len ? -1 : 1;
        return memcmp(x.val, y.val, static_cast<size_t>(x.len));
    }
    // Equal keys latest first, so that keeping the first of each run keeps
    // the last written (pushJsonbValue's uniqueifyJsonbObject).
    static bool key_before(const JsonbPair& a, const JsonbPair& b) {
        const int order = key_order(a, b);
        return order != 0 ? order < 0 : a.order > b.order;
    }
    static bool same_key(const JsonbPair& a, const JsonbPair& b) { return key_order(a, b) == 0; }

    static void set_string(JsonbValue& out, const std::string& text) {
        out.type = jbvString;
        out.val.string.val = const_cast<char*>(text.data());
        out.val.string.len = static_cast<int>(text.size());
    }

    void fill(const Json& value, JsonbValue& out) {
        switch (value.type()) {
            case Json::value_t::object: {
                JsonbPair* pairs = pairs_.data() + next_pair_;
                next_pair_ += value.size();
                uint32 n = 0;
                for (const auto& [key, member] : value.get_ref<const Json::object_t&>()) {
                    JsonbPair& pair = pairs[n];
                    set_string(pair.key, key);
                    pair.order = n++;
                    fill(member, pair.value);
                }
                std::sort(pairs, pairs + n, key_before);
                out.type = jbvObject;
                out.val.object.pairs = pairs;
                out.val.object.nPairs = static_cast<int>(std::unique(pairs, pairs + n, same_key) - pairs);
                return;
            }
            case Json::value_t::array: {
                JsonbValue* elements = elements_.data() + next_element_;
                next_element_ += value.size();
                int n = 0;
                for (const Json& element : value) fill(element, elements[n++]);
                out.type = jbvArray;
                out.val.array.elems = elements;
                out.val.array.nElems = n;
                out.val.array.rawScalar = false;
                return;
            }
            case Json::value_t::string: set_string(out, value.get_ref<const std::string&>()); return;
            case Json::value_t::boolean:
                out.type = jbvBool;
                out.val.boolean = value.get<bool>();
                return;
            case Json::value_t::number_float:
                // NaN and infinities dump as null.
                if (!std::isfinite(value.get<double>())) break;
                [[fallthrough]];
            case Json::value_t::number_integer:
            case Json::value_t::number_unsigned:
                out.type = jbvNumeric;
                out.val.numeric = DatumGetNumeric(numeric_of(value));
                return;
            default: break;
        }
        out.type = jbvNull;
    }

    bool plain_ = false;
    size_t pair_count_ = 0, element_count_ = 0, next_pair_ = 0, next_element_ = 0;
    std::vector<JsonbPair> pairs_;
    std::vector<JsonbValue> elements_;
    JsonbValue root_{};
};

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
    JsonbTree tree(value);
    if (!tree.plain()) return jsonb_datum_via_text(value);
    return tree.datum();
}

namespace {

// One token of a jsonb document as JsonbIteratorNext gives it, in plain
// data: strings and keys point into the detoasted document, a number is
// numeric_out's text (what JsonbToCString prints).
struct JsonToken {
    JsonbIteratorToken token;
    enum class Kind : uint8_t { Container, String, Null, Bool, Number } kind;
    const char* text = nullptr;
    int length = 0;  // a container's opening token: its elements or pairs
    bool boolean = false;
};

// JsonTokens is the whole document, palloc'd; `fits` is false when the text
// path must decide: a scalar at the top, nesting near the limit, or a text
// that could exceed max_bytes (its upper bound: every string byte escaped
// as \u00XX).
struct JsonTokens {
    JsonToken* tokens = nullptr;
    int count = 0;
    bool fits = false;
};

JsonTokens read_tokens(Datum value, const JsonLimits& limits) {
    return pg_call([&] {
        JsonTokens out;
        Jsonb* jsonb = DatumGetJsonbP(value);
        if (JB_ROOT_IS_SCALAR(jsonb)) return out;
        int capacity = 64;
        out.tokens = static_cast<JsonToken*>(palloc(sizeof(JsonToken) * capacity));
        JsonbIterator* it = JsonbIteratorInit(&jsonb->root);
        JsonbValue v;
        JsonbIteratorToken token;
        int depth = 0;
        size_t bound = 0;
        while ((token = JsonbIteratorNext(&it, &v, false)) != WJB_DONE) {
            if (out.count == capacity) {
                capacity *= 2;
                out.tokens = static_cast<JsonToken*>(repalloc(out.tokens, sizeof(JsonToken) * capacity));
            }
            JsonToken& t = out.tokens[out.count++];
            t.token = token;
            t.kind = JsonToken::Kind::Container;
            bound += 2;  // a separator, or the brackets
            if (token == WJB_BEGIN_ARRAY || token == WJB_BEGIN_OBJECT) {
                t.length = token == WJB_BEGIN_ARRAY ? v.val.array.nElems : v.val.object.nPairs;
                if (++depth >= limits.max_depth) return out;
                continue;
            }
            if (token == WJB_END_ARRAY || token == WJB_END_OBJECT) {
                --depth;
                continue;
            }
            switch (v.type) {
                case jbvString:
                    t.kind = JsonToken::Kind::String;
                    t.text = v.val.string.val;
                    t.length = v.val.string.len;
                    bound += 2 + 6 * static_cast<size_t>(t.length);
                    break;
                case jbvNumeric:
                    t.kind = JsonToken::Kind::Number;
                    t.text = DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(v.val.numeric)));
                    t.length = static_cast<int>(strlen(t.text));
                    bound += static_cast<size_t>(t.length);
                    break;
                case jbvBool:
                    t.kind = JsonToken::Kind::Bool;
                    t.boolean = v.val.boolean;
                    bound += 5;
                    break;
                default:
                    t.kind = JsonToken::Kind::Null;
                    bound += 4;
                    break;
            }
            if (bound > limits.max_bytes) return out;  // the text decides, and no need to read on
        }
        out.fits = true;
        return out;
    });
}

// number_json reads numeric_out's text as the parser reads a JSON number:
// an integer within int64 or uint64 stays one, anything else is a double;
// nullopt beyond a double's range (the text path refuses it).
std::optional<Json> number_json(std::string_view text) {
    const char* first = text.data();
    const char* last = first + text.size();
    if (text.find('.') == std::string_view::npos) {
        int64_t integer = 0;
        if (auto [end, error] = std::from_chars(first, last, integer); error == std::errc() && end == last)
            return Json(integer);
        uint64_t unsigned_integer = 0;
        if (auto [end, error] = std::from_chars(first, last, unsigned_integer); error == std::errc() && end == last)
            return Json(unsigned_integer);
    }
    const double number = std::strtod(std::string(text).c_str(), nullptr);
    if (!std::isfinite(number)) return std::nullopt;
    return Json(number);
}

// json_direct builds the document from its tokens; nullopt when the text
// path must decide (see JsonTokens, number_json, plain_utf8).
std::optional<Json> json_direct(Datum value, const JsonLimits& limits) {
    const JsonTokens read = read_tokens(value, limits);
    if (!read.fits) return std::nullopt;
    Json root;
    std::vector<Json*> open;  // the containers being filled, innermost last
    std::string_view key;
    for (int i = 0; i < read.count; ++i) {
        const JsonToken& t = read.tokens[i];
        if (t.token == WJB_END_ARRAY || t.token == WJB_END_OBJECT) {
            open.pop_back();
            continue;
        }
        if (t.token == WJB_KEY) {
            key = std::string_view(t.text, static_cast<size_t>(t.length));
            if (!plain_utf8(key)) return std::nullopt;
            continue;
        }
        Json item;
        switch (t.kind) {
            case JsonToken::Kind::Container:
                // Sized up front (see json_object).
                if (t.token == WJB_BEGIN_ARRAY) {
                    item = Json::array();
                    item.get_ref<Json::array_t&>().reserve(static_cast<size_t>(t.length));
                } else {
                    item = json_object(static_cast<size_t>(t.length));
                }
                break;
            case JsonToken::Kind::String: {
                std::string_view text(t.text, static_cast<size_t>(t.length));
                if (!plain_utf8(text)) return std::nullopt;
                item = std::string(text);
                break;
            }
            case JsonToken::Kind::Number: {
                auto number = number_json(std::string_view(t.text, static_cast<size_t>(t.length)));
                if (!number) return std::nullopt;
                item = std::move(*number);
                break;
            }
            case JsonToken::Kind::Bool: item = t.boolean; break;
            case JsonToken::Kind::Null: break;
        }
        Json* placed = nullptr;
        if (open.empty()) {
            root = std::move(item);
            placed = &root;
        } else if (open.back()->is_array()) {
            open.back()->push_back(std::move(item));
            placed = &open.back()->back();
        } else {
            // jsonb keeps one member per key, in its order: appended as they
            // come, without operator[]'s search through the members so far.
            auto& members = open.back()->get_ref<Json::object_t&>();
            members.emplace_back(std::string(key), std::move(item));
            placed = &members.back().second;
        }
        if (t.kind == JsonToken::Kind::Container) open.push_back(placed);
    }
    return root;
}

}  // namespace

Json json_from_jsonb_via_text(Datum value, const char* what, const JsonLimits& limits) {
    const char* text = pg_call([&] {
        Jsonb* jsonb = DatumGetJsonbP(value);
        return JsonbToCString(nullptr, &jsonb->root, VARSIZE(jsonb));
    });
    return parse_json(text, what, limits);
}

Json json_from_jsonb(Datum value, const char* what, const JsonLimits& limits) {
    // Objects and arrays are read token by token; what the text path could
    // refuse or change (see json_direct), and a database not in UTF-8 (the
    // text would be in its encoding), goes through the text as before.
    if (GetDatabaseEncoding() == PG_UTF8)
        if (std::optional<Json> direct = json_direct(value, limits)) return std::move(*direct);
    return json_from_jsonb_via_text(value, what, limits);
}

std::optional<Json> column_json(Oid type, Datum value, bool is_null, const JsonLimits& limits) {
    if (GetDatabaseEncoding() != PG_UTF8) return std::nullopt;
    switch (type) {
        case TEXTOID:
        case VARCHAROID:
        case BOOLOID:
        case INT2OID:
        case INT4OID:
        case INT8OID:
        case FLOAT4OID:
        case FLOAT8OID:
        case JSONBOID:
        case TIMESTAMPTZOID: break;
        default: return std::nullopt;
    }
    if (is_null) return Json(nullptr);
    switch (type) {
        case TEXTOID:
        case VARCHAROID: {
            // Valid UTF-8 without NUL, as the database holds it: jsonb keeps
            // the text as it is.
            auto* raw = reinterpret_cast<struct varlena*>(DatumGetPointer(value));
            const char* bytes = reinterpret_cast<const char*>(raw);
            if (VARATT_IS_COMPRESSED(raw) || VARATT_IS_EXTERNAL(raw))  // else as pg_detoast_datum_packed leaves it
                bytes = pg_call([&] { return reinterpret_cast<const char*>(pg_detoast_datum_packed(raw)); });
            return Json(std::string(VARDATA_ANY(bytes), VARSIZE_ANY_EXHDR(bytes)));
        }
        case BOOLOID: return Json(static_cast<bool>(DatumGetBool(value)));
        case INT2OID: return Json(static_cast<int64_t>(DatumGetInt16(value)));
        case INT4OID: return Json(static_cast<int64_t>(DatumGetInt32(value)));
        case INT8OID: return Json(static_cast<int64_t>(DatumGetInt64(value)));
        case FLOAT4OID:
        case FLOAT8OID: {
            // to_jsonb prints the float (extra_float_digits applies) and
            // keeps a valid JSON number as a numeric, else the text (NaN,
            // Infinity); json_from_jsonb reads the numeric's own text.
            const char* text = pg_call([&] {
                return DatumGetCString(type == FLOAT4OID ? DirectFunctionCall1(float4out, value)
                                                         : DirectFunctionCall1(float8out, value));
            });
            const int length = static_cast<int>(strlen(text));
            if (!pg_call([&] { return IsValidJsonNumber(text, length); })) return Json(std::string(text, length));
            const char* numeric_text = pg_call([&] {
                return DatumGetCString(DirectFunctionCall1(
                    numeric_out, DirectFunctionCall3(numeric_in, CStringGetDatum(text), ObjectIdGetDatum(InvalidOid),
                                                     Int32GetDatum(-1))));
            });
            if (std::optional<Json> number = number_json(numeric_text)) return number;
            return std::nullopt;  // beyond a double (cannot be one read from a float)
        }
        case JSONBOID: return json_from_jsonb(value, "column", limits);
        default: {
            char buffer[MAXDATELEN + 1];
            pg_call([&] { JsonEncodeDateTime(buffer, value, TIMESTAMPTZOID, nullptr); });
            return Json(std::string(buffer));
        }
    }
}

Datum text_datum(std::string_view value) {
    return pg_call([&] { return PointerGetDatum(cstring_to_text_with_len(value.data(), static_cast<int>(value.size()))); });
}

std::string text_from_datum(Datum value) {
    return std::string(pg_call([&] { return text_to_cstring(DatumGetTextPP(value)); }));
}

std::vector<std::string> texts_from_datum(Datum value) {
    Datum* elements = nullptr;
    bool* nulls = nullptr;
    int count = 0;
    pg_call([&] {
        deconstruct_array(DatumGetArrayTypeP(value), TEXTOID, -1, false, TYPALIGN_INT, &elements, &nulls, &count);
    });
    std::vector<std::string> out;
    out.reserve(static_cast<size_t>(count));
    for (int i = 0; i < count; ++i) {
        if (nulls[i]) continue;
        // An array's elements are never toasted: plain or short varlenas.
        const char* element = DatumGetPointer(elements[i]);
        out.emplace_back(VARDATA_ANY(element), VARSIZE_ANY_EXHDR(element));
    }
    return out;
}

std::string required_text(FunctionCallInfo fcinfo, int n, const char* name) {
    if (PG_ARGISNULL(n)) throw_bad_request(std::string(name) + " must not be null", Json{{"field", name}});
    return text_from_datum(PG_GETARG_DATUM(n));
}

}  // namespace kaireon::pg
