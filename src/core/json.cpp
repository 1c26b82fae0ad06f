#include "core/json.h"

#include "core/error.h"

#include <cmath>
#include <string>

namespace kaireon {
namespace {

// short_reason turns nlohmann's "[json.exception.parse_error.101] parse error
// at line 1, column 5: syntax error while parsing value - invalid literal;
// last read: 'tru}'" into "invalid literal". The "last read" part is dropped:
// it quotes raw input bytes (maybe not UTF-8) into a message for people.
std::string short_reason(const std::string& what) {
    std::string reason = what;
    if (auto dash = reason.find(" - "); dash != std::string::npos) reason = reason.substr(dash + 3);
    if (auto bracket = reason.find("] "); reason.rfind("[json.exception", 0) == 0 && bracket != std::string::npos) {
        reason = reason.substr(bracket + 2);
    }
    if (auto last_read = reason.find("; last read:"); last_read != std::string::npos) reason.resize(last_read);
    return reason;
}

[[noreturn]] void malformed(std::string_view what, size_t byte, const std::string& reason) {
    throw_bad_request("malformed JSON in " + std::string(what) + " at byte " + std::to_string(byte) + ": " + reason,
                      Json{{"position", byte}});
}

}  // namespace

Json parse_json(std::string_view text, std::string_view what, const JsonLimits& limits) {
    if (text.size() > limits.max_bytes) {
        throw_bad_request(std::string(what) + " is too large: " + std::to_string(text.size()) +
                              " bytes, at most " + std::to_string(limits.max_bytes),
                          Json{{"limit", limits.max_bytes}});
    }
    // The lexer would take a NUL byte for the end of input and ignore what
    // follows; JSON allows no raw NUL anywhere, so refuse it here.
    if (auto nul = text.find('\0'); nul != std::string_view::npos) malformed(what, nul + 1, "NUL byte");
    // The callback sees every value with its depth before it is stored, so a
    // hostile document cannot nest deeper than the limit.
    bool too_deep = false;
    auto depth_guard = [&](int depth, Json::parse_event_t event, Json&) {
        if ((event == Json::parse_event_t::object_start || event == Json::parse_event_t::array_start) &&
            depth >= limits.max_depth) {
            too_deep = true;
            return false;
        }
        return true;
    };
    Json doc;
    try {
        doc = Json::parse(text.begin(), text.end(), depth_guard, /*allow_exceptions=*/true, /*ignore_comments=*/false);
    } catch (const Json::parse_error& e) {
        if (too_deep) doc = nullptr;  // the refusal below explains it better
        else malformed(what, e.byte, short_reason(e.what()));
    } catch (const Json::out_of_range& e) {
        // A number beyond double's range ("number overflow parsing '1e400'"):
        // no position from the library, so find the literal it quotes.
        std::string reason = short_reason(e.what());
        size_t byte = 0;
        if (auto open = reason.find('\''), close = reason.rfind('\'');
            open != std::string::npos && close > open + 1) {
            auto found = text.find(reason.substr(open + 1, close - open - 1));
            if (found != std::string_view::npos) byte = found + 1;
        }
        malformed(what, byte, reason);
    } catch (const Json::exception& e) {
        malformed(what, 0, short_reason(e.what()));
    }
    if (too_deep) {
        throw_bad_request(std::string(what) + " is nested too deeply: at most " + std::to_string(limits.max_depth) +
                              " levels",
                          Json{{"limit", limits.max_depth}});
    }
    return doc;
}

Json parse_json_object(std::string_view text, std::string_view what, const JsonLimits& limits) {
    Json doc = parse_json(text, what, limits);
    if (!doc.is_object()) {
        throw_bad_request(std::string(what) + " must be a JSON object, not " + type_name(doc));
    }
    return doc;
}

const char* type_name(const Json& value) {
    switch (value.type()) {
        case Json::value_t::null: return "null";
        case Json::value_t::object: return "object";
        case Json::value_t::array: return "array";
        case Json::value_t::string: return "string";
        case Json::value_t::boolean: return "boolean";
        case Json::value_t::number_integer:
        case Json::value_t::number_unsigned:
        case Json::value_t::number_float: return "number";
        case Json::value_t::binary: return "binary";
        case Json::value_t::discarded: return "discarded";
    }
    return "unknown";
}

Json json_object(size_t members) {
    Json object = Json::object();
    object.get_ref<Json::object_t&>().reserve(members);
    return object;
}

void release_json(Json& value, int max_depth) {
    if (max_depth <= 0) return;
    if (value.is_object()) {
        auto& members = value.get_ref<Json::object_t&>();
        for (auto& member : members) release_json(member.second, max_depth - 1);
        members.clear();
    } else if (value.is_array()) {
        auto& elements = value.get_ref<Json::array_t&>();
        for (Json& element : elements) release_json(element, max_depth - 1);
        elements.clear();
    }
}

std::vector<std::string> string_items(const Json& object, const char* key) {
    std::vector<std::string> out;
    if (auto it = object.find(key); it != object.end() && it->is_array())
        for (const Json& item : *it)
            if (item.is_string()) out.push_back(item.get<std::string>());
    return out;
}

Json json_number(double value) {
    // 2^63 is exact in a double; anything at or past it stays a double.
    if (std::isfinite(value) && std::trunc(value) == value && std::fabs(value) < 9223372036854775808.0) {
        return Json(static_cast<int64_t>(value));
    }
    return Json(value);
}

}  // namespace kaireon
