// entitlements_test.cpp - features, entitlement values, the schema subset,
// evaluation, resolution, licence claims and the seed's tier table (SPEC
// section 3, seeds entitlements-and-metering and licensing-and-quotas).
#include "core/entitlements.h"

#include "core/error.h"

#include "refusal.h"

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace kaireon::entitlements {
namespace {

using test_support::refusal;

using license::Tier;

Json json(std::string_view text) { return Json::parse(text); }

FeatureDefinition define(std::string_view type, const Json& options = Json::object(),
                         std::string_view key = "api-calls") {
    return FeatureDefinition::from_options(key, type, options);
}

FeatureDefinition numeric(const Json& options = Json::object()) { return define("numeric", options); }

Value limit_value(std::optional<double> limit, bool enabled = true) {
    Value value;
    value.enabled = enabled;
    value.limit = limit;
    return value;
}

Value enabled_value(bool enabled) {
    Value value;
    value.enabled = enabled;
    return value;
}

Value config_value(const Json& config) {
    Value value;
    value.enabled = true;
    value.config = config;
    return value;
}

const Json kAutoscalingSchema = json(R"({
    "type": "object",
    "required": ["minReplicas", "maxReplicas"],
    "additionalProperties": false,
    "properties": {
        "minReplicas": {"type": "integer", "minimum": 1, "maximum": 100},
        "maxReplicas": {"type": "integer", "minimum": 1, "maximum": 100},
        "targetDecisionsPerSecond": {"type": "number", "minimum": 1}
    }
})");

const Json kSupportSchema = json(R"({
    "type": "object",
    "required": ["channel"],
    "additionalProperties": false,
    "properties": {
        "channel": {"enum": ["community", "email", "dedicated"]},
        "sla": {"type": "boolean"},
        "responseHours": {"type": "integer", "minimum": 1}
    }
})");

FeatureDefinition autoscaling() { return define("config", {{"schema", kAutoscalingSchema}}, "autoscaling"); }

// ---- names ------------------------------------------------------------------

TEST(EntitlementNames, AllEnumsHaveTheirSpecNames) {
    EXPECT_EQ(name(FeatureType::Boolean), "boolean");
    EXPECT_EQ(name(FeatureType::Numeric), "numeric");
    EXPECT_EQ(name(FeatureType::Config), "config");
    EXPECT_EQ(name(Aggregation::Sum), "sum");
    EXPECT_EQ(name(Aggregation::Count), "count");
    EXPECT_EQ(name(Aggregation::Max), "max");
    EXPECT_EQ(name(Aggregation::Min), "min");
    EXPECT_EQ(name(Aggregation::Average), "average");
    EXPECT_EQ(name(Aggregation::Latest), "latest");
    EXPECT_EQ(name(Period::Hour), "hour");
    EXPECT_EQ(name(Period::Day), "day");
    EXPECT_EQ(name(Period::Week), "week");
    EXPECT_EQ(name(Period::Month), "month");
    EXPECT_EQ(name(Period::Never), "never");
    EXPECT_EQ(name(LimitType::Hard), "hard");
    EXPECT_EQ(name(LimitType::Soft), "soft");
    EXPECT_EQ(name(Status::Accepted), "ACCEPTED");
    EXPECT_EQ(name(Status::LimitReached), "LIMIT_REACHED");
    EXPECT_EQ(name(Status::Denied), "DENIED");
    EXPECT_EQ(name(Source::Override), "override");
    EXPECT_EQ(name(Source::License), "license");
    EXPECT_EQ(name(Source::Plan), "plan");
    EXPECT_EQ(name(Source::None), "none");
}

// ---- feature keys -----------------------------------------------------------

TEST(FeatureKey, AcceptsValidKeys) {
    for (std::string_view key :
         {"a", "journeys", "scoring.scorecard", "decisions_per_month", "api-calls", "a1", "a.b-c_d.9", "z..", "a-"}) {
        EXPECT_EQ(feature_key_problem(key), "") << key;
    }
    EXPECT_EQ(feature_key_problem(std::string(100, 'a')), "");
}

TEST(FeatureKey, RefusesBadKeys) {
    EXPECT_EQ(feature_key_problem(""), "feature key is empty");
    EXPECT_EQ(feature_key_problem(std::string(101, 'a')), "feature key is longer than 100 characters");
    for (std::string_view key : {"1abc", ".abc", "-abc", "_abc", "Abc", " abc", "\xc3\xa9t\xc3\xa9"}) {
        EXPECT_EQ(feature_key_problem(key), "feature key must start with a lowercase letter") << key;
    }
    EXPECT_EQ(feature_key_problem("apI"),
              "feature key may contain only a-z, 0-9, '_', '.' and '-' (bad character at position 3)");
    EXPECT_EQ(feature_key_problem("a b"),
              "feature key may contain only a-z, 0-9, '_', '.' and '-' (bad character at position 2)");
    EXPECT_EQ(feature_key_problem("ab/c"),
              "feature key may contain only a-z, 0-9, '_', '.' and '-' (bad character at position 3)");
    EXPECT_EQ(feature_key_problem(std::string_view("ab\0c", 4)),
              "feature key may contain only a-z, 0-9, '_', '.' and '-' (bad character at position 3)");
}

// ---- feature definitions ----------------------------------------------------

TEST(FeatureDefinition, NumericDefaults) {
    for (const Json& options : {Json::object(), Json(nullptr)}) {
        FeatureDefinition def = numeric(options);
        EXPECT_EQ(def.key, "api-calls");
        EXPECT_EQ(def.type, FeatureType::Numeric);
        EXPECT_EQ(def.aggregation, Aggregation::Sum);
        EXPECT_EQ(def.period, Period::Never);
        EXPECT_EQ(def.unit, "");
        EXPECT_EQ(def.limit_type, LimitType::Hard);
        EXPECT_EQ(def.grace_percent, 0);
        EXPECT_TRUE(def.thresholds.empty());
        EXPECT_FALSE(def.non_negative);
        EXPECT_EQ(def.options().dump(),
                  R"({"aggregation":"sum","period":"never","unit":"","limitType":"hard","gracePercent":0,)"
                  R"("thresholds":[],"nonNegative":false})");
    }
}

TEST(FeatureDefinition, BooleanAndConfigDefaults) {
    FeatureDefinition boolean = define("boolean", nullptr);
    EXPECT_EQ(boolean.type, FeatureType::Boolean);
    EXPECT_EQ(boolean.options(), Json::object());

    FeatureDefinition config = define("config");
    EXPECT_EQ(config.type, FeatureType::Config);
    EXPECT_EQ(config.schema, json(R"({"type":"object"})"));
    EXPECT_EQ(config.options().dump(), R"({"schema":{"type":"object"}})");
}

TEST(FeatureDefinition, AllNumericOptions) {
    FeatureDefinition def = numeric(json(R"({"aggregation":"max","period":"week","unit":"GB","limitType":"soft",
        "gracePercent":12.5,"thresholds":[50,80,100,150],"nonNegative":true})"));
    EXPECT_EQ(def.aggregation, Aggregation::Max);
    EXPECT_EQ(def.period, Period::Week);
    EXPECT_EQ(def.unit, "GB");
    EXPECT_EQ(def.limit_type, LimitType::Soft);
    EXPECT_EQ(def.grace_percent, 12.5);
    EXPECT_EQ(def.thresholds, (std::vector<int>{50, 80, 100, 150}));
    EXPECT_TRUE(def.non_negative);
    EXPECT_EQ(def.options().dump(),
              R"({"aggregation":"max","period":"week","unit":"GB","limitType":"soft","gracePercent":12.5,)"
              R"("thresholds":[50,80,100,150],"nonNegative":true})");
}

TEST(FeatureDefinition, EveryAggregationAndPeriod) {
    for (std::string_view text : {"sum", "count", "max", "min", "average", "latest"}) {
        FeatureDefinition def = numeric({{"aggregation", text}});
        EXPECT_EQ(name(def.aggregation), text);
    }
    for (std::string_view text : {"hour", "day", "week", "month", "never"}) {
        FeatureDefinition def = numeric({{"period", text}});
        EXPECT_EQ(name(def.period), text);
    }
    EXPECT_EQ(numeric({{"limitType", "hard"}}).limit_type, LimitType::Hard);
    EXPECT_EQ(numeric({{"limitType", "soft"}}).limit_type, LimitType::Soft);
}

TEST(FeatureDefinition, OptionsRoundTrip) {
    std::vector<FeatureDefinition> defs = {
        numeric(),
        numeric(json(R"({"aggregation":"latest","period":"hour","unit":"rps","limitType":"soft","gracePercent":1000,
            "thresholds":[1,1000],"nonNegative":true})")),
        numeric(json(R"({"gracePercent":7.25,"thresholds":[]})")),
        define("boolean"),
        define("config"),
        autoscaling(),
    };
    for (const auto& def : defs) {
        FeatureDefinition back = FeatureDefinition::from_options(def.key, name(def.type), def.options());
        SCOPED_TRACE(def.options().dump());
        EXPECT_EQ(back.key, def.key);
        EXPECT_EQ(back.type, def.type);
        EXPECT_EQ(back.aggregation, def.aggregation);
        EXPECT_EQ(back.period, def.period);
        EXPECT_EQ(back.unit, def.unit);
        EXPECT_EQ(back.schema, def.schema);
        EXPECT_EQ(back.limit_type, def.limit_type);
        EXPECT_EQ(back.grace_percent, def.grace_percent);
        EXPECT_EQ(back.thresholds, def.thresholds);
        EXPECT_EQ(back.non_negative, def.non_negative);
        EXPECT_EQ(back.options(), def.options());
    }
}

