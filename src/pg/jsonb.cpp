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

// Decimal is a JSON number as numeric_in reads its dump: digits / 10^scale.
struct Decimal {
    bool negative = false;
    uint64_t digits = 0;
    int scale = 0;  // may be negative (1e+20: 1 / 10^-20)
};

// decimal_of reads a double's digits as to_chars writes them ("-0.00125",
// "123.0", "1.5e+20"): the scale is the digits after the point less the
// exponent, as numeric_in counts them. Nullopt past 18 significant digits
// (to_chars writes at most 17).
std::optional<Decimal> decimal_of(const char* text) {
    Decimal decimal;
    decimal.negative = *text == '-';
    if (decimal.negative) ++text;
    int significant = 0, after_point = 0;
    bool point = false;
    for (; *text != '\0' && *text != 'e'; ++text) {
        if (*text == '.') {
            point = true;
            continue;
        }
        if (*text < '0' || *text > '9') return std::nullopt;
        if (decimal.digits != 0 || *text != '0') ++significant;
        if (significant > 18) return std::nullopt;
        decimal.digits = decimal.digits * 10 + static_cast<uint64_t>(*text - '0');
        if (point) ++after_point;
    }
    int exponent = 0;
    if (*text == 'e') {
        const char* end = text + 1 + strlen(text + 1);
        const char* from = text[1] == '+' ? text + 2 : text + 1;
        if (std::from_chars(from, end, exponent).ptr != end) return std::nullopt;
    }
    decimal.scale = after_point - exponent;
    return decimal;
}

// decimal_of a JSON number: an integer as it is (scale 0), a double from
// the digits dump() writes for it (its serializer's to_chars, without the
// string and output adapter dump() makes around them).
std::optional<Decimal> decimal_of(const Json& number) {
    if (number.is_number_unsigned()) return Decimal{false, number.get<uint64_t>(), 0};
    if (number.is_number_integer()) {
        const int64_t integer = number.get<int64_t>();
        // (The magnitude of INT64_MIN too, in unsigned arithmetic.)
        return Decimal{integer < 0, integer < 0 ? 0 - static_cast<uint64_t>(integer) : static_cast<uint64_t>(integer), 0};
    }
    char digits[64];
    *nlohmann::detail::to_chars(digits, digits + sizeof(digits) - 1, number.get<double>()) = '\0';
    return decimal_of(digits);
}

// numeric_bytes writes `decimal` as the numeric datum numeric_in makes of
// its text (numeric.c's make_result: base-10000 digits without leading or
// trailing zero digits, the short header when scale and weight fit it, a
// zero positive with weight 0) into `out`; returns its length.
size_t numeric_bytes(const Decimal& decimal, char* out) {
    // numeric.c's digits (DEC_DIGITS decimal digits each) and headers, not
    // exported: their values here.
    using Digit = int16;
    constexpr int digit_decimals = 4, base = 10000;
    const int dscale = std::max(decimal.scale, 0);
    // The decimal point moved onto a base-10000 digit boundary.
    unsigned __int128 value = decimal.digits;
    int scale = decimal.scale;
    if (const int within = ((scale % digit_decimals) + digit_decimals) % digit_decimals; within != 0) {
        static constexpr uint32_t pow10[] = {1, 10, 100, 1000};
        value *= pow10[digit_decimals - within];
        scale += digit_decimals - within;
    }
    Digit groups[8];  // least significant first; 2^64 * 1000 < 10000^6
    int count = 0;
    for (; value != 0; value /= base) groups[count++] = static_cast<Digit>(value % base);
    int weight = count - 1 - scale / digit_decimals;
    int lowest = 0;
    while (lowest < count && groups[lowest] == 0) ++lowest;
    bool negative = decimal.negative;
    if (lowest == count) {  // zero
        weight = 0;
        negative = false;
    }
    constexpr uint16 short_flag = 0x8000, short_negative = 0x2000, short_weight_negative = 0x0040,
                     short_weight_mask = 0x003F, long_negative = 0x4000, long_dscale_mask = 0x3FFF;
    constexpr int short_dscale_shift = 7, short_dscale_max = 63, short_weight_max = 63, short_weight_min = -64;
    size_t at = VARHDRSZ;
    if (dscale <= short_dscale_max && weight <= short_weight_max && weight >= short_weight_min) {
        const uint16 header = short_flag | (negative ? short_negative : 0) | static_cast<uint16>(dscale << short_dscale_shift) |
                              (weight < 0 ? short_weight_negative : 0) | (static_cast<uint16>(weight) & short_weight_mask);
        memcpy(out + at, &header, sizeof(header));
        at += sizeof(header);
    } else {
        const uint16 sign_dscale = (negative ? long_negative : 0) | (static_cast<uint16>(dscale) & long_dscale_mask);
        const int16 long_weight = static_cast<int16>(weight);
        memcpy(out + at, &sign_dscale, sizeof(sign_dscale));
        memcpy(out + at + sizeof(sign_dscale), &long_weight, sizeof(long_weight));
        at += sizeof(sign_dscale) + sizeof(long_weight);
    }
    for (int i = count - 1; i >= lowest; --i) {
        memcpy(out + at, &groups[i], sizeof(Digit));
        at += sizeof(Digit);
    }
    SET_VARSIZE(out, at);
    return at;
}

