#include "core/catalog.h"

#include "core/journeys.h"

#include "core/catalog_compiled.h"
#include "core/error.h"
#include "core/expr.h"

#include <cmath>
#include <cstdio>
#include <ctime>
#include <set>
#include <unordered_map>

namespace kaireon::catalog {
namespace {

using SpecPtr = std::shared_ptr<const Spec>;

// --- building specs --------------------------------------------------------

SpecPtr make(Spec spec) { return std::make_shared<const Spec>(std::move(spec)); }
SpecPtr kind(Kind k) {
    Spec s;
    s.kind = k;
    return make(std::move(s));
}
SpecPtr text() { return kind(Kind::Text); }
SpecPtr id() { return kind(Kind::Id); }
SpecPtr ref(std::string_view entity) {
    Spec s;
    s.kind = Kind::Id;
    s.ref = entity;
    return make(std::move(s));
}
SpecPtr boolean() { return kind(Kind::Boolean); }
SpecPtr condition() { return kind(Kind::Condition); }
SpecPtr number(std::optional<double> min = std::nullopt, std::optional<double> max = std::nullopt,
               bool exclusive_min = false, Kind k = Kind::Number) {
    Spec s;
    s.kind = k;
    s.min = min;
    s.max = max;
    s.exclusive_min = exclusive_min;
    return make(std::move(s));
}
SpecPtr positive() { return number(0, std::nullopt, true); }
SpecPtr integer(std::optional<double> min = std::nullopt, std::optional<double> max = std::nullopt) {
    return number(min, max, false, Kind::Integer);
}
SpecPtr one_of(std::vector<std::string_view> values) {
    Spec s;
    s.kind = Kind::Enum;
    s.values = std::move(values);
    return make(std::move(s));
}
SpecPtr object(std::vector<Property> properties) {
    Spec s;
    s.kind = Kind::Object;
    s.properties = std::move(properties);
    return make(std::move(s));
}
SpecPtr open_object() {
    Spec s;
    s.kind = Kind::Object;
    s.open = true;
    return make(std::move(s));
}
SpecPtr array(SpecPtr items, std::string_view unique_key = {}) {
    Spec s;
    s.kind = Kind::Array;
    s.items = std::move(items);
    s.unique_key = unique_key;
    return make(std::move(s));
}
SpecPtr refs(std::string_view entity) { return array(ref(entity)); }
Property req(std::string_view name, SpecPtr spec) { return {name, std::move(spec), true}; }
Property opt(std::string_view name, SpecPtr spec) { return {name, std::move(spec), false}; }

std::string_view sql_type_of(Kind kind) {
    switch (kind) {
        case Kind::Number: return "double precision";
        case Kind::Integer: return "integer";
        case Kind::Boolean: return "boolean";
        case Kind::Timestamp: return "timestamptz";
        case Kind::Object:
        case Kind::Array:
        case Kind::Any: return "jsonb";
        case Kind::TextList: return "text[]";
        default: return "text";
    }
}

Field field(std::string_view name, std::string_view column, SpecPtr spec, bool required = false,
            Json default_value = nullptr) {
    std::string_view type = sql_type_of(spec->kind);
    return Field{name, column, type, std::move(spec), required, std::move(default_value)};
}
Field required(std::string_view name, std::string_view column, SpecPtr spec) {
    return field(name, column, std::move(spec), true);
}

// --- validation -------------------------------------------------------------

[[noreturn]] void fail_at(const std::string& path, const std::string& message) {
    throw_bad_request(path + ": " + message, {{"path", path}});
}

std::string number_text(double value) {
    Json j = value;
    if (value == std::floor(value) && std::fabs(value) < 1e15) j = static_cast<int64_t>(value);
    return j.dump();
}

std::string json_quoted(std::string_view text) { return Json(std::string(text)).dump(); }

std::string join(const std::vector<std::string_view>& values) {
    std::string out;
    for (auto v : values) {
        if (!out.empty()) out += ", ";
        out += v;
    }
    return out;
}

std::string_view json_type(const Json& value) {
    if (value.is_null()) return "null";
    if (value.is_boolean()) return "a boolean";
    if (value.is_number()) return "a number";
    if (value.is_string()) return "a string";
    if (value.is_array()) return "an array";
    return "an object";
}

struct Validator {
    const Hooks& hooks;
    std::vector<Reference>& references;

