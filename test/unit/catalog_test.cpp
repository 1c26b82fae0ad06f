// catalog_test.cpp - the decision catalog's core (SPEC 6.1, 6.3): the
// document format (every entity, its fields, defaults, kinds, bounds,
// identifiers, expressions, references and the rules across fields of
// offers, categories, policies and their twelve config types, caps, metrics,
// models, flows, experiments, journeys and triggers), row_key, valid_id and
// format_timestamp (src/core/catalog.h); and the compiled catalog: sorting,
// path resolution and the eligibility verdict of one offer
// (src/core/catalog_compiled.h).
//
// Tests named * (suite CatalogNormalisation) state the behaviour
// SPEC 6.1/6.3 calls for where the code, as written, seems to differ.
#include "core/catalog.h"

#include "core/catalog_compiled.h"
#include "core/error.h"
#include "core/expr.h"

#include "refusal.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kaireon::catalog {
namespace {

using test_support::refusal;

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

Json json(std::string_view text) { return Json::parse(text); }

// entity returns the entity with document key `key` (a test error if none).
const Entity& entity(std::string_view key) {
    const Entity* e = find_entity(key);
    if (e == nullptr) throw std::logic_error("no entity " + std::string(key));
    return *e;
}

// check validates `object` as an entity `key` at "<key>[0]" (or `path`).
Validated check(std::string_view key, const Json& object, const std::string& path = {}, const Hooks& hooks = {}) {
    return validate(entity(key), object, path.empty() ? std::string(key) + "[0]" : path, hooks);
}
Validated check(std::string_view key, const char* text) { return check(key, json(text)); }

// refs returns the references of a validated object as "entity id @ path".
std::vector<std::string> refs(const Validated& v) {
    std::vector<std::string> out;
    for (const auto& r : v.references) out.push_back(std::string(r.entity) + " " + r.id + " @ " + r.path);
    return out;
}

// zones is the time zone hook of the tests: two zones exist.
Hooks zones() {
    Hooks hooks;
    hooks.valid_timezone = [](std::string_view zone) { return zone == "Europe/Paris" || zone == "UTC"; };
    return hooks;
}

// A minimal valid object of every entity: its required fields only.
const std::vector<std::pair<std::string_view, std::string_view>> kMinimal = {
    {"categories", R"({"id": "c"})"},
    {"channels", R"({"id": "web", "type": "web"})"},
    {"placements", R"({"id": "hero", "channelId": "web"})"},
    {"outcomeTypes", R"({"id": "click", "kind": "positive"})"},
    {"offers", R"({"id": "gold"})"},
    {"creatives", R"({"id": "cr", "offerId": "gold", "channelId": "web"})"},
    {"customers", R"({"id": "u1"})"},
    {"consents", R"({"customerId": "u1", "channelId": "web", "granted": true})"},
    {"metrics", R"({"id": "m", "definition": {"outcomeTypes": ["click"], "windowDays": 30}})"},
    {"models", R"({"id": "md", "type": "scorecard", "definition": {}})"},
    {"flows", R"({"id": "f"})"},
    {"experiments", R"({"id": "x", "flowId": "f", "type": "bandit", "bandit": {"algorithm": "thompson"}})"},
    {"policies", R"({"id": "p", "type": "budget_exhausted"})"},
    {"caps", R"({"id": "cap", "scope": "offer", "scopeId": "gold", "maxVolume": 10, "period": "daily"})"},
    {"journeys", R"({"id": "j", "nodes": [{"id": "n", "type": "exit"}]})"},
    {"triggers", R"({"id": "t", "eventType": "purchase", "action": {"type": "webhook", "endpointId": 1}})"},
    {"connectors", R"({"id": "k", "type": "kafka"})"},
    {"cmsSources", R"({"id": "s", "type": "contentful"})"},
};

Json minimal(std::string_view key) {
    for (const auto& [k, text] : kMinimal)
        if (k == key) return json(text);
    throw std::logic_error("no minimal object for " + std::string(key));
}

std::string field_names(const Entity& e) {
    std::string out;
    for (const auto& f : e.fields) out += (out.empty() ? "" : ", ") + std::string(f.name);
    return out;
}

// policy returns a policy object of type `type` with `config`.
Json policy(std::string_view type, const Json& config) {
    return Json{{"id", "p"}, {"type", std::string(type)}, {"config", config}};
}

// --- the entities -----------------------------------------------------------------

TEST(CatalogEntities, EveryDocumentKeyInDependencyOrder) {
    std::vector<std::string> keys;
    for (const auto& e : entities()) keys.emplace_back(e.key);
    EXPECT_THAT(keys, ElementsAre("categories", "channels", "placements", "outcomeTypes", "offers", "creatives",
                                  "customers", "consents", "metrics", "models", "flows", "experiments", "policies",
                                  "caps", "journeys", "triggers", "connectors", "cmsSources"));
}

TEST(CatalogEntities, FindByKeyAndByTable) {
    ASSERT_NE(find_entity("cmsSources"), nullptr);
    EXPECT_EQ(find_entity("cmsSources")->table, "cms_sources");
    EXPECT_EQ(find_entity("outcomeTypes")->table, "outcome_types");
    EXPECT_EQ(find_entity_by_table("cms_sources"), find_entity("cmsSources"));
    EXPECT_EQ(find_entity_by_table("outcome_types"), find_entity("outcomeTypes"));
    EXPECT_EQ(find_entity_by_table("offers"), find_entity("offers"));
    EXPECT_EQ(find_entity("cms_sources"), nullptr);
    EXPECT_EQ(find_entity_by_table("cmsSources"), nullptr);
    EXPECT_EQ(find_entity("offer"), nullptr);
    EXPECT_EQ(find_entity(""), nullptr);
    EXPECT_EQ(find_entity("Offers"), nullptr);
}

TEST(CatalogEntities, KeyFieldsAndLimitFeatures) {
    for (const auto& e : entities()) {
        if (e.key == "consents") {
            EXPECT_THAT(e.key_fields, ElementsAre("customerId", "channelId"));
        } else {
            EXPECT_THAT(e.key_fields, ElementsAre("id")) << e.key;
            ASSERT_NE(e.field("id"), nullptr) << e.key;
            EXPECT_TRUE(e.field("id")->required) << e.key;
        }
    }
    EXPECT_EQ(entity("creatives").limit_feature, "content_items");
    EXPECT_EQ(entity("metrics").limit_feature, "behavioral_metrics");
    EXPECT_EQ(entity("connectors").limit_feature, "connectors");
    EXPECT_EQ(entity("cmsSources").limit_feature, "cms_sources");
    EXPECT_EQ(entity("offers").limit_feature, "");
    EXPECT_EQ(entity("policies").limit_feature, "");
}

TEST(CatalogEntities, FieldColumnsAndSqlTypes) {
    const Entity& offers = entity("offers");
    EXPECT_EQ(offers.field("categoryId")->column, "category_id");
    EXPECT_EQ(offers.field("startAt")->column, "start_at");
    EXPECT_EQ(offers.field("id")->sql_type, "text");
    EXPECT_EQ(offers.field("priority")->sql_type, "double precision");
    EXPECT_EQ(offers.field("startAt")->sql_type, "timestamptz");
    EXPECT_EQ(offers.field("status")->sql_type, "text");
    EXPECT_EQ(offers.field("eligibility")->sql_type, "text");
    EXPECT_EQ(offers.field("mandatory")->sql_type, "boolean");
    EXPECT_EQ(offers.field("attributes")->sql_type, "jsonb");
    EXPECT_EQ(offers.field("budget")->sql_type, "jsonb");
    EXPECT_EQ(offers.field("nothing"), nullptr);
    EXPECT_EQ(entity("policies").field("priority")->sql_type, "integer");
    EXPECT_EQ(entity("customers").field("segments")->sql_type, "text[]");
    EXPECT_EQ(entity("customers").field("timezone")->sql_type, "text");
    EXPECT_EQ(entity("flows").field("groups")->sql_type, "jsonb");
    EXPECT_EQ(entity("experiments").field("holdoutPercent")->column, "holdout_percent");
    EXPECT_EQ(entity("caps").field("maxVolume")->column, "max_volume");
    EXPECT_EQ(entity("triggers").field("cooldownSeconds")->column, "cooldown_seconds");
    EXPECT_EQ(entity("consents").field("customerId")->column, "customer_id");
}

void collect_refs(const Spec& spec, std::vector<std::string_view>& out) {
    if (!spec.ref.empty()) out.push_back(spec.ref);
    for (const auto& p : spec.properties) collect_refs(*p.spec, out);
    if (spec.items) collect_refs(*spec.items, out);
}

TEST(CatalogEntities, ReferencesNameEarlierEntities) {
    const auto& all = entities();
    for (size_t i = 0; i < all.size(); ++i) {
        for (const auto& f : all[i].fields) {
            std::vector<std::string_view> targets;
            collect_refs(*f.spec, targets);
            for (auto target : targets) {
                const Entity* t = find_entity(target);
                ASSERT_NE(t, nullptr) << all[i].key << "." << f.name << " -> " << target;
                size_t at = static_cast<size_t>(t - all.data());
                if (t == &all[i]) continue;  // categories.parentId
                EXPECT_LT(at, i) << all[i].key << "." << f.name << " -> " << target;
            }
        }
    }
}

// --- minimal objects and defaults -----------------------------------------------------

TEST(CatalogDefaults, EveryEntityValidatesAMinimalObject) {
    ASSERT_EQ(kMinimal.size(), entities().size());
    for (const auto& e : entities()) {
        SCOPED_TRACE(std::string(e.key));
        Json object = minimal(e.key);
        Validated v = validate(e, object, std::string(e.key) + "[0]");
        // Every field, in field order, present in the row.
        std::vector<std::string> keys;
        for (const auto& [k, value] : v.row.items()) keys.push_back(k);
        std::vector<std::string> names;
        for (const auto& f : e.fields) names.emplace_back(f.name);
        EXPECT_EQ(keys, names);
        for (const auto& f : e.fields) {
            if (object.contains(std::string(f.name))) continue;
            EXPECT_EQ(v.row[std::string(f.name)], f.default_value) << f.name;
        }
    }
}

TEST(CatalogDefaults, Offers) {
    Validated v = check("offers", R"({"id": "gold"})");
    EXPECT_EQ(v.row, json(R"({"id": "gold", "name": null, "categoryId": null, "priority": 50, "value": 0, "lever": 1,
                              "startAt": null, "endAt": null, "status": "active", "eligibility": null,
                              "mandatory": false, "budget": null, "attributes": {}})"));
    EXPECT_TRUE(v.row["attributes"].is_object());
    EXPECT_TRUE(v.row["mandatory"].is_boolean());
    EXPECT_THAT(v.references, IsEmpty());
}

TEST(CatalogDefaults, Policies) {
    Validated v = check("policies", R"({"id": "p", "type": "budget_exhausted"})");
    EXPECT_EQ(v.row, json(R"({"id": "p", "name": null, "type": "budget_exhausted", "priority": 100, "scope": "global",
                              "scopeId": null, "config": {}, "enabled": true, "bypassable": true})"));
    EXPECT_THAT(v.references, IsEmpty());
}

TEST(CatalogDefaults, Experiments) {
    Validated v = check("experiments", minimal("experiments"));
    EXPECT_EQ(v.row, json(R"({"id": "x", "name": null, "flowId": "f", "type": "bandit", "variants": [],
                              "holdoutPercent": 0, "bandit": {"algorithm": "thompson"}, "status": "draft"})"));
}

TEST(CatalogDefaults, OtherEntities) {
    EXPECT_EQ(check("channels", minimal("channels")).row,
              json(R"({"id": "web", "name": null, "type": "web", "batch": false})"));
    EXPECT_EQ(check("placements", minimal("placements")).row,
              json(R"({"id": "hero", "channelId": "web", "name": null, "slots": 1})"));
    EXPECT_EQ(check("customers", minimal("customers")).row,
              json(R"({"id": "u1", "attributes": {}, "segments": [], "timezone": null})"));
    EXPECT_EQ(check("creatives", minimal("creatives")).row,
              json(R"({"id": "cr", "offerId": "gold", "channelId": "web", "placementId": null, "name": null,
                       "content": {}})"));
    EXPECT_EQ(check("caps", minimal("caps")).row,
              json(R"({"id": "cap", "name": null, "scope": "offer", "scopeId": "gold", "maxVolume": 10,
                       "period": "daily", "enabled": true})"));
    EXPECT_EQ(check("triggers", minimal("triggers")).row,
              json(R"({"id": "t", "name": null, "eventType": "purchase", "priority": 100, "condition": null,
                       "cooldownSeconds": 0, "action": {"type": "webhook", "endpointId": 1}})"));
    EXPECT_EQ(check("flows", minimal("flows")).row,
              json(R"({"id": "f", "name": null, "channelId": null, "placementId": null, "eligibility": null,
                       "modelId": null, "ranking": null, "groups": [], "experimentId": null})"));
    EXPECT_EQ(check("journeys", minimal("journeys")).row,
              json(R"({"id": "j", "name": null, "entryCondition": null, "maxDurationDays": null,
                       "nodes": [{"id": "n", "type": "exit"}], "edges": []})"));
    EXPECT_EQ(check("connectors", minimal("connectors")).row,
              json(R"({"id": "k", "name": null, "type": "kafka", "config": {}})"));
    EXPECT_EQ(check("cmsSources", minimal("cmsSources")).row,
              json(R"({"id": "s", "name": null, "type": "contentful", "config": {}})"));
    EXPECT_EQ(check("consents", minimal("consents")).row,
              json(R"({"customerId": "u1", "channelId": "web", "granted": true})"));
}

TEST(CatalogDefaults, NullMeansTheDefault) {
    Validated v = check("offers", R"({"id": "gold", "priority": null, "status": null, "attributes": null,
                                      "name": null})");
    EXPECT_EQ(v.row["priority"], 50);
    EXPECT_EQ(v.row["status"], "active");
    EXPECT_EQ(v.row["attributes"], Json::object());
    EXPECT_TRUE(v.row["name"].is_null());
}

TEST(CatalogDefaults, GivenValuesAreKept) {
    Validated v = check("offers", R"({"id": "gold", "name": "Gold card", "priority": 80, "value": 12.5,
        "lever": 0.25, "status": "paused", "mandatory": true, "attributes": {"color": "gold", "tier": {"n": 1}},
        "startAt": "2026-01-01T00:00:00Z", "endAt": "2026-12-31T00:00:00Z", "eligibility": "customer.age >= 18",
        "budget": {"metric": "impressions", "limit": 1000, "period": "daily"}})");
    EXPECT_EQ(v.row["name"], "Gold card");
    EXPECT_EQ(v.row["priority"], 80);
    EXPECT_EQ(v.row["value"], 12.5);
    EXPECT_EQ(v.row["lever"], 0.25);
    EXPECT_EQ(v.row["status"], "paused");
    EXPECT_EQ(v.row["mandatory"], true);
    EXPECT_EQ(v.row["attributes"], json(R"({"color": "gold", "tier": {"n": 1}})"));
    EXPECT_EQ(v.row["startAt"], "2026-01-01T00:00:00Z");
    EXPECT_EQ(v.row["eligibility"], "customer.age >= 18");
    EXPECT_EQ(v.row["budget"], json(R"({"metric": "impressions", "limit": 1000, "period": "daily"})"));
}

TEST(CatalogDefaults, KeyOrderOfTheRowIsFieldOrder) {
    Validated v = check("channels", R"({"batch": true, "type": "email", "id": "mail"})");
    EXPECT_EQ(v.row.dump(), R"({"id":"mail","name":null,"type":"email","batch":true})");
}

// --- required and unknown keys ------------------------------------------------------------

TEST(CatalogRequired, EveryRequiredFieldOfEveryEntity) {
    int checked = 0;
    for (const auto& e : entities()) {
        for (const auto& f : e.fields) {
            if (!f.required) continue;
            const std::string key(f.name);
            const std::string path = std::string(e.key) + "[2]";
            Json missing = minimal(e.key);
            ASSERT_TRUE(missing.contains(key)) << e.key << "." << key;
            missing.erase(key);
            EXPECT_REFUSED(validate(e, missing, path), path + "." + key, "is required");
            Json null = minimal(e.key);
            null[key] = nullptr;
            EXPECT_REFUSED(validate(e, null, path), path + "." + key, "is required");
            ++checked;
        }
    }
    EXPECT_EQ(checked, 40);
}

TEST(CatalogRequired, NestedRequiredProperties) {
    EXPECT_REFUSED(check("offers", R"({"id": "o", "budget": {"metric": "value", "period": "daily"}})"),
                   "offers[0].budget.limit", "is required");
    EXPECT_REFUSED(check("metrics", R"({"id": "m", "definition": {"outcomeTypes": ["click"]}})"),
                   "metrics[0].definition.windowDays", "is required");
    EXPECT_REFUSED(check("flows", R"({"id": "f", "groups": [{"placementId": "hero"}]})"), "flows[0].groups[0].slots",
                   "is required");
    EXPECT_REFUSED(check("experiments", R"({"id": "x", "flowId": "f", "type": "bandit", "bandit": {}})"),
                   "experiments[0].bandit.algorithm", "is required");
    EXPECT_REFUSED(check("triggers", R"({"id": "t", "eventType": "e", "action": {}})"), "triggers[0].action.type",
                   "is required");
    EXPECT_REFUSED(check("journeys", R"({"id": "j", "nodes": [{"id": "n"}]})"), "journeys[0].nodes[0].type",
                   "is required");
}

TEST(CatalogRequired, NullForARequiredPropertyIsRefused) {
    EXPECT_REFUSED(check("offers", R"({"id": "o", "budget": {"metric": null, "limit": 1, "period": "daily"}})"),
                   "offers[0].budget.metric", "must not be null");
    // An optional property given null is left out.
    Validated v = check("flows", R"({"id": "f", "ranking": {"method": null, "n": 3}})");
    EXPECT_EQ(v.row["ranking"], json(R"({"n": 3})"));
}

TEST(CatalogUnknownKeys, EveryEntityRefusesUnknownKeysWithThePath) {
    for (const auto& e : entities()) {
        Json object = minimal(e.key);
        object["bogus"] = 1;
        EXPECT_REFUSED(validate(e, object, std::string(e.key) + "[7]"), std::string(e.key) + "[7].bogus",
                       "unknown key (expected " + field_names(e) + ")");
    }
}

TEST(CatalogUnknownKeys, ExactListOfOffers) {
    EXPECT_REFUSED(check("offers", R"({"id": "o", "colour": "red"})"), "offers[0].colour",
                   "unknown key (expected id, name, categoryId, priority, value, lever, startAt, endAt, status, "
                   "eligibility, mandatory, budget, attributes)");
    // Field names are case-sensitive.
    EXPECT_REFUSED_AT(check("offers", R"({"id": "o", "Priority": 3})"), "offers[0].Priority");
    // An unknown key is refused even when null.
    EXPECT_REFUSED_AT(check("offers", R"({"id": "o", "colour": null})"), "offers[0].colour");
}

