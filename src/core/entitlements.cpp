#include "core/entitlements.h"

#include "core/error.h"
#include "core/name_table.h"

#include <array>
#include <cmath>
#include <cstdint>
#include <utility>

namespace kaireon::entitlements {
namespace {

constexpr std::array<std::pair<std::string_view, FeatureType>, 3> kFeatureTypes{{
    {"boolean", FeatureType::Boolean},
    {"numeric", FeatureType::Numeric},
    {"config", FeatureType::Config},
}};
constexpr std::array<std::pair<std::string_view, Aggregation>, 6> kAggregations{{
    {"sum", Aggregation::Sum},
    {"count", Aggregation::Count},
    {"max", Aggregation::Max},
    {"min", Aggregation::Min},
    {"average", Aggregation::Average},
    {"latest", Aggregation::Latest},
}};
constexpr std::array<std::pair<std::string_view, Period>, 5> kPeriods{{
    {"hour", Period::Hour},
    {"day", Period::Day},
    {"week", Period::Week},
    {"month", Period::Month},
    {"never", Period::Never},
}};
constexpr std::array<std::pair<std::string_view, LimitType>, 2> kLimitTypes{{
    {"hard", LimitType::Hard},
    {"soft", LimitType::Soft},
}};
constexpr std::array<std::pair<std::string_view, Status>, 3> kStatuses{{
    {"ACCEPTED", Status::Accepted},
    {"LIMIT_REACHED", Status::LimitReached},
    {"DENIED", Status::Denied},
}};
constexpr std::array<std::pair<std::string_view, Source>, 4> kSources{{
    {"override", Source::Override},
    {"license", Source::License},
    {"plan", Source::Plan},
    {"none", Source::None},
}};

constexpr size_t kMaxFeatureKeyLength = 100;
constexpr size_t kMaxUnitLength = 100;
constexpr double kMaxGracePercent = 1000;
constexpr int kMaxThreshold = 1000;
// A schema is written by an administrator, not parsed under parse_json's depth
// limit when it is built in code: bound the recursion of both validators.
constexpr int kMaxSchemaDepth = 32;

constexpr std::string_view kKnownOptions =
    "aggregation, period, unit, schema, limitType, gracePercent, thresholds, nonNegative";
constexpr std::array<std::string_view, 7> kNumericOptions{"aggregation",  "period",     "unit",       "limitType",
                                                          "gracePercent", "thresholds", "nonNegative"};
constexpr std::string_view kSchemaKeywords =
    "type, required, properties, additionalProperties, items, minimum, maximum, minLength, maxLength, minItems, "
    "maxItems, enum, description";
constexpr std::array<std::string_view, 7> kSchemaTypes{"object",  "array",   "string", "number",
                                                       "integer", "boolean", "null"};

using kaireon::from_name;

// from_name of a document's value: only a string names an entry.
template <typename T, size_t N>
std::optional<T> from_name(const NameTable<T, N>& table, const Json& text) {
    if (!text.is_string()) return std::nullopt;
    return kaireon::from_name(table, std::string_view(text.get_ref<const std::string&>()));
}

// one_of returns "must be one of a, b, c" for a table, as messages say it.
template <typename T, size_t N>
std::string one_of(const std::array<std::pair<std::string_view, T>, N>& table) {
    std::string out = "must be one of ";
    for (size_t i = 0; i < N; ++i) {
        if (i > 0) out += ", ";
        out += table[i].first;
    }
    return out;
}

// fail throws the BadRequest every validation here ends in: the message starts
// with the path so that a person sees where, and the DETAIL carries the path
// for a program.
[[noreturn]] void fail(std::string_view path, const std::string& message) {
    Json extra = Json::object();
    extra["path"] = std::string(path);
    throw_bad_request(std::string(path) + ": " + message, extra);
}

// member_path and index_path build the paths that messages name:
// "value.config.maxReplicas", "options.thresholds[2]".
std::string member_path(std::string_view base, std::string_view key) {
    std::string out(base);
    out += '.';
    out += key;
    return out;
}

std::string index_path(std::string_view base, size_t index) {
    return std::string(base) + "[" + std::to_string(index) + "]";
}

// is_integral says whether `value` is a JSON integer in the schema sense: a
// number without a fractional part (3.0 counts).
bool is_integral(const Json& value) {
    if (value.is_number_integer()) return true;
    if (!value.is_number_float()) return false;
    double number = value.get<double>();
    return std::isfinite(number) && std::trunc(number) == number;
}

bool is_finite_number(const Json& value) { return value.is_number() && std::isfinite(value.get<double>()); }

// utf8_length counts code points, as JSON Schema's minLength/maxLength do: a
// continuation byte (10xxxxxx) does not start one.
size_t utf8_length(const std::string& text) {
    size_t count = 0;
    for (unsigned char c : text) {
        if ((c & 0xC0) != 0x80) ++count;
    }
    return count;
}

// ---- schema subset ----------------------------------------------------------

// has_type says whether the schema's "type" admits `type`.
bool has_type(const Json& schema, std::string_view type) {
    auto it = schema.find("type");
    if (it == schema.end()) return true;  // no "type": every keyword may apply
    if (it->is_string()) return *it == type;
    if (it->is_array()) {
        for (const auto& entry : *it) {
            if (entry == type) return true;
        }
    }
    return false;
}

// declared_types returns the schema's "type" as messages read it ("string or null").
std::string declared_types(const Json& schema) {
    const Json& type = schema.at("type");
    if (type.is_string()) return type.get<std::string>();
    std::string out;
    for (const auto& entry : type) {
        if (!out.empty()) out += " or ";
        out += entry.get<std::string>();
    }
    return out;
}

// check_non_negative_integer checks minLength, maxLength, minItems and maxItems.
void check_non_negative_integer(const Json& value, const std::string& path) {
    if (!is_integral(value) || value.get<double>() < 0) fail(path, "must be an integer >= 0");
}

// check_schema is validate_schema at nesting `depth`.
void check_schema(const Json& schema, const std::string& path, int depth) {
    if (depth > kMaxSchemaDepth) {
        fail(path, "is nested too deeply (at most " + std::to_string(kMaxSchemaDepth) + " levels)");
    }
    if (!schema.is_object()) fail(path, std::string("must be an object (a JSON schema), not ") + type_name(schema));
    for (const auto& [keyword, value] : schema.items()) {
        const std::string here = member_path(path, keyword);
        if (keyword == "type") {
            auto known = [](const Json& type) {
                if (!type.is_string()) return false;
                for (auto name : kSchemaTypes) {
                    if (type == name) return true;
                }
                return false;
            };
            const std::string message =
                "must be one of object, array, string, number, integer, boolean, null (or an array of them)";
            if (value.is_array()) {
                if (value.empty()) fail(here, message);
                for (size_t i = 0; i < value.size(); ++i) {
                    if (!known(value[i])) fail(index_path(here, i), message);
                    for (size_t j = 0; j < i; ++j) {
                        if (value[j] == value[i]) fail(index_path(here, i), value[i].dump() + " is listed twice");
                    }
                }
            } else if (!known(value)) {
                fail(here, message);
            }
        } else if (keyword == "required") {
            if (!value.is_array()) fail(here, "must be an array of property names");
            for (size_t i = 0; i < value.size(); ++i) {
                if (!value[i].is_string()) fail(index_path(here, i), "must be a string");
                for (size_t j = 0; j < i; ++j) {
                    if (value[j] == value[i]) fail(index_path(here, i), value[i].dump() + " is listed twice");
                }
            }
        } else if (keyword == "properties") {
            if (!value.is_object()) fail(here, "must be an object of schemas");
            for (const auto& [property, subschema] : value.items()) {
                check_schema(subschema, member_path(here, property), depth + 1);
            }
        } else if (keyword == "additionalProperties") {
            // A schema here would be another language to support; a boolean
            // says all that configs need.
            if (!value.is_boolean()) fail(here, "must be true or false (a schema is not supported here)");
        } else if (keyword == "items") {
            check_schema(value, here, depth + 1);
        } else if (keyword == "minimum" || keyword == "maximum") {
            if (!is_finite_number(value)) fail(here, "must be a number");
        } else if (keyword == "minLength" || keyword == "maxLength" || keyword == "minItems" || keyword == "maxItems") {
            check_non_negative_integer(value, here);
        } else if (keyword == "enum") {
            if (!value.is_array() || value.empty()) fail(here, "must be a non-empty array of the allowed values");
        } else if (keyword == "description") {
            if (!value.is_string()) fail(here, "must be a string");
        } else {
            fail(here, "unsupported schema keyword (supported: " + std::string(kSchemaKeywords) + ")");
        }
    }

    // A keyword that cannot apply to the declared type would be silently
    // ignored by a validator; refuse it so that the author learns.
    if (schema.contains("type")) {
        struct Applies {
            std::string_view keyword;
            std::array<std::string_view, 2> types;
            std::string_view what;
        };
        static constexpr std::array<Applies, 10> kApplies{{
            {"minimum", {"number", "integer"}, "numbers"},
            {"maximum", {"number", "integer"}, "numbers"},
            {"minLength", {"string", "string"}, "strings"},
            {"maxLength", {"string", "string"}, "strings"},
            {"minItems", {"array", "array"}, "arrays"},
            {"maxItems", {"array", "array"}, "arrays"},
            {"items", {"array", "array"}, "arrays"},
            {"required", {"object", "object"}, "objects"},
            {"properties", {"object", "object"}, "objects"},
            {"additionalProperties", {"object", "object"}, "objects"},
        }};
        for (const auto& rule : kApplies) {
            if (!schema.contains(rule.keyword)) continue;
            if (!has_type(schema, rule.types[0]) && !has_type(schema, rule.types[1])) {
                fail(member_path(path, rule.keyword),
                     "applies to " + std::string(rule.what) + ", but the type is " + declared_types(schema));
            }
        }
    }
    auto bounds = [&](const char* low, const char* high) {
        auto lo = schema.find(low), hi = schema.find(high);
        if (lo != schema.end() && hi != schema.end() && hi->get<double>() < lo->get<double>()) {
            fail(member_path(path, high), "must not be below " + std::string(low) + " (" + lo->dump() + ")");
        }
    };
    bounds("minimum", "maximum");
    bounds("minLength", "maxLength");
    bounds("minItems", "maxItems");
    // A required key that additionalProperties forbids makes every value fail.
    auto required = schema.find("required");
    auto additional = schema.find("additionalProperties");
    if (required != schema.end() && additional != schema.end() && *additional == false) {
        auto properties = schema.find("properties");
        for (size_t i = 0; i < required->size(); ++i) {
            const auto& key = (*required)[i].get_ref<const std::string&>();
            if (properties == schema.end() || !properties->contains(key)) {
                fail(index_path(member_path(path, "required"), i),
                     "\"" + key + "\" is not in properties, and additionalProperties is false");
            }
        }
    }
}

// matches_type says whether `value` is of the schema type named by `type`.
bool matches_type(const Json& value, const Json& type) {
    if (!type.is_string()) return false;
    const auto& name = type.get_ref<const std::string&>();
    if (name == "object") return value.is_object();
    if (name == "array") return value.is_array();
    if (name == "string") return value.is_string();
    if (name == "number") return value.is_number();
    if (name == "integer") return is_integral(value);
    if (name == "boolean") return value.is_boolean();
    if (name == "null") return value.is_null();
    return false;
}

// check_config checks `value` against a schema that validate_schema accepted;
// it tolerates malformed keywords (skips them) rather than throwing a library
// exception, since it runs on every stored value.
void check_config(const Json& schema, const Json& value, const std::string& path, int depth) {
    if (!schema.is_object() || depth > kMaxSchemaDepth) return;
    if (auto type = schema.find("type"); type != schema.end()) {
        bool ok = false;
        if (type->is_array()) {
            for (const auto& entry : *type) ok = ok || matches_type(value, entry);
        } else {
            ok = matches_type(value, *type);
        }
        if (!ok) {
            if (value.is_number() && !has_type(schema, "number") && has_type(schema, "integer")) {
                fail(path, "must be an integer, not " + value.dump());
            }
            fail(path, "must be of type " + declared_types(schema) + ", not " + type_name(value));
        }
    }
    if (auto allowed = schema.find("enum"); allowed != schema.end() && allowed->is_array()) {
        bool found = false;
        for (const auto& entry : *allowed) found = found || entry == value;
        if (!found) {
            std::string list;
            for (const auto& entry : *allowed) {
                if (!list.empty()) list += ", ";
                list += entry.dump();
            }
            fail(path, "must be one of " + list);
        }
    }
    if (value.is_number()) {
        double number = value.get<double>();
        if (auto minimum = schema.find("minimum");
            minimum != schema.end() && minimum->is_number() && number < minimum->get<double>()) {
            fail(path, value.dump() + " is below the minimum " + minimum->dump());
        }
        if (auto maximum = schema.find("maximum");
            maximum != schema.end() && maximum->is_number() && number > maximum->get<double>()) {
            fail(path, value.dump() + " is above the maximum " + maximum->dump());
        }
    } else if (value.is_string()) {
        size_t length = utf8_length(value.get_ref<const std::string&>());
        if (auto minimum = schema.find("minLength");
            minimum != schema.end() && minimum->is_number() && static_cast<double>(length) < minimum->get<double>()) {
            fail(path, "must be at least " + minimum->dump() + " characters long");
        }
        if (auto maximum = schema.find("maxLength");
            maximum != schema.end() && maximum->is_number() && static_cast<double>(length) > maximum->get<double>()) {
            fail(path, "must be at most " + maximum->dump() + " characters long");
        }
    } else if (value.is_array()) {
        auto size = static_cast<double>(value.size());
        if (auto minimum = schema.find("minItems");
            minimum != schema.end() && minimum->is_number() && size < minimum->get<double>()) {
            fail(path, "must have at least " + minimum->dump() + " items");
        }
        if (auto maximum = schema.find("maxItems");
            maximum != schema.end() && maximum->is_number() && size > maximum->get<double>()) {
            fail(path, "must have at most " + maximum->dump() + " items");
        }
        if (auto items = schema.find("items"); items != schema.end()) {
            for (size_t i = 0; i < value.size(); ++i) check_config(*items, value[i], index_path(path, i), depth + 1);
        }
    } else if (value.is_object()) {
        auto properties = schema.find("properties");
        bool have_properties = properties != schema.end() && properties->is_object();
        if (auto required = schema.find("required"); required != schema.end() && required->is_array()) {
            for (const auto& key : *required) {
                if (key.is_string() && !value.contains(key.get_ref<const std::string&>())) {
                    fail(member_path(path, key.get_ref<const std::string&>()), "is required");
                }
            }
        }
        auto additional = schema.find("additionalProperties");
        bool closed = additional != schema.end() && *additional == false;
        for (const auto& [key, member] : value.items()) {
            auto property = have_properties ? properties->find(key) : schema.end();
            if (have_properties && property != properties->end()) {
                check_config(*property, member, member_path(path, key), depth + 1);
            } else if (closed) {
                std::string known;
                if (have_properties) {
                    for (const auto& [name, unused] : properties->items()) {
                        (void)unused;
                        if (!known.empty()) known += ", ";
                        known += name;
                    }
                }
                fail(member_path(path, key),
                     known.empty() ? "is not allowed (no keys are)" : "is not allowed (allowed: " + known + ")");
            }
        }
    }
}

// default_config_schema is the schema of a config feature defined without
// one: any object.
const Json& default_config_schema() {
    static const Json schema = {{"type", "object"}};
    return schema;
}

const Json& config_schema(const FeatureDefinition& feature) {
    return feature.schema.is_null() ? default_config_schema() : feature.schema;
}

// ---- values -----------------------------------------------------------------

// limit_number returns a numeric limit (finite, >= 0) or throws `message`.
double limit_number(const Json& value, const std::string& path, const char* message) {
    if (!is_finite_number(value) || value.get<double>() < 0) fail(path, message);
    double limit = value.get<double>();
    return limit == 0 ? 0 : limit;  // -0 would print as "-0"
}

// require_object throws unless `value` is an object, naming the shape expected.
void require_object(const Json& value, const std::string& path, const std::string& shape) {
    if (!value.is_object()) fail(path, "must be " + shape + ", not " + type_name(value));
}

// numeric_value, boolean_value and config_value are parse_value per type.
Value numeric_value(const Json& value, const std::string& path, bool allow_shorthand) {
    Value out;
    out.enabled = true;
    if (allow_shorthand && value.is_number()) {
        out.limit = limit_number(value, path, "must be a number >= 0");
        return out;
    }
    require_object(value, path, allow_shorthand ? "a number or an object {\"limit\": n}" : "an object {\"limit\": n}");
    bool has_limit = false;
    for (const auto& [key, member] : value.items()) {
        if (key == "limit") {
            has_limit = true;
            if (!member.is_null())
                out.limit = limit_number(member, member_path(path, key), "must be a number >= 0 or null");
        } else if (key == "enabled") {
            if (!member.is_boolean()) fail(member_path(path, key), "must be true or false");
            out.enabled = member.get<bool>();
        } else {
            fail(member_path(path, key), "is not a key of a numeric value (only limit and enabled)");
        }
    }
    // A missing limit must not read as unlimited: that is what null says.
    if (!has_limit && out.enabled) fail(member_path(path, "limit"), "is required (null means unlimited)");
    return out;
}

Value boolean_value(const Json& value, const std::string& path, bool allow_shorthand) {
    Value out;
    if (allow_shorthand && value.is_boolean()) {
        out.enabled = value.get<bool>();
        return out;
    }
    require_object(value, path,
                   allow_shorthand ? "true, false or an object {\"enabled\": b}" : "an object {\"enabled\": b}");
    bool has_enabled = false;
    for (const auto& [key, member] : value.items()) {
        if (key != "enabled") fail(member_path(path, key), "is not a key of a boolean value (only enabled)");
        if (!member.is_boolean()) fail(member_path(path, key), "must be true or false");
        has_enabled = true;
        out.enabled = member.get<bool>();
    }
    if (!has_enabled) fail(member_path(path, "enabled"), "is required");
    return out;
}

Value config_value(const FeatureDefinition& feature, const Json& value, const std::string& path) {
    Value out;
    require_object(value, path, "an object {\"config\": {...}}");
    bool has_config = false;
    for (const auto& [key, member] : value.items()) {
        const std::string here = member_path(path, key);
        if (key != "config") fail(here, "is not a key of a config value (only config)");
        has_config = true;
        if (member.is_null()) continue;  // null: not entitled
        if (!member.is_object()) fail(here, std::string("must be an object or null, not ") + type_name(member));
        validate_config(config_schema(feature), member, here);
        out.enabled = true;
        out.config = member;
    }
    if (!has_config) fail(member_path(path, "config"), "is required (null means not entitled)");
    return out;
}

// ---- built-in features --------------------------------------------------------

// limit_of, enabled_of and config_of build the seed table's values.
Value limit_of(std::optional<double> limit) {
    Value value;
    value.enabled = true;
    value.limit = limit;
    return value;
}

Value enabled_of(bool enabled) {
    Value value;
    value.enabled = enabled;
    return value;
}

Value config_of(Json config) {
    Value value;
    value.enabled = true;
    value.config = std::move(config);
    return value;
}

// numeric_builtin and boolean_builtin build one row of the seed's table.
BuiltinFeature numeric_builtin(std::string_view key, std::string_view period, std::string_view unit,
                               std::array<std::optional<double>, 3> limits, std::string description,
                               Json thresholds = Json::array()) {
    Json options = {{"aggregation", "count"},
                    {"period", std::string(period)},
                    {"unit", std::string(unit)},
                    {"thresholds", std::move(thresholds)}};
    return {FeatureDefinition::from_options(key, "numeric", options),
            {limit_of(limits[0]), limit_of(limits[1]), limit_of(limits[2])},
            std::move(description)};
}

BuiltinFeature boolean_builtin(std::string_view key, std::array<bool, 3> enabled, std::string description) {
    return {FeatureDefinition::from_options(key, "boolean", Json::object()),
            {enabled_of(enabled[0]), enabled_of(enabled[1]), enabled_of(enabled[2])},
            std::move(description)};
}

// make_builtin_features builds the seed's table through from_options, so a
// built-in definition is held to the rules an administrator's is.
std::vector<BuiltinFeature> make_builtin_features() {
    constexpr std::optional<double> kUnlimited;
    std::vector<BuiltinFeature> out;
    out.push_back(numeric_builtin("decisions_per_month", "month", "decisions", {10000, 500000, kUnlimited},
                                  "Decisions (non-empty recommendations) per calendar month (UTC)",
                                  Json::array({90, 95, 100})));
    out.push_back(boolean_builtin("scoring.scorecard", {true, true, true}, "Scorecard scoring engine"));
    out.push_back(boolean_builtin("scoring.bayesian", {false, true, true}, "Bayesian propensity scoring engine"));
    out.push_back(
        boolean_builtin("scoring.gradient_boosted", {false, true, true}, "Gradient-boosted propensity scoring engine"));
    out.push_back(boolean_builtin("scoring.custom", {false, false, true}, "Custom scoring models"));
    out.push_back(boolean_builtin("ranking.top_n", {true, true, true}, "Top-N ranking"));
    out.push_back(boolean_builtin("ranking.arbitration", {false, true, true}, "Arbitration ranking"));
    out.push_back(numeric_builtin("connectors", "never", "connectors", {5, kUnlimited, kUnlimited},
                                  "Data connectors configured at once"));
    out.push_back(boolean_builtin("connectors.custom", {false, false, true}, "Custom connectors"));
    out.push_back(boolean_builtin("pipelines.streaming", {false, true, true},
                                  "Streaming pipelines (batch pipelines are always available)"));
    out.push_back(boolean_builtin("experiments.ab", {false, true, true}, "A/B experiments with uplift analysis"));
    out.push_back(boolean_builtin("experiments.bandit", {false, false, true}, "Multi-armed bandit experiments"));
    out.push_back(boolean_builtin("journeys", {false, false, true}, "Multi-step journeys"));
    out.push_back(boolean_builtin("triggers", {false, false, true}, "Event-driven triggers"));
    out.push_back(
        numeric_builtin("content_items", "never", "items", {100, 1000, kUnlimited}, "Content items in the catalog"));
    out.push_back(numeric_builtin("cms_sources", "never", "sources", {2, 10, kUnlimited}, "CMS sources"));
    out.push_back(numeric_builtin("behavioral_metrics", "never", "metrics", {5, 15, 20}, "Behavioral metrics"));
    out.push_back(numeric_builtin("decision_traces_per_day", "day", "traces", {100, 10000, kUnlimited},
                                  "Decision traces recorded per day (UTC)"));

    const Json autoscaling_schema = Json::parse(R"({
        "type": "object",
        "required": ["minReplicas", "maxReplicas"],
        "additionalProperties": false,
        "properties": {
            "minReplicas": {"type": "integer", "minimum": 1, "maximum": 100},
            "maxReplicas": {"type": "integer", "minimum": 1, "maximum": 100},
            "targetDecisionsPerSecond": {"type": "number", "minimum": 1}
        }
    })");
    out.push_back({FeatureDefinition::from_options("autoscaling", "config", {{"schema", autoscaling_schema}}),
                   {std::nullopt, std::nullopt, config_of({{"minReplicas", 1}, {"maxReplicas", 10}})},
                   "Auto-scaling (KEDA) of the decision service"});