TEST(FeatureDefinition, RefusesBadKeyTypeAndOptions) {
    EXPECT_REFUSED(define("numeric", Json::object(), "Bad"), "key", "feature key must start with a lowercase letter");
    EXPECT_REFUSED(define("numeric", Json::object(), ""), "key", "feature key is empty");
    EXPECT_REFUSED(define("bool"), "type", "must be one of boolean, numeric, config");
    EXPECT_REFUSED(define("Numeric"), "type", "must be one of boolean, numeric, config");
    EXPECT_REFUSED(define(""), "type", "must be one of boolean, numeric, config");
    EXPECT_REFUSED(numeric(json("[]")), "options", "must be an object, not array");
    EXPECT_REFUSED(numeric(json("\"x\"")), "options", "must be an object, not string");
    EXPECT_REFUSED(numeric({{"aggregations", "sum"}}), "options.aggregations",
                   "is not an option (known: aggregation, period, unit, schema, limitType, gracePercent, "
                   "thresholds, nonNegative)");
    // A substring of a known option is still unknown.
    EXPECT_REFUSED_AT(numeric({{"agg", "sum"}}), "options.agg");
    EXPECT_REFUSED_AT(numeric({{"", 1}}), "options.");
    EXPECT_REFUSED_AT(define("boolean", {{"default", true}}), "options.default");
}

TEST(FeatureDefinition, RefusesBadOptionValues) {
    const std::string aggregations = "must be one of sum, count, max, min, average, latest";
    EXPECT_REFUSED(numeric({{"aggregation", "median"}}), "options.aggregation", aggregations);
    EXPECT_REFUSED(numeric({{"aggregation", "SUM"}}), "options.aggregation", aggregations);
    EXPECT_REFUSED(numeric({{"aggregation", 1}}), "options.aggregation", aggregations);
    EXPECT_REFUSED(numeric({{"aggregation", nullptr}}), "options.aggregation", aggregations);

    const std::string periods = "must be one of hour, day, week, month, never";
    EXPECT_REFUSED(numeric({{"period", "year"}}), "options.period", periods);
    EXPECT_REFUSED(numeric({{"period", json("[\"day\"]")}}), "options.period", periods);

    EXPECT_REFUSED(numeric({{"unit", 5}}), "options.unit", "must be a string");
    EXPECT_REFUSED(numeric({{"unit", std::string(101, 'u')}}), "options.unit", "is longer than 100 characters");
    EXPECT_EQ(numeric({{"unit", std::string(100, 'u')}}).unit.size(), 100U);

    EXPECT_REFUSED(numeric({{"limitType", "strict"}}), "options.limitType", "must be one of hard, soft");
    EXPECT_REFUSED(numeric({{"limitType", true}}), "options.limitType", "must be one of hard, soft");

    const std::string grace = "must be a number from 0 to 1000";
    EXPECT_REFUSED(numeric({{"gracePercent", -1}}), "options.gracePercent", grace);
    EXPECT_REFUSED(numeric({{"gracePercent", -0.001}}), "options.gracePercent", grace);
    EXPECT_REFUSED(numeric({{"gracePercent", 1000.5}}), "options.gracePercent", grace);
    EXPECT_REFUSED(numeric({{"gracePercent", "10"}}), "options.gracePercent", grace);
    EXPECT_REFUSED(numeric({{"gracePercent", std::numeric_limits<double>::infinity()}}), "options.gracePercent", grace);
    EXPECT_REFUSED(numeric({{"gracePercent", std::nan("")}}), "options.gracePercent", grace);
    EXPECT_EQ(numeric({{"gracePercent", 0}}).grace_percent, 0);
    EXPECT_EQ(numeric({{"gracePercent", 1000}}).grace_percent, 1000);

    EXPECT_REFUSED(numeric({{"thresholds", 90}}), "options.thresholds",
                   "must be an array of percents (1 to 1000, increasing)");
    EXPECT_REFUSED(numeric({{"thresholds", json("[0]")}}), "options.thresholds[0]",
                   "must be an integer from 1 to 1000");
    EXPECT_REFUSED(numeric({{"thresholds", json("[50, 1001]")}}), "options.thresholds[1]",
                   "must be an integer from 1 to 1000");
    EXPECT_REFUSED(numeric({{"thresholds", json("[50, 75.5]")}}), "options.thresholds[1]",
                   "must be an integer from 1 to 1000");
    EXPECT_REFUSED(numeric({{"thresholds", json("[\"90\"]")}}), "options.thresholds[0]",
                   "must be an integer from 1 to 1000");
    EXPECT_REFUSED(numeric({{"thresholds", json("[-5]")}}), "options.thresholds[0]",
                   "must be an integer from 1 to 1000");
    EXPECT_REFUSED(numeric({{"thresholds", json("[75, 90, 90]")}}), "options.thresholds[2]",
                   "must be greater than the previous threshold (90)");
    EXPECT_REFUSED(numeric({{"thresholds", json("[95, 90]")}}), "options.thresholds[1]",
                   "must be greater than the previous threshold (95)");
    EXPECT_EQ(numeric({{"thresholds", json("[1, 1000]")}}).thresholds, (std::vector<int>{1, 1000}));
    // An integral float is an integer.
    EXPECT_EQ(numeric({{"thresholds", json("[50.0]")}}).thresholds, (std::vector<int>{50}));

    EXPECT_REFUSED(numeric({{"nonNegative", "true"}}), "options.nonNegative", "must be true or false");
    EXPECT_REFUSED(numeric({{"nonNegative", 1}}), "options.nonNegative", "must be true or false");
}

TEST(FeatureDefinition, RefusesNumericOptionsOnOtherTypes) {
    for (std::string_view type : {"boolean", "config"}) {
        for (const auto& [option, value] : std::vector<std::pair<std::string, Json>>{{"aggregation", "sum"},
                                                                                     {"period", "never"},
                                                                                     {"unit", ""},
                                                                                     {"limitType", "hard"},
                                                                                     {"gracePercent", 0},
                                                                                     {"thresholds", Json::array()},
                                                                                     {"nonNegative", false}}) {
            EXPECT_REFUSED(define(type, {{option, value}}), "options." + option,
                           "only numeric features take this option, not " + std::string(type) + " ones");
        }
    }
}

TEST(FeatureDefinition, SchemaOnlyForConfig) {
    EXPECT_REFUSED(numeric({{"schema", {{"type", "object"}}}}), "options.schema", "only config features have a schema");
    EXPECT_REFUSED(define("boolean", {{"schema", {{"type", "object"}}}}), "options.schema",
                   "only config features have a schema");
    FeatureDefinition def = autoscaling();
    EXPECT_EQ(def.schema, kAutoscalingSchema);
    EXPECT_EQ(def.options(), Json({{"schema", kAutoscalingSchema}}));
    // A schema without "type" is accepted (the value is an object anyway).
    EXPECT_EQ(define("config", {{"schema", {{"required", {"a"}}}}}).schema, json(R"({"required":["a"]})"));
}

TEST(FeatureDefinition, RefusesBadSchema) {
    EXPECT_REFUSED(define("config", {{"schema", {{"type", "array"}}}}), "options.schema.type",
                   "must be \"object\": a config is a JSON object");
    EXPECT_REFUSED(define("config", {{"schema", json(R"({"type":["object","null"]})")}}), "options.schema.type",
                   "must be \"object\": a config is a JSON object");
    EXPECT_REFUSED(define("config", {{"schema", "object"}}), "options.schema",
                   "must be an object (a JSON schema), not string");
    EXPECT_REFUSED_AT(define("config", {{"schema", json(R"({"properties":{"a":{"pattern":"x"}}})")}}),
                      "options.schema.properties.a.pattern");
}

TEST(FeatureDefinition, FirstProblemInDocumentOrderWins) {
    EXPECT_REFUSED_AT(numeric(json(R"({"period":"year","aggregation":"median"})")), "options.period");
    EXPECT_REFUSED_AT(numeric(json(R"({"aggregation":"median","period":"year"})")), "options.aggregation");
}

// ---- values -----------------------------------------------------------------

TEST(ParseValue, NumericShapes) {
    FeatureDefinition def = numeric();
    Value v = parse_value(def, json(R"({"limit": 5})"));
    EXPECT_TRUE(v.enabled);
    EXPECT_EQ(v.limit, 5);

    v = parse_value(def, json(R"({"limit": null})"));
    EXPECT_TRUE(v.enabled);
    EXPECT_FALSE(v.limit.has_value());

    EXPECT_EQ(parse_value(def, json(R"({"limit": 0})")).limit, 0);
    EXPECT_EQ(parse_value(def, json(R"({"limit": 2.5})")).limit, 2.5);
    EXPECT_EQ(parse_value(def, json(R"({"limit": 1e15})")).limit, 1e15);

    v = parse_value(def, json(R"({"limit": 5, "enabled": false})"));
    EXPECT_FALSE(v.enabled);
    EXPECT_EQ(v.limit, 5);

    v = parse_value(def, json(R"({"enabled": false})"));
    EXPECT_FALSE(v.enabled);
    EXPECT_FALSE(v.limit.has_value());

    v = parse_value(def, json(R"({"enabled": true, "limit": 7})"));
    EXPECT_TRUE(v.enabled);
    EXPECT_EQ(v.limit, 7);
}