TEST(CatalogUnknownKeys, NestedObjects) {
    EXPECT_REFUSED(check("offers", R"({"id": "o", "budget": {"metric": "value", "limit": 1, "period": "daily",
                                                               "x": 1}})"),
                   "offers[0].budget.x", "unknown key (expected metric, limit, period)");
    EXPECT_REFUSED(check("flows", R"({"id": "f", "groups": [{"placementId": "p", "slots": 1, "size": 2}]})"),
                   "flows[0].groups[0].size", "unknown key (expected placementId, slots, allowPartial)");
    EXPECT_REFUSED(check("flows", R"({"id": "f", "ranking": {"weights": {"novelty": 1}}})"),
                   "flows[0].ranking.weights.novelty",
                   "unknown key (expected propensity, relevance, impact, emphasis)");
    EXPECT_REFUSED(check("policies", policy("budget_exhausted", {{"x", 1}})), "policies[0].config.x",
                   "unknown key (expected none)");
    EXPECT_REFUSED(check("policies", policy("cooldown", {{"cooldownHours", 1}, {"hours", 2}})),
                   "policies[0].config.hours", "unknown key (expected cooldownHours)");
}

TEST(CatalogUnknownKeys, OpenObjectsTakeAnyKey) {
    Validated v = check("offers", R"({"id": "o", "attributes": {"anything": [1, {"x": null}], "k": null}})");
    EXPECT_EQ(v.row["attributes"], json(R"({"anything": [1, {"x": null}], "k": null})"));
    EXPECT_EQ(check("creatives", R"({"id": "c", "offerId": "o", "channelId": "web",
                                     "content": {"headline": "Hi", "image": {"url": "u"}}})")
                  .row["content"],
              json(R"({"headline": "Hi", "image": {"url": "u"}})"));
    EXPECT_EQ(check("connectors", R"({"id": "k", "type": "kafka", "config": {"brokers": ["a:9092"]}})").row["config"],
              json(R"({"brokers": ["a:9092"]})"));
}

TEST(CatalogUnknownKeys, TheObjectItselfMustBeAnObject) {
    EXPECT_REFUSED(check("offers", json("[]"), "offers[4]"), "offers[4]", "must be an object, not an array");
    EXPECT_REFUSED(check("offers", json("\"gold\"")), "offers[0]", "must be an object, not a string");
    EXPECT_REFUSED(check("offers", json("null")), "offers[0]", "must be an object, not null");
    EXPECT_REFUSED(check("offers", json("3")), "offers[0]", "must be an object, not a number");
    EXPECT_REFUSED(check("offers", json("true")), "offers[0]", "must be an object, not a boolean");
}

// --- kinds ---------------------------------------------------------------------------

TEST(CatalogKinds, Text) {
    EXPECT_REFUSED(check("offers", R"({"id": "o", "name": 5})"), "offers[0].name", "must be a string, not a number");
    EXPECT_REFUSED(check("offers", R"({"id": "o", "name": ["a"]})"), "offers[0].name",
                   "must be a string, not an array");
    EXPECT_REFUSED(check("offers", R"({"id": "o", "name": {}})"), "offers[0].name", "must be a string, not an object");
    EXPECT_REFUSED(check("offers", R"({"id": "o", "name": false})"), "offers[0].name",
                   "must be a string, not a boolean");
    Json ok = minimal("offers");
    ok["name"] = std::string(kMaxTextLength, 'a');
    EXPECT_EQ(check("offers", ok).row["name"].get<std::string>().size(), 1000u);
    Json long_name = minimal("offers");
    long_name["name"] = std::string(kMaxTextLength + 1, 'a');
    EXPECT_REFUSED(check("offers", long_name), "offers[0].name", "must be at most 1000 bytes");
    // Bytes, not characters: 500 two-byte characters fit, 501 do not.
    Json utf8 = minimal("offers");
    std::string e_acute = "\xc3\xa9";
    std::string text;
    for (int i = 0; i < 500; ++i) text += e_acute;
    utf8["name"] = text;
    EXPECT_NO_THROW(check("offers", utf8));
    utf8["name"] = text + e_acute;
    EXPECT_REFUSED(check("offers", utf8), "offers[0].name", "must be at most 1000 bytes");
    // The empty string is text.
    EXPECT_EQ(check("offers", R"({"id": "o", "name": ""})").row["name"], "");
}

TEST(CatalogKinds, Id) {
    const std::string id_message = "must be an identifier: 1 to 128 letters, digits or _ - . : @";
    EXPECT_REFUSED(check("offers", R"({"id": "gold card"})"), "offers[0].id", id_message);
    EXPECT_REFUSED(check("offers", R"({"id": ""})"), "offers[0].id", id_message);
    EXPECT_REFUSED(check("offers", R"({"id": "a/b"})"), "offers[0].id", id_message);
    EXPECT_REFUSED(check("offers", R"({"id": 7})"), "offers[0].id", "must be a string, not a number");
    EXPECT_REFUSED(check("offers", R"({"id": "o", "categoryId": "x y"})"), "offers[0].categoryId", id_message);
    Json long_id = minimal("offers");
    long_id["id"] = std::string(129, 'a');
    EXPECT_REFUSED(check("offers", long_id), "offers[0].id", id_message);
    long_id["id"] = std::string(128, 'a');
    EXPECT_EQ(check("offers", long_id).row["id"], std::string(128, 'a'));
    EXPECT_EQ(check("offers", R"({"id": "Gold_card-2026.v1:eu@x"})").row["id"], "Gold_card-2026.v1:eu@x");
    // Ids inside arrays and nested objects are checked the same way.
    EXPECT_REFUSED(check("experiments", R"({"id": "x", "flowId": "f", "type": "bandit", "bandit":
                                            {"algorithm": "thompson"}, "variants": [{"id": "a b", "weight": 1}]})"),
                   "experiments[0].variants[0].id", id_message);
    EXPECT_REFUSED(check("policies", policy("allow_override", {{"offerIds", {"ok", "not ok"}}})),
                   "policies[0].config.offerIds[1]", id_message);
}

TEST(CatalogKinds, Number) {
    EXPECT_REFUSED(check("offers", R"({"id": "o", "priority": "high"})"), "offers[0].priority",
                   "must be a number, not a string");
    EXPECT_REFUSED(check("offers", R"({"id": "o", "priority": true})"), "offers[0].priority",
                   "must be a number, not a boolean");
    EXPECT_REFUSED(check("offers", R"({"id": "o", "value": [1]})"), "offers[0].value",
                   "must be a number, not an array");
    EXPECT_REFUSED(check("offers", R"({"id": "o", "lever": {}})"), "offers[0].lever",
                   "must be a number, not an object");
    Json nan = minimal("offers");
    nan["priority"] = std::numeric_limits<double>::quiet_NaN();
    EXPECT_REFUSED(check("offers", nan), "offers[0].priority", "must be finite");
    Json inf = minimal("offers");
    inf["value"] = std::numeric_limits<double>::infinity();
    EXPECT_REFUSED(check("offers", inf), "offers[0].value", "must be finite");
    // A number keeps its value (and integral numbers are not made integers).
    EXPECT_EQ(check("offers", R"({"id": "o", "priority": 12.75})").row["priority"], 12.75);
}

TEST(CatalogKinds, Integer) {
    EXPECT_REFUSED(check("placements", R"({"id": "p", "channelId": "web", "slots": "2"})"), "placements[0].slots",
                   "must be an integer, not a string");
    EXPECT_REFUSED(check("placements", R"({"id": "p", "channelId": "web", "slots": true})"), "placements[0].slots",
                   "must be an integer, not a boolean");
    EXPECT_REFUSED(check("placements", R"({"id": "p", "channelId": "web", "slots": 1.5})"), "placements[0].slots",
                   "must be an integer");
    EXPECT_REFUSED(check("policies", R"({"id": "p", "type": "budget_exhausted", "priority": 10.001})"),
                   "policies[0].priority", "must be an integer");
    EXPECT_REFUSED(check("triggers", R"({"id": "t", "eventType": "e", "cooldownSeconds": 0.5,
                                         "action": {"type": "webhook", "endpointId": 1}})"),
                   "triggers[0].cooldownSeconds", "must be an integer");
    // A whole number written with a fraction is an integer in the row.
    Validated v = check("placements", R"({"id": "p", "channelId": "web", "slots": 3.0})");
    EXPECT_EQ(v.row["slots"], 3);
    EXPECT_TRUE(v.row["slots"].is_number_integer());
    EXPECT_EQ(v.row["slots"].dump(), "3");
    Validated p = check("policies", R"({"id": "p", "type": "budget_exhausted", "priority": 7.0})");
    EXPECT_EQ(p.row["priority"].dump(), "7");
}

TEST(CatalogKinds, Boolean) {
    EXPECT_REFUSED(check("offers", R"({"id": "o", "mandatory": "yes"})"), "offers[0].mandatory",
                   "must be true or false, not a string");
    EXPECT_REFUSED(check("offers", R"({"id": "o", "mandatory": 1})"), "offers[0].mandatory",
                   "must be true or false, not a number");
    EXPECT_REFUSED(check("consents", R"({"customerId": "u", "channelId": "web", "granted": "true"})"),
                   "consents[0].granted", "must be true or false, not a string");
    EXPECT_EQ(check("consents", R"({"customerId": "u", "channelId": "web", "granted": false})").row["granted"], false);
}

TEST(CatalogKinds, Timestamp) {
    const std::string message = "must be an ISO-8601 timestamp such as \"2026-01-31T09:00:00Z\"";
    EXPECT_REFUSED(check("offers", R"({"id": "o", "startAt": "tomorrow"})"), "offers[0].startAt", message);
    EXPECT_REFUSED(check("offers", R"({"id": "o", "startAt": "2023-02-29"})"), "offers[0].startAt", message);
    EXPECT_REFUSED(check("offers", R"({"id": "o", "endAt": "2026-13-01T00:00:00Z"})"), "offers[0].endAt", message);
    EXPECT_REFUSED(check("offers", R"({"id": "o", "startAt": ""})"), "offers[0].startAt", message);
    EXPECT_REFUSED(check("offers", R"({"id": "o", "startAt": 1769850000})"), "offers[0].startAt",
                   "must be a string, not a number");
    for (const char* ok : {"2026-01-31", "2026-01-31T09:00:00Z", "2026-01-31T09:00", "2026-01-31 09:00:00+01:00",
                           "2026-01-31T09:00:00.123456Z", "2024-02-29T00:00:00-05:00"}) {
        Json o = minimal("offers");
        o["startAt"] = ok;
        EXPECT_EQ(check("offers", o).row["startAt"], ok) << ok;
    }
}

TEST(CatalogKinds, Enum) {
    EXPECT_REFUSED(check("offers", R"({"id": "o", "status": "live"})"), "offers[0].status",
                   "must be one of draft, active, paused, retired, not \"live\"");
    EXPECT_REFUSED(check("offers", R"({"id": "o", "status": "Active"})"), "offers[0].status",
                   "must be one of draft, active, paused, retired, not \"Active\"");
    EXPECT_REFUSED(check("offers", R"({"id": "o", "status": 1})"), "offers[0].status",
                   "must be one of draft, active, paused, retired");
    EXPECT_REFUSED(check("channels", R"({"id": "c", "type": "fax"})"), "channels[0].type",
                   "must be one of web, mobile, email, sms, push, direct_mail, call_center, not \"fax\"");
    EXPECT_REFUSED(check("outcomeTypes", R"({"id": "c", "kind": "click"})"), "outcomeTypes[0].kind",
                   "must be one of impression, positive, negative, neutral, not \"click\"");
    EXPECT_REFUSED(check("policies", R"({"id": "p", "type": "rate_limit"})"), "policies[0].type",
                   "must be one of frequency_cap, cooldown, budget_exhausted, outcome_based, segment_exclusion, "
                   "time_window, mutual_exclusion, cross_channel_cap, allow_override, category_suppression, "
                   "metric_condition, customer_total_cap, not \"rate_limit\"");
    EXPECT_REFUSED(check("policies", R"({"id": "p", "type": "budget_exhausted", "scope": "region", "scopeId": "x"})"),
                   "policies[0].scope",
                   "must be one of global, category, subcategory, offer, creative, channel, segment, placement, "
                   "not \"region\"");
    // The message quotes the value as JSON.
    EXPECT_REFUSED(check("offers", R"({"id": "o", "status": "a\"b"})"), "offers[0].status",
                   "must be one of draft, active, paused, retired, not \"a\\\"b\"");
    for (const char* status : {"draft", "active", "paused", "retired"}) {
        Json o = minimal("offers");
        o["status"] = status;
        EXPECT_EQ(check("offers", o).row["status"], status);
    }
}

TEST(CatalogKinds, Condition) {
    EXPECT_REFUSED(check("offers", R"({"id": "o", "eligibility": 5})"), "offers[0].eligibility",
                   "must be a string, not a number");
    EXPECT_REFUSED(check("offers", R"({"id": "o", "eligibility": true})"), "offers[0].eligibility",
                   "must be a string, not a boolean");
    EXPECT_REFUSED(check("offers", R"({"id": "o", "eligibility": "customer.age + 1"})"), "offers[0].eligibility",
                   "expected a boolean expression at 0");
    EXPECT_REFUSED(check("offers", R"({"id": "o", "eligibility": ""})"), "offers[0].eligibility",
                   "unexpected end of input at 0");
    EXPECT_EQ(check("offers", R"j({"id": "o", "eligibility": "customer.age >= 18 and has_segment('gold')"})j")
                  .row["eligibility"],
              "customer.age >= 18 and has_segment('gold')");
    // A path alone may be a condition (its static type is any).
    EXPECT_NO_THROW(check("offers", R"({"id": "o", "eligibility": "customer.vip"})"));
}

TEST(CatalogKinds, NumberExpression) {
    EXPECT_REFUSED(check("flows", R"({"id": "f", "ranking": {"relevance": "customer.age > 1"}})"),
                   "flows[0].ranking.relevance", "expected a numeric expression at 0");
    EXPECT_REFUSED(check("flows", R"({"id": "f", "ranking": {"relevance": "'high'"}})"), "flows[0].ranking.relevance",
                   "expected a numeric expression at 0");
    EXPECT_REFUSED(check("flows", R"({"id": "f", "ranking": {"relevance": 2}})"), "flows[0].ranking.relevance",
                   "must be a string, not a number");
    EXPECT_EQ(check("flows", R"({"id": "f", "ranking": {"relevance": "offer.value * 2 + 1"}})").row["ranking"],
              json(R"({"relevance": "offer.value * 2 + 1"})"));
}

TEST(CatalogKinds, Object) {
    EXPECT_REFUSED(check("offers", R"({"id": "o", "budget": "daily"})"), "offers[0].budget",
                   "must be an object, not a string");
    EXPECT_REFUSED(check("offers", R"({"id": "o", "attributes": []})"), "offers[0].attributes",
                   "must be an object, not an array");
    EXPECT_REFUSED(check("metrics", R"({"id": "m", "definition": [1]})"), "metrics[0].definition",
                   "must be an object, not an array");
    EXPECT_REFUSED(check("models", R"({"id": "m", "type": "custom", "definition": "f"})"), "models[0].definition",
                   "must be an object, not a string");
    EXPECT_REFUSED(check("policies", R"({"id": "p", "type": "budget_exhausted", "config": 3})"), "policies[0].config",
                   "must be an object, not a number");
    EXPECT_REFUSED(check("flows", R"({"id": "f", "ranking": {"weights": 1}})"), "flows[0].ranking.weights",
                   "must be an object, not a number");
}

TEST(CatalogKinds, Array) {
    EXPECT_REFUSED(check("flows", R"({"id": "f", "groups": {}})"), "flows[0].groups",
                   "must be an array, not an object");
    EXPECT_REFUSED(check("flows", R"({"id": "f", "groups": "hero"})"), "flows[0].groups",
                   "must be an array, not a string");
    EXPECT_REFUSED(check("flows", R"({"id": "f", "groups": [null]})"), "flows[0].groups[0]", "must not be null");
    EXPECT_REFUSED(check("flows", R"({"id": "f", "groups": [{"placementId": "p", "slots": 1}, 3]})"),
                   "flows[0].groups[1]", "must be an object, not a number");
    EXPECT_REFUSED(check("metrics", R"({"id": "m", "definition": {"outcomeTypes": "click", "windowDays": 1}})"),
                   "metrics[0].definition.outcomeTypes", "must be an array, not a string");
    EXPECT_REFUSED(check("metrics", R"({"id": "m", "definition": {"outcomeTypes": ["click", null], "windowDays": 1}})"),
                   "metrics[0].definition.outcomeTypes[1]", "must not be null");
    EXPECT_EQ(check("flows", R"({"id": "f", "groups": []})").row["groups"], Json::array());
}

TEST(CatalogKinds, TextList) {
    EXPECT_REFUSED(check("customers", R"({"id": "u", "segments": "gold"})"), "customers[0].segments",
                   "must be an array of strings, not a string");
    EXPECT_REFUSED(check("customers", R"({"id": "u", "segments": {"gold": true}})"), "customers[0].segments",
                   "must be an array of strings, not an object");
    EXPECT_REFUSED(check("customers", R"({"id": "u", "segments": ["gold", 1]})"), "customers[0].segments[1]",
                   "must be a string, not a number");
    EXPECT_REFUSED(check("customers", R"({"id": "u", "segments": ["gold", null]})"), "customers[0].segments[1]",
                   "must be a string, not null");
    EXPECT_REFUSED(check("customers", R"({"id": "u", "segments": [""]})"), "customers[0].segments[0]",
                   "must not be empty");
    EXPECT_REFUSED(check("customers", R"({"id": "u", "segments": ["a", "b", "a"]})"), "customers[0].segments[2]",
                   "duplicate \"a\"");
    EXPECT_REFUSED(check("policies", policy("segment_exclusion", {{"segments", {"minor", "minor"}}})),
                   "policies[0].config.segments[1]", "duplicate \"minor\"");
    // Segments are text, not identifiers; order is kept; case matters.
    EXPECT_EQ(check("customers", R"({"id": "u", "segments": ["high value", "Gold", "gold"]})").row["segments"],
              json(R"(["high value", "Gold", "gold"])"));
}

TEST(CatalogKinds, TimezoneThroughTheHook) {
    EXPECT_REFUSED(check("customers", json(R"({"id": "u", "timezone": "Mars/Olympus"})"), "", zones()),
                   "customers[0].timezone", "unknown time zone \"Mars/Olympus\"");
    EXPECT_EQ(check("customers", json(R"({"id": "u", "timezone": "Europe/Paris"})"), "", zones()).row["timezone"],
              "Europe/Paris");
    EXPECT_REFUSED(check("customers", json(R"({"id": "u", "timezone": 1})"), "", zones()), "customers[0].timezone",
                   "must be a string, not a number");
    // Without the hook every name passes.
    EXPECT_EQ(check("customers", R"({"id": "u", "timezone": "Mars/Olympus"})").row["timezone"], "Mars/Olympus");
    // The hook sees the name as written.
    std::vector<std::string> asked;
    Hooks hooks;
    hooks.valid_timezone = [&](std::string_view zone) {
        asked.emplace_back(zone);
        return true;
    };
    check("customers", json(R"({"id": "u", "timezone": "America/New_York"})"), "", hooks);
    check("policies", policy("time_window", {{"allowedDays", {"mon"}}, {"timezone", "Asia/Tokyo"}}), "", hooks);
    EXPECT_THAT(asked, ElementsAre("America/New_York", "Asia/Tokyo"));
    // The time_window policy's timezone goes through the same hook.
    EXPECT_REFUSED(
        check("policies", policy("time_window", {{"allowedDays", {"mon"}}, {"timezone", "Nowhere"}}), "", zones()),
        "policies[0].config.timezone", "unknown time zone \"Nowhere\"");
}