    const Json support_schema = Json::parse(R"({
        "type": "object",
        "required": ["channel"],
        "additionalProperties": false,
        "properties": {
            "channel": {"enum": ["community", "email", "dedicated"]},
            "sla": {"type": "boolean"},
            "responseHours": {"type": "integer", "minimum": 1}
        }
    })");
    out.push_back({FeatureDefinition::from_options("support", "config", {{"schema", support_schema}}),
                   {config_of({{"channel", "community"}}), config_of({{"channel", "email"}, {"responseHours", 24}}),
                    config_of({{"channel", "dedicated"}, {"sla", true}, {"responseHours", 4}})},
                   "Support channel and service level"});
    return out;
}

}  // namespace

std::string_view name(FeatureType value) { return name_of(kFeatureTypes, value); }
std::string_view name(Aggregation value) { return name_of(kAggregations, value); }
std::string_view name(Period value) { return name_of(kPeriods, value); }
std::string_view name(LimitType value) { return name_of(kLimitTypes, value); }
std::string_view name(Status value) { return name_of(kStatuses, value); }
std::string_view name(Source value) { return name_of(kSources, value); }

std::string feature_key_problem(std::string_view key) {
    if (key.empty()) return "feature key is empty";
    if (key.size() > kMaxFeatureKeyLength) {
        return "feature key is longer than " + std::to_string(kMaxFeatureKeyLength) + " characters";
    }
    if (key.front() < 'a' || key.front() > 'z') return "feature key must start with a lowercase letter";
    for (size_t i = 0; i < key.size(); ++i) {
        char c = key[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-')) {
            return "feature key may contain only a-z, 0-9, '_', '.' and '-' (bad character at position " +
                   std::to_string(i + 1) + ")";
        }
    }
    return {};
}

