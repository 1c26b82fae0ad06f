// event_types_test.cpp - the catalog of outbox event types
// (src/core/event_types.h, SPEC section 4): the 27 names, their categories,
// their descriptions and payload schemas, which must be in the schema subset
// of entitlements::validate_schema and accept the payloads src/pg emits.
#include "core/event_types.h"

#include "core/entitlements.h"
#include "core/error.h"

#include <gtest/gtest.h>

#include <cctype>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace kaireon::events {
namespace {

// The spec's list, in the catalog's order.
const std::vector<std::string> kExpectedTypes{
    "license.installed",
    "license.expiring",
    "license.grace.reminder",
    "license.fallback",
    "license.revoked",
    "quota.warning",
    "quota.admin_notified",
    "quota.exceeded",
    "quota.reset",
    "usage.threshold_reached",
    "entitlement.plan_changed",
    "entitlement.feature_defined",
    "override.set",
    "override.cleared",
    "override.expired",
    "cap.exhausted",
    "experiment.started",
    "experiment.stopped",
    "experiment.winner",
    "journey.entered",
    "journey.advanced",
    "journey.completed",
    "journey.exited",
    "trigger.fired",
    "audit.sealed",
    "audit.verification_failed",
    "audit.refusals",
};

// The payload fields each type names (top level), as the spec lists them.
const std::map<std::string, std::vector<std::string>> kExpectedFields{
    {"license.installed", {"tenant", "jti", "tier", "expiresAt"}},
    {"license.expiring", {"tenant", "jti", "tier", "expiresAt", "daysLeft"}},
    {"license.grace.reminder", {"tenant", "reason", "effectiveTier", "graceUntil"}},
    {"license.fallback", {"tenant", "reason", "effectiveTier"}},
    {"license.revoked", {"tenant", "jti"}},
    {"quota.warning", {"tier", "usage", "percentageUsed", "banner"}},
    {"quota.admin_notified", {"tier", "usage", "percentageUsed", "email"}},
    {"quota.exceeded", {"tier", "usage", "retryAfter"}},
    {"quota.reset", {"tier", "periodStart", "reason", "previousPeriod"}},
    {"usage.threshold_reached",
     {"feature", "threshold", "limit", "currentUsage", "percentageUsed", "periodStart", "periodEnd"}},
    {"entitlement.plan_changed", {"tier", "feature", "value"}},
    {"entitlement.feature_defined", {"feature", "type"}},
    {"override.set", {"feature", "value", "expiresAt"}},
    {"override.cleared", {"feature"}},
    {"override.expired", {"feature"}},
    {"cap.exhausted",
     {"capId", "name", "scope", "scopeId", "maxVolume", "currentCount", "customerId", "channel", "periodStart",
      "resetAt"}},
    {"experiment.started", {"experimentId"}},
    {"experiment.stopped", {"experimentId", "reason"}},
    {"experiment.winner", {"experimentId", "variant"}},
    {"journey.entered", {"journeyId", "customerId"}},
    {"journey.advanced", {"journeyId", "customerId", "step"}},
    {"journey.completed", {"journeyId", "customerId"}},
    {"journey.exited", {"journeyId", "customerId", "reason"}},
    {"trigger.fired", {"triggerId", "customerId", "eventType", "action", "result"}},
    {"audit.sealed", {"sealed", "lastAuditId"}},
    {"audit.verification_failed", {"firstBrokenId", "reason"}},
    {"audit.refusals", {"kind", "count", "since"}},
};

const std::set<std::string> kCategories{"license",       "quota",      "usage",   "entitlement", "override",
                                        "cap",           "experiment", "journey", "trigger",     "audit"};

std::vector<std::string> keys_of(const Json& object) {
    std::vector<std::string> out;
    for (const auto& [key, value] : object.items()) out.push_back(key);
    return out;
}

// sample returns a value that `schema` accepts, built from its first type.
Json sample(const Json& schema) {
    if (auto allowed = schema.find("enum"); allowed != schema.end()) return allowed->front();
    const Json& type = schema.at("type");
    const std::string first = type.is_array() ? type.front().get<std::string>() : type.get<std::string>();
    if (first == "string") return "x";
    if (first == "number") return 12.5;
    if (first == "integer") return 3;
    if (first == "boolean") return true;
    if (first == "null") return nullptr;
    if (first == "array") return Json::array();
    Json out = Json::object();
    if (auto properties = schema.find("properties"); properties != schema.end()) {
        for (const auto& [key, property] : properties->items()) out[key] = sample(property);
    }
    return out;
}

bool accepts(const Json& schema, const Json& payload) {
    try {
        entitlements::validate_config(schema, payload, "payload");
        return true;
    } catch (const Error&) {
        return false;
    }
}

// --- the list -----------------------------------------------------------------------

TEST(EventTypeCatalog, HasExactlyTheSpecsTwentySevenTypesInOrder) {
    const auto& types = builtin_event_types();
    ASSERT_EQ(types.size(), 27u);
    std::vector<std::string> names;
    for (const auto& entry : types) names.push_back(entry.type);
    EXPECT_EQ(names, kExpectedTypes);
}

TEST(EventTypeCatalog, NamesAreUnique) {
    std::set<std::string> seen;
    for (const auto& entry : builtin_event_types()) EXPECT_TRUE(seen.insert(entry.type).second) << entry.type;
}

TEST(EventTypeCatalog, EveryNamesPrefixIsItsCategory) {
    std::set<std::string> used;
    for (const auto& entry : builtin_event_types()) {
        SCOPED_TRACE(entry.type);
        EXPECT_TRUE(kCategories.count(entry.category)) << entry.category;
        EXPECT_EQ(entry.type.substr(0, entry.type.find('.')), entry.category);
        EXPECT_EQ(entry.type.find_first_not_of("abcdefghijklmnopqrstuvwxyz_."), std::string::npos);
        used.insert(entry.category);
    }
    EXPECT_EQ(used, kCategories);  // every category of the spec has events
}

TEST(EventTypeCatalog, DescriptionsAreOneSentence) {
    for (const auto& entry : builtin_event_types()) {
        SCOPED_TRACE(entry.type);
        ASSERT_GE(entry.description.size(), 10u);
        EXPECT_TRUE(std::isupper(static_cast<unsigned char>(entry.description.front()))) << entry.description;
        EXPECT_EQ(entry.description.back(), '.') << entry.description;
        EXPECT_EQ(entry.description.find(". "), std::string::npos) << entry.description;
        EXPECT_EQ(entry.description.find('\n'), std::string::npos) << entry.description;
    }
}

// --- payload schemas --------------------------------------------------------------

TEST(EventTypeSchemas, AreObjectSchemasWhoseRequiredFieldsAreProperties) {
    for (const auto& entry : builtin_event_types()) {
        SCOPED_TRACE(entry.type);
        const Json& schema = entry.payload_schema;
        ASSERT_TRUE(schema.is_object());
        EXPECT_EQ(keys_of(schema), (std::vector<std::string>{"type", "required", "properties"}));
        EXPECT_EQ(schema.at("type"), "object");
        ASSERT_TRUE(schema.at("required").is_array());
        ASSERT_TRUE(schema.at("properties").is_object());
        std::set<std::string> required;
        for (const auto& name : schema.at("required")) {
            ASSERT_TRUE(name.is_string());
            EXPECT_TRUE(required.insert(name.get<std::string>()).second) << name << " twice";
            EXPECT_TRUE(schema.at("properties").contains(name.get<std::string>())) << name << " is not a property";
        }
        for (const auto& [name, property] : schema.at("properties").items()) {
            EXPECT_TRUE(property.contains("type")) << name;
            EXPECT_TRUE(property.value("description", std::string()).size() > 0) << name;
        }
    }
}

TEST(EventTypeSchemas, NameTheSpecsPayloadFields) {
    for (const auto& entry : builtin_event_types()) {
        SCOPED_TRACE(entry.type);
        ASSERT_TRUE(kExpectedFields.count(entry.type));
        const auto& expected = kExpectedFields.at(entry.type);
        EXPECT_EQ(keys_of(entry.payload_schema.at("properties")), expected);
        std::vector<std::string> required;
        for (const auto& name : entry.payload_schema.at("required")) required.push_back(name.get<std::string>());
        EXPECT_EQ(required, expected);
    }
    const Json& email = find_event_type("quota.admin_notified")->payload_schema.at("properties").at("email");
    EXPECT_EQ(keys_of(email.at("properties")), (std::vector<std::string>{"to", "subject", "body"}));
    EXPECT_EQ(email.at("required"), Json::array({"to", "subject", "body"}));
}

TEST(EventTypeSchemas, AreInTheSupportedSchemaSubset) {
    for (const auto& entry : builtin_event_types()) {
        SCOPED_TRACE(entry.type);
        EXPECT_NO_THROW(entitlements::validate_schema(entry.payload_schema, "payload_schema"));
    }
}

TEST(EventTypeSchemas, AcceptASamplePayloadAndRefuseItWithoutAnyRequiredField) {
    for (const auto& entry : builtin_event_types()) {
        SCOPED_TRACE(entry.type);
        const Json payload = sample(entry.payload_schema);
        EXPECT_TRUE(accepts(entry.payload_schema, payload)) << payload.dump();
        Json more = payload;
        more["extra"] = 1;
        EXPECT_TRUE(accepts(entry.payload_schema, more)) << "emitters may add fields";
        for (const auto& name : entry.payload_schema.at("required")) {
            Json fewer = payload;
            fewer.erase(name.get<std::string>());
            EXPECT_FALSE(accepts(entry.payload_schema, fewer)) << "without " << name;
        }
        EXPECT_FALSE(accepts(entry.payload_schema, Json::array()));
    }
}

// The payloads src/pg emits today (license_functions.cpp, license_state.cpp,
// usage_ingest.cpp) fit their schemas.
TEST(EventTypeSchemas, AcceptThePayloadsTheDatabaseEmits) {
    auto schema = [](std::string_view type) { return find_event_type(type)->payload_schema; };
    EXPECT_TRUE(accepts(schema("license.installed"), Json::parse(R"({
        "tenant": "acme", "jti": "lic-1", "tier": "enterprise", "previousTier": "community",
        "expiresAt": "2027-01-01T00:00:00Z", "upgrade": true})")));
    EXPECT_TRUE(accepts(schema("license.expiring"), Json::parse(R"({
        "tenant": "acme", "jti": "lic-1", "tier": "professional", "expiresAt": "2027-01-01T00:00:00Z",
        "daysLeft": 7})")));
    EXPECT_TRUE(accepts(schema("license.grace.reminder"), Json::parse(R"({
        "tenant": "acme", "reason": "licence expired", "effectiveTier": "professional",
        "graceUntil": "2027-01-08T00:00:00Z"})")));
    EXPECT_TRUE(accepts(schema("usage.threshold_reached"), Json::parse(R"({
        "feature": "api-calls", "threshold": 90, "limit": 1000, "currentUsage": 905,
        "percentageUsed": 90.5, "periodStart": "2026-03-01T00:00:00Z", "periodEnd": "2026-04-01T00:00:00Z"})")));
    EXPECT_TRUE(accepts(schema("usage.threshold_reached"), Json::parse(R"({
        "feature": "connectors", "threshold": 100, "limit": 5, "currentUsage": 5,
        "percentageUsed": 100, "periodStart": null, "periodEnd": null})")));
    EXPECT_TRUE(accepts(schema("quota.exceeded"), Json::parse(R"({
        "tier": "community",
        "usage": {"current": 10000, "limit": 10000, "periodStart": "2026-03-01T00:00:00Z",
                  "periodEnd": "2026-04-01T00:00:00Z"},
        "retryAfter": "2026-04-01T00:00:00Z"})")));
    EXPECT_TRUE(accepts(schema("audit.verification_failed"),
                        Json::parse(R"({"firstBrokenId": 17, "reason": "row 17 was modified"})")));

    // Wrong types and unknown tiers are refused.
    EXPECT_FALSE(accepts(schema("license.expiring"), Json::parse(R"({
        "tenant": "acme", "jti": "lic-1", "tier": "professional", "expiresAt": "2027-01-01T00:00:00Z",
        "daysLeft": "7"})")));
    EXPECT_FALSE(accepts(schema("license.installed"), Json::parse(R"({
        "tenant": "acme", "jti": "lic-1", "tier": "platinum", "expiresAt": "2027-01-01T00:00:00Z"})")));
    EXPECT_FALSE(accepts(schema("quota.admin_notified"), Json::parse(R"({
        "tier": "community", "percentageUsed": 95,
        "usage": {"current": 9500, "limit": 10000, "periodStart": "2026-03-01T00:00:00Z",
                  "periodEnd": "2026-04-01T00:00:00Z"},
        "email": {"to": "admin@acme.test", "subject": "95 %"}})")));
}

// --- find ---------------------------------------------------------------------------

TEST(EventTypeFind, FindsEveryBuiltinType) {
    for (const auto& entry : builtin_event_types()) {
        const EventType* found = find_event_type(entry.type);
        ASSERT_NE(found, nullptr) << entry.type;
        EXPECT_EQ(found, &entry);
    }
    const EventType* warning = find_event_type("quota.warning");
    ASSERT_NE(warning, nullptr);
    EXPECT_EQ(warning->category, "quota");
}

TEST(EventTypeFind, ReturnsNullForUnknownTypes) {
    for (std::string_view unknown : {"", "license", "license.", "License.installed", "license.installed ",
                                     "quota.warnings", "frequency_cap.reached", "usage.threshold", "audit.sealed\n"}) {
        EXPECT_EQ(find_event_type(unknown), nullptr) << unknown;
    }
    EXPECT_EQ(find_event_type(std::string_view("quota.warning\0", 14)), nullptr);
}

}  // namespace
}  // namespace kaireon::events