TEST(CatalogKinds, Any) {
    for (const char* value : {"1", "\"x\"", "true", "[1, 2]", "{\"a\": {\"b\": 1}}"}) {
        Json t = json(R"({"id": "t", "eventType": "e", "action": {"type": "update_attribute", "attribute": "tier"}})");
        t["action"]["value"] = json(value);
        EXPECT_EQ(check("triggers", t).row["action"]["value"], json(value)) << value;
    }
}

// --- numeric bounds ----------------------------------------------------------------------

TEST(CatalogNumbers, OfferPriorityValueAndLever) {
    EXPECT_REFUSED(check("offers", R"({"id": "o", "priority": -1})"), "offers[0].priority", "must be at least 0");
    EXPECT_REFUSED(check("offers", R"({"id": "o", "priority": 100.5})"), "offers[0].priority", "must be at most 100");
    EXPECT_REFUSED(check("offers", R"({"id": "o", "priority": 101})"), "offers[0].priority", "must be at most 100");
    EXPECT_EQ(check("offers", R"({"id": "o", "priority": 0})").row["priority"], 0);
    EXPECT_EQ(check("offers", R"({"id": "o", "priority": 100})").row["priority"], 100);
    EXPECT_REFUSED(check("offers", R"({"id": "o", "lever": 1.01})"), "offers[0].lever", "must be at most 1");
    EXPECT_REFUSED(check("offers", R"({"id": "o", "lever": -0.1})"), "offers[0].lever", "must be at least 0");
    EXPECT_EQ(check("offers", R"({"id": "o", "lever": 0})").row["lever"], 0);
    EXPECT_EQ(check("offers", R"({"id": "o", "lever": 1})").row["lever"], 1);
    EXPECT_REFUSED(check("offers", R"({"id": "o", "value": -0.01})"), "offers[0].value", "must be at least 0");
    EXPECT_EQ(check("offers", R"({"id": "o", "value": 0})").row["value"], 0);
    EXPECT_EQ(check("offers", R"({"id": "o", "value": 1e12})").row["value"], 1e12);
}

TEST(CatalogNumbers, ExclusiveMinimums) {
    EXPECT_REFUSED(check("offers", R"({"id": "o", "budget": {"metric": "value", "limit": 0, "period": "total"}})"),
                   "offers[0].budget.limit", "must be greater than 0");
    EXPECT_REFUSED(check("offers", R"({"id": "o", "budget": {"metric": "value", "limit": -5, "period": "total"}})"),
                   "offers[0].budget.limit", "must be greater than 0");
    EXPECT_NO_THROW(check("offers", R"({"id": "o", "budget": {"metric": "value", "limit": 0.01, "period": "total"}})"));
    EXPECT_REFUSED(check("experiments", R"({"id": "x", "flowId": "f", "type": "bandit", "bandit": {"algorithm":
                                          "thompson"}, "variants": [{"id": "a", "weight": 0}]})"),
                   "experiments[0].variants[0].weight", "must be greater than 0");
    EXPECT_NO_THROW(check("experiments", R"({"id": "x", "flowId": "f", "type": "bandit", "bandit": {"algorithm":
                                          "thompson"}, "variants": [{"id": "a", "weight": 0.001}]})"));
    EXPECT_REFUSED(check("policies", policy("cooldown", {{"cooldownHours", 0}})), "policies[0].config.cooldownHours",
                   "must be greater than 0");
    EXPECT_NO_THROW(check("policies", policy("cooldown", {{"cooldownHours", 0.5}})));
    EXPECT_REFUSED(check("journeys", R"({"id": "j", "nodes": [{"id": "w", "type": "wait", "waitHours": 0}]})"),
                   "journeys[0].nodes[0].waitHours", "must be greater than 0");
    EXPECT_REFUSED(check("experiments", R"({"id": "x", "flowId": "f", "type": "bandit", "bandit": {"algorithm":
                                          "thompson", "prior": {"alpha": 0, "beta": 1}}})"),
                   "experiments[0].bandit.prior.alpha", "must be greater than 0");
}

TEST(CatalogNumbers, IntegerBounds) {
    EXPECT_REFUSED(check("placements", R"({"id": "p", "channelId": "web", "slots": 0})"), "placements[0].slots",
                   "must be at least 1");
    EXPECT_REFUSED(check("placements", R"({"id": "p", "channelId": "web", "slots": 51})"), "placements[0].slots",
                   "must be at most 50");
    EXPECT_EQ(check("placements", R"({"id": "p", "channelId": "web", "slots": 50})").row["slots"], 50);
    EXPECT_REFUSED(check("policies", R"({"id": "p", "type": "budget_exhausted", "priority": -1})"),
                   "policies[0].priority", "must be at least 0");
    EXPECT_REFUSED(check("policies", R"({"id": "p", "type": "budget_exhausted", "priority": 1000001})"),
                   "policies[0].priority", "must be at most 1000000");
    EXPECT_EQ(check("policies", R"({"id": "p", "type": "budget_exhausted", "priority": 1000000})").row["priority"],
              1000000);
    EXPECT_REFUSED(check("caps", R"({"id": "c", "scope": "offer", "scopeId": "o", "maxVolume": 0, "period": "daily"})"),
                   "caps[0].maxVolume", "must be at least 1");
    EXPECT_REFUSED(check("triggers", R"({"id": "t", "eventType": "e", "cooldownSeconds": -1,
                                         "action": {"type": "webhook", "endpointId": 1}})"),
                   "triggers[0].cooldownSeconds", "must be at least 0");
    EXPECT_REFUSED(
        check("triggers", R"({"id": "t", "eventType": "e", "action": {"type": "webhook", "endpointId": 0}})"),
        "triggers[0].action.endpointId", "must be at least 1");
    EXPECT_REFUSED(check("journeys", R"({"id": "j", "maxDurationDays": 3651, "nodes": [{"id": "n", "type": "exit"}]})"),
                   "journeys[0].maxDurationDays", "must be at most 3650");
    EXPECT_REFUSED(check("metrics", R"({"id": "m", "definition": {"outcomeTypes": [], "windowDays": 0}})"),
                   "metrics[0].definition.windowDays", "must be at least 1");
    EXPECT_REFUSED(check("flows", R"({"id": "f", "ranking": {"n": 51}})"), "flows[0].ranking.n", "must be at most 50");
    EXPECT_REFUSED(check("flows", R"({"id": "f", "ranking": {"n": 2.5}})"), "flows[0].ranking.n", "must be an integer");
}

TEST(CatalogNumbers, OtherRanges) {
    EXPECT_REFUSED(check("experiments", R"({"id": "x", "flowId": "f", "type": "bandit", "holdoutPercent": -1,
                                            "bandit": {"algorithm": "thompson"}})"),
                   "experiments[0].holdoutPercent", "must be at least 0");
    EXPECT_REFUSED(check("experiments", R"({"id": "x", "flowId": "f", "type": "bandit", "holdoutPercent": 100.5,
                                            "bandit": {"algorithm": "thompson"}})"),
                   "experiments[0].holdoutPercent", "must be at most 100");
    EXPECT_REFUSED(check("experiments", R"({"id": "x", "flowId": "f", "type": "bandit",
                                            "bandit": {"algorithm": "epsilon_greedy", "epsilon": 1.5}})"),
                   "experiments[0].bandit.epsilon", "must be at most 1");
    EXPECT_REFUSED(check("experiments", R"({"id": "x", "flowId": "f", "type": "bandit",
                                            "bandit": {"algorithm": "epsilon_greedy", "decay": -0.5}})"),
                   "experiments[0].bandit.decay", "must be at least 0");
    EXPECT_REFUSED(check("flows", R"({"id": "f", "ranking": {"weights": {"impact": -0.1}}})"),
                   "flows[0].ranking.weights.impact", "must be at least 0");
    EXPECT_NO_THROW(check("flows", R"({"id": "f", "ranking": {"weights": {"propensity": 0, "relevance": 2.5}}})"));
}

// --- identifiers --------------------------------------------------------------------------

TEST(CatalogIds, ValidId) {
    EXPECT_TRUE(valid_id("a"));
    EXPECT_TRUE(valid_id("0"));
    EXPECT_TRUE(valid_id("gold-card_2026.v1:eu@tenant"));
    EXPECT_TRUE(valid_id("ABCxyz"));
    EXPECT_TRUE(valid_id("_-.:@"));
    EXPECT_TRUE(valid_id(std::string(kMaxIdLength, 'x')));
    EXPECT_FALSE(valid_id(std::string(kMaxIdLength + 1, 'x')));
    EXPECT_FALSE(valid_id(""));
    for (const char* bad :
         {"a b", " a",  "a ",  "a'b", "a\"b", "a/b", "a\\b", "a\tb", "a\nb", "a,b", "a;b", "a#b", "a?b", "a%b",
          "a*b", "a+b", "a=b", "(a)", "[a]",  "{a}", "a<b",  "a|b",  "a!b",  "a~b", "a`b", "a$b", "a&b", "\xc3\xa9"}) {
        EXPECT_FALSE(valid_id(bad)) << bad;
    }
    EXPECT_FALSE(valid_id(std::string_view("a\0b", 3)));
    // Every byte: only the allowed characters pass.
    for (int c = 0; c < 256; ++c) {
        const char ch = static_cast<char>(c);
        const bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                             c == '-' || c == '.' || c == ':' || c == '@';
        EXPECT_EQ(valid_id(std::string_view(&ch, 1)), allowed) << c;
    }
}

// --- expressions --------------------------------------------------------------------------

TEST(CatalogExpressions, ErrorCarriesThePathAndPosition) {
    auto refused =
        refusal([] { check("offers", json(R"({"id":"x","eligibility":"customer.age >> 3"})"), "offers[3]"); });
    ASSERT_TRUE(refused.has_value());
    EXPECT_EQ(std::string(refused->what()), "offers[3].eligibility: unexpected '>' at 14");
    EXPECT_EQ(refused->detail()["path"], "offers[3].eligibility");
    EXPECT_EQ(refused->detail()["position"], 14);
    EXPECT_EQ(refused->detail()["error"], "offers[3].eligibility: unexpected '>' at 14");
    EXPECT_EQ(refused->detail()["code"], "BAD_REQUEST");
}

TEST(CatalogExpressions, TypeErrorsKeepTheirExpectation) {
    auto refused = refusal([] { check("offers", R"({"id": "x", "eligibility": "customer.age + 1"})"); });
    ASSERT_TRUE(refused.has_value());
    EXPECT_EQ(std::string(refused->what()), "offers[0].eligibility: expected a boolean expression at 0");
    EXPECT_EQ(refused->detail()["path"], "offers[0].eligibility");
    EXPECT_EQ(refused->detail()["position"], 0);
    EXPECT_EQ(refused->detail()["expected"], "a boolean expression");
}

TEST(CatalogExpressions, EveryConditionField) {
    EXPECT_REFUSED(check("offers", R"({"id": "o", "eligibility": "cust.age > 1"})"), "offers[0].eligibility",
                   "unknown path root \"cust\" at 0");
    EXPECT_REFUSED(check("flows", R"({"id": "f", "eligibility": "context.x = 1 and cust.y"})"), "flows[0].eligibility",
                   "unknown path root \"cust\" at 18");
    EXPECT_REFUSED(check("triggers", R"j({"id": "t", "eventType": "e", "condition": "foo(1)",
                                         "action": {"type": "webhook", "endpointId": 1}})j"),
                   "triggers[0].condition", "unknown function \"foo\" at 0");
    EXPECT_REFUSED(check("journeys", R"({"id": "j", "entryCondition": "1 +", "nodes": [{"id": "n", "type": "exit"}]})"),
                   "journeys[0].entryCondition", "unexpected end of input at 3");
    EXPECT_REFUSED(check("journeys", R"({"id": "j", "nodes": [{"id": "b", "type": "branch", "condition": "5"}]})"),
                   "journeys[0].nodes[0].condition", "expected a boolean expression at 0");
    EXPECT_REFUSED(check("policies", policy("category_suppression", {{"categoryIds", {"loans"}}, {"condition", "x"}})),
                   "policies[0].config.condition", "unknown path root \"x\" at 0");
    EXPECT_REFUSED(check("models", R"({"id": "m", "type": "scorecard", "definition":
                                      {"rules": [{"when": "true", "points": 1}, {"when": "customer.a >> 1", "points": 2}]}})"),
                   "models[0].definition.rules[1].when", "unexpected '>' at 12");
}

// --- references ----------------------------------------------------------------------------

TEST(CatalogReferences, OffersCategoriesPlacements) {
    EXPECT_THAT(refs(check("offers", R"({"id": "o", "categoryId": "cards"})")),
                ElementsAre("categories cards @ offers[0].categoryId"));
    EXPECT_THAT(refs(check("categories", R"({"id": "gold", "parentId": "cards"})")),
                ElementsAre("categories cards @ categories[0].parentId"));
    EXPECT_THAT(refs(check("placements", R"({"id": "hero", "channelId": "web"})")),
                ElementsAre("channels web @ placements[0].channelId"));
    EXPECT_THAT(refs(check("offers", json(R"({"id": "o", "categoryId": "c"})"), "offers[12]")),
                ElementsAre("categories c @ offers[12].categoryId"));
}

TEST(CatalogReferences, CreativesAndConsents) {
    EXPECT_THAT(
        refs(check("creatives", R"({"id": "c", "offerId": "gold", "channelId": "web", "placementId": "hero"})")),
        ElementsAre("offers gold @ creatives[0].offerId", "channels web @ creatives[0].channelId",
                    "placements hero @ creatives[0].placementId"));
    EXPECT_THAT(refs(check("creatives", minimal("creatives"))),
                ElementsAre("offers gold @ creatives[0].offerId", "channels web @ creatives[0].channelId"));
    EXPECT_THAT(refs(check("consents", minimal("consents"))),
                ElementsAre("customers u1 @ consents[0].customerId", "channels web @ consents[0].channelId"));
}

TEST(CatalogReferences, Flows) {
    Validated v = check("flows", R"({"id": "f", "channelId": "web", "placementId": "hero", "modelId": "m",
                                     "groups": [{"placementId": "side", "slots": 2}, {"placementId": "top", "slots": 1}],
                                     "experimentId": "x"})");
    EXPECT_THAT(refs(v), ElementsAre("channels web @ flows[0].channelId", "placements hero @ flows[0].placementId",
                                     "models m @ flows[0].modelId", "placements side @ flows[0].groups[0].placementId",
                                     "placements top @ flows[0].groups[1].placementId",
                                     "experiments x @ flows[0].experimentId"));
    EXPECT_THAT(refs(check("flows", R"({"id": "f", "modelId": "m"})")), ElementsAre("models m @ flows[0].modelId"));
    EXPECT_THAT(refs(check("flows", R"({"id": "f", "experimentId": "x"})")),
                ElementsAre("experiments x @ flows[0].experimentId"));
}

TEST(CatalogReferences, Experiments) {
    Validated v = check("experiments", R"({"id": "x", "flowId": "f", "type": "ab", "variants": [
        {"id": "a", "weight": 1, "control": true}, {"id": "b", "weight": 1, "flowId": "f2"},
        {"id": "c", "weight": 2, "flowId": "f"}]})");
    EXPECT_THAT(refs(v), ElementsAre("flows f @ experiments[0].flowId", "flows f2 @ experiments[0].variants[1].flowId",
                                     "flows f @ experiments[0].variants[2].flowId"));
}

TEST(CatalogReferences, PolicyScopeIdByScope) {
    const std::vector<std::pair<std::string, std::string>> scopes = {
        {"category", "categories"}, {"subcategory", "categories"}, {"offer", "offers"},
        {"creative", "creatives"},  {"channel", "channels"},       {"placement", "placements"}};
    for (const auto& [scope, target] : scopes) {
        Json p = json(R"({"id": "p", "type": "budget_exhausted"})");
        p["scope"] = scope;
        p["scopeId"] = "s1";
        EXPECT_THAT(refs(check("policies", p)), ElementsAre(target + " s1 @ policies[0].scopeId")) << scope;
    }
    EXPECT_THAT(refs(check("policies", R"({"id": "p", "type": "budget_exhausted", "scope": "segment",
                                          "scopeId": "vip"})")),
                IsEmpty());
    EXPECT_THAT(refs(check("policies", R"({"id": "p", "type": "budget_exhausted", "scope": "global"})")), IsEmpty());
    EXPECT_THAT(refs(check("policies", R"({"id": "p", "type": "budget_exhausted"})")), IsEmpty());
}

TEST(CatalogReferences, PolicyConfigs) {
    EXPECT_THAT(
        refs(check("policies", json(R"({"id": "p", "type": "outcome_based", "scope": "offer", "scopeId": "gold",
        "config": {"outcomeTypes": ["dismiss", "complain"], "lookbackDays": 30}})"))),
        ElementsAre("offers gold @ policies[0].scopeId", "outcomeTypes dismiss @ policies[0].config.outcomeTypes[0]",
                    "outcomeTypes complain @ policies[0].config.outcomeTypes[1]"));
    EXPECT_THAT(
        refs(check("policies", policy("mutual_exclusion", {{"offerIds", {"plat", "gold"}}}))),
        ElementsAre("offers plat @ policies[0].config.offerIds[0]", "offers gold @ policies[0].config.offerIds[1]"));
    EXPECT_THAT(refs(check("policies", policy("mutual_exclusion", {{"categoryIds", {"cards"}}, {"withinDays", 7}}))),
                ElementsAre("categories cards @ policies[0].config.categoryIds[0]"));
    EXPECT_THAT(refs(check("policies", policy("allow_override", {{"offerIds", {"gold"}}}))),
                ElementsAre("offers gold @ policies[0].config.offerIds[0]"));
    EXPECT_THAT(
        refs(check("policies", policy("metric_condition", {{"metric", "clicks_30d"}, {"op", ">="}, {"value", 10}}))),
        ElementsAre("metrics clicks_30d @ policies[0].config.metric"));
    EXPECT_THAT(
        refs(check("policies", policy("cross_channel_cap", {{"channels", {"email", "sms"}}, {"maxPerWeek", 5}}))),
        ElementsAre("channels email @ policies[0].config.channels[0]",
                    "channels sms @ policies[0].config.channels[1]"));
    EXPECT_THAT(refs(check("policies", policy("category_suppression", {{"categoryIds", {"loans"}},
                                                                       {"condition", "customer.has_loan = true"}}))),
                ElementsAre("categories loans @ policies[0].config.categoryIds[0]"));
    EXPECT_THAT(refs(check("policies", policy("segment_exclusion", {{"segments", {"minor"}}}))), IsEmpty());
    EXPECT_THAT(refs(check("policies", policy("frequency_cap", {{"maxPerDay", 3}}))), IsEmpty());
}

TEST(CatalogReferences, CapsScopeId) {
    for (const auto& [scope, target] : std::vector<std::pair<std::string, std::string>>{
             {"offer", "offers"}, {"category", "categories"}, {"channel", "channels"}}) {
        Json cap = minimal("caps");
        cap["scope"] = scope;
        cap["scopeId"] = "s1";
        EXPECT_THAT(refs(check("caps", cap)), ElementsAre(target + " s1 @ caps[0].scopeId")) << scope;
    }
}

TEST(CatalogReferences, Metrics) {
    EXPECT_THAT(refs(check("metrics", minimal("metrics"))),
                ElementsAre("outcomeTypes click @ metrics[0].definition.outcomeTypes[0]"));
    EXPECT_THAT(refs(check("metrics", R"({"id": "m", "definition": {"outcomeTypes": ["click", "view"], "scope": "offer",
                                         "scopeId": "gold", "windowDays": 30, "aggregation": "sum"}})")),
                ElementsAre("outcomeTypes click @ metrics[0].definition.outcomeTypes[0]",
                            "outcomeTypes view @ metrics[0].definition.outcomeTypes[1]",
                            "offers gold @ metrics[0].definition.scopeId"));
    EXPECT_THAT(refs(check("metrics", R"({"id": "m", "definition": {"outcomeTypes": [], "scope": "category",
                                         "scopeId": "cards", "windowDays": 7}})")),
                ElementsAre("categories cards @ metrics[0].definition.scopeId"));
    EXPECT_THAT(refs(check("metrics", R"({"id": "m", "definition": {"outcomeTypes": [], "scope": "channel",
                                         "scopeId": "web", "windowDays": 7}})")),
                ElementsAre("channels web @ metrics[0].definition.scopeId"));
    EXPECT_THAT(refs(check("metrics", R"({"id": "m", "definition": {"outcomeTypes": [], "scope": "global",
                                         "windowDays": 7}})")),
                IsEmpty());
}