FeatureDefinition FeatureDefinition::from_options(std::string_view key, std::string_view type, const Json& options) {
    FeatureDefinition def;
    if (std::string problem = feature_key_problem(key); !problem.empty()) fail("key", problem);
    def.key = std::string(key);
    auto parsed_type = from_name(kFeatureTypes, type);
    if (!parsed_type) fail("type", one_of(kFeatureTypes));
    def.type = *parsed_type;
    if (def.type == FeatureType::Config) def.schema = default_config_schema();
    if (options.is_null()) return def;
    if (!options.is_object()) fail("options", std::string("must be an object, not ") + type_name(options));

    for (const auto& [option, value] : options.items()) {
        const std::string path = "options." + option;
        if (option == "schema") {
            if (def.type != FeatureType::Config) fail(path, "only config features have a schema");
            validate_schema(value, path);
            // A config value is always an object ({"config": {...}}).
            if (auto it = value.find("type"); it != value.end() && *it != "object") {
                fail(path + ".type", "must be \"object\": a config is a JSON object");
            }
            def.schema = value;
            continue;
        }
        bool known = false;
        for (auto numeric_option : kNumericOptions) known = known || option == numeric_option;
        if (!known) fail(path, "is not an option (known: " + std::string(kKnownOptions) + ")");
        if (def.type != FeatureType::Numeric) {
            fail(path, "only numeric features take this option, not " + std::string(name(def.type)) + " ones");
        }
        if (option == "aggregation") {
            auto parsed = from_name(kAggregations, value);
            if (!parsed) fail(path, one_of(kAggregations));
            def.aggregation = *parsed;
        } else if (option == "period") {
            auto parsed = from_name(kPeriods, value);
            if (!parsed) fail(path, one_of(kPeriods));
            def.period = *parsed;
        } else if (option == "unit") {
            if (!value.is_string()) fail(path, "must be a string");
            if (value.get_ref<const std::string&>().size() > kMaxUnitLength) {
                fail(path, "is longer than " + std::to_string(kMaxUnitLength) + " characters");
            }
            def.unit = value.get<std::string>();
        } else if (option == "limitType") {
            auto parsed = from_name(kLimitTypes, value);
            if (!parsed) fail(path, one_of(kLimitTypes));
            def.limit_type = *parsed;
        } else if (option == "gracePercent") {
            if (!is_finite_number(value) || value.get<double>() < 0 || value.get<double>() > kMaxGracePercent) {
                fail(path, "must be a number from 0 to 1000");
            }
            def.grace_percent = value.get<double>() == 0 ? 0 : value.get<double>();
        } else if (option == "thresholds") {
            if (!value.is_array()) fail(path, "must be an array of percents (1 to 1000, increasing)");
            def.thresholds.clear();
            for (size_t i = 0; i < value.size(); ++i) {
                const Json& entry = value[i];
                if (!is_integral(entry) || entry.get<double>() < 1 || entry.get<double>() > kMaxThreshold) {
                    fail(index_path(path, i), "must be an integer from 1 to 1000");
                }
                int percent = static_cast<int>(entry.get<double>());
                if (!def.thresholds.empty() && percent <= def.thresholds.back()) {
                    fail(index_path(path, i),
                         "must be greater than the previous threshold (" + std::to_string(def.thresholds.back()) + ")");
                }
                def.thresholds.push_back(percent);
            }
        } else if (option == "nonNegative") {
            if (!value.is_boolean()) fail(path, "must be true or false");
            def.non_negative = value.get<bool>();
        }
    }
    return def;
}