    Json check(const Spec& spec, const Json& value, const std::string& path) {
        switch (spec.kind) {
            case Kind::Any: return value;
            case Kind::Text: return check_text(value, path);
            case Kind::Id: {
                Json out = check_text(value, path);
                if (!valid_id(out.get_ref<const std::string&>()))
                    fail_at(path, "must be an identifier: 1 to 128 letters, digits or _ - . : @");
                if (!spec.ref.empty()) references.push_back({spec.ref, out.get<std::string>(), path});
                return out;
            }
            case Kind::Number:
            case Kind::Integer: return check_number(spec, value, path);
            case Kind::Boolean:
                if (!value.is_boolean()) fail_at(path, "must be true or false, not " + std::string(json_type(value)));
                return value;
            case Kind::Timestamp: {
                Json out = check_text(value, path);
                if (!expr::parse_timestamp(out.get_ref<const std::string&>()))
                    fail_at(path, "must be an ISO-8601 timestamp such as \"2026-01-31T09:00:00Z\"");
                return out;
            }
            case Kind::Enum: {
                if (!value.is_string()) fail_at(path, "must be one of " + join(spec.values));
                const auto& s = value.get_ref<const std::string&>();
                for (auto v : spec.values)
                    if (v == s) return value;
                fail_at(path, "must be one of " + join(spec.values) + ", not " + json_quoted(s));
            }
            case Kind::Condition:
            case Kind::NumberExpression: return check_expression(spec, value, path);
            case Kind::Object: return check_object(spec, value, path);
            case Kind::Array: return check_array(spec, value, path);
            case Kind::TextList: return check_text_list(value, path);
            case Kind::Timezone: {
                Json out = check_text(value, path);
                if (hooks.valid_timezone && !hooks.valid_timezone(out.get_ref<const std::string&>()))
                    fail_at(path, "unknown time zone " + json_quoted(out.get_ref<const std::string&>()));
                return out;
            }
        }
        fail_at(path, "unsupported field kind");
    }

    static Json check_text(const Json& value, const std::string& path) {
        if (!value.is_string()) fail_at(path, "must be a string, not " + std::string(json_type(value)));
        if (value.get_ref<const std::string&>().size() > kMaxTextLength)
            fail_at(path, "must be at most " + std::to_string(kMaxTextLength) + " bytes");
        return value;
    }

    static Json check_number(const Spec& spec, const Json& value, const std::string& path) {
        const bool whole = spec.kind == Kind::Integer;
        if (!value.is_number()) fail_at(path, std::string("must be ") + (whole ? "an integer" : "a number") +
                                                  ", not " + std::string(json_type(value)));
        double n = value.get<double>();
        if (!std::isfinite(n)) fail_at(path, "must be finite");
        if (whole && n != std::floor(n)) fail_at(path, "must be an integer");
        if (whole && n > 2147483647.0) fail_at(path, "must be at most 2147483647");
        if (whole && n < -2147483648.0) fail_at(path, "must be at least -2147483648");
        if (spec.min) {
            if (spec.exclusive_min && n <= *spec.min) fail_at(path, "must be greater than " + number_text(*spec.min));
            if (!spec.exclusive_min && n < *spec.min) fail_at(path, "must be at least " + number_text(*spec.min));
        }
        if (spec.max && n > *spec.max) fail_at(path, "must be at most " + number_text(*spec.max));
        if (whole) return static_cast<int64_t>(n);
        return value;
    }

    static Json check_expression(const Spec& spec, const Json& value, const std::string& path) {
        Json out = check_text(value, path);
        try {
            expr::compile(out.get_ref<const std::string&>(),
                          spec.kind == Kind::Condition ? expr::ResultType::Bool : expr::ResultType::Number);
        } catch (const Error& e) {
            Json detail = e.detail();
            detail.erase("error");
            detail.erase("code");
            detail["path"] = path;
            throw_bad_request(path + ": " + e.what(), detail);
        }
        return out;
    }

    Json check_object(const Spec& spec, const Json& value, const std::string& path) {
        if (!value.is_object()) fail_at(path, "must be an object, not " + std::string(json_type(value)));
        if (spec.open) return value;
        Json out = Json::object();
        for (const auto& [key, item] : value.items()) {
            const Property* property = nullptr;
            for (const auto& p : spec.properties)
                if (p.name == key) property = &p;
            if (property == nullptr) {
                std::vector<std::string_view> names;
                for (const auto& p : spec.properties) names.push_back(p.name);
                fail_at(path + "." + key, "unknown key (expected " + (names.empty() ? "none" : join(names)) + ")");
            }
            if (item.is_null()) {
                if (property->required) fail_at(path + "." + key, "must not be null");
                continue;
            }
            out[key] = check(*property->spec, item, path + "." + key);
        }
        for (const auto& p : spec.properties)
            if (p.required && !out.contains(p.name)) fail_at(path + "." + std::string(p.name), "is required");
        return out;
    }