TEST(ParseValue, NumericRefusals) {
    FeatureDefinition def = numeric();
    const std::string limit = "must be a number >= 0 or null";
    EXPECT_REFUSED(parse_value(def, json(R"({"limit": -1})")), "value.limit", limit);
    EXPECT_REFUSED(parse_value(def, json(R"({"limit": -0.5})")), "value.limit", limit);
    EXPECT_REFUSED(parse_value(def, json(R"({"limit": "5"})")), "value.limit", limit);
    EXPECT_REFUSED(parse_value(def, json(R"({"limit": true})")), "value.limit", limit);
    EXPECT_REFUSED(parse_value(def, json(R"({"limit": [5]})")), "value.limit", limit);
    EXPECT_REFUSED(parse_value(def, Json{{"limit", std::numeric_limits<double>::infinity()}}), "value.limit", limit);
    EXPECT_REFUSED(parse_value(def, Json{{"limit", std::nan("")}}), "value.limit", limit);
    EXPECT_REFUSED(parse_value(def, Json::object()), "value.limit", "is required (null means unlimited)");
    EXPECT_REFUSED(parse_value(def, json(R"({"enabled": true})")), "value.limit", "is required (null means unlimited)");
    EXPECT_REFUSED(parse_value(def, json(R"({"limit": 5, "enabled": "no"})")), "value.enabled",
                   "must be true or false");
    EXPECT_REFUSED(parse_value(def, json(R"({"limit": 5, "max": 6})")), "value.max",
                   "is not a key of a numeric value (only limit and enabled)");
    EXPECT_REFUSED(parse_value(def, json(R"({"config": {}})")), "value.config",
                   "is not a key of a numeric value (only limit and enabled)");
    EXPECT_REFUSED(parse_value(def, json("5")), "value", "must be an object {\"limit\": n}, not number");
    EXPECT_REFUSED(parse_value(def, json("null")), "value", "must be an object {\"limit\": n}, not null");
    // The path prefix is the caller's.
    EXPECT_REFUSED(parse_value(def, json(R"({"limit": -1})"), "overrides.api-calls"), "overrides.api-calls.limit",
                   limit);
}

TEST(ParseValue, NumericShorthand) {
    FeatureDefinition def = numeric();
    Value v = parse_value(def, json("750000"), "value", true);
    EXPECT_TRUE(v.enabled);
    EXPECT_EQ(v.limit, 750000);
    EXPECT_EQ(parse_value(def, json("0"), "value", true).limit, 0);
    EXPECT_EQ(parse_value(def, json("2.5"), "value", true).limit, 2.5);
    // The long form still works.
    EXPECT_EQ(parse_value(def, json(R"({"limit": 9})"), "value", true).limit, 9);
    EXPECT_REFUSED(parse_value(def, json("-1"), "limits.x", true), "limits.x", "must be a number >= 0");
    EXPECT_REFUSED(parse_value(def, json("\"5\""), "value", true), "value",
                   "must be a number or an object {\"limit\": n}, not string");
    EXPECT_REFUSED(parse_value(def, json("true"), "value", true), "value",
                   "must be a number or an object {\"limit\": n}, not boolean");
}

TEST(ParseValue, BooleanShapes) {
    FeatureDefinition def = define("boolean");
    EXPECT_TRUE(parse_value(def, json(R"({"enabled": true})")).enabled);
    EXPECT_FALSE(parse_value(def, json(R"({"enabled": false})")).enabled);
    EXPECT_TRUE(parse_value(def, json("true"), "value", true).enabled);
    EXPECT_FALSE(parse_value(def, json("false"), "value", true).enabled);
    EXPECT_FALSE(parse_value(def, json(R"({"enabled": true})")).limit.has_value());

    EXPECT_REFUSED(parse_value(def, json("true")), "value", "must be an object {\"enabled\": b}, not boolean");
    EXPECT_REFUSED(parse_value(def, json("1"), "value", true), "value",
                   "must be true, false or an object {\"enabled\": b}, not number");
    EXPECT_REFUSED(parse_value(def, Json::object()), "value.enabled", "is required");
    EXPECT_REFUSED(parse_value(def, json(R"({"enabled": 1})")), "value.enabled", "must be true or false");
    EXPECT_REFUSED(parse_value(def, json(R"({"enabled": null})")), "value.enabled", "must be true or false");
    EXPECT_REFUSED(parse_value(def, json(R"({"enabled": true, "limit": 5})")), "value.limit",
                   "is not a key of a boolean value (only enabled)");
}

TEST(ParseValue, ConfigShapes) {
    FeatureDefinition def = autoscaling();
    Value v = parse_value(def, json(R"({"config": {"minReplicas": 1, "maxReplicas": 10}})"));
    EXPECT_TRUE(v.enabled);
    EXPECT_EQ(v.config, json(R"({"minReplicas": 1, "maxReplicas": 10})"));

    v = parse_value(def, json(R"({"config": null})"));
    EXPECT_FALSE(v.enabled);
    EXPECT_TRUE(v.config.is_null());

    EXPECT_REFUSED(parse_value(def, json(R"({"config": {"minReplicas": 1, "maxReplicas": 200}})")),
                   "value.config.maxReplicas", "200 is above the maximum 100");
    EXPECT_REFUSED(parse_value(def, json(R"({"config": {"minReplicas": 1}})")), "value.config.maxReplicas",
                   "is required");
    EXPECT_REFUSED(parse_value(def, Json::object()), "value.config", "is required (null means not entitled)");
    EXPECT_REFUSED(parse_value(def, json(R"({"config": 5})")), "value.config", "must be an object or null, not number");
    EXPECT_REFUSED(parse_value(def, json(R"({"config": []})")), "value.config", "must be an object or null, not array");
    EXPECT_REFUSED(parse_value(def, json(R"({"config": null, "enabled": true})")), "value.enabled",
                   "is not a key of a config value (only config)");
    EXPECT_REFUSED(parse_value(def, json("true"), "value", true), "value",
                   "must be an object {\"config\": {...}}, not boolean");

    // The default schema accepts any object, and only an object.
    FeatureDefinition any = define("config");
    EXPECT_EQ(parse_value(any, json(R"({"config": {"x": [1, {"y": null}]}})")).config,
              json(R"({"x": [1, {"y": null}]})"));
    EXPECT_REFUSED(parse_value(any, json(R"({"config": "x"})")), "value.config",
                   "must be an object or null, not string");
}

TEST(ValueJson, StoredShapesRoundTrip) {
    FeatureDefinition num = numeric();
    FeatureDefinition boolean = define("boolean");
    FeatureDefinition config = autoscaling();

    EXPECT_EQ(value_json(FeatureType::Numeric, limit_value(5)).dump(), R"({"limit":5})");
    EXPECT_EQ(value_json(FeatureType::Numeric, limit_value(2.5)).dump(), R"({"limit":2.5})");
    EXPECT_EQ(value_json(FeatureType::Numeric, limit_value(std::nullopt)).dump(), R"({"limit":null})");
    EXPECT_EQ(value_json(FeatureType::Numeric, limit_value(5, false)).dump(), R"({"limit":5,"enabled":false})");
    EXPECT_EQ(value_json(FeatureType::Boolean, enabled_value(true)).dump(), R"({"enabled":true})");
    EXPECT_EQ(value_json(FeatureType::Boolean, enabled_value(false)).dump(), R"({"enabled":false})");
    EXPECT_EQ(value_json(FeatureType::Config, config_value(json(R"({"minReplicas":1,"maxReplicas":2})"))).dump(),
              R"({"config":{"minReplicas":1,"maxReplicas":2}})");
    EXPECT_EQ(value_json(FeatureType::Config, Value{}).dump(), R"({"config":null})");

    for (const char* text : {R"({"limit":5})", R"({"limit":null})", R"({"limit":0.25})",
                             R"({"limit":5,"enabled":false})", R"({"limit":null,"enabled":false})"}) {
        EXPECT_EQ(value_json(FeatureType::Numeric, parse_value(num, json(text))).dump(), text);
    }
    for (const char* text : {R"({"enabled":true})", R"({"enabled":false})"}) {
        EXPECT_EQ(value_json(FeatureType::Boolean, parse_value(boolean, json(text))).dump(), text);
    }
    for (const char* text :
         {R"({"config":{"minReplicas":2,"maxReplicas":3,"targetDecisionsPerSecond":1.5}})", R"({"config":null})"}) {
        EXPECT_EQ(value_json(FeatureType::Config, parse_value(config, json(text))).dump(), text);
    }
}

// ---- the schema subset ------------------------------------------------------

TEST(ValidateSchema, AcceptsEveryKeyword) {
    EXPECT_NO_THROW(validate_schema(json(R"({
        "type": "object",
        "description": "everything",
        "required": ["name", "tags"],
        "additionalProperties": false,
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 40, "description": "a name"},
            "count": {"type": "integer", "minimum": 0, "maximum": 10},
            "ratio": {"type": "number", "minimum": -1.5, "maximum": 1.5},
            "tags": {"type": "array", "minItems": 0, "maxItems": 5, "items": {"type": "string", "enum": ["a", "b"]}},
            "flag": {"type": "boolean"},
            "nothing": {"type": "null"},
            "maybe": {"type": ["string", "null"], "maxLength": 3},
            "any": {},
            "level": {"enum": [1, "two", null, {"three": 3}]},
            "nested": {"type": "object", "properties": {"deep": {"type": "object", "properties": {}}}}
        }
    })")));
    EXPECT_NO_THROW(validate_schema(Json::object()));
    EXPECT_NO_THROW(validate_schema(json(R"({"minimum": 1, "minLength": 2, "required": ["x"]})")));
}

