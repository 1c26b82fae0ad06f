#include "core/json.h"

#include "core/error.h"

#include <string>

namespace kaireon {
namespace {

// parse_error_message turns nlohmann's "[json.exception.parse_error.101] parse
// error at line 1, column 5: syntax error while parsing value - invalid
// literal; last read: 'tru}'" into "invalid literal; last read: 'tru}'".
std::string short_reason(const std::string& what) {
    auto pos = what.find(" - ");
    return pos == std::string::npos ? what : what.substr(pos + 3);
}

}  // namespace

Json parse_json(std::string_view text, std::string_view what, const JsonLimits& limits) {
    if (text.size() > limits.max_bytes) {
        throw_bad_request(std::string(what) + " is too large: " + std::to_string(text.size()) +
                              " bytes, at most " + std::to_string(limits.max_bytes),
                          Json{{"limit", limits.max_bytes}});
    }
    // The callback sees every value with its depth before it is stored, so a
    // hostile document cannot nest deeper than the limit.
    int deepest = 0;
    auto depth_guard = [&](int depth, Json::parse_event_t event, Json&) {
        if (event == Json::parse_event_t::object_start || event == Json::parse_event_t::array_start) {
            if (depth >= limits.max_depth) {
                deepest = depth;
                return false;
            }
        }
        return true;
    };
    try {
        Json doc = Json::parse(text.begin(), text.end(), depth_guard, /*allow_exceptions=*/true,
                               /*ignore_comments=*/false);
        if (deepest > 0) {
            throw_bad_request(std::string(what) + " is nested too deeply: at most " +
                                  std::to_string(limits.max_depth) + " levels",
                              Json{{"limit", limits.max_depth}});
        }
        return doc;
    } catch (const Json::parse_error& e) {
        throw_bad_request("malformed JSON in " + std::string(what) + " at byte " + std::to_string(e.byte) +
                              ": " + short_reason(e.what()),
                          Json{{"position", e.byte}});
    } catch (const Json::exception& e) {
        throw_bad_request("malformed JSON in " + std::string(what) + ": " + short_reason(e.what()));
    }
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

}  // namespace kaireon