    Json check_array(const Spec& spec, const Json& value, const std::string& path) {
        if (!value.is_array()) fail_at(path, "must be an array, not " + std::string(json_type(value)));
        if (value.size() > kMaxArrayItems)
            fail_at(path, "must have at most " + std::to_string(kMaxArrayItems) + " elements");
        Json out = Json::array();
        std::unordered_map<std::string, size_t> seen;
        for (size_t i = 0; i < value.size(); ++i) {
            std::string item_path = path + "[" + std::to_string(i) + "]";
            if (value[i].is_null()) fail_at(item_path, "must not be null");
            out.push_back(check(*spec.items, value[i], item_path));
            if (!spec.unique_key.empty()) {
                const Json& k = out.back()[std::string(spec.unique_key)];
                auto [it, fresh] = seen.emplace(k.get<std::string>(), i);
                if (!fresh)
                    fail_at(item_path + "." + std::string(spec.unique_key),
                            "duplicate " + json_quoted(k.get<std::string>()) + " (also at " + path + "[" +
                                std::to_string(it->second) + "])");
            }
        }
        return out;
    }

    static Json check_text_list(const Json& value, const std::string& path) {
        if (!value.is_array()) fail_at(path, "must be an array of strings, not " + std::string(json_type(value)));
        if (value.size() > kMaxArrayItems)
            fail_at(path, "must have at most " + std::to_string(kMaxArrayItems) + " elements");
        std::set<std::string> seen;
        for (size_t i = 0; i < value.size(); ++i) {
            std::string item_path = path + "[" + std::to_string(i) + "]";
            check_text(value[i], item_path);
            if (value[i].get_ref<const std::string&>().empty()) fail_at(item_path, "must not be empty");
            if (!seen.insert(value[i].get<std::string>()).second)
                fail_at(item_path, "duplicate " + value[i].dump());
        }
        return value;
    }
};

// --- rules across fields -----------------------------------------------------

bool has(const Json& row, std::string_view name) {
    auto it = row.find(std::string(name));
    return it != row.end() && !it->is_null();
}

// The scope kinds of policies and caps, and what their scopeId names.
std::string_view scope_entity(std::string_view scope) {
    if (scope == "category" || scope == "subcategory") return "categories";
    if (scope == "offer") return "offers";
    if (scope == "creative") return "creatives";
    if (scope == "channel") return "channels";
    if (scope == "placement") return "placements";
    return {};  // global, segment
}

// check_scope checks a scope and its scopeId (`prefix` is where they sit:
// "" for policies and caps, "definition." for metrics).
void check_scope(const Json& holder, const std::string& prefix, Checker& checker) {
    const std::string scope = holder.value("scope", "global");
    const bool has_id = has(holder, "scopeId");
    if (scope == "global") {
        if (has_id) checker.fail(prefix + "scopeId", "must be absent when scope is global");
        return;
    }
    if (!has_id) checker.fail(prefix + "scopeId", "is required when scope is " + scope);
    // A segment is a free name; every other scope names a row by its id.
    if (scope != "segment" && !valid_id(holder["scopeId"].get<std::string>()))
        checker.fail(prefix + "scopeId", "must be an identifier: 1 to 128 letters, digits or _ - . : @");
    std::string_view target = scope_entity(scope);
    if (!target.empty())
        checker.references.push_back(
            {target, holder["scopeId"].get<std::string>(), checker.path + "." + prefix + "scopeId"});
}

void check_category(Json& row, Checker& checker) {
    if (has(row, "parentId") && row["parentId"] == row["id"]) checker.fail("parentId", "must not be the category itself");
}

void check_offer(Json& row, Checker& checker) {
    if (has(row, "startAt") && has(row, "endAt") &&
        *expr::parse_timestamp(row["endAt"].get<std::string>()) <= *expr::parse_timestamp(row["startAt"].get<std::string>()))
        checker.fail("endAt", "must be after startAt");
}

// Policy configs, by type (SPEC 6.3).
const std::unordered_map<std::string_view, SpecPtr>& policy_configs() {
    static const auto configs = [] {
        auto count = [] { return integer(1); };
        std::unordered_map<std::string_view, SpecPtr> c;
        c["frequency_cap"] = object({opt("maxPerDay", count()), opt("maxPerWeek", count()), opt("maxPerMonth", count()),
                                     opt("maxTotal", count())});
        c["cooldown"] = object({req("cooldownHours", positive())});
        c["budget_exhausted"] = object({});
        c["outcome_based"] = object({req("outcomeTypes", refs("outcomeTypes")), req("lookbackDays", integer(1, 3650)),
                                     opt("maxCount", count())});
        c["segment_exclusion"] = object({req("segments", kind(Kind::TextList))});
        c["time_window"] = object(
            {opt("allowedDays", array(one_of({"mon", "tue", "wed", "thu", "fri", "sat", "sun"}))),
             opt("startHour", integer(0, 23)), opt("endHour", integer(1, 24)),
             opt("timezone", kind(Kind::Timezone))});
        c["mutual_exclusion"] =
            object({opt("offerIds", refs("offers")), opt("categoryIds", refs("categories")), opt("withinDays", integer(0, 3650))});
        c["cross_channel_cap"] = object({req("channels", refs("channels")), opt("maxPerDay", count()), opt("maxPerWeek", count())});
        c["allow_override"] = object({req("offerIds", refs("offers"))});
        c["category_suppression"] = object({req("categoryIds", refs("categories")), req("condition", condition())});
        c["metric_condition"] = object({req("metric", ref("metrics")), req("op", one_of({"=", "!=", "<", "<=", ">", ">="})),
                                        req("value", number())});
        c["customer_total_cap"] = object({opt("maxPerDay", count()), opt("maxPerWeek", count()), opt("maxPerMonth", count())});
        return c;
    }();
    return configs;
}

void check_policy(Json& row, Checker& checker) {
    check_scope(row, "", checker);
    const std::string type = row["type"].get<std::string>();
    const Json config = row.value("config", Json::object());
    Validator v{checker.hooks, checker.references};
    Json checked = v.check(*policy_configs().at(type), config, checker.path + ".config");
    auto any_of = [&](std::initializer_list<const char*> keys) {
        for (auto k : keys)
            if (checked.contains(k)) return true;
        return false;
    };
    if (type == "frequency_cap" && !any_of({"maxPerDay", "maxPerWeek", "maxPerMonth", "maxTotal"}))
        checker.fail("config", "a frequency_cap needs maxPerDay, maxPerWeek, maxPerMonth or maxTotal");
    if (type == "customer_total_cap" && !any_of({"maxPerDay", "maxPerWeek", "maxPerMonth"}))
        checker.fail("config", "a customer_total_cap needs maxPerDay, maxPerWeek or maxPerMonth");
    if (type == "cross_channel_cap" && !any_of({"maxPerDay", "maxPerWeek"}))
        checker.fail("config", "a cross_channel_cap needs maxPerDay or maxPerWeek");
    if (type == "mutual_exclusion" && any_of({"offerIds"}) == any_of({"categoryIds"}))
        checker.fail("config", "a mutual_exclusion needs either offerIds or categoryIds");
    if (type == "time_window") {
        if (!any_of({"allowedDays", "startHour", "endHour"}))
            checker.fail("config", "a time_window needs allowedDays, or startHour and endHour");
        if (any_of({"startHour"}) != any_of({"endHour"}))
            checker.fail("config", "a time_window needs both startHour and endHour");
        if (any_of({"startHour"}) && checked["startHour"].get<int>() >= checked["endHour"].get<int>())
            checker.fail("config.endHour", "must be after startHour");
    }
    if (type == "allow_override" && row.value("scope", "global") != "global")
        checker.fail("scope", "an allow_override policy names its offers in config.offerIds; its scope must be global");
    for (const char* list : {"offerIds", "categoryIds", "channels", "outcomeTypes", "segments", "allowedDays"})
        if (checked.contains(list) && checked[list].empty()) checker.fail("config." + std::string(list), "must not be empty");
    row["config"] = std::move(checked);  // stored as checked: nulls dropped, whole numbers as integers
}

void check_cap(Json& row, Checker& checker) { check_scope(row, "", checker); }

void check_metric(Json& row, Checker& checker) { check_scope(row["definition"], "definition.", checker); }

// Model definitions, by type (docs/models.md).
const std::unordered_map<std::string_view, SpecPtr>& model_definitions() {
    static const auto defs = [] {
        std::unordered_map<std::string_view, SpecPtr> d;
        d["scorecard"] = object({opt("base", number()),
                                 opt("rules", array(object({req("when", condition()), req("points", number())}))),
                                 opt("scale", one_of({"linear", "logistic"})), opt("factor", number())});
        d["bayesian"] = object({opt("prior", object({req("alpha", positive()), req("beta", positive())})),
                                opt("bySegment", boolean()), opt("minImpressions", integer(0))});
        d["gradient_boosted"] = object({req("format", one_of({"xgboost-json"})), req("model", kind(Kind::Any)),
                                        req("features", array(text()))});
        d["custom"] = object({req("function", text())});
        return d;
    }();
    return defs;
}

// check_gradient_boosted loads the model (every malformed or unsupported
// part is a KR400 naming its path) and checks that the features feed it.
void check_gradient_boosted(const Json& definition, Checker& checker) {
    const Json& model = definition["model"];
    if (!model.is_object() && !model.is_string())
        checker.fail("definition.model", "must be XGBoost's saved JSON: an object, or the file's text as a string");
    xgboost::Forest forest;
    try {
        forest = load_forest(model);
    } catch (const Error& e) {
        const std::string at = e.detail().value("path", std::string("model"));
        std::string message = e.what();
        if (message.starts_with(at + ": ")) message = message.substr(at.size() + 2);
        checker.fail("definition." + at, message);
    }
    const Json& features = definition["features"];
    for (size_t i = 0; i < features.size(); ++i) {
        const std::string path = features[i].get<std::string>();
        if (!path.starts_with("customer.") && !path.starts_with("offer.") && !path.starts_with("context."))
            checker.fail("definition.features[" + std::to_string(i) + "]",
                         "must be a path starting with customer., offer. or context. (SPEC 6.1)");
    }
    if (features.size() != forest.num_features)
        checker.fail("definition.features", "names " + std::to_string(features.size()) + " features; the model reads " +
                                                std::to_string(forest.num_features) + " (learner_model_param.num_feature)");
}

void check_model(Json& row, Checker& checker) {
    Validator v{checker.hooks, checker.references};
    const std::string type = row["type"].get<std::string>();
    row["definition"] = v.check(*model_definitions().at(type), row["definition"], checker.path + ".definition");
    if (type == "gradient_boosted") check_gradient_boosted(row["definition"], checker);
    if (type == "custom" && checker.hooks.scoring_function_problem) {
        if (auto problem = checker.hooks.scoring_function_problem(row["definition"]["function"].get<std::string>()))
            checker.fail("definition.function", *problem);
    }
}

void check_flow(Json& row, Checker& checker) {
    if (has(row, "ranking") && row["ranking"].value("method", "top_n") == "arbitration" && !has(row, "modelId"))
        checker.fail("ranking.method", "arbitration needs a model (modelId)");
    // contextWeights: {categoryId: multiplier >= 0}
    if (has(row, "ranking") && row["ranking"].contains("contextWeights")) {
        for (const auto& [category, weight] : row["ranking"]["contextWeights"].items()) {
            const std::string at = "ranking.contextWeights." + category;
            if (!valid_id(category)) checker.fail(at, "must be a category id");
            if (!weight.is_number() || !std::isfinite(weight.get<double>()) || weight.get<double>() < 0)
                checker.fail(at, "must be a number at least 0");
            checker.references.push_back({"categories", category, checker.path + "." + at});
        }
    }
    if (has(row, "experimentId"))
        checker.references.push_back({"experiments", row["experimentId"].get<std::string>(), checker.path + ".experimentId"});
}

void check_experiment(Json& row, Checker& checker) {
    const Json& variants = row["variants"];
    const std::string type = row["type"].get<std::string>();
    int controls = 0;
    for (const auto& v : variants)
        if (v.value("control", false)) ++controls;
    if (type == "ab") {
        if (variants.size() < 2) checker.fail("variants", "an A/B experiment needs at least two variants");
        if (controls != 1) checker.fail("variants", "an A/B experiment needs exactly one control variant");
        if (has(row, "bandit")) checker.fail("bandit", "only bandit experiments take bandit settings");
    } else {
        if (!has(row, "bandit")) checker.fail("bandit", "is required for a bandit experiment");
        if (controls > 1) checker.fail("variants", "at most one variant can be the control");
    }
    for (size_t i = 0; i < variants.size(); ++i)
        if (variants[i].value("id", "") == "holdout")
            checker.fail("variants[" + std::to_string(i) + "].id", "\"holdout\" names the customers held out; choose another id");
    if (has(row, "holdoutPercent") && row["holdoutPercent"].get<double>() >= 100)
        checker.fail("holdoutPercent", "must be below 100");
}

void check_trigger(Json& row, Checker& checker) {
    const Json& action = row["action"];
    const std::string type = action["type"].get<std::string>();
    auto need = [&](const char* key) {
        if (!action.contains(key)) checker.fail("action." + std::string(key), "is required for a " + type + " action");
    };
    if (type == "run_flow") need("flowId");
    if (type == "enroll_journey") need("journeyId");
    if (type == "update_attribute") {
        need("attribute");
        need("value");
    }
    if (type == "webhook") need("endpointId");
    // Ingest reads no interaction history: metric() has nothing to count.
    if (row.contains("condition") && row["condition"].is_string()) {
        bool uses_metric = false;
        try {
            uses_metric = expr::compile(row["condition"].get<std::string>(), expr::ResultType::Bool).uses_metric();
        } catch (const Error&) {
            // a malformed condition: its field's own check says so
        }
        if (uses_metric) checker.fail("condition", "metric() is not available in trigger conditions");
    }
}

// check_journey: the rules across a journey's nodes and edges are the
// engine's own (journeys::compile), so what the catalog accepts it can run.
void check_journey(Json& row, Checker& checker) {
    try {
        journeys::compile(row);
    } catch (const journeys::Invalid& invalid) {
        checker.fail(invalid.field, invalid.message);
    }
}

// --- the entities ---------------------------------------------------------------

Entity entity(std::string_view key, std::string_view table, std::vector<Field> fields,
              std::vector<std::string_view> key_fields, std::string_view limit_feature = {},
              void (*check)(Json&, Checker&) = nullptr) {
    Entity e;
    e.key = key;
    e.table = table;
    e.fields = std::move(fields);
    e.key_fields = std::move(key_fields);
    e.limit_feature = limit_feature;
    e.check = check;
    return e;
}

std::vector<Entity> build_entities() {
    const Json empty_object = Json::object();
    const Json empty_array = Json::array();
    auto key = [] { return required("id", "id", id()); };
    auto name = [] { return field("name", "name", text()); };
    std::vector<Entity> e;

    e.push_back(entity("categories", "categories", {key(), name(), field("parentId", "parent_id", ref("categories"))}, {"id"}, {},
                 check_category));
    e.push_back(entity("channels",
                 "channels",
                 {key(), name(),
                  required("type", "type", one_of({"web", "mobile", "email", "sms", "push", "direct_mail", "call_center"})),
                  field("batch", "batch", boolean(), false, false)},
                 {"id"}));
    e.push_back(entity("placements",
                 "placements",
                 {key(), required("channelId", "channel_id", ref("channels")), name(),
                  field("slots", "slots", integer(1, 50), false, 1)},
                 {"id"}));
    e.push_back(entity("outcomeTypes",
                 "outcome_types",
                 {key(), required("kind", "kind", one_of({"impression", "positive", "negative", "neutral"}))},
                 {"id"}));
    e.push_back(
        {"offers",
         "offers",
         {key(), name(), field("categoryId", "category_id", ref("categories")),
          field("priority", "priority", number(0, 100), false, 50), field("value", "value", number(0), false, 0),
          field("lever", "lever", number(0, 1), false, 1), field("startAt", "start_at", kind(Kind::Timestamp)),
          field("endAt", "end_at", kind(Kind::Timestamp)),
          field("status", "status", one_of({"draft", "active", "paused", "retired"}), false, "active"),
          field("eligibility", "eligibility", condition()), field("mandatory", "mandatory", boolean(), false, false),
          field("budget", "budget",
                object({req("metric", one_of({"impressions", "value"})), req("limit", positive()),
                        req("period", one_of({"daily", "weekly", "monthly", "total"}))})),
          field("attributes", "attributes", open_object(), false, empty_object)},
         {"id"},
         {},
         check_offer});
    e.push_back(entity("creatives",
                 "creatives",
                 {key(), required("offerId", "offer_id", ref("offers")), required("channelId", "channel_id", ref("channels")),
                  field("placementId", "placement_id", ref("placements")), name(),
                  field("content", "content", open_object(), false, empty_object)},
                 {"id"},
                 "content_items"));
    e.push_back(entity("customers",
                 "customers",
                 {key(), field("attributes", "attributes", open_object(), false, empty_object),
                  field("segments", "segments", kind(Kind::TextList), false, empty_array),
                  field("timezone", "timezone", kind(Kind::Timezone))},
                 {"id"}));
    e.push_back(entity("consents",
                 "consents",
                 {required("customerId", "customer_id", ref("customers")), required("channelId", "channel_id", ref("channels")),
                  required("granted", "granted", boolean())},
                 {"customerId", "channelId"}));
    e.push_back(entity("metrics",
                 "metrics",
                 {key(), name(),
                  required("definition", "definition",
                           object({req("outcomeTypes", refs("outcomeTypes")),
                                   opt("scope", one_of({"global", "offer", "category", "channel"})), opt("scopeId", id()),
                                   req("windowDays", integer(1, 3650)), opt("aggregation", one_of({"count", "sum"}))}))},
                 {"id"},
                 "behavioral_metrics",
                 check_metric));
    e.push_back(entity("models",
                 "models",
                 {key(), name(), required("type", "type", one_of({"scorecard", "bayesian", "gradient_boosted", "custom"})),
                  required("definition", "definition", open_object())},
                 {"id"},
                 {},
                 check_model));
    e.push_back(
        {"flows",
         "flows",
         {key(), name(), field("channelId", "channel_id", ref("channels")),
          field("placementId", "placement_id", ref("placements")), field("eligibility", "eligibility", condition()),
          field("modelId", "model_id", ref("models")),
          field("ranking", "ranking",
                object({opt("method", one_of({"top_n", "arbitration"})), opt("n", integer(1, 50)),
                        opt("weights", object({opt("propensity", number(0)), opt("relevance", number(0)),
                                               opt("impact", number(0)), opt("emphasis", number(0))})),
                        opt("relevance", kind(Kind::NumberExpression)), opt("contextWeights", open_object())})),
          field("groups", "groups",
                array(object({req("placementId", ref("placements")), req("slots", integer(1, 50)),
                              opt("allowPartial", boolean())})),
                false, empty_array),
          field("experimentId", "experiment_id", id())},
         {"id"},
         {},
         check_flow});
    e.push_back(
        {"experiments",
         "experiments",
         {key(), name(), required("flowId", "flow_id", ref("flows")), required("type", "type", one_of({"ab", "bandit"})),
          field("variants", "variants",
                array(object({req("id", id()), req("weight", positive()), opt("flowId", ref("flows")),
                              opt("control", boolean())}),
                      "id"),
                false, empty_array),
          field("holdoutPercent", "holdout_percent", number(0, 100), false, 0),
          field("bandit", "bandit",
                object({req("algorithm", one_of({"thompson", "epsilon_greedy"})), opt("epsilon", number(0, 1)),
                        opt("decay", number(0, 1)),
                        opt("prior", object({req("alpha", positive()), req("beta", positive())}))})),
          field("status", "status", one_of({"draft", "active", "paused", "completed"}), false, "draft")},
         {"id"},
         {},
         check_experiment});
    e.push_back(entity("policies",
                 "policies",
                 {key(), name(),
                  required("type", "type",
                           one_of({"frequency_cap", "cooldown", "budget_exhausted", "outcome_based", "segment_exclusion",
                                   "time_window", "mutual_exclusion", "cross_channel_cap", "allow_override",
                                   "category_suppression", "metric_condition", "customer_total_cap"})),
                  field("priority", "priority", integer(0, 1000000), false, 100),
                  field("scope", "scope",
                        one_of({"global", "category", "subcategory", "offer", "creative", "channel", "segment", "placement"}),
                        false, "global"),
                  field("scopeId", "scope_id", text()), field("config", "config", open_object(), false, empty_object),
                  field("enabled", "enabled", boolean(), false, true),
                  field("bypassable", "bypassable", boolean(), false, true)},
                 {"id"},
                 {},
                 check_policy));
    e.push_back(entity("caps",
                 "caps",
                 {key(), name(), required("scope", "scope", one_of({"offer", "category", "channel"})),
                  required("scopeId", "scope_id", id()), required("maxVolume", "max_volume", integer(1)),
                  required("period", "period", one_of({"daily", "weekly", "monthly"})),
                  field("enabled", "enabled", boolean(), false, true)},
                 {"id"},
                 {},
                 check_cap));
    e.push_back(
        {"journeys",
         "journeys",
         {key(), name(), field("entryCondition", "entry_condition", condition()),
          field("maxDurationDays", "max_duration_days", integer(1, 3650)),
          required("nodes", "nodes",
                   array(object({req("id", id()), req("type", one_of({"recommend", "wait", "branch", "exit"})),
                                 opt("name", text()), opt("flowId", ref("flows")), opt("waitHours", positive()),
                                 opt("outcome", ref("outcomeTypes")), opt("timeoutHours", positive()),
                                 opt("condition", condition())}),
                         "id")),
          field("edges", "edges", array(object({req("from", id()), req("to", id()), opt("when", text())})), false,
                empty_array)},
         {"id"},
         {},
         check_journey});
    e.push_back(entity("triggers",
                 "triggers",
                 {key(), name(), required("eventType", "event_type", id()),
                  field("priority", "priority", integer(0, 1000000), false, 100),
                  field("condition", "condition", condition()),
                  field("cooldownSeconds", "cooldown_seconds", integer(0), false, 0),
                  required("action", "action",
                           object({req("type", one_of({"run_flow", "enroll_journey", "update_attribute", "webhook"})),
                                   opt("flowId", ref("flows")), opt("journeyId", ref("journeys")),
                                   opt("mode", one_of({"skip_if_active", "restart", "allow_multiple"})),
                                   opt("attribute", text()), opt("value", kind(Kind::Any)),
                                   opt("endpointId", integer(1)), opt("payload", open_object())}))},
                 {"id"},
                 {},
                 check_trigger));
    for (auto [doc_key, table, feature] : {std::tuple{"connectors", "connectors", "connectors"},
                                           std::tuple{"cmsSources", "cms_sources", "cms_sources"}})
        e.push_back(entity(doc_key,
                     table,
                     {key(), name(), required("type", "type", id()),
                      field("config", "config", open_object(), false, empty_object)},
                     {"id"},
                     feature));
    return e;
}

}  // namespace

const Field* Entity::field(std::string_view name) const {
    for (const auto& f : fields)
        if (f.name == name) return &f;
    return nullptr;
}

const std::vector<Entity>& entities() {
    static const std::vector<Entity> all = build_entities();
    return all;
}

const Entity* find_entity(std::string_view key) {
    for (const auto& e : entities())
        if (e.key == key) return &e;
    return nullptr;
}

const Entity* find_entity_by_table(std::string_view table) {
    for (const auto& e : entities())
        if (e.table == table) return &e;
    return nullptr;
}

std::string format_timestamp(double seconds) {
    double whole = std::floor(seconds);
    auto micros = static_cast<int64_t>(std::llround((seconds - whole) * 1e6));
    if (micros == 1000000) {
        whole += 1;
        micros = 0;
    }
    auto t = static_cast<time_t>(whole);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[48];
    size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    std::string out(buf, n);
    if (micros != 0) {
        char frac[16];
        std::snprintf(frac, sizeof frac, ".%06lld", static_cast<long long>(micros));
        std::string f = frac;
        while (f.back() == '0') f.pop_back();
        out += f;
    }
    return out + "Z";
}

const Entity* entity_counted_by(std::string_view feature) {
    for (const auto& e : entities())
        if (!e.limit_feature.empty() && e.limit_feature == feature) return &e;
    return nullptr;
}

bool valid_id(std::string_view id) {
    if (id.empty() || id.size() > kMaxIdLength) return false;
    for (unsigned char c : id) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
                  c == '.' || c == ':' || c == '@';
        if (!ok) return false;
    }
    return true;
}