Json FeatureDefinition::options() const {
    Json out = Json::object();
    switch (type) {
        case FeatureType::Numeric:
            out["aggregation"] = std::string(name(aggregation));
            out["period"] = std::string(name(period));
            out["unit"] = unit;
            out["limitType"] = std::string(name(limit_type));
            out["gracePercent"] = json_number(grace_percent);
            out["thresholds"] = thresholds;
            out["nonNegative"] = non_negative;
            break;
        case FeatureType::Config: out["schema"] = schema.is_null() ? default_config_schema() : schema; break;
        case FeatureType::Boolean: break;  // no options apply
    }
    return out;
}

Value parse_value(const FeatureDefinition& feature, const Json& value, std::string_view path, bool allow_shorthand) {
    const std::string base(path);
    switch (feature.type) {
        case FeatureType::Numeric: return numeric_value(value, base, allow_shorthand);
        case FeatureType::Boolean: return boolean_value(value, base, allow_shorthand);
        case FeatureType::Config: return config_value(feature, value, base);
    }
    fail(base, "unknown feature type");
}

Json value_json(FeatureType type, const Value& value) {
    Json out = Json::object();
    switch (type) {
        case FeatureType::Numeric:
            out["limit"] = value.limit ? json_number(*value.limit) : Json(nullptr);
            if (!value.enabled) out["enabled"] = false;
            break;
        case FeatureType::Boolean: out["enabled"] = value.enabled; break;
        case FeatureType::Config: out["config"] = value.enabled ? value.config : Json(nullptr); break;
    }
    return out;
}