TEST(CatalogReferences, TriggersAndJourneys) {
    EXPECT_THAT(
        refs(check("triggers", R"({"id": "t", "eventType": "e", "action": {"type": "run_flow", "flowId": "f"}})")),
        ElementsAre("flows f @ triggers[0].action.flowId"));
    EXPECT_THAT(refs(check("triggers", R"({"id": "t", "eventType": "e",
                                          "action": {"type": "enroll_journey", "journeyId": "j", "mode": "restart"}})")),
                ElementsAre("journeys j @ triggers[0].action.journeyId"));
    EXPECT_THAT(
        refs(check("journeys", R"({"id": "j", "nodes": [
        {"id": "r", "type": "recommend", "flowId": "f"},
        {"id": "w", "type": "wait", "outcome": "click", "timeoutHours": 48},
        {"id": "e", "type": "exit"}],
        "edges": [{"from": "r", "to": "w"}, {"from": "w", "to": "e"}]})")),
        ElementsAre("flows f @ journeys[0].nodes[0].flowId", "outcomeTypes click @ journeys[0].nodes[1].outcome"));
}

TEST(CatalogReferences, NoneForEntitiesWithoutReferences) {
    for (const char* key : {"categories", "channels", "outcomeTypes", "offers", "customers", "models", "flows",
                            "policies", "connectors", "cmsSources"}) {
        EXPECT_THAT(refs(check(key, minimal(key))), IsEmpty()) << key;
    }
}

// --- policies (SPEC 6.3) ------------------------------------------------------------------

TEST(CatalogPolicies, EveryTypeAcceptsAValidConfig) {
    const std::vector<std::pair<std::string, Json>> valid = {
        {"frequency_cap", json(R"({"maxPerDay": 3, "maxPerWeek": 10, "maxPerMonth": 20, "maxTotal": 50})")},
        {"cooldown", json(R"({"cooldownHours": 24})")},
        {"budget_exhausted", json(R"({})")},
        {"outcome_based", json(R"({"outcomeTypes": ["dismiss"], "lookbackDays": 30, "maxCount": 1})")},
        {"segment_exclusion", json(R"({"segments": ["minor"]})")},
        {"time_window", json(R"({"allowedDays": ["mon", "tue", "wed", "thu", "fri"], "startHour": 8, "endHour": 20,
                                 "timezone": "Europe/Paris"})")},
        {"mutual_exclusion", json(R"({"offerIds": ["plat", "gold"], "withinDays": 0})")},
        {"cross_channel_cap", json(R"({"channels": ["email", "sms"], "maxPerDay": 1, "maxPerWeek": 5})")},
        {"allow_override", json(R"({"offerIds": ["gold"]})")},
        {"category_suppression", json(R"({"categoryIds": ["loans"], "condition": "customer.has_loan = true"})")},
        {"metric_condition", json(R"({"metric": "clicks_30d", "op": ">=", "value": 10})")},
        {"customer_total_cap", json(R"({"maxPerWeek": 10})")},
    };
    // The table covers every type the entity knows.
    const auto& types = entity("policies").field("type")->spec->values;
    ASSERT_EQ(types.size(), valid.size());
    for (size_t i = 0; i < types.size(); ++i) EXPECT_EQ(types[i], valid[i].first);
    for (const auto& [type, config] : valid) {
        SCOPED_TRACE(type);
        Validated v = check("policies", policy(type, config), "", zones());
        EXPECT_EQ(v.row["type"], type);
        EXPECT_EQ(v.row["config"], config);
        EXPECT_EQ(v.row["scope"], "global");
    }
}

TEST(CatalogPolicies, FrequencyCap) {
    EXPECT_REFUSED(check("policies", policy("frequency_cap", Json::object())), "policies[0].config",
                   "a frequency_cap needs maxPerDay, maxPerWeek, maxPerMonth or maxTotal");
    EXPECT_REFUSED(check("policies", R"({"id": "p", "type": "frequency_cap"})"), "policies[0].config",
                   "a frequency_cap needs maxPerDay, maxPerWeek, maxPerMonth or maxTotal");
    EXPECT_REFUSED(check("policies", policy("frequency_cap", {{"maxPerDay", nullptr}})), "policies[0].config",
                   "a frequency_cap needs maxPerDay, maxPerWeek, maxPerMonth or maxTotal");
    for (const char* key : {"maxPerDay", "maxPerWeek", "maxPerMonth", "maxTotal"}) {
        EXPECT_NO_THROW(check("policies", policy("frequency_cap", {{key, 1}}))) << key;
        EXPECT_REFUSED(check("policies", policy("frequency_cap", {{key, 0}})), std::string("policies[0].config.") + key,
                       "must be at least 1");
        EXPECT_REFUSED(check("policies", policy("frequency_cap", {{key, 1.5}})),
                       std::string("policies[0].config.") + key, "must be an integer");
    }
    EXPECT_REFUSED(check("policies", policy("frequency_cap", {{"maxPerYear", 1}})), "policies[0].config.maxPerYear",
                   "unknown key (expected maxPerDay, maxPerWeek, maxPerMonth, maxTotal)");
}

TEST(CatalogPolicies, Cooldown) {
    EXPECT_REFUSED(check("policies", policy("cooldown", Json::object())), "policies[0].config.cooldownHours",
                   "is required");
    EXPECT_REFUSED(check("policies", policy("cooldown", {{"cooldownHours", "24h"}})),
                   "policies[0].config.cooldownHours", "must be a number, not a string");
}

TEST(CatalogPolicies, OutcomeBased) {
    EXPECT_REFUSED(check("policies", policy("outcome_based", {{"lookbackDays", 30}})),
                   "policies[0].config.outcomeTypes", "is required");
    EXPECT_REFUSED(check("policies", policy("outcome_based", {{"outcomeTypes", {"x"}}})),
                   "policies[0].config.lookbackDays", "is required");
    EXPECT_REFUSED(check("policies", policy("outcome_based", {{"outcomeTypes", {"x"}}, {"lookbackDays", 3651}})),
                   "policies[0].config.lookbackDays", "must be at most 3650");
    EXPECT_REFUSED(check("policies", policy("outcome_based", {{"outcomeTypes", {"x"}}, {"lookbackDays", 0}})),
                   "policies[0].config.lookbackDays", "must be at least 1");
    EXPECT_REFUSED(
        check("policies", policy("outcome_based", {{"outcomeTypes", {"x"}}, {"lookbackDays", 1}, {"maxCount", 0}})),
        "policies[0].config.maxCount", "must be at least 1");
}

TEST(CatalogPolicies, SegmentExclusion) {
    EXPECT_REFUSED(check("policies", policy("segment_exclusion", Json::object())), "policies[0].config.segments",
                   "is required");
    EXPECT_REFUSED(check("policies", policy("segment_exclusion", {{"segments", "minor"}})),
                   "policies[0].config.segments", "must be an array of strings, not a string");
}

TEST(CatalogPolicies, TimeWindow) {
    EXPECT_REFUSED(check("policies", policy("time_window", Json::object())), "policies[0].config",
                   "a time_window needs allowedDays, or startHour and endHour");
    EXPECT_REFUSED(check("policies", policy("time_window", {{"timezone", "UTC"}})), "policies[0].config",
                   "a time_window needs allowedDays, or startHour and endHour");
    EXPECT_REFUSED(check("policies", policy("time_window", {{"startHour", 8}})), "policies[0].config",
                   "a time_window needs both startHour and endHour");
    EXPECT_REFUSED(check("policies", policy("time_window", {{"endHour", 8}})), "policies[0].config",
                   "a time_window needs both startHour and endHour");
    EXPECT_REFUSED(check("policies", policy("time_window", {{"startHour", 20}, {"endHour", 8}})),
                   "policies[0].config.endHour", "must be after startHour");
    EXPECT_REFUSED(check("policies", policy("time_window", {{"startHour", 8}, {"endHour", 8}})),
                   "policies[0].config.endHour", "must be after startHour");
    EXPECT_NO_THROW(check("policies", policy("time_window", {{"startHour", 8}, {"endHour", 9}})));
    EXPECT_NO_THROW(check("policies", policy("time_window", {{"startHour", 0}, {"endHour", 24}})));
    EXPECT_NO_THROW(check("policies", policy("time_window", {{"allowedDays", {"sat", "sun"}}})));
    EXPECT_REFUSED(check("policies", policy("time_window", {{"startHour", 24}, {"endHour", 24}})),
                   "policies[0].config.startHour", "must be at most 23");
    EXPECT_REFUSED(check("policies", policy("time_window", {{"startHour", 0}, {"endHour", 0}})),
                   "policies[0].config.endHour", "must be at least 1");
    EXPECT_REFUSED(check("policies", policy("time_window", {{"startHour", 0}, {"endHour", 25}})),
                   "policies[0].config.endHour", "must be at most 24");
    EXPECT_REFUSED(check("policies", policy("time_window", {{"allowedDays", {"mon", "monday"}}})),
                   "policies[0].config.allowedDays[1]",
                   "must be one of mon, tue, wed, thu, fri, sat, sun, not \"monday\"");
}

TEST(CatalogPolicies, MutualExclusion) {
    EXPECT_REFUSED(check("policies", policy("mutual_exclusion", Json::object())), "policies[0].config",
                   "a mutual_exclusion needs either offerIds or categoryIds");
    EXPECT_REFUSED(check("policies", policy("mutual_exclusion", {{"withinDays", 3}})), "policies[0].config",
                   "a mutual_exclusion needs either offerIds or categoryIds");
    EXPECT_REFUSED(check("policies", policy("mutual_exclusion", {{"offerIds", {"a"}}, {"categoryIds", {"c"}}})),
                   "policies[0].config", "a mutual_exclusion needs either offerIds or categoryIds");
    EXPECT_NO_THROW(check("policies", policy("mutual_exclusion", {{"categoryIds", {"c"}}})));
    EXPECT_REFUSED(check("policies", policy("mutual_exclusion", {{"offerIds", {"a"}}, {"withinDays", -1}})),
                   "policies[0].config.withinDays", "must be at least 0");
}

TEST(CatalogPolicies, CrossChannelCap) {
    EXPECT_REFUSED(check("policies", policy("cross_channel_cap", {{"channels", {"email"}}})), "policies[0].config",
                   "a cross_channel_cap needs maxPerDay or maxPerWeek");
    EXPECT_REFUSED(check("policies", policy("cross_channel_cap", {{"maxPerDay", 1}})), "policies[0].config.channels",
                   "is required");
    EXPECT_REFUSED(check("policies", policy("cross_channel_cap", {{"channels", {"email"}}, {"maxPerMonth", 1}})),
                   "policies[0].config.maxPerMonth", "unknown key (expected channels, maxPerDay, maxPerWeek)");
}

TEST(CatalogPolicies, AllowOverride) {
    EXPECT_REFUSED(check("policies", policy("allow_override", Json::object())), "policies[0].config.offerIds",
                   "is required");
    Json scoped = policy("allow_override", {{"offerIds", {"gold"}}});
    scoped["scope"] = "offer";
    scoped["scopeId"] = "gold";
    EXPECT_REFUSED(check("policies", scoped), "policies[0].scope",
                   "an allow_override policy names its offers in config.offerIds; its scope must be global");
    scoped["scope"] = "segment";
    scoped["scopeId"] = "vip";
    EXPECT_REFUSED(check("policies", scoped), "policies[0].scope",
                   "an allow_override policy names its offers in config.offerIds; its scope must be global");
    scoped["scope"] = "global";
    scoped.erase("scopeId");
    EXPECT_NO_THROW(check("policies", scoped));
}

TEST(CatalogPolicies, CategorySuppressionMetricConditionCustomerTotalCap) {
    EXPECT_REFUSED(check("policies", policy("category_suppression", {{"categoryIds", {"loans"}}})),
                   "policies[0].config.condition", "is required");
    EXPECT_REFUSED(check("policies", policy("category_suppression", {{"condition", "true"}})),
                   "policies[0].config.categoryIds", "is required");
    EXPECT_REFUSED(check("policies", policy("metric_condition", {{"metric", "m"}, {"op", "~"}, {"value", 1}})),
                   "policies[0].config.op", "must be one of =, !=, <, <=, >, >=, not \"~\"");
    EXPECT_REFUSED(check("policies", policy("metric_condition", {{"metric", "m"}, {"op", "<"}, {"value", "10"}})),
                   "policies[0].config.value", "must be a number, not a string");
    EXPECT_REFUSED(check("policies", policy("metric_condition", {{"metric", "m"}, {"op", "<"}})),
                   "policies[0].config.value", "is required");
    for (const char* op : {"=", "!=", "<", "<=", ">", ">="})
        EXPECT_NO_THROW(check("policies", policy("metric_condition", {{"metric", "m"}, {"op", op}, {"value", -2.5}})))
            << op;
    EXPECT_REFUSED(check("policies", policy("customer_total_cap", Json::object())), "policies[0].config",
                   "a customer_total_cap needs maxPerDay, maxPerWeek or maxPerMonth");
    EXPECT_REFUSED(check("policies", policy("customer_total_cap", {{"maxTotal", 5}})), "policies[0].config.maxTotal",
                   "unknown key (expected maxPerDay, maxPerWeek, maxPerMonth)");
}

TEST(CatalogPolicies, ScopeIdRequiredUnlessGlobal) {
    for (const char* scope : {"category", "subcategory", "offer", "creative", "channel", "segment", "placement"}) {
        Json p = json(R"({"id": "p", "type": "budget_exhausted"})");
        p["scope"] = scope;
        EXPECT_REFUSED(check("policies", p), "policies[0].scopeId", std::string("is required when scope is ") + scope);
    }
    EXPECT_REFUSED(check("policies", R"({"id": "p", "type": "budget_exhausted", "scope": "global", "scopeId": "x"})"),
                   "policies[0].scopeId", "must be absent when scope is global");
    // No scope is the global scope.
    EXPECT_REFUSED(check("policies", R"({"id": "p", "type": "budget_exhausted", "scopeId": "x"})"),
                   "policies[0].scopeId", "must be absent when scope is global");
    EXPECT_NO_THROW(
        check("policies", R"({"id": "p", "type": "budget_exhausted", "scope": "global", "scopeId": null})"));
}

TEST(CatalogPolicies, ScopeIsCheckedBeforeTheConfig) {
    Json p = policy("frequency_cap", Json::object());
    p["scope"] = "offer";
    EXPECT_REFUSED(check("policies", p), "policies[0].scopeId", "is required when scope is offer");
}

TEST(CatalogPolicies, TheConfigPathFollowsTheObjectPath) {
    EXPECT_REFUSED(check("policies", policy("cooldown", Json::object()), "policies[9]"),
                   "policies[9].config.cooldownHours", "is required");
    EXPECT_REFUSED(check("policies", policy("frequency_cap", Json::object()), "policies[9]"), "policies[9].config",
                   "a frequency_cap needs maxPerDay, maxPerWeek, maxPerMonth or maxTotal");
}

// --- caps and metrics -------------------------------------------------------------------

TEST(CatalogCaps, ScopeAndPeriod) {
    EXPECT_REFUSED(
        check("caps", R"({"id": "c", "scope": "global", "scopeId": "x", "maxVolume": 1, "period": "daily"})"),
        "caps[0].scope", "must be one of offer, category, channel, not \"global\"");
    EXPECT_REFUSED(
        check("caps", R"({"id": "c", "scope": "offer", "scopeId": "x", "maxVolume": 1, "period": "hourly"})"),
        "caps[0].period", "must be one of daily, weekly, monthly, not \"hourly\"");
    EXPECT_REFUSED(
        check("caps", R"({"id": "c", "scope": "offer", "scopeId": "a b", "maxVolume": 1, "period": "daily"})"),
        "caps[0].scopeId", "must be an identifier: 1 to 128 letters, digits or _ - . : @");
}

TEST(CatalogMetrics, DefinitionScope) {
    EXPECT_REFUSED(check("metrics", R"({"id": "m", "definition": {"outcomeTypes": [], "scope": "offer",
                                        "windowDays": 7}})"),
                   "metrics[0].definition.scopeId", "is required when scope is offer");
    EXPECT_REFUSED(check("metrics", R"({"id": "m", "definition": {"outcomeTypes": [], "scopeId": "gold",
                                        "windowDays": 7}})"),
                   "metrics[0].definition.scopeId", "must be absent when scope is global");
    EXPECT_REFUSED(check("metrics", R"({"id": "m", "definition": {"outcomeTypes": [], "scope": "segment",
                                        "scopeId": "vip", "windowDays": 7}})"),
                   "metrics[0].definition.scope", "must be one of global, offer, category, channel, not \"segment\"");
    EXPECT_REFUSED(check("metrics", R"({"id": "m", "definition": {"outcomeTypes": [], "windowDays": 7,
                                        "aggregation": "avg"}})"),
                   "metrics[0].definition.aggregation", "must be one of count, sum, not \"avg\"");
}

// --- experiments ------------------------------------------------------------------------