TEST(ValidateSchema, RefusesUnsupportedKeywords) {
    const std::string supported =
        "unsupported schema keyword (supported: type, required, properties, additionalProperties, items, minimum, "
        "maximum, minLength, maxLength, minItems, maxItems, enum, description)";
    for (std::string_view keyword :
         {"pattern", "$ref", "$schema", "oneOf", "anyOf", "allOf", "not", "format", "const", "exclusiveMinimum",
          "multipleOf", "default", "patternProperties", "uniqueItems", "if", "Type"}) {
        Json schema = {{"type", "string"}, {std::string(keyword), "x"}};
        EXPECT_REFUSED(validate_schema(schema), "options.schema." + std::string(keyword), supported);
    }
    EXPECT_REFUSED(validate_schema(json(R"({"properties":{"a":{"items":{"pattern":"^x"}}}})")),
                   "options.schema.properties.a.items.pattern", supported);
    EXPECT_REFUSED(validate_schema(json(R"({"$ref":"#/definitions/x"})"), "schema"), "schema.$ref", supported);
}

TEST(ValidateSchema, RefusesMalformedKeywords) {
    const std::string types =
        "must be one of object, array, string, number, integer, boolean, null (or an array of them)";
    EXPECT_REFUSED(validate_schema(json("[]")), "options.schema", "must be an object (a JSON schema), not array");
    EXPECT_REFUSED(validate_schema(json("true")), "options.schema", "must be an object (a JSON schema), not boolean");
    EXPECT_REFUSED(validate_schema(json(R"({"type":"int"})")), "options.schema.type", types);
    EXPECT_REFUSED(validate_schema(json(R"({"type":5})")), "options.schema.type", types);
    EXPECT_REFUSED(validate_schema(json(R"({"type":[]})")), "options.schema.type", types);
    EXPECT_REFUSED(validate_schema(json(R"({"type":["string","bad"]})")), "options.schema.type[1]", types);
    EXPECT_REFUSED(validate_schema(json(R"({"type":["string","string"]})")), "options.schema.type[1]",
                   "\"string\" is listed twice");
    EXPECT_REFUSED(validate_schema(json(R"({"required":"a"})")), "options.schema.required",
                   "must be an array of property names");
    EXPECT_REFUSED(validate_schema(json(R"({"required":["a",1]})")), "options.schema.required[1]", "must be a string");
    EXPECT_REFUSED(validate_schema(json(R"({"required":["a","a"]})")), "options.schema.required[1]",
                   "\"a\" is listed twice");
    EXPECT_REFUSED(validate_schema(json(R"({"properties":[]})")), "options.schema.properties",
                   "must be an object of schemas");
    EXPECT_REFUSED(validate_schema(json(R"({"properties":{"a":5}})")), "options.schema.properties.a",
                   "must be an object (a JSON schema), not number");
    EXPECT_REFUSED(validate_schema(json(R"({"additionalProperties":{"type":"string"}})")),
                   "options.schema.additionalProperties", "must be true or false (a schema is not supported here)");
    EXPECT_REFUSED(validate_schema(json(R"({"items":[{"type":"string"}]})")), "options.schema.items",
                   "must be an object (a JSON schema), not array");
    EXPECT_REFUSED(validate_schema(json(R"({"minimum":"1"})")), "options.schema.minimum", "must be a number");
    EXPECT_REFUSED(validate_schema(json(R"({"maximum":null})")), "options.schema.maximum", "must be a number");
    for (std::string_view keyword : {"minLength", "maxLength", "minItems", "maxItems"}) {
        const std::string path = "options.schema." + std::string(keyword);
        EXPECT_REFUSED(validate_schema(Json{{std::string(keyword), -1}}), path, "must be an integer >= 0");
        EXPECT_REFUSED(validate_schema(Json{{std::string(keyword), 1.5}}), path, "must be an integer >= 0");
        EXPECT_REFUSED(validate_schema(Json{{std::string(keyword), "2"}}), path, "must be an integer >= 0");
        EXPECT_NO_THROW(validate_schema(Json{{std::string(keyword), 0}}));
    }
    EXPECT_REFUSED(validate_schema(json(R"({"enum":[]})")), "options.schema.enum",
                   "must be a non-empty array of the allowed values");
    EXPECT_REFUSED(validate_schema(json(R"({"enum":"a"})")), "options.schema.enum",
                   "must be a non-empty array of the allowed values");
    EXPECT_REFUSED(validate_schema(json(R"({"description":5})")), "options.schema.description", "must be a string");
}

TEST(ValidateSchema, RefusesKeywordsThatCannotApply) {
    EXPECT_REFUSED(validate_schema(json(R"({"type":"string","minimum":1})")), "options.schema.minimum",
                   "applies to numbers, but the type is string");
    EXPECT_REFUSED(validate_schema(json(R"({"type":"integer","maxLength":1})")), "options.schema.maxLength",
                   "applies to strings, but the type is integer");
    EXPECT_REFUSED(validate_schema(json(R"({"type":["string","null"],"items":{}})")), "options.schema.items",
                   "applies to arrays, but the type is string or null");
    EXPECT_REFUSED(validate_schema(json(R"({"type":"array","required":["a"]})")), "options.schema.required",
                   "applies to objects, but the type is array");
    EXPECT_REFUSED(validate_schema(json(R"({"type":"boolean","properties":{}})")), "options.schema.properties",
                   "applies to objects, but the type is boolean");
    EXPECT_NO_THROW(validate_schema(json(R"({"type":["integer","null"],"minimum":1})")));
    EXPECT_NO_THROW(validate_schema(json(R"({"type":"number","maximum":1})")));
}

TEST(ValidateSchema, RefusesUnsatisfiableBounds) {
    EXPECT_REFUSED(validate_schema(json(R"({"minimum":5,"maximum":4})")), "options.schema.maximum",
                   "must not be below minimum (5)");
    EXPECT_REFUSED(validate_schema(json(R"({"minLength":3,"maxLength":2})")), "options.schema.maxLength",
                   "must not be below minLength (3)");
    EXPECT_REFUSED(validate_schema(json(R"({"minItems":3,"maxItems":2})")), "options.schema.maxItems",
                   "must not be below minItems (3)");
    EXPECT_NO_THROW(validate_schema(json(R"({"minimum":5,"maximum":5})")));
    EXPECT_REFUSED(validate_schema(json(R"({"required":["a","b"],"additionalProperties":false,
        "properties":{"a":{}}})")),
                   "options.schema.required[1]", "\"b\" is not in properties, and additionalProperties is false");
    EXPECT_REFUSED(validate_schema(json(R"({"required":["a"],"additionalProperties":false})")),
                   "options.schema.required[0]", "\"a\" is not in properties, and additionalProperties is false");
    EXPECT_NO_THROW(validate_schema(json(R"({"required":["b"],"properties":{"a":{}}})")));
}

TEST(ValidateSchema, RefusesDeepNesting) {
    Json schema = Json::object();
    for (int i = 0; i < 40; ++i) schema = Json{{"items", schema}};
    auto refused = refusal([&] { validate_schema(schema); });
    ASSERT_TRUE(refused);
    EXPECT_NE(std::string(refused->what()).find("is nested too deeply"), std::string::npos) << refused->what();
    Json shallow = Json::object();
    for (int i = 0; i < 20; ++i) shallow = Json{{"items", shallow}};
    EXPECT_NO_THROW(validate_schema(shallow));
}

// ---- validate_config ----------------------------------------------------------

TEST(ValidateConfig, Types) {
    struct Case {
        const char* type;
        const char* good;
        const char* bad;
        const char* bad_name;
    };
    for (const Case& c : std::vector<Case>{
             {"object", R"({})", "[]", "array"},
             {"array", "[1]", "{}", "object"},
             {"string", R"("x")", "1", "number"},
             {"number", "1.5", R"("1.5")", "string"},
             {"integer", "3", "true", "boolean"},
             {"boolean", "false", "0", "number"},
             {"null", "null", "false", "boolean"},
         }) {
        Json schema = {{"type", c.type}};
        EXPECT_NO_THROW(validate_config(schema, json(c.good))) << c.type;
        EXPECT_REFUSED(validate_config(schema, json(c.bad)), "value.config",
                       std::string("must be of type ") + c.type + ", not " + c.bad_name);
    }
    // integer: a number without a fractional part.
    Json integer = {{"type", "integer"}};
    EXPECT_NO_THROW(validate_config(integer, json("3.0")));
    EXPECT_NO_THROW(validate_config(integer, json("-7")));
    EXPECT_NO_THROW(validate_config(integer, json("1e3")));
    EXPECT_REFUSED(validate_config(integer, json("3.5")), "value.config", "must be an integer, not 3.5");
    // number accepts integers; boolean is not a number.
    EXPECT_NO_THROW(validate_config(Json{{"type", "number"}}, json("3")));
    EXPECT_REFUSED(validate_config(Json{{"type", "number"}}, json("true")), "value.config",
                   "must be of type number, not boolean");
    // Arrays of types.
    Json maybe = json(R"({"type":["integer","null"]})");
    EXPECT_NO_THROW(validate_config(maybe, json("null")));
    EXPECT_NO_THROW(validate_config(maybe, json("4")));
    EXPECT_REFUSED(validate_config(maybe, json("4.5")), "value.config", "must be an integer, not 4.5");
    EXPECT_REFUSED(validate_config(maybe, json(R"("4")")), "value.config",
                   "must be of type integer or null, not string");
}

TEST(ValidateConfig, Enum) {
    Json schema = kSupportSchema.at("properties").at("channel");
    EXPECT_NO_THROW(validate_config(schema, json(R"("email")"), "value.config.channel"));
    EXPECT_REFUSED(validate_config(schema, json(R"("phone")"), "value.config.channel"), "value.config.channel",
                   "must be one of \"community\", \"email\", \"dedicated\"");
    EXPECT_REFUSED(validate_config(schema, json(R"("Email")"), "value.config.channel"), "value.config.channel",
                   "must be one of \"community\", \"email\", \"dedicated\"");
    Json mixed = json(R"({"enum":[1, "two", null, {"a": [1]}]})");
    for (const char* good : {"1", "1.0", R"("two")", "null", R"({"a":[1]})"}) {
        EXPECT_NO_THROW(validate_config(mixed, json(good))) << good;
    }
    EXPECT_REFUSED(validate_config(mixed, json("2")), "value.config", R"(must be one of 1, "two", null, {"a":[1]})");
    EXPECT_REFUSED(validate_config(mixed, json(R"({"a":[2]})")), "value.config",
                   R"(must be one of 1, "two", null, {"a":[1]})");
}

TEST(ValidateConfig, MinimumAndMaximumAreInclusive) {
    Json schema = json(R"({"type":"number","minimum":1,"maximum":100})");
    for (const char* good : {"1", "1.0", "50.5", "100"}) EXPECT_NO_THROW(validate_config(schema, json(good))) << good;
    EXPECT_REFUSED(validate_config(schema, json("0")), "value.config", "0 is below the minimum 1");
    EXPECT_REFUSED(validate_config(schema, json("0.999")), "value.config", "0.999 is below the minimum 1");
    EXPECT_REFUSED(validate_config(schema, json("101")), "value.config", "101 is above the maximum 100");
    EXPECT_REFUSED(validate_config(schema, json("100.5")), "value.config", "100.5 is above the maximum 100");
    EXPECT_REFUSED(validate_config(json(R"({"minimum":-2.5})"), json("-3")), "value.config",
                   "-3 is below the minimum -2.5");
    // Bounds apply to numbers only, when no type is given.
    EXPECT_NO_THROW(validate_config(json(R"({"minimum":5})"), json(R"("x")")));
}

TEST(ValidateConfig, StringLengthCountsCharacters) {
    Json schema = json(R"({"type":"string","minLength":2,"maxLength":3})");
    EXPECT_NO_THROW(validate_config(schema, json(R"("ab")")));
    EXPECT_NO_THROW(validate_config(schema, json(R"("abc")")));
    EXPECT_NO_THROW(validate_config(schema, Json("\xc3\xa9\xc3\xa9\xc3\xa9")));  // 3 characters, 6 bytes
    EXPECT_REFUSED(validate_config(schema, json(R"("a")")), "value.config", "must be at least 2 characters long");
    EXPECT_REFUSED(validate_config(schema, Json("\xc3\xa9")), "value.config", "must be at least 2 characters long");
    EXPECT_REFUSED(validate_config(schema, json(R"("abcd")")), "value.config", "must be at most 3 characters long");
}

TEST(ValidateConfig, ArraysAndItems) {
    Json schema = json(R"({"type":"object","properties":{"list":{"type":"array","minItems":1,"maxItems":4,
        "items":{"type":"integer","minimum":0}}}})");
    EXPECT_NO_THROW(validate_config(schema, json(R"({"list":[0,1,2,3]})")));
    EXPECT_REFUSED(validate_config(schema, json(R"({"list":[]})")), "value.config.list", "must have at least 1 items");
    EXPECT_REFUSED(validate_config(schema, json(R"({"list":[1,2,3,4,5]})")), "value.config.list",
                   "must have at most 4 items");
    EXPECT_REFUSED(validate_config(schema, json(R"({"list":[0,1,2,-1]})")), "value.config.list[3]",
                   "-1 is below the minimum 0");
    EXPECT_REFUSED(validate_config(schema, json(R"({"list":[0,"1"]})")), "value.config.list[1]",
                   "must be of type integer, not string");
    // Arrays of objects: paths nest.
    Json objects = json(R"({"type":"array","items":{"type":"object","required":["id"],
        "properties":{"id":{"type":"string"}}}})");
    EXPECT_REFUSED(validate_config(objects, json(R"([{"id":"a"},{"id":"b"},{}])"), "value.config.rules"),
                   "value.config.rules[2].id", "is required");
    EXPECT_REFUSED(validate_config(objects, json(R"([{"id":"a"},{"id":7}])"), "value.config.rules"),
                   "value.config.rules[1].id", "must be of type string, not number");
}