void validate_schema(const Json& schema, std::string_view path) { check_schema(schema, std::string(path), 0); }

void validate_config(const Json& schema, const Json& value, std::string_view path) {
    check_config(schema, value, std::string(path), 0);
}

Evaluation evaluate(const FeatureDefinition& feature, const std::optional<Value>& value, Source source,
                    double current_usage, double requested) {
    Evaluation out;
    out.feature = feature.key;
    out.type = feature.type;
    out.source = source;
    out.current_usage = current_usage + requested;
    if (!value || !value->enabled) {
        out.status = Status::Denied;
        // Not entitled to a numeric feature means none of it may be used: a
        // null limit would read as unlimited.
        if (feature.type == FeatureType::Numeric) out.limit = 0;
        return out;
    }
    out.enabled = true;
    out.status = Status::Accepted;
    if (feature.type == FeatureType::Config) out.config = value->config;
    if (feature.type != FeatureType::Numeric || !value->limit) return out;

    const double limit = *value->limit;
    out.limit = limit;
    if (limit > 0) {
        // Tenths first, one rounding: usage * 1000 / limit is exact whenever
        // the answer is, so 0.05 % rounds up rather than to a neighbour.
        double tenths = out.current_usage * 1000 / limit;
        if (!std::isfinite(tenths)) tenths = out.current_usage / limit * 1000;
        double percent = std::round(tenths) / 10;  // std::round: half away from zero
        out.percentage_used = percent == 0 ? 0 : percent;
    }
    if (feature.limit_type == LimitType::Soft) return out;
    const double cap = hard_cap(feature, limit);
    if (requested > 0) {
        if (out.current_usage > cap) out.status = Status::LimitReached;
    } else if (requested == 0) {
        if (current_usage >= cap) out.status = Status::LimitReached;
    }
    // requested < 0 is a correction: it lowers usage, so it is always allowed.
    return out;
}