TEST(CatalogExperiments, AbNeedsTwoVariantsAndOneControl) {
    EXPECT_REFUSED(check("experiments", R"({"id": "x", "flowId": "f", "type": "ab"})"), "experiments[0].variants",
                   "an A/B experiment needs at least two variants");
    EXPECT_REFUSED(check("experiments", R"({"id": "x", "flowId": "f", "type": "ab",
                                            "variants": [{"id": "a", "weight": 1, "control": true}]})"),
                   "experiments[0].variants", "an A/B experiment needs at least two variants");
    EXPECT_REFUSED(check("experiments", R"({"id": "x", "flowId": "f", "type": "ab",
                                            "variants": [{"id": "a", "weight": 1}, {"id": "b", "weight": 1}]})"),
                   "experiments[0].variants", "an A/B experiment needs exactly one control variant");
    EXPECT_REFUSED(check("experiments", R"({"id": "x", "flowId": "f", "type": "ab", "variants": [
                                            {"id": "a", "weight": 1, "control": true},
                                            {"id": "b", "weight": 1, "control": true}]})"),
                   "experiments[0].variants", "an A/B experiment needs exactly one control variant");
    EXPECT_REFUSED(check("experiments", R"({"id": "x", "flowId": "f", "type": "ab", "variants": [
                                            {"id": "a", "weight": 1, "control": false},
                                            {"id": "b", "weight": 1, "control": false}]})"),
                   "experiments[0].variants", "an A/B experiment needs exactly one control variant");
    Validated ok = check("experiments", R"({"id": "x", "flowId": "f", "type": "ab", "holdoutPercent": 10,
                                            "status": "active", "variants": [
                                            {"id": "a", "weight": 1, "control": true},
                                            {"id": "b", "weight": 3, "control": false}]})");
    EXPECT_EQ(ok.row["variants"], json(R"([{"id": "a", "weight": 1, "control": true},
                                           {"id": "b", "weight": 3, "control": false}])"));
    EXPECT_EQ(ok.row["holdoutPercent"], 10);
    EXPECT_EQ(ok.row["status"], "active");
}

TEST(CatalogExperiments, BanditSettings) {
    EXPECT_REFUSED(check("experiments", R"({"id": "x", "flowId": "f", "type": "bandit"})"), "experiments[0].bandit",
                   "is required for a bandit experiment");
    EXPECT_REFUSED(check("experiments", R"({"id": "x", "flowId": "f", "type": "ab", "bandit": {"algorithm": "thompson"},
                                            "variants": [{"id": "a", "weight": 1, "control": true},
                                                         {"id": "b", "weight": 1}]})"),
                   "experiments[0].bandit", "only bandit experiments take bandit settings");
    EXPECT_REFUSED(
        check("experiments", R"({"id": "x", "flowId": "f", "type": "bandit", "bandit": {"algorithm": "ucb"}})"),
        "experiments[0].bandit.algorithm", "must be one of thompson, epsilon_greedy, not \"ucb\"");
    EXPECT_REFUSED(
        check("experiments", R"({"id": "x", "flowId": "f", "type": "bandit", "bandit": {"algorithm": "thompson"},
                                            "variants": [{"id": "a", "weight": 1, "control": true},
                                                         {"id": "b", "weight": 1, "control": true}]})"),
        "experiments[0].variants", "at most one variant can be the control");
    Validated ok = check("experiments", R"({"id": "x", "flowId": "f", "type": "bandit",
        "bandit": {"algorithm": "epsilon_greedy", "epsilon": 0.1, "decay": 0.99, "prior": {"alpha": 1, "beta": 1}},
        "variants": [{"id": "a", "weight": 1, "control": true}, {"id": "b", "weight": 1}]})");
    EXPECT_EQ(
        ok.row["bandit"],
        json(R"({"algorithm": "epsilon_greedy", "epsilon": 0.1, "decay": 0.99, "prior": {"alpha": 1, "beta": 1}})"));
}

TEST(CatalogExperiments, DuplicateVariantIds) {
    EXPECT_REFUSED(check("experiments", R"({"id": "x", "flowId": "f", "type": "ab", "variants": [
                                            {"id": "a", "weight": 1, "control": true}, {"id": "b", "weight": 1},
                                            {"id": "a", "weight": 1}]})"),
                   "experiments[0].variants[2].id", "duplicate \"a\" (also at experiments[0].variants[0])");
    EXPECT_REFUSED(check("experiments", json(R"({"id": "x", "flowId": "f", "type": "bandit",
                                            "bandit": {"algorithm": "thompson"}, "variants": [
                                            {"id": "b", "weight": 1}, {"id": "b", "weight": 2}]})"),
                         "experiments[5]"),
                   "experiments[5].variants[1].id", "duplicate \"b\" (also at experiments[5].variants[0])");
}

TEST(CatalogExperiments, HoldoutBelowOneHundred) {
    EXPECT_REFUSED(check("experiments", R"({"id": "x", "flowId": "f", "type": "bandit", "holdoutPercent": 100,
                                            "bandit": {"algorithm": "thompson"}})"),
                   "experiments[0].holdoutPercent", "must be below 100");
    EXPECT_EQ(check("experiments", R"({"id": "x", "flowId": "f", "type": "bandit", "holdoutPercent": 99.5,
                                      "bandit": {"algorithm": "thompson"}})")
                  .row["holdoutPercent"],
              99.5);
}

TEST(CatalogExperiments, StatusValues) {
    EXPECT_REFUSED(check("experiments", R"({"id": "x", "flowId": "f", "type": "bandit", "status": "running",
                                            "bandit": {"algorithm": "thompson"}})"),
                   "experiments[0].status", "must be one of draft, active, paused, completed, not \"running\"");
    EXPECT_REFUSED(check("experiments", R"({"id": "x", "flowId": "f", "type": "multivariate"})"), "experiments[0].type",
                   "must be one of ab, bandit, not \"multivariate\"");
}

// --- journeys and triggers --------------------------------------------------------------

TEST(CatalogJourneys, ValidJourney) {
    Validated v = check("journeys", R"({"id": "welcome", "name": "Welcome", "entryCondition": "customer.age >= 18",
        "maxDurationDays": 30, "nodes": [
            {"id": "r", "type": "recommend", "flowId": "f", "name": "first"},
            {"id": "w", "type": "wait", "waitHours": 24},
            {"id": "b", "type": "branch", "condition": "customer.vip = true"},
            {"id": "b2", "type": "branch", "outcome": "click"},
            {"id": "e", "type": "exit"}],
        "edges": [{"from": "r", "to": "w"}, {"from": "w", "to": "b"}, {"from": "b", "to": "e", "when": "true"},
                  {"from": "b", "to": "b2", "when": "false"}, {"from": "b2", "to": "e"}]})");
    EXPECT_EQ(v.row["nodes"].size(), 5u);
    EXPECT_EQ(v.row["edges"].size(), 5u);
    EXPECT_EQ(v.row["maxDurationDays"], 30);
}

TEST(CatalogJourneys, EdgesMustNameNodes) {
    EXPECT_REFUSED(check("journeys", R"({"id": "j", "nodes": [{"id": "a", "type": "exit"}],
                                         "edges": [{"from": "a", "to": "zz"}]})"),
                   "journeys[0].edges[0].to", "unknown node \"zz\"");
    EXPECT_REFUSED(check("journeys", R"({"id": "j", "nodes": [{"id": "a", "type": "wait", "waitHours": 1}],
                                         "edges": [{"from": "a", "to": "a"}, {"from": "q", "to": "a"}]})"),
                   "journeys[0].edges[1].from", "unknown node \"q\"");
    EXPECT_REFUSED(
        check("journeys", R"({"id": "j", "nodes": [{"id": "a", "type": "exit"}], "edges": [{"from": "a"}]})"),
        "journeys[0].edges[0].to", "is required");
}

TEST(CatalogJourneys, NodeRules) {
    EXPECT_REFUSED(check("journeys", R"({"id": "j", "nodes": []})"), "journeys[0].nodes",
                   "a journey needs at least one node");
    EXPECT_REFUSED(
        check("journeys", R"({"id": "j", "nodes": [{"id": "e", "type": "exit"}, {"id": "r", "type": "recommend"}]})"),
        "journeys[0].nodes[1].flowId", "is required for a recommend node");
    EXPECT_REFUSED(check("journeys", R"({"id": "j", "nodes": [{"id": "w", "type": "wait"}]})"), "journeys[0].nodes[0]",
                   "a wait node needs waitHours (a delay) or outcome (a wait for it)");
    EXPECT_REFUSED(check("journeys", R"({"id": "j", "nodes": [{"id": "b", "type": "branch"}]})"),
                   "journeys[0].nodes[0]", "a branch node needs either condition or outcome");
    EXPECT_REFUSED(check("journeys", R"({"id": "j", "nodes": [{"id": "b", "type": "loop"}]})"),
                   "journeys[0].nodes[0].type", "must be one of recommend, wait, branch, exit, not \"loop\"");
    EXPECT_REFUSED(
        check("journeys", R"({"id": "j", "nodes": [{"id": "a", "type": "exit"}, {"id": "a", "type": "exit"}]})"),
        "journeys[0].nodes[1].id", "duplicate \"a\" (also at journeys[0].nodes[0])");
    EXPECT_REFUSED(
        check("journeys", R"({"id": "j", "nodes": [{"id": "w", "type": "wait", "waitHours": 1, "delay": 2}]})"),
        "journeys[0].nodes[0].delay",
        "unknown key (expected id, type, name, flowId, waitHours, outcome, timeoutHours, condition)");
}

TEST(CatalogTriggers, ActionTypeRequiresItsFields) {
    EXPECT_REFUSED(check("triggers", R"({"id": "t", "eventType": "e", "action": {"type": "run_flow"}})"),
                   "triggers[0].action.flowId", "is required for a run_flow action");
    EXPECT_REFUSED(check("triggers", R"({"id": "t", "eventType": "e", "action": {"type": "enroll_journey"}})"),
                   "triggers[0].action.journeyId", "is required for a enroll_journey action");
    EXPECT_REFUSED(check("triggers", R"({"id": "t", "eventType": "e", "action": {"type": "update_attribute"}})"),
                   "triggers[0].action.attribute", "is required for a update_attribute action");
    EXPECT_REFUSED(check("triggers", R"({"id": "t", "eventType": "e", "action": {"type": "update_attribute",
                                                                                  "attribute": "tier"}})"),
                   "triggers[0].action.value", "is required for a update_attribute action");
    EXPECT_REFUSED(check("triggers", R"({"id": "t", "eventType": "e", "action": {"type": "webhook"}})"),
                   "triggers[0].action.endpointId", "is required for a webhook action");
    EXPECT_REFUSED(check("triggers", R"({"id": "t", "eventType": "e", "action": {"type": "email"}})"),
                   "triggers[0].action.type",
                   "must be one of run_flow, enroll_journey, update_attribute, webhook, not \"email\"");
    EXPECT_REFUSED(check("triggers", R"({"id": "t", "eventType": "e", "action": {"type": "enroll_journey",
                                                                                  "journeyId": "j", "mode": "once"}})"),
                   "triggers[0].action.mode", "must be one of skip_if_active, restart, allow_multiple, not \"once\"");
    EXPECT_REFUSED(check("triggers", R"({"id": "t", "eventType": "order placed", "action": {"type": "webhook",
                                                                                             "endpointId": 1}})"),
                   "triggers[0].eventType", "must be an identifier: 1 to 128 letters, digits or _ - . : @");
    Validated v =
        check("triggers", R"({"id": "t", "eventType": "purchase", "priority": 5, "condition": "context.total > 100",
        "cooldownSeconds": 3600, "action": {"type": "webhook", "endpointId": 3, "payload": {"a": [1]}}})");
    EXPECT_EQ(v.row["action"], json(R"({"type": "webhook", "endpointId": 3, "payload": {"a": [1]}})"));
    EXPECT_EQ(v.row["cooldownSeconds"], 3600);
    EXPECT_EQ(v.row["priority"], 5);
}

// --- offers, categories, flows, models --------------------------------------------------

TEST(CatalogOffers, EndAtMustBeAfterStartAt) {
    EXPECT_REFUSED(
        check("offers", R"({"id": "o", "startAt": "2026-02-01T00:00:00Z", "endAt": "2026-01-01T00:00:00Z"})"),
        "offers[0].endAt", "must be after startAt");
    EXPECT_REFUSED(
        check("offers", R"({"id": "o", "startAt": "2026-02-01T00:00:00Z", "endAt": "2026-02-01T00:00:00Z"})"),
        "offers[0].endAt", "must be after startAt");
    // The same instant written in two zones.
    EXPECT_REFUSED(
        check("offers", R"({"id": "o", "startAt": "2026-01-31T10:00:00+01:00", "endAt": "2026-01-31T09:00:00Z"})"),
        "offers[0].endAt", "must be after startAt");
    EXPECT_NO_THROW(
        check("offers", R"({"id": "o", "startAt": "2026-01-31T10:00:00+01:00", "endAt": "2026-01-31T09:00:01Z"})"));
    EXPECT_NO_THROW(
        check("offers", R"({"id": "o", "startAt": "2026-01-31T09:00:00Z", "endAt": "2026-01-31T09:00:00.5Z"})"));
    EXPECT_NO_THROW(check("offers", R"({"id": "o", "startAt": "2026-02-01T00:00:00Z"})"));
    EXPECT_NO_THROW(check("offers", R"({"id": "o", "endAt": "2026-02-01T00:00:00Z"})"));
}

TEST(CatalogOffers, Budget) {
    EXPECT_REFUSED(check("offers", R"({"id": "o", "budget": {"metric": "clicks", "limit": 1, "period": "daily"}})"),
                   "offers[0].budget.metric", "must be one of impressions, value, not \"clicks\"");
    EXPECT_REFUSED(check("offers", R"({"id": "o", "budget": {"metric": "value", "limit": 1, "period": "yearly"}})"),
                   "offers[0].budget.period", "must be one of daily, weekly, monthly, total, not \"yearly\"");
}

TEST(CatalogCategories, ParentMayNotBeItself) {
    EXPECT_REFUSED(check("categories", R"({"id": "cards", "parentId": "cards"})"), "categories[0].parentId",
                   "must not be the category itself");
    EXPECT_REFUSED(check("categories", json(R"({"id": "cards", "parentId": "cards"})"), "categories[4]"),
                   "categories[4].parentId", "must not be the category itself");
    EXPECT_EQ(check("categories", R"({"id": "gold", "name": "Gold", "parentId": "cards"})").row,
              json(R"({"id": "gold", "name": "Gold", "parentId": "cards"})"));
}

TEST(CatalogFlows, ArbitrationNeedsAModel) {
    EXPECT_REFUSED(check("flows", R"({"id": "f", "ranking": {"method": "arbitration"}})"), "flows[0].ranking.method",
                   "arbitration needs a model (modelId)");
    EXPECT_NO_THROW(check("flows", R"j({"id": "f", "modelId": "m", "ranking": {"method": "arbitration",
        "weights": {"propensity": 0.4, "relevance": 0.2, "impact": 0.3, "emphasis": 0.1},
        "relevance": "coalesce(context.boost, 1)", "contextWeights": {"cards": 1.5}}})j"));
    EXPECT_NO_THROW(check("flows", R"({"id": "f", "ranking": {"method": "top_n", "n": 5}})"));
    EXPECT_NO_THROW(check("flows", R"({"id": "f", "ranking": {"n": 5}})"));
    EXPECT_REFUSED(check("flows", R"({"id": "f", "ranking": {"method": "random"}})"), "flows[0].ranking.method",
                   "must be one of top_n, arbitration, not \"random\"");
}

TEST(CatalogFlows, Groups) {
    Validated v =
        check("flows", R"({"id": "f", "groups": [{"placementId": "hero", "slots": 2, "allowPartial": false}]})");
    EXPECT_EQ(v.row["groups"], json(R"([{"placementId": "hero", "slots": 2, "allowPartial": false}])"));
    EXPECT_REFUSED(check("flows", R"({"id": "f", "groups": [{"placementId": "hero", "slots": 0}]})"),
                   "flows[0].groups[0].slots", "must be at least 1");
    EXPECT_REFUSED(
        check("flows", R"({"id": "f", "groups": [{"placementId": "hero", "slots": 1, "allowPartial": "no"}]})"),
        "flows[0].groups[0].allowPartial", "must be true or false, not a string");
}

TEST(CatalogModels, DefinitionsByType) {
    EXPECT_NO_THROW(check("models", R"({"id": "m", "type": "scorecard", "definition": {"base": 10,
        "rules": [{"when": "customer.age >= 18", "points": 5}], "scale": "logistic", "factor": 0.1}})"));
    EXPECT_NO_THROW(check("models", R"({"id": "m", "type": "bayesian", "definition": {"prior": {"alpha": 1, "beta": 9},
                                       "bySegment": true, "minImpressions": 100}})"));
    EXPECT_NO_THROW(check("models", R"({"id": "m", "type": "gradient_boosted", "definition": {"format": "xgboost-json",
                                       "model": {"learner": {"learner_model_param": {"base_score": "5E-1", "num_feature": "2"},
                                                 "objective": {"name": "binary:logistic"},
                                                 "gradient_booster": {"name": "gbtree", "model": {"trees": [
                                                   {"left_children": [1, -1, -1], "right_children": [2, -1, -1],
                                                    "split_indices": [1, 0, 0], "split_conditions": [5, -1, 1],
                                                    "default_left": [1, 0, 0]}]}}}},
                                       "features": ["customer.age", "offer.value"]}})"));
    EXPECT_NO_THROW(check("models", R"({"id": "m", "type": "custom", "definition": {"function": "my_score"}})"));
    EXPECT_REFUSED(
        check("models", R"({"id": "m", "type": "scorecard", "definition": {"rules": [{"when": "customer.age >> 3",
                                      "points": 1}]}})"),
        "models[0].definition.rules[0].when", "unexpected '>' at 14");
    EXPECT_REFUSED(check("models", R"({"id": "m", "type": "scorecard", "definition": {"rules": [{"when": "true"}]}})"),
                   "models[0].definition.rules[0].points", "is required");
    EXPECT_REFUSED(check("models", R"({"id": "m", "type": "scorecard", "definition": {"scale": "cubic"}})"),
                   "models[0].definition.scale", "must be one of linear, logistic, not \"cubic\"");
    EXPECT_REFUSED(check("models", R"({"id": "m", "type": "scorecard", "definition": {"bias": 1}})"),
                   "models[0].definition.bias", "unknown key (expected base, rules, scale, factor)");
    EXPECT_REFUSED(check("models", R"({"id": "m", "type": "bayesian", "definition": {"rules": []}})"),
                   "models[0].definition.rules", "unknown key (expected prior, bySegment, minImpressions)");
    EXPECT_REFUSED(
        check("models", R"({"id": "m", "type": "bayesian", "definition": {"prior": {"alpha": 0, "beta": 1}}})"),
        "models[0].definition.prior.alpha", "must be greater than 0");
    EXPECT_REFUSED(
        check("models", R"({"id": "m", "type": "gradient_boosted", "definition": {"model": {}, "features": []}})"),
        "models[0].definition.format", "is required");
    EXPECT_REFUSED(check("models", R"({"id": "m", "type": "gradient_boosted", "definition": {"format": "onnx",
                                      "model": {}, "features": []}})"),
                   "models[0].definition.format", "must be one of xgboost-json, not \"onnx\"");
    EXPECT_REFUSED(check("models", R"({"id": "m", "type": "gradient_boosted", "definition": {"format": "xgboost-json",
                                      "model": {}, "features": [1]}})"),
                   "models[0].definition.features[0]", "must be a string, not a number");
    EXPECT_REFUSED(check("models", R"({"id": "m", "type": "custom", "definition": {}})"),
                   "models[0].definition.function", "is required");
    EXPECT_REFUSED(check("models", R"({"id": "m", "type": "neural", "definition": {}})"), "models[0].type",
                   "must be one of scorecard, bayesian, gradient_boosted, custom, not \"neural\"");
}