TEST(ValidateConfig, ObjectsRequiredAndAdditionalProperties) {
    EXPECT_NO_THROW(validate_config(kAutoscalingSchema, json(R"({"minReplicas":1,"maxReplicas":10})")));
    EXPECT_NO_THROW(validate_config(kAutoscalingSchema,
                                    json(R"({"maxReplicas":100,"minReplicas":100,"targetDecisionsPerSecond":1})")));
    EXPECT_REFUSED(validate_config(kAutoscalingSchema, json(R"({"maxReplicas":10})")), "value.config.minReplicas",
                   "is required");
    EXPECT_REFUSED(validate_config(kAutoscalingSchema, json(R"({"minReplicas":0,"maxReplicas":10})")),
                   "value.config.minReplicas", "0 is below the minimum 1");
    EXPECT_REFUSED(validate_config(kAutoscalingSchema, json(R"({"minReplicas":1,"maxReplicas":200})")),
                   "value.config.maxReplicas", "200 is above the maximum 100");
    EXPECT_REFUSED(validate_config(kAutoscalingSchema, json(R"({"minReplicas":1.5,"maxReplicas":2})")),
                   "value.config.minReplicas", "must be an integer, not 1.5");
    EXPECT_REFUSED(validate_config(kAutoscalingSchema, json(R"({"minReplicas":1,"maxReplicas":2,"replicas":3})")),
                   "value.config.replicas",
                   "is not allowed (allowed: minReplicas, maxReplicas, targetDecisionsPerSecond)");
    EXPECT_REFUSED(validate_config(kAutoscalingSchema,
                                   json(R"({"minReplicas":1,"maxReplicas":2,"targetDecisionsPerSecond":0.5})")),
                   "value.config.targetDecisionsPerSecond", "0.5 is below the minimum 1");
    EXPECT_REFUSED(validate_config(kAutoscalingSchema, json("[]")), "value.config",
                   "must be of type object, not array");
    EXPECT_REFUSED(validate_config(json(R"({"additionalProperties":false})"), json(R"({"a":1})")), "value.config.a",
                   "is not allowed (no keys are)");

    // additionalProperties defaults to true; properties still check theirs.
    Json open = json(R"({"type":"object","properties":{"a":{"type":"string"}}})");
    EXPECT_NO_THROW(validate_config(open, json(R"({"a":"x","b":[1,2]})")));
    EXPECT_REFUSED(validate_config(open, json(R"({"b":1,"a":2})")), "value.config.a",
                   "must be of type string, not number");

    // Nested objects.
    Json nested = json(R"({"type":"object","properties":{"a":{"type":"object","additionalProperties":false,
        "properties":{"b":{"type":"object","required":["c"]}}}}})");
    EXPECT_NO_THROW(validate_config(nested, json(R"({"a":{"b":{"c":null}}})")));
    EXPECT_REFUSED(validate_config(nested, json(R"({"a":{"b":{}}})")), "value.config.a.b.c", "is required");
    EXPECT_REFUSED(validate_config(nested, json(R"({"a":{"x":{}}})")), "value.config.a.x",
                   "is not allowed (allowed: b)");
    EXPECT_REFUSED(validate_config(nested, json(R"({"a":{"b":5}})")), "value.config.a.b",
                   "must be of type object, not number");
}

TEST(ValidateConfig, SupportSchema) {
    EXPECT_NO_THROW(validate_config(kSupportSchema, json(R"({"channel":"dedicated","sla":true,"responseHours":4})")));
    EXPECT_REFUSED(validate_config(kSupportSchema, json(R"({"channel":"phone"})")), "value.config.channel",
                   "must be one of \"community\", \"email\", \"dedicated\"");
    EXPECT_REFUSED(validate_config(kSupportSchema, json(R"({"channel":"email","sla":"yes"})")), "value.config.sla",
                   "must be of type boolean, not string");
    EXPECT_REFUSED(validate_config(kSupportSchema, json(R"({"channel":"email","responseHours":0})")),
                   "value.config.responseHours", "0 is below the minimum 1");
    EXPECT_REFUSED(validate_config(kSupportSchema, json(R"({"sla":true})")), "value.config.channel", "is required");
}

// ---- evaluate -------------------------------------------------------------------

TEST(EntitlementEvaluate, NotEntitledIsDenied) {
    FeatureDefinition num = numeric();
    Evaluation e = evaluate(num, std::nullopt, Source::None, 12);
    EXPECT_EQ(e.feature, "api-calls");
    EXPECT_EQ(e.type, FeatureType::Numeric);
    EXPECT_EQ(e.status, Status::Denied);
    EXPECT_FALSE(e.enabled);
    EXPECT_EQ(e.limit, 0);  // none of it may be used; null would read as unlimited
    EXPECT_FALSE(e.percentage_used.has_value());
    EXPECT_EQ(e.current_usage, 12);
    EXPECT_EQ(e.source, Source::None);

    e = evaluate(num, limit_value(100, false), Source::Override, 5, 1);
    EXPECT_EQ(e.status, Status::Denied);
    EXPECT_FALSE(e.enabled);
    EXPECT_EQ(e.current_usage, 6);
    EXPECT_EQ(e.source, Source::Override);

    e = evaluate(define("boolean"), enabled_value(false), Source::Plan, 0);
    EXPECT_EQ(e.status, Status::Denied);
    EXPECT_FALSE(e.enabled);
    EXPECT_FALSE(e.limit.has_value());

    e = evaluate(autoscaling(), std::nullopt, Source::None, 0);
    EXPECT_EQ(e.status, Status::Denied);
    EXPECT_TRUE(e.config.is_null());
}