void Checker::fail(const std::string& field, const std::string& message) const { fail_at(path + "." + field, message); }

Validated validate(const Entity& entity, const Json& object, const std::string& path, const Hooks& hooks) {
    if (!object.is_object()) fail_at(path, "must be an object, not " + std::string(json_type(object)));
    Validated out;
    out.row = Json::object();
    Validator v{hooks, out.references};
    for (const auto& [key, value] : object.items()) {
        if (entity.field(key) == nullptr) {
            std::vector<std::string_view> names;
            for (const auto& f : entity.fields) names.push_back(f.name);
            fail_at(path + "." + key, "unknown key (expected " + join(names) + ")");
        }
    }
    for (const auto& f : entity.fields) {
        auto it = object.find(std::string(f.name));
        std::string field_path = path + "." + std::string(f.name);
        if (it == object.end() || it->is_null()) {
            if (f.required) fail_at(field_path, "is required");
            out.row[std::string(f.name)] = f.default_value;
            continue;
        }
        out.row[std::string(f.name)] = v.check(*f.spec, *it, field_path);
    }
    if (entity.check != nullptr) {
        Checker checker{path, hooks, out.references};
        entity.check(out.row, checker);
    }
    return out;
}

Json object_of_columns(const Entity& entity, const Json& columns) {
    Json object = Json::object();
    for (const auto& f : entity.fields) {
        auto it = columns.find(std::string(f.column));
        if (it != columns.end() && !it->is_null()) object[std::string(f.name)] = *it;
    }
    return object;
}

Json stored_value(const Field* field, Json value) {
    if (field != nullptr && field->spec->kind == Kind::Timestamp && value.is_string())
        if (std::optional<double> instant = expr::parse_timestamp(value.get<std::string>()))
            return Json(format_timestamp(*instant));
    return value;
}

Json stored_form(const Entity& entity, const Json& object) {
    Json out = Json::object();
    for (const auto& [key, value] : object.items()) {
        if (value.is_null()) continue;
        out[key] = stored_value(entity.field(key), value);
    }
    return out;
}

std::string row_key(const Entity& entity, const Json& row) {
    std::string key;
    for (auto k : entity.key_fields) {
        if (!key.empty()) key += "/";
        key += row[std::string(k)].get<std::string>();
    }
    return key;
}

}  // namespace kaireon::catalog