// --- array limits --------------------------------------------------------------------------

TEST(CatalogArrays, AtMostOneThousandElements) {
    Json segments = Json::array();
    for (size_t i = 0; i < kMaxArrayItems; ++i) segments.push_back("s" + std::to_string(i));
    Json customer = {{"id", "u"}, {"segments", segments}};
    EXPECT_EQ(check("customers", customer).row["segments"].size(), 1000u);
    customer["segments"].push_back("one-more");
    EXPECT_REFUSED(check("customers", customer), "customers[0].segments", "must have at most 1000 elements");

    Json groups = Json::array();
    for (size_t i = 0; i <= kMaxArrayItems; ++i) groups.push_back({{"placementId", "p"}, {"slots", 1}});
    EXPECT_REFUSED(check("flows", Json{{"id", "f"}, {"groups", groups}}), "flows[0].groups",
                   "must have at most 1000 elements");
    groups.erase(groups.size() - 1);
    EXPECT_EQ(check("flows", Json{{"id", "f"}, {"groups", groups}}).row["groups"].size(), 1000u);

    Json ids = Json::array();
    for (size_t i = 0; i <= kMaxArrayItems; ++i) ids.push_back("o" + std::to_string(i));
    EXPECT_REFUSED(check("policies", policy("mutual_exclusion", {{"offerIds", ids}})), "policies[0].config.offerIds",
                   "must have at most 1000 elements");
}

// --- format_timestamp ------------------------------------------------------------------------

TEST(CatalogTimestamps, Format) {
    EXPECT_EQ(format_timestamp(1769850000), "2026-01-31T09:00:00Z");
    EXPECT_EQ(format_timestamp(1769850000.5), "2026-01-31T09:00:00.5Z");
    EXPECT_EQ(format_timestamp(1769850000.25), "2026-01-31T09:00:00.25Z");
    EXPECT_EQ(format_timestamp(1769850000.123456), "2026-01-31T09:00:00.123456Z");
    EXPECT_EQ(format_timestamp(1769850000.000001), "2026-01-31T09:00:00.000001Z");
    EXPECT_EQ(format_timestamp(0), "1970-01-01T00:00:00Z");
    EXPECT_EQ(format_timestamp(0.1), "1970-01-01T00:00:00.1Z");
    EXPECT_EQ(format_timestamp(-0.5), "1969-12-31T23:59:59.5Z");
    EXPECT_EQ(format_timestamp(-86400), "1969-12-31T00:00:00Z");
    EXPECT_EQ(format_timestamp(951868799), "2000-02-29T23:59:59Z");
    EXPECT_EQ(format_timestamp(4102444799), "2099-12-31T23:59:59Z");
    // Below half a microsecond is no fraction; just under a second rounds up.
    EXPECT_EQ(format_timestamp(1769850000.0000004), "2026-01-31T09:00:00Z");
    EXPECT_EQ(format_timestamp(1769849999.9999996), "2026-01-31T09:00:00Z");
    EXPECT_EQ(format_timestamp(59.9999999), "1970-01-01T00:01:00Z");
}

TEST(CatalogTimestamps, RoundTripThroughParseTimestamp) {
    for (const char* text : {"2026-01-31T09:00:00Z", "2026-01-31T09:00:00.5Z", "2026-01-31T09:00:00.123456Z",
                             "1970-01-01T00:00:00Z", "2000-02-29T23:59:59.000001Z", "2099-12-31T23:59:59.999999Z",
                             "2024-07-04T12:30:45.25Z", "1999-12-31T23:59:59Z"}) {
        std::optional<double> seconds = expr::parse_timestamp(text);
        ASSERT_TRUE(seconds.has_value()) << text;
        EXPECT_EQ(format_timestamp(*seconds), text);
    }
    // Other spellings of an instant come back in the canonical form.
    EXPECT_EQ(format_timestamp(*expr::parse_timestamp("2026-01-31T10:00:00+01:00")), "2026-01-31T09:00:00Z");
    EXPECT_EQ(format_timestamp(*expr::parse_timestamp("2026-01-31")), "2026-01-31T00:00:00Z");
    EXPECT_EQ(format_timestamp(*expr::parse_timestamp("2026-01-31 09:00:00.500")), "2026-01-31T09:00:00.5Z");
    for (double seconds : {0.0, 1769850000.0, 1769850000.5, 1769850000.123456, 946684799.999999, -1.25}) {
        std::optional<double> back = expr::parse_timestamp(format_timestamp(seconds));
        ASSERT_TRUE(back.has_value()) << seconds;
        EXPECT_NEAR(*back, seconds, 1e-6) << format_timestamp(seconds);
    }
}

// --- row_key ------------------------------------------------------------------------------

TEST(CatalogRowKey, IdOrCustomerAndChannel) {
    EXPECT_EQ(row_key(entity("consents"), check("consents", R"({"customerId": "c1", "channelId": "web",
                                                                  "granted": true})")
                                              .row),
              "c1/web");
    EXPECT_EQ(row_key(entity("offers"), check("offers", R"({"id": "gold"})").row), "gold");
    EXPECT_EQ(row_key(entity("cmsSources"), check("cmsSources", minimal("cmsSources")).row), "s");
    for (const auto& e : entities()) {
        if (e.key == "consents") continue;
        Validated v = validate(e, minimal(e.key), "x");
        EXPECT_EQ(row_key(e, v.row), v.row["id"].get<std::string>()) << e.key;
    }
}

// --- resolve ------------------------------------------------------------------------------

Customer sample_customer() {
    Customer c;
    c.id = "u1";
    c.attributes = json(R"({"age": 42, "name": "Ada", "vip": true, "address": {"city": "Paris", "geo": {"lat": 48.8}},
                            "tags": ["a", "b"], "nothing": null, "id": "attribute-id"})");
    c.segments = {"gold", "vip"};
    return c;
}

Json sample_offer() {
    return check("offers", R"({"id": "gold", "name": "Gold", "categoryId": "cards", "priority": 80, "value": 12.5,
        "startAt": "2026-01-01T00:00:00Z", "eligibility": "customer.age >= 18",
        "attributes": {"color": "gold", "priority": 1, "specs": {"size": "L"}, "status": "attr-status"}})")
        .row;
}

TEST(CatalogResolve, Customer) {
    const Customer c = sample_customer();
    const Json context = Json::object();
    EXPECT_EQ(resolve("customer.id", c, nullptr, context), expr::Value("u1"));
    EXPECT_EQ(resolve("customer.segments", c, nullptr, context), expr::Value::list({"gold", "vip"}));
    EXPECT_EQ(resolve("customer.age", c, nullptr, context), expr::Value(42));
    EXPECT_EQ(resolve("customer.name", c, nullptr, context), expr::Value("Ada"));
    EXPECT_EQ(resolve("customer.vip", c, nullptr, context), expr::Value(true));
    EXPECT_EQ(resolve("customer.address.city", c, nullptr, context), expr::Value("Paris"));
    EXPECT_EQ(resolve("customer.address.geo.lat", c, nullptr, context), expr::Value(48.8));
    EXPECT_EQ(resolve("customer.tags", c, nullptr, context), expr::Value::list({"a", "b"}));
    // Missing is null; so is an object (the language has none) and a walk
    // through something that is not an object.
    EXPECT_EQ(resolve("customer.missing", c, nullptr, context), expr::Value());
    EXPECT_EQ(resolve("customer.nothing", c, nullptr, context), expr::Value());
    EXPECT_EQ(resolve("customer.address", c, nullptr, context), expr::Value());
    EXPECT_EQ(resolve("customer.address.zip", c, nullptr, context), expr::Value());
    EXPECT_EQ(resolve("customer.age.years", c, nullptr, context), expr::Value());
    EXPECT_EQ(resolve("customer.address.city.name", c, nullptr, context), expr::Value());
    // Segments with no segments are an empty list, not null.
    Customer none;
    none.id = "u2";
    EXPECT_EQ(resolve("customer.segments", none, nullptr, context), expr::Value::list(std::vector<expr::Value>{}));
    EXPECT_EQ(resolve("customer.id", none, nullptr, context), expr::Value("u2"));
}

TEST(CatalogResolve, OfferFieldsThenAttributes) {
    const Customer c = sample_customer();
    const Json offer = sample_offer();
    const Json context = Json::object();
    EXPECT_EQ(resolve("offer.id", c, &offer, context), expr::Value("gold"));
    EXPECT_EQ(resolve("offer.name", c, &offer, context), expr::Value("Gold"));
    EXPECT_EQ(resolve("offer.categoryId", c, &offer, context), expr::Value("cards"));
    // A field wins over an attribute of the same name.
    EXPECT_EQ(resolve("offer.priority", c, &offer, context), expr::Value(80));
    EXPECT_EQ(resolve("offer.status", c, &offer, context), expr::Value("active"));
    EXPECT_EQ(resolve("offer.value", c, &offer, context), expr::Value(12.5));
    EXPECT_EQ(resolve("offer.lever", c, &offer, context), expr::Value(1));
    EXPECT_EQ(resolve("offer.mandatory", c, &offer, context), expr::Value(false));
    EXPECT_EQ(resolve("offer.startAt", c, &offer, context), expr::Value("2026-01-01T00:00:00Z"));
    EXPECT_EQ(resolve("offer.endAt", c, &offer, context), expr::Value());
    // Anything else is an attribute.
    EXPECT_EQ(resolve("offer.color", c, &offer, context), expr::Value("gold"));
    EXPECT_EQ(resolve("offer.specs.size", c, &offer, context), expr::Value("L"));
    EXPECT_EQ(resolve("offer.shape", c, &offer, context), expr::Value());
    EXPECT_EQ(resolve("offer.eligibility", c, &offer, context), expr::Value());
    // An offer without attributes.
    Json bare = json(R"({"id": "x", "priority": 5})");
    EXPECT_EQ(resolve("offer.priority", c, &bare, context), expr::Value(5));
    EXPECT_EQ(resolve("offer.color", c, &bare, context), expr::Value());
}

TEST(CatalogResolve, OfferPathsAreNullWithoutAnOffer) {
    const Customer c = sample_customer();
    const Json context = json(R"({"channel": "web"})");
    for (const char* path : {"offer.id", "offer.priority", "offer.color", "offer.specs.size"})
        EXPECT_EQ(resolve(path, c, nullptr, context), expr::Value()) << path;
    EXPECT_EQ(resolve("customer.age", c, nullptr, context), expr::Value(42));
}

TEST(CatalogResolve, Context) {
    const Customer c = sample_customer();
    const Json context = json(R"({"channel": "web", "cart": {"total": 42.5, "items": [1, 2]}, "flag": false,
                                  "empty": null})");
    EXPECT_EQ(resolve("context.channel", c, nullptr, context), expr::Value("web"));
    EXPECT_EQ(resolve("context.cart.total", c, nullptr, context), expr::Value(42.5));
    EXPECT_EQ(resolve("context.cart.items", c, nullptr, context), expr::Value::list({1, 2}));
    EXPECT_EQ(resolve("context.flag", c, nullptr, context), expr::Value(false));
    EXPECT_EQ(resolve("context.empty", c, nullptr, context), expr::Value());
    EXPECT_EQ(resolve("context.missing", c, nullptr, context), expr::Value());
    EXPECT_EQ(resolve("context.cart.missing", c, nullptr, context), expr::Value());
    EXPECT_EQ(resolve("context.cart", c, nullptr, context), expr::Value());
    EXPECT_EQ(resolve("context.channel", c, nullptr, Json::object()), expr::Value());
}

TEST(CatalogResolve, UnknownRootsAndBarePathsAreNull) {
    const Customer c = sample_customer();
    const Json offer = sample_offer();
    const Json context = json(R"({"x": 1})");
    EXPECT_EQ(resolve("customer", c, &offer, context), expr::Value());
    EXPECT_EQ(resolve("request.x", c, &offer, context), expr::Value());
    EXPECT_EQ(resolve("", c, &offer, context), expr::Value());
}

// --- compile_catalog and check_offer ----------------------------------------------------------

constexpr double kStart = 1769850000;  // 2026-01-31T09:00:00Z
constexpr double kEnd = 1772323200;    // 2026-03-01T00:00:00Z

CompiledCatalog compile_offers(const std::vector<std::string_view>& offers,
                               const std::vector<std::string_view>& flows = {}) {
    RowsByKey rows;
    for (auto text : offers) rows["offers"].push_back(check("offers", json(text)).row);
    for (auto text : flows) rows["flows"].push_back(check("flows", json(text)).row);
    return compile_catalog(rows);
}

TEST(CatalogCompile, OffersSortedByIdWithTheirPrograms) {
    CompiledCatalog c =
        compile_offers({R"({"id": "silver"})", R"({"id": "gold", "eligibility": "customer.age >= 18"})",
                        R"({"id": "bronze", "startAt": "2026-01-31T09:00:00Z", "endAt": "2026-03-01T00:00:00Z"})",
                        R"({"id": "Zeta"})"},
                       {R"({"id": "f2"})", R"({"id": "f1", "eligibility": "context.channel = 'web'"})"});
    ASSERT_EQ(c.offers.size(), 4u);
    EXPECT_EQ(c.offers[0].id, "Zeta");  // bytewise: upper case first
    EXPECT_EQ(c.offers[1].id, "bronze");
    EXPECT_EQ(c.offers[2].id, "gold");
    EXPECT_EQ(c.offers[3].id, "silver");
    EXPECT_EQ(c.offers[2].row["eligibility"], "customer.age >= 18");
    ASSERT_TRUE(c.offers[2].eligibility);
    EXPECT_EQ(c.offers[2].eligibility->source(), "customer.age >= 18");
    EXPECT_EQ(c.offers[2].eligibility->program.expected(), expr::ResultType::Bool);
    EXPECT_FALSE(c.offers[3].eligibility);
    EXPECT_EQ(c.offers[1].start_at, kStart);
    EXPECT_EQ(c.offers[1].end_at, kEnd);
    // No window: from the beginning of time to its end.
    EXPECT_EQ(c.offers[0].start_at, -std::numeric_limits<double>::infinity());
    EXPECT_EQ(c.offers[0].end_at, std::numeric_limits<double>::infinity());
    ASSERT_EQ(c.flows.size(), 2u);
    ASSERT_TRUE(c.flows.contains("f1"));
    EXPECT_EQ(c.flows.at("f1").id, "f1");
    ASSERT_TRUE(c.flows.at("f1").eligibility.has_value());
    EXPECT_EQ(c.flows.at("f1").eligibility->source(), "context.channel = 'web'");
    EXPECT_FALSE(c.flows.at("f2").eligibility.has_value());
    EXPECT_EQ(c.flows.at("f2").row["id"], "f2");
}

TEST(CatalogCompile, EmptyAndOtherKeys) {
    CompiledCatalog empty = compile_catalog({});
    EXPECT_TRUE(empty.offers.empty());
    EXPECT_TRUE(empty.flows.empty());
    RowsByKey rows;
    rows["categories"].push_back(check("categories", minimal("categories")).row);
    CompiledCatalog c = compile_catalog(rows);
    EXPECT_TRUE(c.offers.empty());
    EXPECT_TRUE(c.flows.empty());
}

// --- precomputed offer paths ---------------------------------------------------------------

// kOfferProbes are offer paths of every kind: fields, attributes, an
// attribute shadowed by a field, nested keys, keys below a string, arrays,
// numbers and strings, missing ones.
constexpr const char* kOfferProbes[] = {
    "offer.id",        "offer.name",        "offer.categoryId", "offer.priority",  "offer.value",
    "offer.status",    "offer.startAt",     "offer.endAt",      "offer.mandatory", "offer.color",
    "offer.specs",     "offer.specs.size",  "offer.tags",       "offer.rank",      "offer.missing",
    "offer.name.first", "offer.specs.missing", "offer.attributes"};

// probe_catalog compiles offers whose JSON differs in every way the probes
// look at, with the probes spread over each kind of expression evaluated
// against offers: a scorecard rule per probe, an offer eligibility, an
// arbitration relevance and a policy condition.
CompiledCatalog probe_catalog() {
    RowsByKey rows;
    for (const char* text : {
             R"({"id": "a", "name": "A", "categoryId": "cards", "priority": 80, "value": 12.5,
                 "startAt": "2026-01-01T00:00:00Z", "eligibility": "offer.rank >= 3 or offer.color = 'gold'",
                 "attributes": {"color": "gold", "specs": {"size": "L"}, "tags": ["x", 2], "rank": 3,
                                "priority": 1, "attributes": {"nested": true}}})",
             R"({"id": "b", "priority": 20, "attributes": {"color": 7, "specs": "flat", "tags": [], "rank": null}})",
             R"({"id": "c", "status": "paused", "mandatory": true, "priority": 30,
                 "eligibility": "customer.age >= offer.priority"})",
             R"({"id": "d", "attributes": {"rank": "3", "specs": {"size": 4, "depth": [1, [2]]}}})"})
        rows["offers"].push_back(check("offers", json(text)).row);
    Json rules = Json::array();
    for (const char* probe : kOfferProbes) rules.push_back({{"when", std::string(probe) + " is not null"}, {"points", 1}});
    // More paths than the bindings hold inline, customer and context ones among them.
    rules.push_back({{"when", "coalesce(offer.missing, offer.rank, offer.value, customer.age, offer.color, "
                              "context.x, offer.tags, offer.specs.size) is not null"},
                     {"points", 1}});
    rows["models"].push_back(
        check("models", Json{{"id", "m"}, {"type", "scorecard"}, {"definition", {{"rules", rules}}}}).row);
    rows["flows"].push_back(check("flows", json(R"({"id": "f", "modelId": "m", "ranking": {"method": "arbitration",
        "relevance": "coalesce(offer.rank, offer.value, offer.lever, 0) + customer.age"}})"))
                                .row);
    rows["categories"].push_back(check("categories", json(R"({"id": "cards", "name": "Cards"})")).row);
    rows["policies"].push_back(check("policies", json(R"({"id": "p", "type": "category_suppression",
        "config": {"categoryIds": ["cards"], "condition": "offer.lever > 0 and context.x = 1"}})"))
                                   .row);
    return compile_catalog(rows);
}

// The expressions of a catalog that are evaluated against offers.
std::vector<const Expression*> offer_expressions(const CompiledCatalog& c) {
    std::vector<const Expression*> out;
    for (const auto& offer : c.offers)
        if (offer.eligibility) out.push_back(&*offer.eligibility);
    for (const auto& [id, model] : c.models)
        for (const auto& [when, points] : model.rules) out.push_back(&when);
    for (const auto& [id, flow] : c.flows)
        if (flow.relevance) out.push_back(&*flow.relevance);
    for (const auto& policy : c.policies)
        if (policy.condition) out.push_back(&*policy.condition);
    return out;
}