TEST(EntitlementEvaluate, BooleanAndConfigAreAccepted) {
    Evaluation e = evaluate(define("boolean"), enabled_value(true), Source::License, 0);
    EXPECT_EQ(e.status, Status::Accepted);
    EXPECT_TRUE(e.enabled);
    EXPECT_FALSE(e.limit.has_value());
    EXPECT_FALSE(e.percentage_used.has_value());
    EXPECT_EQ(e.source, Source::License);

    Json config = json(R"({"minReplicas":1,"maxReplicas":10})");
    e = evaluate(autoscaling(), config_value(config), Source::Plan, 0);
    EXPECT_EQ(e.status, Status::Accepted);
    EXPECT_TRUE(e.enabled);
    EXPECT_EQ(e.config, config);
    EXPECT_FALSE(e.percentage_used.has_value());
}

TEST(EntitlementEvaluate, UnlimitedIsAlwaysAccepted) {
    for (double usage : {0.0, 1e12}) {
        for (double requested : {0.0, 1e9}) {
            Evaluation e = evaluate(numeric(), limit_value(std::nullopt), Source::Plan, usage, requested);
            EXPECT_EQ(e.status, Status::Accepted);
            EXPECT_TRUE(e.enabled);
            EXPECT_FALSE(e.limit.has_value());
            EXPECT_FALSE(e.percentage_used.has_value());
            EXPECT_EQ(e.current_usage, usage + requested);
        }
    }
}

TEST(EntitlementEvaluate, HardLimitBoundaries) {
    FeatureDefinition def = numeric();
    Value limit = limit_value(100);
    Evaluation e = evaluate(def, limit, Source::Plan, 99);
    EXPECT_EQ(e.status, Status::Accepted);
    EXPECT_EQ(e.limit, 100);
    EXPECT_EQ(e.percentage_used, 99);
    // usage == limit: nothing more may be used.
    e = evaluate(def, limit, Source::Plan, 100);
    EXPECT_EQ(e.status, Status::LimitReached);
    EXPECT_EQ(e.percentage_used, 100);
    e = evaluate(def, limit, Source::Plan, 99.99);
    EXPECT_EQ(e.status, Status::Accepted);
    e = evaluate(def, limit, Source::Plan, 150);
    EXPECT_EQ(e.status, Status::LimitReached);
    EXPECT_EQ(e.percentage_used, 150);

    // check_usage: requested that lands exactly on the limit is allowed.
    e = evaluate(def, limit, Source::Plan, 99, 1);
    EXPECT_EQ(e.status, Status::Accepted);
    EXPECT_EQ(e.current_usage, 100);
    EXPECT_EQ(e.percentage_used, 100);
    // ... one past it is not.
    e = evaluate(def, limit, Source::Plan, 99, 2);
    EXPECT_EQ(e.status, Status::LimitReached);
    EXPECT_EQ(e.current_usage, 101);
    EXPECT_EQ(e.percentage_used, 101);
    e = evaluate(def, limit, Source::Plan, 0, 100.5);
    EXPECT_EQ(e.status, Status::LimitReached);
    e = evaluate(def, limit, Source::Plan, 100, 0.001);
    EXPECT_EQ(e.status, Status::LimitReached);
    e = evaluate(def, limit, Source::Plan, 0, 100);
    EXPECT_EQ(e.status, Status::Accepted);
}

TEST(EntitlementEvaluate, GraceCap) {
    FeatureDefinition def = numeric({{"gracePercent", 10}});
    Value limit = limit_value(100);
    EXPECT_EQ(evaluate(def, limit, Source::Plan, 100).status, Status::Accepted);
    EXPECT_EQ(evaluate(def, limit, Source::Plan, 109.9).status, Status::Accepted);
    Evaluation e = evaluate(def, limit, Source::Plan, 110);  // the cap itself
    EXPECT_EQ(e.status, Status::LimitReached);
    EXPECT_EQ(e.percentage_used, 110);
    EXPECT_EQ(evaluate(def, limit, Source::Plan, 105, 5).status, Status::Accepted);
    EXPECT_EQ(evaluate(def, limit, Source::Plan, 105, 6).status, Status::LimitReached);

    // Fractional grace, large limit: the cap is exact.
    FeatureDefinition fractional = numeric({{"gracePercent", 12.5}});
    EXPECT_EQ(evaluate(fractional, limit_value(1000), Source::Plan, 1124).status, Status::Accepted);
    EXPECT_EQ(evaluate(fractional, limit_value(1000), Source::Plan, 1125).status, Status::LimitReached);
    EXPECT_EQ(evaluate(fractional, limit_value(1000), Source::Plan, 1000, 125).status, Status::Accepted);
    EXPECT_EQ(evaluate(fractional, limit_value(1000), Source::Plan, 1000, 126).status, Status::LimitReached);
    FeatureDefinition small = numeric({{"gracePercent", 0.1}});
    EXPECT_EQ(evaluate(small, limit_value(10000), Source::Plan, 10009).status, Status::Accepted);
    EXPECT_EQ(evaluate(small, limit_value(10000), Source::Plan, 10010).status, Status::LimitReached);

    // Grace is for hard limits; soft limits ignore it.
    FeatureDefinition soft = numeric({{"gracePercent", 10}, {"limitType", "soft"}});
    EXPECT_EQ(evaluate(soft, limit, Source::Plan, 500).status, Status::Accepted);
}

TEST(EntitlementEvaluate, SoftLimitShowsOverage) {
    FeatureDefinition def = numeric({{"limitType", "soft"}});
    Evaluation e = evaluate(def, limit_value(100), Source::Plan, 150);
    EXPECT_EQ(e.status, Status::Accepted);
    EXPECT_EQ(e.percentage_used, 150);
    e = evaluate(def, limit_value(100), Source::Plan, 100);
    EXPECT_EQ(e.status, Status::Accepted);
    e = evaluate(def, limit_value(100), Source::Plan, 150, 1000);
    EXPECT_EQ(e.status, Status::Accepted);
    EXPECT_EQ(e.current_usage, 1150);
    EXPECT_EQ(e.percentage_used, 1150);
}

TEST(EntitlementEvaluate, LimitZero) {
    Evaluation e = evaluate(numeric(), limit_value(0), Source::Override, 0);
    EXPECT_EQ(e.status, Status::LimitReached);
    EXPECT_TRUE(e.enabled);
    EXPECT_EQ(e.limit, 0);
    EXPECT_FALSE(e.percentage_used.has_value());
    EXPECT_EQ(evaluate(numeric(), limit_value(0), Source::Plan, 0, 1).status, Status::LimitReached);
    EXPECT_EQ(evaluate(numeric({{"gracePercent", 50}}), limit_value(0), Source::Plan, 0).status, Status::LimitReached);
    e = evaluate(numeric({{"limitType", "soft"}}), limit_value(0), Source::Plan, 5);
    EXPECT_EQ(e.status, Status::Accepted);
    EXPECT_FALSE(e.percentage_used.has_value());
}

TEST(EntitlementEvaluate, NegativeRequestIsACorrection) {
    Evaluation e = evaluate(numeric(), limit_value(100), Source::Plan, 120, -5);
    EXPECT_EQ(e.status, Status::Accepted);
    EXPECT_EQ(e.current_usage, 115);
}

TEST(EntitlementEvaluate, PercentageRoundsHalfAwayFromZeroToOneDecimal) {
    struct Case {
        double usage, limit, expected;
    };
    for (const Case& c : std::vector<Case>{
             {67433, 100000, 67.4},
             {1, 2000, 0.1},  // 0.05 -> 0.1
             {3, 2000, 0.2},  // 0.15 -> 0.2
             {1, 3, 33.3},
             {2, 3, 66.7},
             {9999, 10000, 100},  // 99.99 -> 100.0
             {9994, 10000, 99.9},
             {0, 10000, 0},
             {-1, 2000, -0.1},  // a correction below zero rounds away from zero too
             {450000, 500000, 90},
             {1, 1e12, 0},
         }) {
        auto e = evaluate(numeric({{"limitType", "soft"}}), limit_value(c.limit), Source::Plan, c.usage);
        ASSERT_TRUE(e.percentage_used.has_value());
        EXPECT_DOUBLE_EQ(*e.percentage_used, c.expected) << c.usage << " / " << c.limit;
        EXPECT_FALSE(std::signbit(*e.percentage_used) && *e.percentage_used == 0) << "-0 for " << c.usage;
    }
}

// ---- evaluation_json ----------------------------------------------------------

TEST(EvaluationJson, TheSeedsExample) {
    Evaluation e = evaluate(numeric(), limit_value(100000), Source::Plan, 67433);
    EXPECT_EQ(evaluation_json(e).dump(),
              R"({"entitlement":"api-calls","type":"numeric","enabled":true,"limit":100000,"currentUsage":67433,)"
              R"("percentageUsed":67.4,"status":"ACCEPTED"})");
}