// The most members jsonb takes in one object or array (jsonb_util.c's
// JSONB_MAX_PAIRS and JSONB_MAX_ELEMS); beyond, the text path refuses it.
constexpr size_t max_pairs = std::min<size_t>(MaxAllocSize / sizeof(JsonbPair), JB_CMASK);
constexpr size_t max_elements = std::min<size_t>(MaxAllocSize / sizeof(JsonbValue), JB_CMASK);

// JsonbWriter writes a Json object or array in jsonb's binary format, byte
// for byte what jsonb_in makes of its dump: convertToJsonb's layout
// (jsonb_util.c: a container's header and JEntries, then its children's
// data; every JB_OFFSET_STRIDE'th JEntry an end offset; numbers and
// containers aligned to 4 bytes with zeros) of the tree pushJsonbValue
// builds (an object's keys shorter first, then bytewise; of equal keys the
// last written). Written here, outside PostgreSQL but for the numbers,
// into one buffer copied out once: no JsonbValue tree between.
class JsonbWriter {
public:
    // False when the text path must decide: a string plain_utf8 refuses,
    // more members than jsonb takes, data past a JEntry's length field, or
    // a value that has no dump.
    bool write(const Json& value) {
        buffer_.reserve(1024);
        buffer_.assign(VARHDRSZ, '\0');
        uint32 root = 0;
        return container(value, root) && buffer_.size() <= MaxAllocSize;
    }
    Datum datum() const {
        return pg_call([&] {
            auto* jsonb = static_cast<char*>(palloc(buffer_.size()));
            memcpy(jsonb, buffer_.data(), buffer_.size());
            SET_VARSIZE(jsonb, buffer_.size());
            return PointerGetDatum(jsonb);
        });
    }

private:
    struct Member {
        const std::string* key;
        const Json* value;
        uint32 order;
    };

    static bool fits(std::string_view text) { return text.size() <= JENTRY_OFFLENMASK && plain_utf8(text); }

    // Jsonb's key order; of equal keys the latest first, so that keeping
    // the first of each run keeps the last written (uniqueifyJsonbObject).
    static int key_order(const Member& a, const Member& b) {
        if (a.key->size() != b.key->size()) return a.key->size() < b.key->size() ? -1 : 1;
        return memcmp(a.key->data(), b.key->data(), a.key->size());
    }
    static bool key_before(const Member& a, const Member& b) {
        const int order = key_order(a, b);
        return order != 0 ? order < 0 : a.order > b.order;
    }

    size_t pad_to_int() {
        const size_t pad = INTALIGN(buffer_.size()) - buffer_.size();
        buffer_.append(pad, '\0');
        return pad;
    }
    size_t reserve(size_t bytes) {
        const size_t at = buffer_.size();
        buffer_.append(bytes, '\0');
        return at;
    }
    void put(size_t at, uint32 word) { memcpy(buffer_.data() + at, &word, sizeof(word)); }
    void append(uint32 word) { buffer_.append(reinterpret_cast<const char*>(&word), sizeof(word)); }