TEST(CatalogOfferPaths, OneTableOfTheDistinctOfferPaths) {
    const CompiledCatalog c = probe_catalog();
    ASSERT_NE(c.offers[0].path_table, nullptr);
    const std::vector<std::string>& table = c.offers[0].path_table->offer_paths;
    const std::vector<std::string>& subjects = c.offers[0].path_table->subject_paths;
    // Every probe and offer.lever (the relevance and the policy), once each;
    // no customer or context path.
    EXPECT_EQ(table.size(), std::size(kOfferProbes) + 1);
    for (const char* probe : kOfferProbes) EXPECT_EQ(std::count(table.begin(), table.end(), probe), 1) << probe;
    EXPECT_EQ(std::count(table.begin(), table.end(), "offer.lever"), 1);
    for (const auto& offer : c.offers) EXPECT_EQ(offer.path_table, c.offers[0].path_table) << offer.id;
    for (const Expression* e : offer_expressions(c)) {
        EXPECT_EQ(e->table, c.offers[0].path_table) << e->source();
        ASSERT_EQ(e->paths.size(), e->program.paths().size()) << e->source();
        for (size_t slot = 0; slot < e->paths.size(); ++slot) {
            const std::string& text = e->program.paths()[slot];
            if (text.starts_with("offer.")) {
                ASSERT_LT(e->paths[slot].index, table.size()) << text;
                EXPECT_EQ(table[e->paths[slot].index], text);
            } else {
                ASSERT_LT(e->paths[slot].index, subjects.size()) << text;
                EXPECT_EQ(subjects[e->paths[slot].index], text);
            }
        }
    }
    // The customer and context paths, once each.
    EXPECT_THAT(subjects, ::testing::UnorderedElementsAre("customer.age", "context.x"));
    EXPECT_EQ(c.path_table, c.offers[0].path_table);
}

TEST(CatalogOfferPaths, PrecomputedValuesAreTheWalkOfTheRow) {
    const CompiledCatalog c = probe_catalog();
    const Customer nobody;
    for (const auto& offer : c.offers) {
        const std::vector<std::string>& table = offer.path_table->offer_paths;
        // Then the offer's class in each expression kept by class.
        ASSERT_GE(offer.path_values.size(), table.size()) << offer.id;
        for (size_t i = table.size(); i < offer.path_values.size(); ++i) EXPECT_TRUE(offer.path_values[i].is_number());
        for (size_t i = 0; i < table.size(); ++i)
            EXPECT_EQ(offer.path_values[i], resolve(table[i], nobody, &offer.row, Json::object()))
                << offer.id << " " << table[i];
    }
    // And what the walk gives, written out for a few.
    auto value = [&](size_t offer, std::string_view path) {
        const auto& table = c.offers[offer].path_table->offer_paths;
        auto at = std::find(table.begin(), table.end(), path);
        return c.offers[offer].path_values.at(static_cast<size_t>(at - table.begin()));
    };
    EXPECT_EQ(value(0, "offer.priority"), expr::Value(80));  // the field, not the attribute
    EXPECT_EQ(value(0, "offer.tags"), expr::Value::list({"x", 2}));
    EXPECT_EQ(value(0, "offer.specs.size"), expr::Value("L"));
    EXPECT_EQ(value(0, "offer.specs"), expr::Value());  // an object is null
    EXPECT_EQ(value(1, "offer.color"), expr::Value(7));
    EXPECT_EQ(value(1, "offer.specs.size"), expr::Value());  // below a string
    EXPECT_EQ(value(1, "offer.tags"), expr::Value::list(std::vector<expr::Value>{}));
    EXPECT_EQ(value(1, "offer.rank"), expr::Value());
    EXPECT_EQ(value(2, "offer.mandatory"), expr::Value(true));
    EXPECT_EQ(value(2, "offer.color"), expr::Value());  // no attributes at all
    EXPECT_EQ(value(3, "offer.rank"), expr::Value("3"));  // a string stays a string
    EXPECT_EQ(value(3, "offer.specs.size"), expr::Value(4));
}

TEST(CatalogOfferPaths, ExpressionsAnswerAsOverTheRow) {
    const CompiledCatalog c = probe_catalog();
    Customer adult = sample_customer();
    Customer young = sample_customer();
    young.attributes["age"] = 10;
    std::vector<CompiledOffer> bare;  // the same offers built by hand: no precomputed values
    for (const auto& offer : c.offers) {
        bare.push_back(offer);
        bare.back().path_table = nullptr;
        bare.back().path_values.clear();
    }
    int held = 0;
    const std::vector<Json> contexts = {json(R"({"x": 1})"), Json::object()};
    for (const Customer* customer : {&adult, &young})
        for (const Json& context : contexts) {
            // One decision's customer and context values, shared by all.
            SubjectValues subject(c.path_table, *customer, context);
            for (const Expression* e : offer_expressions(c))
                for (size_t i = 0; i < c.offers.size(); ++i) {
                    const CompiledOffer& offer = c.offers[i];
                    const std::string what = e->source() + " for " + offer.id;
                    if (e->program.expected() == expr::ResultType::Number) {
                        const auto walked = value_of(e->program, *customer, &offer.row, context, kStart);
                        EXPECT_EQ(value_of(*e, *customer, &offer, context, kStart), walked) << what;
                        EXPECT_EQ(value_of(*e, *customer, &offer, context, kStart, &subject), walked) << what;
                        EXPECT_EQ(value_of(*e, *customer, &bare[i], context, kStart, &subject), walked) << what;
                        continue;
                    }
                    const bool walked = holds(e->program, *customer, &offer.row, context, kStart);
                    EXPECT_EQ(holds(*e, *customer, &offer, context, kStart), walked) << what;
                    EXPECT_EQ(holds(*e, *customer, &offer, context, kStart, &subject), walked) << what;
                    EXPECT_EQ(holds(*e, *customer, &bare[i], context, kStart, &subject), walked) << what;
                    held += walked;
                }
        }
    EXPECT_GT(held, 0);
    // Some answers written out: offer paths, with customer and context ones.
    const Expression& relevance = *c.flows.at("f").relevance;
    EXPECT_EQ(value_of(relevance, adult, &c.offers[0], Json::object(), kStart), 45.0);  // rank 3 + age 42
    EXPECT_EQ(value_of(relevance, adult, &c.offers[1], Json::object(), kStart), 42.0);  // rank null, value 0
    const Expression& condition = *c.policies[0].condition;  // offer.lever > 0 and context.x = 1
    EXPECT_FALSE(holds(condition, adult, &c.offers[0], Json::object(), kStart));
    EXPECT_TRUE(holds(condition, adult, &c.offers[0], json(R"({"x": 1})"), kStart));  // lever 1 by default
    EXPECT_TRUE(holds(*c.offers[0].eligibility, adult, &c.offers[0], Json::object(), kStart));
    EXPECT_TRUE(holds(*c.offers[2].eligibility, adult, &c.offers[2], Json::object(), kStart));  // 42 >= 30
    EXPECT_FALSE(holds(*c.offers[2].eligibility, young, &c.offers[2], Json::object(), kStart));
    // Without an offer, offer paths are null.
    EXPECT_EQ(value_of(relevance, adult, nullptr, Json::object(), kStart), 42.0);
}

// Offers with the same eligibility text share one compiled program (it
// stays in the CPU's cache over a decision), each with its own bindings.
TEST(CatalogOfferPaths, OffersShareTheProgramOfTheSameSource) {
    const CompiledCatalog c = compile_offers({R"({"id": "a", "eligibility": "offer.rank > 1"})",
                                              R"({"id": "b", "eligibility": "offer.rank > 1", "attributes": {"rank": 2}})",
                                              R"({"id": "c", "eligibility": "offer.rank > 2"})"});
    const expr::Program& a = c.offers[0].eligibility->program;
    const expr::Program& b = c.offers[1].eligibility->program;
    const expr::Program& other = c.offers[2].eligibility->program;
    EXPECT_EQ(&a.source(), &b.source());  // one program
    EXPECT_NE(&a.source(), &other.source());
    const Customer nobody;
    EXPECT_FALSE(holds(*c.offers[0].eligibility, nobody, &c.offers[0], Json::object(), kStart));
    EXPECT_TRUE(holds(*c.offers[1].eligibility, nobody, &c.offers[1], Json::object(), kStart));
}

// A catalog version changes an offer's JSON and the catalog's table (v2
// reads offer.tier before offer.rank, so their indexes differ): each
// version's offers answer with their own JSON, and an expression of one
// version evaluated against the other's offer reads that offer's row.
TEST(CatalogOfferPaths, OfferJsonChangesBetweenCatalogVersions) {
    auto version = [](const char* offer, std::vector<const char*> rules) {
        RowsByKey rows;
        rows["offers"].push_back(check("offers", json(offer)).row);
        Json list = Json::array();
        for (const char* when : rules) list.push_back({{"when", when}, {"points", 1}});
        rows["models"].push_back(
            check("models", Json{{"id", "m"}, {"type", "scorecard"}, {"definition", {{"rules", list}}}}).row);
        return compile_catalog(rows);
    };
    const CompiledCatalog v1 = version(R"({"id": "o", "attributes": {"rank": 1}})", {"offer.rank >= 2"});
    const CompiledCatalog v2 = version(R"({"id": "o", "attributes": {"rank": 5, "tier": "x"}})",
                                       {"offer.tier = 'x'", "offer.rank >= 2"});
    const Customer nobody;
    const Json context = Json::object();
    const Expression& v1_rank = v1.models.at("m").rules[0].first;
    const Expression& v2_tier = v2.models.at("m").rules[0].first;
    const Expression& v2_rank = v2.models.at("m").rules[1].first;
    ASSERT_EQ(v1.offers[0].path_values, std::vector<expr::Value>{expr::Value(1)});
    ASSERT_EQ(v2.offers[0].path_values, (std::vector<expr::Value>{expr::Value("x"), expr::Value(5)}));
    EXPECT_FALSE(holds(v1_rank, nobody, &v1.offers[0], context, kStart));
    EXPECT_TRUE(holds(v2_rank, nobody, &v2.offers[0], context, kStart));
    EXPECT_TRUE(holds(v2_tier, nobody, &v2.offers[0], context, kStart));
    // Across versions: the other offer's row, never a value by the wrong index.
    EXPECT_TRUE(holds(v1_rank, nobody, &v2.offers[0], context, kStart));
    EXPECT_FALSE(holds(v2_rank, nobody, &v1.offers[0], context, kStart));
    EXPECT_FALSE(holds(v2_tier, nobody, &v1.offers[0], context, kStart));
}

// The values are read once, when the catalog compiles: evaluations read them,
// not the row (which nothing changes after that).
TEST(CatalogOfferPaths, EvaluationsReadThePrecomputedValues) {
    CompiledCatalog c = compile_offers({R"({"id": "o", "eligibility": "offer.rank = 1", "attributes": {"rank": 1}})"});
    CompiledOffer& offer = c.offers[0];
    offer.row["attributes"]["rank"] = 2;
    const Customer nobody;
    EXPECT_TRUE(holds(*offer.eligibility, nobody, &offer, Json::object(), kStart));
    EXPECT_FALSE(holds(offer.eligibility->program, nobody, &offer.row, Json::object(), kStart));
}

// A decision's customer and context values are resolved on first use, then
// shared by every offer and expression; only for that customer and context.
TEST(CatalogOfferPaths, SubjectValuesResolvedOncePerDecision) {
    const CompiledCatalog c = compile_offers({R"({"id": "a", "eligibility": "customer.age >= 18 and context.x = 1"})",
                                              R"({"id": "b", "eligibility": "context.x = 1 or customer.age < 18"})"});
    Customer customer = sample_customer();
    const Json context = json(R"({"x": 1})");
    SubjectValues subject(c.path_table, customer, context);
    EXPECT_EQ(subject.table(), c.path_table.get());
    EXPECT_TRUE(holds(*c.offers[0].eligibility, customer, &c.offers[0], context, kStart, &subject));
    customer.attributes["age"] = 10;  // not within one decision: what was resolved stays
    EXPECT_TRUE(holds(*c.offers[0].eligibility, customer, &c.offers[0], context, kStart, &subject));
    EXPECT_FALSE(holds(*c.offers[0].eligibility, customer, &c.offers[0], context, kStart));
    // Another customer or context than the subject's: resolved for them.
    Customer other = sample_customer();
    other.attributes["age"] = 10;
    EXPECT_FALSE(holds(*c.offers[0].eligibility, other, &c.offers[0], context, kStart, &subject));
    const Json other_context = json(R"({"x": 2})");
    EXPECT_TRUE(holds(*c.offers[1].eligibility, other, &c.offers[1], context, kStart, &subject));
    EXPECT_FALSE(holds(*c.offers[1].eligibility, sample_customer(), &c.offers[1], other_context, kStart, &subject));
    // A subject of another catalog (its own table) is not used.
    const CompiledCatalog d = compile_offers({R"({"id": "a", "eligibility": "context.x = 1"})"});
    SubjectValues foreign(d.path_table, customer, context);
    EXPECT_FALSE(holds(*c.offers[0].eligibility, customer, &c.offers[0], context, kStart, &foreign));  // age 10
}

// Offers with the same eligibility text share one bound Expression (its
// program and its paths), so a decision reads it once for all of them; the
// offer-reading ones still read each offer's own values.
TEST(CatalogOfferPaths, OffersWithOneEligibilityTextShareIt) {
    const CompiledCatalog c = compile_offers(
        {R"({"id": "a", "eligibility": "customer.age >= 18"})", R"({"id": "b", "eligibility": "customer.age >= 18"})",
         R"({"id": "c", "eligibility": "offer.rank = 1", "attributes": {"rank": 1}})",
         R"({"id": "d", "eligibility": "offer.rank = 1", "attributes": {"rank": 2}})", R"({"id": "e"})"});
    EXPECT_EQ(c.offers[0].eligibility.get(), c.offers[1].eligibility.get());
    EXPECT_EQ(c.offers[2].eligibility.get(), c.offers[3].eligibility.get());
    EXPECT_NE(c.offers[0].eligibility.get(), c.offers[2].eligibility.get());
    EXPECT_EQ(c.offers[4].eligibility, nullptr);
    EXPECT_EQ(c.offers[2].eligibility->table, c.path_table);  // bound
    const Customer nobody;
    EXPECT_TRUE(holds(*c.offers[2].eligibility, nobody, &c.offers[2], Json::object(), kStart));
    EXPECT_FALSE(holds(*c.offers[3].eligibility, nobody, &c.offers[3], Json::object(), kStart));
}

// An expression that reads the offer is kept by class of offers where
// classes are few: offers with identical values at its offer paths share a
// class and its result within a decision; values that only look alike (1
// and "1", 0 and -0) do not. Where nearly every offer is its own class, it
// is evaluated for each. metric() changed within the decision shows what
// was kept.
TEST(CatalogOfferPaths, OfferReadingExpressionsKeptByClassOfOffers) {
    RowsByKey rows;
    for (const char* offer :
         {R"({"id": "a1", "categoryId": "cards", "attributes": {"n": 1}})",
          R"({"id": "a2", "categoryId": "cards", "attributes": {"n": 1}})",
          R"({"id": "a3", "categoryId": "cards", "attributes": {"n": "1"}})",
          R"({"id": "b1", "categoryId": "loans", "attributes": {"n": 0}})",
          R"({"id": "b2", "categoryId": "loans", "attributes": {"n": -0.0}})",
          R"({"id": "c1", "attributes": {"n": 0}})", R"({"id": "c2", "attributes": {"n": 0}})",
          R"({"id": "c3", "attributes": {"n": 0}})", R"({"id": "c4", "attributes": {"n": 0}})",
          R"({"id": "c5", "attributes": {"n": 0}})"})
        rows["offers"].push_back(check("offers", json(offer)).row);
    Json rules = Json::array();
    for (const char* when : {"metric('m') >= 1 and offer.categoryId = 'cards'",
                             "metric('m') >= 1 and (offer.categoryId = 'loans' or 1 / offer.n < 0)",
                             "metric('m') >= 1 and offer.id != 'zz'"})
        rules.push_back({{"when", when}, {"points", 1}});
    rows["models"].push_back(
        check("models", Json{{"id", "m"}, {"type", "scorecard"}, {"definition", {{"rules", rules}}}}).row);
    const CompiledCatalog c = compile_catalog(rows);
    const Expression& by_category = c.models.at("m").rules[0].first;
    const Expression& by_both = c.models.at("m").rules[1].first;
    const Expression& by_id = c.models.at("m").rules[2].first;
    auto offer = [&](std::string_view id) { return c.offer(id); };
    auto class_of = [&](const Expression& e, std::string_view id) {
        return offer(id)->path_values.at(e.class_slot).as_number();
    };
    // Three classes of ten offers: cards, loans, none.
    ASSERT_NE(by_category.class_slot, PathRef::kUnbound);
    EXPECT_EQ(class_of(by_category, "a1"), class_of(by_category, "a3"));
    EXPECT_EQ(class_of(by_category, "c1"), class_of(by_category, "c3"));
    EXPECT_NE(class_of(by_category, "a1"), class_of(by_category, "b1"));
    EXPECT_NE(class_of(by_category, "b1"), class_of(by_category, "c1"));
    // Category and n: (cards, 1) (cards, "1") (loans, 0) (loans, -0) (none, 0).
    ASSERT_NE(by_both.class_slot, PathRef::kUnbound);
    EXPECT_EQ(class_of(by_both, "a1"), class_of(by_both, "a2"));
    EXPECT_NE(class_of(by_both, "a1"), class_of(by_both, "a3"));
    EXPECT_NE(class_of(by_both, "b1"), class_of(by_both, "b2"));
    EXPECT_EQ(class_of(by_both, "c1"), class_of(by_both, "c2"));
    EXPECT_EQ(by_id.class_slot, PathRef::kUnbound);  // ten classes of ten offers
    EXPECT_EQ(c.path_table->kept_results, c.path_table->subject_programs + 3 + 5);

    Customer customer = sample_customer();
    customer.metrics["m"] = 2;
    const Json context = Json::object();
    SubjectValues subject(c.path_table, customer, context);
    EXPECT_TRUE(holds(by_category, customer, offer("a1"), context, kStart, &subject));
    EXPECT_FALSE(holds(by_category, customer, offer("c1"), context, kStart, &subject));
    EXPECT_TRUE(holds(by_both, customer, offer("b2"), context, kStart, &subject));  // loans
    EXPECT_TRUE(holds(by_id, customer, offer("a1"), context, kStart, &subject));
    customer.metrics["m"] = 0;  // not within one decision, but it shows what is kept
    EXPECT_TRUE(holds(by_category, customer, offer("a3"), context, kStart, &subject));   // a1's class
    EXPECT_FALSE(holds(by_category, customer, offer("b1"), context, kStart, &subject));  // evaluated
    EXPECT_TRUE(holds(by_both, customer, offer("b2"), context, kStart, &subject));       // kept
    EXPECT_FALSE(holds(by_both, customer, offer("b1"), context, kStart, &subject));      // 0, not -0
    EXPECT_FALSE(holds(by_id, customer, offer("a2"), context, kStart, &subject));        // not kept by class
    EXPECT_FALSE(holds(by_category, customer, offer("a2"), context, kStart + 1, &subject));  // another `now`
    // Without the subject, or for an offer of another catalog: evaluated.
    EXPECT_FALSE(holds(by_category, customer, offer("a2"), context, kStart));
    const CompiledCatalog other = compile_catalog(rows);
    EXPECT_FALSE(holds(by_category, customer, other.offer("a2"), context, kStart, &subject));
}