TEST(EvaluationJson, NumberFormattingAndNulls) {
    Evaluation e = evaluate(numeric(), limit_value(std::nullopt), Source::Plan, 12);
    EXPECT_EQ(evaluation_json(e).dump(),
              R"({"entitlement":"api-calls","type":"numeric","enabled":true,"limit":null,"currentUsage":12,)"
              R"("percentageUsed":null,"status":"ACCEPTED"})");

    e = evaluate(numeric(), limit_value(10), Source::Plan, 9.5, 0.5);
    EXPECT_EQ(evaluation_json(e).dump(),
              R"({"entitlement":"api-calls","type":"numeric","enabled":true,"limit":10,"currentUsage":10,)"
              R"("percentageUsed":100,"status":"ACCEPTED"})");

    e = evaluate(numeric(), limit_value(2.5), Source::Plan, 2.5);
    EXPECT_EQ(evaluation_json(e).dump(),
              R"({"entitlement":"api-calls","type":"numeric","enabled":true,"limit":2.5,"currentUsage":2.5,)"
              R"("percentageUsed":100,"status":"LIMIT_REACHED"})");

    e = evaluate(numeric(), std::nullopt, Source::None, 3);
    EXPECT_EQ(evaluation_json(e).dump(),
              R"({"entitlement":"api-calls","type":"numeric","enabled":false,"limit":0,"currentUsage":3,)"
              R"("percentageUsed":null,"status":"DENIED"})");

    // Integral doubles are integers, also past 2^31.
    e = evaluate(numeric(), limit_value(1e13), Source::Plan, 5e12);
    Json out = evaluation_json(e);
    EXPECT_TRUE(out["limit"].is_number_integer());
    EXPECT_TRUE(out["currentUsage"].is_number_integer());
    EXPECT_EQ(out["limit"].dump(), "10000000000000");
    EXPECT_EQ(out["percentageUsed"].dump(), "50");
    EXPECT_TRUE(
        evaluation_json(evaluate(numeric(), limit_value(3), Source::Plan, 1))["percentageUsed"].is_number_float());
}

TEST(EvaluationJson, BooleanAndConfigShapes) {
    Evaluation e = evaluate(define("boolean", Json::object(), "journeys"), enabled_value(true), Source::Plan, 0);
    EXPECT_EQ(evaluation_json(e).dump(),
              R"({"entitlement":"journeys","type":"boolean","enabled":true,"limit":null,"currentUsage":0,)"
              R"("percentageUsed":null,"status":"ACCEPTED"})");

    e = evaluate(autoscaling(), config_value(json(R"({"minReplicas":1,"maxReplicas":10})")), Source::Plan, 0);
    EXPECT_EQ(evaluation_json(e).dump(),
              R"({"entitlement":"autoscaling","type":"config","enabled":true,"limit":null,"currentUsage":0,)"
              R"("percentageUsed":null,"status":"ACCEPTED","config":{"minReplicas":1,"maxReplicas":10}})");

    e = evaluate(autoscaling(), std::nullopt, Source::None, 0);
    EXPECT_EQ(evaluation_json(e).dump(),
              R"({"entitlement":"autoscaling","type":"config","enabled":false,"limit":null,"currentUsage":0,)"
              R"("percentageUsed":null,"status":"DENIED","config":null})");
}

TEST(EvaluationJson, KeysInSpecOrder) {
    Evaluation e = evaluate(numeric(), limit_value(10), Source::Plan, 1);
    std::vector<std::string> keys;
    const Json out = evaluation_json(e);  // items() refers to it: it must outlive the loop
    for (const auto& [key, value] : out.items()) keys.push_back(key);
    EXPECT_EQ(keys, (std::vector<std::string>{"entitlement", "type", "enabled", "limit", "currentUsage",
                                              "percentageUsed", "status"}));
}

// ---- resolve --------------------------------------------------------------------

TEST(Resolve, Precedence) {
    constexpr int64_t now = 1767225600;
    Candidates c;
    c.override_value = limit_value(3);
    c.license_value = limit_value(2);
    c.plan_value = limit_value(1);

    Resolved r = resolve(c, now);
    EXPECT_EQ(r.source, Source::Override);
    EXPECT_EQ(r.value->limit, 3);

    c.override_expires_at = now + 1;
    EXPECT_EQ(resolve(c, now).source, Source::Override);

    // Expiring exactly now: no longer in force.
    c.override_expires_at = now;
    r = resolve(c, now);
    EXPECT_EQ(r.source, Source::License);
    EXPECT_EQ(r.value->limit, 2);

    c.override_expires_at = now - 86400;
    EXPECT_EQ(resolve(c, now).source, Source::License);

    c.license_value.reset();
    r = resolve(c, now);
    EXPECT_EQ(r.source, Source::Plan);
    EXPECT_EQ(r.value->limit, 1);

    c.plan_value.reset();
    r = resolve(c, now);
    EXPECT_EQ(r.source, Source::None);
    EXPECT_FALSE(r.value.has_value());

    EXPECT_EQ(resolve(Candidates{}, now).source, Source::None);
}

TEST(Resolve, DisabledOverrideStillWins) {
    // An override may take a feature away (e.g. during a dispute).
    Candidates c;
    c.override_value = enabled_value(false);
    c.plan_value = enabled_value(true);
    Resolved r = resolve(c, 0);
    EXPECT_EQ(r.source, Source::Override);
    EXPECT_FALSE(r.value->enabled);
    EXPECT_EQ(evaluate(define("boolean"), r.value, r.source, 0).status, Status::Denied);
}

// ---- license_claim ----------------------------------------------------------------

license::Claims claims(const Json& limits, const Json& features) {
    license::Claims out;
    out.limits = limits;
    out.features = features;
    return out;
}

TEST(LicenseClaim, NumericFromLimits) {
    FeatureDefinition def = numeric();
    auto v = license_claim(def, claims(json(R"({"api-calls": 750000})"), Json::object()));
    ASSERT_TRUE(v);
    EXPECT_TRUE(v->enabled);
    EXPECT_EQ(v->limit, 750000);

    v = license_claim(def, claims(json(R"({"api-calls": {"limit": null}})"), Json::object()));
    ASSERT_TRUE(v);
    EXPECT_TRUE(v->enabled);
    EXPECT_FALSE(v->limit.has_value());

    v = license_claim(def, claims(json(R"({"api-calls": {"limit": 5, "enabled": false}})"), Json::object()));
    ASSERT_TRUE(v);
    EXPECT_FALSE(v->enabled);

    // Numeric claims are read from limits only.
    EXPECT_FALSE(license_claim(def, claims(Json::object(), json(R"({"api-calls": {"limit": 5}})"))));
    EXPECT_FALSE(license_claim(def, claims(json(R"({"other": 5})"), Json::object())));
    EXPECT_FALSE(license_claim(def, claims(json(R"({"api-calls": null})"), Json::object())));
}

TEST(LicenseClaim, BooleanAndConfigFromFeatures) {
    FeatureDefinition journeys = define("boolean", Json::object(), "journeys");
    auto v = license_claim(journeys, claims(Json::object(), json(R"({"journeys": true})")));
    ASSERT_TRUE(v);
    EXPECT_TRUE(v->enabled);
    v = license_claim(journeys, claims(Json::object(), json(R"({"journeys": false})")));
    ASSERT_TRUE(v);
    EXPECT_FALSE(v->enabled);
    v = license_claim(journeys, claims(Json::object(), json(R"({"journeys": {"enabled": true}})")));
    ASSERT_TRUE(v);
    EXPECT_TRUE(v->enabled);
    EXPECT_FALSE(license_claim(journeys, claims(json(R"({"journeys": true})"), Json::object())));

    FeatureDefinition scaling = autoscaling();
    v = license_claim(
        scaling, claims(Json::object(), json(R"({"autoscaling": {"config": {"minReplicas": 2, "maxReplicas": 50}}})")));
    ASSERT_TRUE(v);
    EXPECT_TRUE(v->enabled);
    EXPECT_EQ(v->config, json(R"({"minReplicas": 2, "maxReplicas": 50})"));
}

TEST(LicenseClaim, MalformedClaimsAreIgnored) {
    FeatureDefinition def = numeric();
    for (const char* limit : {R"("lots")", "-5", "true", "[5]", R"({"limit": -1})", R"({"lmt": 5})", "{}",
                              R"({"limit": 5, "enabled": "yes"})"}) {
        Json limits = {{"api-calls", json(limit)}};
        EXPECT_FALSE(license_claim(def, claims(limits, Json::object()))) << limit;
    }
    FeatureDefinition journeys = define("boolean", Json::object(), "journeys");
    for (const char* feature : {R"("yes")", "1", "{}", R"({"enabled": "true"})", R"({"limit": 5})"}) {
        Json features = {{"journeys", json(feature)}};
        EXPECT_FALSE(license_claim(journeys, claims(Json::object(), features))) << feature;
    }
    FeatureDefinition scaling = autoscaling();
    for (const char* feature : {"true", R"({"config": {"minReplicas": 1, "maxReplicas": 200}})",
                                R"({"config": {"minReplicas": 1}})", R"({"minReplicas": 1, "maxReplicas": 2})"}) {
        Json features = {{"autoscaling", json(feature)}};
        EXPECT_FALSE(license_claim(scaling, claims(Json::object(), features))) << feature;
    }
    // Claims objects that are not objects at all (read_claims prevents it; be safe anyway).
    EXPECT_FALSE(license_claim(def, claims(json("[1]"), json("null"))));
    EXPECT_FALSE(license_claim(journeys, claims(json("[1]"), json("\"x\""))));
}