    // child adds a child's length to the container's running total and
    // writes its JEntry, an end offset every JB_OFFSET_STRIDE'th.
    bool child(size_t index, uint32 entry, size_t& total, size_t entries) {
        total += JBE_OFFLENFLD(entry);
        if (total > JENTRY_OFFLENMASK) return false;
        if (index % JB_OFFSET_STRIDE == 0) entry = (entry & JENTRY_TYPEMASK) | static_cast<uint32>(total) | JENTRY_HAS_OFF;
        put(entries + index * sizeof(JEntry), entry);
        return true;
    }
    bool finish(size_t base, uint32& entry) {
        const size_t total = buffer_.size() - base;
        if (total > JENTRY_OFFLENMASK) return false;
        entry = JENTRY_ISCONTAINER | static_cast<uint32>(total);
        return true;
    }

    bool container(const Json& value, uint32& entry) {
        const size_t base = buffer_.size();
        size_t total = 0;
        if (value.is_array()) {
            const size_t count = value.size();
            if (count > max_elements) return false;
            pad_to_int();
            append(static_cast<uint32>(count) | JB_FARRAY);
            const size_t entries = reserve(sizeof(JEntry) * count);
            size_t index = 0;
            for (const Json& element : value) {
                uint32 element_entry = 0;
                if (!scalar_or_container(element, element_entry) || !child(index++, element_entry, total, entries))
                    return false;
            }
            return finish(base, entry);
        }
        const auto& members = value.get_ref<const Json::object_t&>();
        if (members.size() > max_pairs) return false;
        // This object's members sorted at the end of the scratch list (a
        // nested object's go after them, so by index: the list may move).
        const size_t first = members_.size();
        uint32 order = 0;
        for (const auto& [key, member] : members) {
            if (!fits(key)) return false;
            members_.push_back(Member{&key, &member, order++});
        }
        std::sort(members_.begin() + static_cast<ptrdiff_t>(first), members_.end(), key_before);
        const size_t count = static_cast<size_t>(
            std::unique(members_.begin() + static_cast<ptrdiff_t>(first), members_.end(),
                        [](const Member& a, const Member& b) { return key_order(a, b) == 0; }) -
            (members_.begin() + static_cast<ptrdiff_t>(first)));
        members_.resize(first + count);
        pad_to_int();
        append(static_cast<uint32>(count) | JB_FOBJECT);
        const size_t entries = reserve(sizeof(JEntry) * count * 2);
        for (size_t i = 0; i < count; ++i) {
            const std::string& key = *members_[first + i].key;
            buffer_.append(key);
            if (!child(i, static_cast<uint32>(key.size()), total, entries)) return false;
        }
        for (size_t i = 0; i < count; ++i) {
            uint32 member_entry = 0;
            if (!scalar_or_container(*members_[first + i].value, member_entry) ||
                !child(count + i, member_entry, total, entries))
                return false;
        }
        members_.resize(first);
        return finish(base, entry);
    }

    bool scalar_or_container(const Json& value, uint32& entry) {
        switch (value.type()) {
            case Json::value_t::object:
            case Json::value_t::array: return container(value, entry);
            case Json::value_t::string: {
                const std::string& text = value.get_ref<const std::string&>();
                if (!fits(text)) return false;
                buffer_.append(text);
                entry = JENTRY_ISSTRING | static_cast<uint32>(text.size());
                return true;
            }
            case Json::value_t::boolean: entry = value.get<bool>() ? JENTRY_ISBOOL_TRUE : JENTRY_ISBOOL_FALSE; return true;
            case Json::value_t::number_float:
                // NaN and infinities dump as null.
                if (!std::isfinite(value.get<double>())) break;
                [[fallthrough]];
            case Json::value_t::number_integer:
            case Json::value_t::number_unsigned: {
                const std::optional<Decimal> decimal = decimal_of(value);
                if (!decimal) return false;  // the text path's numeric_in decides
                char number[64];
                const size_t length = numeric_bytes(*decimal, number);
                const size_t pad = pad_to_int();
                buffer_.append(number, length);
                entry = JENTRY_ISNUMERIC | static_cast<uint32>(pad + length);
                return true;
            }
            case Json::value_t::null: break;
            default: return false;  // discarded, binary: the dump decides
        }
        entry = JENTRY_ISNULL;
        return true;
    }

    std::string buffer_;
    std::vector<Member> members_;
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
    JsonbWriter writer;
    if (!writer.write(value)) return jsonb_datum_via_text(value);
    return writer.datum();
}

Datum jsonb_datum(Json&& value) {
    const Datum datum = jsonb_datum(static_cast<const Json&>(value));
    release_json(value);
    return datum;
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