// What the candidates and qualification stages read of every offer is in
// its first cache line (docs/architecture.md, "The decision catalog").
TEST(CatalogOfferPaths, WhatEveryDecisionReadsOfAnOfferIsItsFirstCacheLine) {
    EXPECT_EQ(alignof(CompiledOffer), 64u);
    EXPECT_EQ(sizeof(CompiledOffer) % 64, 0u);
    const CompiledOffer offer;
    auto end_of = [&](const auto& field) {
        return static_cast<size_t>(reinterpret_cast<const char*>(&field) + sizeof(field) -
                                   reinterpret_cast<const char*>(&offer));
    };
    EXPECT_LE(end_of(offer.status), 64u);
    EXPECT_LE(end_of(offer.mandatory), 64u);
    EXPECT_LE(end_of(offer.first_place), 64u);
    EXPECT_LE(end_of(offer.start_at), 64u);
    EXPECT_LE(end_of(offer.end_at), 64u);
    EXPECT_LE(end_of(offer.eligibility), 64u);
    EXPECT_LE(end_of(offer.creatives), 64u);
    // A candidate's scoring: its path values, priority, value and lever.
    EXPECT_LE(end_of(offer.path_values), 128u);
    EXPECT_LE(end_of(offer.path_table), 128u);
    EXPECT_LE(end_of(offer.lever), 128u);
}

// An expression that reads no offer path is evaluated once per decision and
// `now`, then answers the same for every offer; one that reads the offer is
// evaluated for each. metric() reads the customer itself (not a path), so a
// metric changed within the decision shows whether the result was kept.
TEST(CatalogOfferPaths, CustomerOnlyExpressionsEvaluatedOncePerDecision) {
    const CompiledCatalog c = compile_offers(
        {R"({"id": "a", "eligibility": "metric('m') >= 1 and customer.age >= 18"})",
         R"({"id": "b", "eligibility": "metric('m') >= 1 and customer.age >= 18"})",
         R"({"id": "c", "eligibility": "metric('m') >= 1 and offer.rank = 1", "attributes": {"rank": 1}})",
         R"({"id": "d", "eligibility": "metric('m') >= 1 and offer.rank = 1", "attributes": {"rank": 1}})",
         R"({"id": "e", "eligibility": "days_since('2026-01-01') >= 1"})"});
    EXPECT_FALSE(c.offers[0].eligibility->reads_offer);
    EXPECT_TRUE(c.offers[2].eligibility->reads_offer);
    // One number per program: a and b share theirs; c and d read the offer.
    EXPECT_EQ(c.path_table->subject_programs, 2u);
    EXPECT_EQ(c.offers[0].eligibility->subject_program, c.offers[1].eligibility->subject_program);
    EXPECT_NE(c.offers[0].eligibility->subject_program, c.offers[4].eligibility->subject_program);
    EXPECT_EQ(c.offers[2].eligibility->subject_program, PathRef::kUnbound);
    Customer customer = sample_customer();
    customer.metrics["m"] = 2;
    const Json context = Json::object();
    SubjectValues subject(c.path_table, customer, context);
    EXPECT_TRUE(holds(*c.offers[0].eligibility, customer, &c.offers[0], context, kStart, &subject));
    EXPECT_TRUE(holds(*c.offers[2].eligibility, customer, &c.offers[2], context, kStart, &subject));
    customer.metrics["m"] = 0;  // not within one decision, but it shows what is kept
    EXPECT_TRUE(holds(*c.offers[1].eligibility, customer, &c.offers[1], context, kStart, &subject));  // kept
    // Reads the offer, but the same rank as c: kept for that class of offers.
    EXPECT_TRUE(holds(*c.offers[3].eligibility, customer, &c.offers[3], context, kStart, &subject));
    EXPECT_FALSE(holds(*c.offers[1].eligibility, customer, &c.offers[1], context, kStart));  // no subject: evaluated
    // At another `now`, evaluated again.
    EXPECT_FALSE(holds(*c.offers[1].eligibility, customer, &c.offers[1], context, kStart + 1, &subject));
    const double new_year = 1767225600;  // 2026-01-01T00:00:00Z
    EXPECT_FALSE(holds(*c.offers[4].eligibility, customer, &c.offers[4], context, new_year, &subject));
    EXPECT_TRUE(holds(*c.offers[4].eligibility, customer, &c.offers[4], context, new_year + 86400, &subject));
    // Another customer than the subject's: evaluated for them.
    Customer other = sample_customer();
    other.metrics["m"] = 5;
    EXPECT_TRUE(holds(*c.offers[1].eligibility, other, &c.offers[1], context, kStart + 1, &subject));
    // Numbers too: a relevance that reads no offer.
    RowsByKey rows;
    rows["offers"].push_back(check("offers", json(R"({"id": "o"})")).row);
    rows["flows"].push_back(check("flows", json(R"({"id": "f", "modelId": "m", "ranking": {"method": "arbitration",
        "relevance": "metric('m') * 2"}})")).row);
    const CompiledCatalog f = compile_catalog(rows);
    const Expression& relevance = *f.flows.at("f").relevance;
    SubjectValues decision(f.path_table, customer, context);
    customer.metrics["m"] = 3;
    EXPECT_EQ(value_of(relevance, customer, &f.offers[0], context, kStart, &decision), 6.0);
    customer.metrics["m"] = 4;
    EXPECT_EQ(value_of(relevance, customer, &f.offers[0], context, kStart, &decision), 6.0);  // kept
    EXPECT_EQ(value_of(relevance, customer, &f.offers[0], context, kStart), 8.0);
    customer.metrics.erase("m");
    EXPECT_EQ(value_of(relevance, customer, &f.offers[0], context, kStart + 1, &decision), std::nullopt);  // null kept as null
    EXPECT_EQ(value_of(relevance, customer, &f.offers[0], context, kStart + 1, &decision), std::nullopt);
}

TEST(CatalogCheckOffer, Status) {
    const Customer customer = sample_customer();
    for (const char* status : {"paused", "draft", "retired"}) {
        CompiledCatalog c = compile_offers({std::string(R"({"id": "o", "status": ")") + status + "\"}"});
        Eligibility e = check_offer(c.offers[0], nullptr, customer, Json::object(), kStart);
        EXPECT_FALSE(e.eligible) << status;
        EXPECT_EQ(e.reason, std::string("status is ") + status);
    }
    CompiledCatalog active = compile_offers({R"({"id": "o"})"});
    Eligibility e = check_offer(active.offers[0], nullptr, customer, Json::object(), kStart);
    EXPECT_TRUE(e.eligible);
    EXPECT_EQ(e.reason, "eligible");
}

// available (the pipeline's hot loop) says what unavailable says, without
// the reason, for every status and on both sides of the window's ends.
TEST(CatalogCheckOffer, AvailableAgreesWithUnavailable) {
    CompiledCatalog c = compile_offers(
        {R"({"id": "a"})", R"({"id": "d", "status": "draft"})", R"({"id": "p", "status": "paused"})",
         R"({"id": "r", "status": "retired"})",
         R"({"id": "w", "startAt": "2026-01-31T09:00:00Z", "endAt": "2026-03-01T00:00:00Z"})",
         R"({"id": "x", "status": "paused", "endAt": "2026-03-01T00:00:00Z"})"});
    for (const CompiledOffer& offer : c.offers)
        for (double now : {kStart - 1, kStart - 0.001, kStart, kEnd - 0.5, kEnd, kEnd + 1})
            EXPECT_EQ(available(offer, now), !unavailable(offer, now).has_value()) << offer.id << " at " << now;
    EXPECT_TRUE(available(c.offers[0], kEnd + 1e9));
    EXPECT_EQ(name(c.offers[1].status), "draft");
    EXPECT_EQ(name(c.offers[3].status), "retired");
}

// A stored row the catalog could not have accepted stops the compile with
// an internal error naming the offer (only a write around apply_catalog
// makes one).
TEST(CatalogCompile, UnknownStoredStatusIsAnInternalError) {
    RowsByKey rows;
    rows["offers"].push_back(Json{{"id", "o"}, {"status", "live"}});
    try {
        compile_catalog(rows);
        FAIL() << "compiled";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::Internal);
        EXPECT_STREQ(e.what(), "offer \"o\" has the unknown status \"live\"");
    }
}

TEST(CatalogCheckOffer, DateWindow) {
    const Customer customer = sample_customer();
    CompiledCatalog c =
        compile_offers({R"({"id": "o", "startAt": "2026-01-31T09:00:00Z", "endAt": "2026-03-01T00:00:00Z"})"});
    const CompiledOffer& offer = c.offers[0];
    Eligibility before = check_offer(offer, nullptr, customer, Json::object(), kStart - 1);
    EXPECT_FALSE(before.eligible);
    EXPECT_EQ(before.reason, "starts at 2026-01-31T09:00:00Z");
    EXPECT_EQ(check_offer(offer, nullptr, customer, Json::object(), kStart - 0.001).reason,
              "starts at 2026-01-31T09:00:00Z");
    Eligibility at_start = check_offer(offer, nullptr, customer, Json::object(), kStart);
    EXPECT_TRUE(at_start.eligible);
    EXPECT_EQ(at_start.reason, "eligible");
    EXPECT_TRUE(check_offer(offer, nullptr, customer, Json::object(), kEnd - 0.5).eligible);
    Eligibility at_end = check_offer(offer, nullptr, customer, Json::object(), kEnd);
    EXPECT_FALSE(at_end.eligible);
    EXPECT_EQ(at_end.reason, "ended at 2026-03-01T00:00:00Z");
    Eligibility after = check_offer(offer, nullptr, customer, Json::object(), kEnd + 86400);
    EXPECT_FALSE(after.eligible);
    EXPECT_EQ(after.reason, "ended at 2026-03-01T00:00:00Z");
}

TEST(CatalogCheckOffer, DateReasonsUseFormatTimestamp) {
    const Customer customer = sample_customer();
    CompiledCatalog c = compile_offers(
        {R"({"id": "o", "startAt": "2026-01-31T10:00:00.5+01:00"})", R"({"id": "p", "endAt": "2026-01-31"})"});
    EXPECT_EQ(check_offer(c.offers[0], nullptr, customer, Json::object(), 0).reason,
              "starts at " + format_timestamp(kStart + 0.5));
    EXPECT_EQ(check_offer(c.offers[0], nullptr, customer, Json::object(), 0).reason,
              "starts at 2026-01-31T09:00:00.5Z");
    EXPECT_EQ(check_offer(c.offers[1], nullptr, customer, Json::object(), kStart).reason,
              "ended at 2026-01-31T00:00:00Z");
}

TEST(CatalogCheckOffer, FlowEligibility) {
    const Customer customer = sample_customer();
    CompiledCatalog c =
        compile_offers({R"({"id": "o", "eligibility": "customer.age >= 18"})"},
                       {R"({"id": "f", "eligibility": "context.channel = 'web'"})",
                        R"({"id": "g", "eligibility": "offer.priority > 10 or offer.priority is null"})",
                        R"({"id": "h", "eligibility": "offer.priority > 10"})", R"({"id": "open"})"});
    const CompiledOffer& offer = c.offers[0];
    Eligibility no = check_offer(offer, &c.flows.at("f"), customer, json(R"({"channel": "sms"})"), kStart);
    EXPECT_FALSE(no.eligible);
    EXPECT_EQ(no.reason, "flow eligibility is false: context.channel = 'web'");
    Eligibility missing = check_offer(offer, &c.flows.at("f"), customer, Json::object(), kStart);
    EXPECT_EQ(missing.reason, "flow eligibility is false: context.channel = 'web'");
    Eligibility yes = check_offer(offer, &c.flows.at("f"), customer, json(R"({"channel": "web"})"), kStart);
    EXPECT_TRUE(yes.eligible);
    EXPECT_EQ(yes.reason, "eligible");
    // A flow's condition sees no offer: offer paths are null there.
    EXPECT_TRUE(check_offer(offer, &c.flows.at("g"), customer, Json::object(), kStart).eligible);
    EXPECT_EQ(check_offer(offer, &c.flows.at("h"), customer, Json::object(), kStart).reason,
              "flow eligibility is false: offer.priority > 10");
    EXPECT_TRUE(check_offer(offer, &c.flows.at("open"), customer, Json::object(), kStart).eligible);
}

TEST(CatalogCheckOffer, OfferEligibility) {
    Customer customer = sample_customer();
    CompiledCatalog c = compile_offers({R"({"id": "adult", "eligibility": "customer.age >= 18"})",
                                        R"({"id": "gold", "eligibility": "has_segment('gold') and offer.color = 'red'",
                                            "attributes": {"color": "red"}})",
                                        R"({"id": "fresh", "eligibility": "days_since(customer.joined) < 30"})",
                                        R"({"id": "metric", "eligibility": "metric('clicks_30d') is null"})",
                                        R"({"id": "metric2", "eligibility": "metric('clicks_30d') > 0"})"});
    auto by_id = [&](std::string_view id) -> const CompiledOffer& {
        for (const auto& o : c.offers)
            if (o.id == id) return o;
        throw std::logic_error("no offer");
    };
    EXPECT_TRUE(check_offer(by_id("adult"), nullptr, customer, Json::object(), kStart).eligible);
    customer.attributes["age"] = 12;
    Eligibility minor = check_offer(by_id("adult"), nullptr, customer, Json::object(), kStart);
    EXPECT_FALSE(minor.eligible);
    EXPECT_EQ(minor.reason, "eligibility is false: customer.age >= 18");
    customer.attributes.erase("age");
    EXPECT_EQ(check_offer(by_id("adult"), nullptr, customer, Json::object(), kStart).reason,
              "eligibility is false: customer.age >= 18");

    EXPECT_TRUE(check_offer(by_id("gold"), nullptr, customer, Json::object(), kStart).eligible);
    customer.segments = {"silver"};
    EXPECT_EQ(check_offer(by_id("gold"), nullptr, customer, Json::object(), kStart).reason,
              "eligibility is false: has_segment('gold') and offer.color = 'red'");

    customer.attributes["joined"] = "2026-01-21T09:00:00Z";  // 10 days before kStart
    EXPECT_TRUE(check_offer(by_id("fresh"), nullptr, customer, Json::object(), kStart).eligible);
    EXPECT_EQ(check_offer(by_id("fresh"), nullptr, customer, Json::object(), kStart + 30 * 86400.0).reason,
              "eligibility is false: days_since(customer.joined) < 30");

    // Behavioral metrics are not known yet: metric() is null.
    EXPECT_TRUE(check_offer(by_id("metric"), nullptr, customer, Json::object(), kStart).eligible);
    EXPECT_EQ(check_offer(by_id("metric2"), nullptr, customer, Json::object(), kStart).reason,
              "eligibility is false: metric('clicks_30d') > 0");
}

TEST(CatalogCheckOffer, ChecksInOrder) {
    Customer customer = sample_customer();
    customer.attributes["age"] = 12;
    CompiledCatalog c = compile_offers(
        {R"({"id": "a", "status": "paused", "startAt": "2027-01-01T00:00:00Z", "eligibility": "customer.age >= 18"})",
         R"({"id": "b", "startAt": "2027-01-01T00:00:00Z", "eligibility": "customer.age >= 18"})",
         R"({"id": "c", "endAt": "2026-01-01T00:00:00Z", "eligibility": "customer.age >= 18"})",
         R"({"id": "d", "eligibility": "customer.age >= 18"})"},
        {R"({"id": "f", "eligibility": "false"})"});
    const CompiledFlow* flow = &c.flows.at("f");
    EXPECT_EQ(check_offer(c.offers[0], flow, customer, Json::object(), kStart).reason, "status is paused");
    EXPECT_EQ(check_offer(c.offers[1], flow, customer, Json::object(), kStart).reason,
              "starts at 2027-01-01T00:00:00Z");
    EXPECT_EQ(check_offer(c.offers[2], flow, customer, Json::object(), kStart).reason, "ended at 2026-01-01T00:00:00Z");
    EXPECT_EQ(check_offer(c.offers[3], flow, customer, Json::object(), kStart).reason,
              "flow eligibility is false: false");
    EXPECT_EQ(check_offer(c.offers[3], nullptr, customer, Json::object(), kStart).reason,
              "eligibility is false: customer.age >= 18");
}

// --- normalisation: nested objects stored as checked; contextWeights; integer range ---

// SUSPECTED BUG: validate() promises the object "normalised", and every
// nested object of a fixed shape is (nulls dropped, whole numbers made
// integers: see CatalogRequired.NullForARequiredPropertyIsRefused and
// CatalogKinds.Integer). A policy's config is checked against its type's
// shape by check_policy, but the checked copy is thrown away: the row keeps
// the config as written, nulls and 3.0 included, so the policy evaluator
// gets {"maxPerDay": null} (on which nlohmann's value("maxPerDay", 0)
// throws) and exports read back what was written, not the normal form.
TEST(CatalogNormalisation, PolicyConfigIsNormalisedLikeOtherObjects) {
    Validated v = check("policies", policy("frequency_cap", json(R"({"maxPerDay": 3.0, "maxPerWeek": null})")));
    EXPECT_EQ(v.row["config"].dump(), R"({"maxPerDay":3})");
}

// SUSPECTED BUG: SPEC 6.1 gives flows.ranking.contextWeights the shape
// {categoryId: multiplier}, and 6.2 multiplies the arbitration score by it;
// the field is an open object, so a multiplier that is not a number (or is
// negative) is accepted here and can only fail at decision time.
TEST(CatalogNormalisation, ContextWeightsAreNumbers) {
    EXPECT_REFUSED_AT(check("flows", R"({"id": "f", "modelId": "m", "ranking": {"method": "arbitration",
                                         "contextWeights": {"cards": "high"}}})"),
                      "flows[0].ranking.contextWeights.cards");
    EXPECT_REFUSED_AT(check("flows", R"({"id": "f", "modelId": "m", "ranking": {"method": "arbitration",
                                         "contextWeights": {"cards": -1}}})"),
                      "flows[0].ranking.contextWeights.cards");
}

// SUSPECTED BUG: an integer field beyond the int32 range of its column is
// refused with "must be an integer", which is wrong about a whole number
// such as 3000000000; the message should name the limit.
TEST(CatalogNormalisation, HugeWholeNumberIsRefusedForItsSize) {
    auto refused = refusal([] {
        check("caps", R"({"id": "c", "scope": "offer", "scopeId": "o", "maxVolume": 3000000000, "period": "daily"})");
    });
    ASSERT_TRUE(refused.has_value());
    EXPECT_EQ(refused->detail()["path"], "caps[0].maxVolume");
    EXPECT_THAT(std::string(refused->what()), Not(HasSubstr("must be an integer")));
    EXPECT_THAT(std::string(refused->what()), HasSubstr("2147483647"));
}

}  // namespace
}  // namespace kaireon::catalog