// ---- the seed's table ------------------------------------------------------------

const BuiltinFeature& builtin(std::string_view key) {
    for (const auto& feature : builtin_features()) {
        if (feature.definition.key == key) return feature;
    }
    throw std::runtime_error("no built-in feature " + std::string(key));
}

TEST(BuiltinFeatures, KeysInOrder) {
    std::vector<std::string> keys;
    for (const auto& feature : builtin_features()) keys.push_back(feature.definition.key);
    EXPECT_EQ(keys, (std::vector<std::string>{"decisions_per_month",
                                              "scoring.scorecard",
                                              "scoring.bayesian",
                                              "scoring.gradient_boosted",
                                              "scoring.custom",
                                              "ranking.top_n",
                                              "ranking.arbitration",
                                              "connectors",
                                              "connectors.custom",
                                              "pipelines.streaming",
                                              "experiments.ab",
                                              "experiments.bandit",
                                              "journeys",
                                              "triggers",
                                              "content_items",
                                              "cms_sources",
                                              "behavioral_metrics",
                                              "decision_traces_per_day",
                                              "autoscaling",
                                              "support"}));
    // The same object on every call: the decision engine holds references.
    EXPECT_EQ(&builtin_features(), &builtin_features());
}

TEST(BuiltinFeatures, BooleanRowsMatchTheSeed) {
    struct Row {
        const char* key;
        std::array<bool, 3> enabled;
    };
    const std::vector<Row> rows = {
        {"scoring.scorecard", {true, true, true}},
        {"scoring.bayesian", {false, true, true}},
        {"scoring.gradient_boosted", {false, true, true}},
        {"scoring.custom", {false, false, true}},
        {"ranking.top_n", {true, true, true}},
        {"ranking.arbitration", {false, true, true}},
        {"connectors.custom", {false, false, true}},
        {"pipelines.streaming", {false, true, true}},
        {"experiments.ab", {false, true, true}},
        {"experiments.bandit", {false, false, true}},
        {"journeys", {false, false, true}},
        {"triggers", {false, false, true}},
    };
    for (const Row& row : rows) {
        const BuiltinFeature& feature = builtin(row.key);
        EXPECT_EQ(feature.definition.type, FeatureType::Boolean) << row.key;
        for (size_t tier = 0; tier < 3; ++tier) {
            // A boolean the tier lacks is {"enabled": false}, not "no value".
            ASSERT_TRUE(feature.tiers[tier].has_value()) << row.key << " tier " << tier;
            EXPECT_EQ(feature.tiers[tier]->enabled, row.enabled[tier]) << row.key << " tier " << tier;
            EXPECT_FALSE(feature.tiers[tier]->limit.has_value()) << row.key;
        }
    }
}

TEST(BuiltinFeatures, NumericRowsMatchTheSeed) {
    constexpr std::optional<double> unlimited;
    struct Row {
        const char* key;
        Period period;
        std::array<std::optional<double>, 3> limits;
    };
    const std::vector<Row> rows = {
        {"decisions_per_month", Period::Month, {10000, 500000, unlimited}},
        {"connectors", Period::Never, {5, unlimited, unlimited}},
        {"content_items", Period::Never, {100, 1000, unlimited}},
        {"cms_sources", Period::Never, {2, 10, unlimited}},
        {"behavioral_metrics", Period::Never, {5, 15, 20}},
        {"decision_traces_per_day", Period::Day, {100, 10000, unlimited}},
    };
    for (const Row& row : rows) {
        const BuiltinFeature& feature = builtin(row.key);
        EXPECT_EQ(feature.definition.type, FeatureType::Numeric) << row.key;
        EXPECT_EQ(feature.definition.aggregation, Aggregation::Count) << row.key;
        EXPECT_EQ(feature.definition.period, row.period) << row.key;
        EXPECT_EQ(feature.definition.limit_type, LimitType::Hard) << row.key;
        EXPECT_EQ(feature.definition.grace_percent, 0) << row.key;
        for (size_t tier = 0; tier < 3; ++tier) {
            ASSERT_TRUE(feature.tiers[tier].has_value()) << row.key;
            EXPECT_TRUE(feature.tiers[tier]->enabled) << row.key;
            EXPECT_EQ(feature.tiers[tier]->limit, row.limits[tier]) << row.key << " tier " << tier;
        }
    }
    const auto& decisions = builtin("decisions_per_month").definition;
    EXPECT_EQ(decisions.unit, "decisions");
    EXPECT_EQ(decisions.thresholds, (std::vector<int>{90, 95, 100}));
    EXPECT_TRUE(builtin("connectors").definition.thresholds.empty());  // the defaults
}

TEST(BuiltinFeatures, ConfigRowsMatchTheSeed) {
    const BuiltinFeature& scaling = builtin("autoscaling");
    EXPECT_EQ(scaling.definition.type, FeatureType::Config);
    EXPECT_EQ(scaling.definition.schema, kAutoscalingSchema);
    EXPECT_FALSE(scaling.tiers[0].has_value());
    EXPECT_FALSE(scaling.tiers[1].has_value());
    ASSERT_TRUE(scaling.tiers[2].has_value());
    EXPECT_TRUE(scaling.tiers[2]->enabled);
    EXPECT_EQ(scaling.tiers[2]->config, json(R"({"minReplicas":1,"maxReplicas":10})"));

    const BuiltinFeature& support = builtin("support");
    EXPECT_EQ(support.definition.type, FeatureType::Config);
    EXPECT_EQ(support.definition.schema, kSupportSchema);
    const std::array<const char*, 3> configs = {R"({"channel":"community"})",
                                                R"({"channel":"email","responseHours":24})",
                                                R"({"channel":"dedicated","sla":true,"responseHours":4})"};
    for (size_t tier = 0; tier < 3; ++tier) {
        ASSERT_TRUE(support.tiers[tier].has_value());
        EXPECT_TRUE(support.tiers[tier]->enabled);
        EXPECT_EQ(support.tiers[tier]->config.dump(), configs[tier]);
    }
}

TEST(BuiltinFeatures, EveryDefinitionAndValueIsValid) {
    for (const auto& feature : builtin_features()) {
        const FeatureDefinition& def = feature.definition;
        SCOPED_TRACE(def.key);
        EXPECT_EQ(feature_key_problem(def.key), "");
        EXPECT_FALSE(feature.description.empty());
        FeatureDefinition back = FeatureDefinition::from_options(def.key, name(def.type), def.options());
        EXPECT_EQ(back.options(), def.options());
        for (size_t tier = 0; tier < 3; ++tier) {
            if (!feature.tiers[tier]) continue;
            Json stored = value_json(def.type, *feature.tiers[tier]);
            Value parsed;
            ASSERT_NO_THROW(parsed = parse_value(def, stored)) << stored.dump();
            EXPECT_EQ(value_json(def.type, parsed), stored);
            EXPECT_EQ(parsed.enabled, feature.tiers[tier]->enabled);
            EXPECT_EQ(parsed.limit, feature.tiers[tier]->limit);
        }
    }
}

TEST(BuiltinFeatures, CommunityDecisionQuota) {
    const BuiltinFeature& decisions = builtin("decisions_per_month");
    Evaluation e = evaluate(decisions.definition, decisions.tiers[0], Source::Plan, 10000);
    EXPECT_EQ(e.status, Status::LimitReached);
    EXPECT_EQ(evaluation_json(e)["limit"].dump(), "10000");
    e = evaluate(decisions.definition, decisions.tiers[0], Source::Plan, 9999, 1);
    EXPECT_EQ(e.status, Status::Accepted);
    e = evaluate(decisions.definition, decisions.tiers[2], Source::Plan, 1e9, 1);
    EXPECT_EQ(e.status, Status::Accepted);
}

TEST(LowestTier, FromTheSeed) {
    EXPECT_EQ(lowest_tier(builtin("journeys").tiers), Tier::Enterprise);
    EXPECT_EQ(lowest_tier(builtin("experiments.ab").tiers), Tier::Professional);
    EXPECT_EQ(lowest_tier(builtin("ranking.top_n").tiers), Tier::Community);
    EXPECT_EQ(lowest_tier(builtin("autoscaling").tiers), Tier::Enterprise);
    EXPECT_EQ(lowest_tier(builtin("scoring.custom").tiers), Tier::Enterprise);
    EXPECT_EQ(lowest_tier(builtin("decisions_per_month").tiers), Tier::Community);
    EXPECT_EQ(lowest_tier(builtin("support").tiers), Tier::Community);
    for (const auto& feature : builtin_features()) {
        EXPECT_TRUE(lowest_tier(feature.tiers).has_value()) << feature.definition.key;
    }
}

TEST(LowestTier, EdgeCases) {
    EXPECT_FALSE(lowest_tier({std::nullopt, std::nullopt, std::nullopt}).has_value());
    EXPECT_FALSE(lowest_tier({enabled_value(false), enabled_value(false), enabled_value(false)}).has_value());
    EXPECT_EQ(lowest_tier({std::nullopt, enabled_value(true), std::nullopt}), Tier::Professional);
    // A limit of 0 enables nothing.
    EXPECT_EQ(lowest_tier({limit_value(0), limit_value(0), limit_value(5)}), Tier::Enterprise);
    EXPECT_EQ(lowest_tier({limit_value(std::nullopt, false), limit_value(std::nullopt), std::nullopt}),
              Tier::Professional);
}

}  // namespace
}  // namespace kaireon::entitlements