double hard_cap(const FeatureDefinition& feature, double limit) {
    // limit * grace / 100 rather than limit * (1 + grace / 100): exact for
    // whole percents, so usage == 110 reaches the cap of 100 with 10 % grace.
    return limit + limit * feature.grace_percent / 100;
}

Json evaluation_json(const Evaluation& evaluation) {
    Json out = json_object(8);
    out["entitlement"] = evaluation.feature;
    out["type"] = std::string(name(evaluation.type));
    out["enabled"] = evaluation.enabled;
    out["limit"] = evaluation.limit ? json_number(*evaluation.limit) : Json(nullptr);
    out["currentUsage"] = json_number(evaluation.current_usage);
    out["percentageUsed"] = evaluation.percentage_used ? json_number(*evaluation.percentage_used) : Json(nullptr);
    out["status"] = std::string(name(evaluation.status));
    if (evaluation.type == FeatureType::Config) out["config"] = evaluation.config;
    return out;
}

Resolved resolve(const Candidates& candidates, int64_t now) {
    if (candidates.override_value && (!candidates.override_expires_at || *candidates.override_expires_at > now)) {
        return {candidates.override_value, Source::Override};
    }
    if (candidates.license_value) return {candidates.license_value, Source::License};
    if (candidates.plan_value) return {candidates.plan_value, Source::Plan};
    return {std::nullopt, Source::None};
}

std::optional<Value> license_claim(const FeatureDefinition& feature, const license::Claims& claims) {
    const Json& claimed = feature.type == FeatureType::Numeric ? claims.limits : claims.features;
    if (!claimed.is_object()) return std::nullopt;
    auto it = claimed.find(feature.key);
    if (it == claimed.end() || it->is_null()) return std::nullopt;
    try {
        const std::string path = (feature.type == FeatureType::Numeric ? "limits." : "features.") + feature.key;
        return parse_value(feature, *it, path, /*allow_shorthand=*/true);
    } catch (const Error&) {
        return std::nullopt;
    }
}

const std::vector<BuiltinFeature>& builtin_features() {
    static const std::vector<BuiltinFeature> features = make_builtin_features();
    return features;
}

std::optional<license::Tier> lowest_tier(const std::array<std::optional<Value>, 3>& tier_values) {
    for (size_t i = 0; i < tier_values.size(); ++i) {
        const auto& value = tier_values[i];
        // A limit of 0 is enabled in name only: nothing can be used under it.
        if (value && value->enabled && !(value->limit && *value->limit == 0)) return static_cast<license::Tier>(i);
    }
    return std::nullopt;
}

}  // namespace kaireon::entitlements
