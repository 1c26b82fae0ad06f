#include "core/event_types.h"

#include <initializer_list>
#include <utility>

namespace kaireon::events {
namespace {

// ---- payload schema building blocks ---------------------------------------

using Property = std::pair<std::string_view, Json>;

// field returns a property schema of JSON type `type` (a name, or an array of
// names such as ["string", "null"]).
Json field(Json type, std::string_view description) {
    return Json{{"type", std::move(type)}, {"description", description}};
}

Json nullable(std::string_view type) { return Json::array({type, "null"}); }

// object_schema returns {"type": "object", "required": [every property],
// "properties": {...}}: every field an event names is always present.
Json object_schema(std::initializer_list<Property> properties) {
    Json required = Json::array();
    Json props = Json::object();
    for (const auto& [name, schema] : properties) {
        required.push_back(name);
        props[std::string(name)] = schema;
    }
    return Json{{"type", "object"}, {"required", std::move(required)}, {"properties", std::move(props)}};
}

Json tier(std::string_view description) {
    return Json{{"type", "string"},
                {"enum", Json::array({"community", "professional", "enterprise"})},
                {"description", description}};
}

Json timestamp(std::string_view description) { return field("string", description); }
Json timestamp_or_null(std::string_view description) { return field(nullable("string"), description); }
Json count(std::string_view description) {
    return Json{{"type", "integer"}, {"minimum", 0}, {"description", description}};
}

Property tenant() { return {"tenant", field("string", "The tenant id.")}; }
Property jti() { return {"jti", field("string", "The licence's jti claim (its token id).")}; }
Property feature() { return {"feature", field("string", "The feature key.")}; }
Property customer() { return {"customerId", field("string", "The customer id.")}; }
Property experiment() { return {"experimentId", field("string", "The experiment id.")}; }
Property journey() { return {"journeyId", field("string", "The journey id.")}; }
Property quota_tier() { return {"tier", tier("The tenant's effective tier.")}; }
Property percentage_used() {
    return {"percentageUsed", field("number", "Decisions this period as a percentage of the limit, one decimal.")};
}

// quota_usage is the `usage` object of the quota shape (SPEC section 5).
Property quota_usage() {
    return {"usage", Json{{"type", "object"},
                          {"description", "The decision count of the current period, as in quota_status()."},
                          {"required", Json::array({"current", "limit", "periodStart", "periodEnd"})},
                          {"properties",
                           {{"current", field("number", "Decisions counted this period.")},
                            {"limit", field(nullable("number"), "The tier's monthly limit; null when unlimited.")},
                            {"periodStart", timestamp("The start of the period: the calendar month (UTC), or the "
                                                      "instant of an upgrade made within it.")},
                            {"periodEnd", timestamp("The last second of the period (23:59:59Z of the month's last "
                                                    "day).")}}}}};
}

// entitlement_value is a stored entitlement value (SPEC section 3).
Json entitlement_value(std::string_view description) { return field(nullable("object"), description); }

// ---- the catalog -------------------------------------------------------------

std::vector<EventType> make_builtin_event_types() {
    std::vector<EventType> out;
    auto add = [&out](std::string_view type, std::string_view category, std::string_view description,
                      std::initializer_list<Property> properties) {
        out.push_back({std::string(type), std::string(category), std::string(description), object_schema(properties)});
    };

    // Licences (SPEC section 2).
    add("license.installed", "license", "A licence was verified and installed for the tenant.",
        {tenant(),
         jti(),
         {"tier", tier("The licence's tier.")},
         {"expiresAt", timestamp("When the licence expires (its exp claim).")}});
    add("license.expiring", "license", "The tenant's licence expires soon: sent 14, 7 and 1 days before its exp.",
        {tenant(),
         jti(),
         {"tier", tier("The licence's tier.")},
         {"expiresAt", timestamp("When the licence expires (its exp claim).")},
         {"daysLeft", count("Whole days left before the licence expires.")}});
    add("license.grace.reminder", "license",
        "The tenant's licence no longer verifies and its last verified tier stays in force for the 7-day grace "
        "period: sent once a day.",
        {tenant(),
         {"reason", field("string", "Why the licence no longer verifies.")},
         {"effectiveTier", tier("The tier in force during the grace period.")},
         {"graceUntil", timestamp("When the grace period ends and the tenant falls back to Community.")}});
    add("license.fallback", "license",
        "The tenant's grace period ended without a valid licence, so it fell back to Community limits.",
        {tenant(),
         {"reason", field("string", "Why the licence no longer verifies.")},
         {"effectiveTier", tier("The tier now in force (community).")}});
    add("license.revoked", "license", "A licence of the tenant was revoked by its jti and no longer verifies.",
        {tenant(), jti()});

    // Decision quota (SPEC section 5).
    add("quota.warning", "quota",
        "A decision brought the tenant's monthly decision quota to 90 % of its limit, and responses now carry a "
        "warning banner.",
        {quota_tier(),
         quota_usage(),
         percentage_used(),
         {"banner", field("string", "The banner text responses carry from now on.")}});
    add("quota.admin_notified", "quota",
        "A decision brought the tenant's monthly decision quota to 95 % of its limit, and this event carries the "
        "e-mail for the tenant's administrator.",
        {quota_tier(),
         quota_usage(),
         percentage_used(),
         {"email", Json{{"type", "object"},
                        {"description", "The notification e-mail to send."},
                        {"required", Json::array({"to", "subject", "body"})},
                        {"properties",
                         {{"to", field("string", "The tenant's admin_email.")},
                          {"subject", field("string", "The e-mail's subject line.")},
                          {"body", field("string", "The e-mail's plain-text body.")}}}}}});
    add("quota.exceeded", "quota",
        "A decision used the last of the tenant's monthly decision quota, and further decisions are refused with "
        "KR429 until the next period.",
        {quota_tier(),
         quota_usage(),
         {"retryAfter", timestamp("When the next period starts and decisions are accepted again.")}});
    add("quota.reset", "quota",
        "The tenant's decision count started again from zero: after a licence upgrade (sent by install_license), "
        "or at a new calendar month (sent by rollover_periods(), the scheduled job, with the closed period's count).",
        {quota_tier(), {"periodStart", timestamp("The start of the period whose count starts from zero.")},
         {"reason", Json{{"type", "string"},
                         {"enum", Json::array({"upgrade", "month"})},
                         {"description", "upgrade: a licence upgrade started a new period; month: a calendar month began."}}},
         {"previousPeriod",
          Json{{"type", Json::array({"object", "null"})},
               {"description", "The closed period (month rollover): periodStart, periodEnd (its last second) and "
                               "decisions (its count); null for an upgrade."},
               {"properties", Json{{"periodStart", timestamp("The closed period's start.")},
                                   {"periodEnd", timestamp("The closed period's last second.")},
                                   {"decisions", count("The decisions that counted in it.")}}}}}});

    // Usage thresholds (SPEC section 4).
    add("usage.threshold_reached", "usage",
        "A feature's metered usage crossed one of its thresholds upward: once per threshold and period.",
        {feature(),
         {"threshold",
          Json{{"type", "integer"}, {"minimum", 1}, {"description", "The threshold crossed, in percent."}}},
         {"limit", field("number", "The limit in force.")},
         {"currentUsage", field("number", "The usage of the period after the report that crossed it.")},
         {"percentageUsed", field("number", "The usage as a percentage of the limit, one decimal.")},
         {"periodStart", timestamp_or_null("The start of the period; null for period never.")},
         {"periodEnd", timestamp_or_null("The end of the period; null for period never.")}});

    // Plans and features (SPEC section 3).
    add("entitlement.plan_changed", "entitlement", "A tier's plan value for a feature was set or removed.",
        {{"tier", tier("The tier whose plan changed.")},
         feature(),
         {"value", entitlement_value(R"(The new value ({"limit": n}, {"enabled": b} or {"config": {...}}); )"
                                     "null when the tier is no longer entitled.")}});
    add("entitlement.feature_defined", "entitlement", "A feature was defined or redefined.",
        {feature(),
         {"type", Json{{"type", "string"},
                       {"enum", Json::array({"boolean", "numeric", "config"})},
                       {"description", "The feature's entitlement type."}}}});

    // Overrides (SPEC section 3).
    add("override.set", "override", "An override of a feature's value was set for the tenant.",
        {feature(),
         {"value", field("object", R"(The override ({"limit": n}, {"enabled": b} or {"config": {...}}).)")},
         {"expiresAt", timestamp_or_null("When the override stops being in force; null when it never expires.")}});
    add("override.cleared", "override", "The tenant's override of a feature was removed.", {feature()});
    add("override.expired", "override",
        "The tenant's override of a feature reached its expiry and is no longer in force.", {feature()});

    // Frequency caps (SPEC section 6.4).
    add("cap.exhausted", "cap",
        "A frequency cap reached its maximum volume for the period, and its scope is left out of new decisions "
        "until the period ends: once per cap and period.",
        {{"capId", field("string", "The cap's id.")},
         {"name", field(nullable("string"), "The cap's name.")},
         {"scope", field("string", "offer, category or channel.")},
         {"scopeId", field("string", "The offer, category or channel the cap counts.")},
         {"maxVolume", count("The cap's maximum volume per period.")},
         {"currentCount", count("The impressions counted in the period, this one included.")},
         customer(),
         {"channel", field(nullable("string"), "The channel of the impression that reached the cap, if any.")},
         {"periodStart", timestamp("The start of the cap's period (UTC day, ISO week or month).")},
         {"resetAt", timestamp("When the cap's period ends and its count starts again.")}});

    // Experiments (SPEC section 6.5).
    add("experiment.started", "experiment",
        "An experiment became active and started assigning customers to its variants.", {experiment()});
    add("experiment.stopped", "experiment", "An experiment stopped assigning customers to its variants.",
        {experiment(), {"reason", field("string", "Why it stopped (paused, completed, ...).")}});
    add("experiment.winner", "experiment", "An experiment declared one of its variants the winner.",
        {experiment(), {"variant", field("string", "The winning variant's id.")}});

    // Journeys (SPEC section 6.7).
    add("journey.entered", "journey", "A customer entered a journey.", {journey(), customer()});
    add("journey.advanced", "journey", "A customer moved on to another step of a journey.",
        {journey(), customer(), {"step", field("string", "The id of the node the customer is now at.")}});
    add("journey.completed", "journey", "A customer reached the end of a journey.", {journey(), customer()});
    add("journey.exited", "journey", "A customer left a journey before completing it.",
        {journey(),
         customer(),
         {"reason", field("string", "Why the customer left (an exit condition, the maximum duration, ...).")}});

    // Triggers (SPEC section 6.7).
    add("trigger.fired", "trigger", "A trigger matched an ingested event of a customer and ran its action.",
        {{"triggerId", field("string", "The trigger's id.")},
         customer(),
         {"eventType", field("string", "The ingested event's type.")},
         {"action", field("string", "The action's type: run_flow, update_attribute or webhook.")},
         {"result", field("object", "What the action did: the decision (decisionId, offers), the attribute and "
                                    "value, or the webhook's endpointId and payload.")}});

    // The audit trail (SPEC section 4).
    add("audit.sealed", "audit",
        "A run of kaireon.seal_audit() added rows of the tenant's audit log to its hash chain.",
        {{"sealed", count("How many rows this run sealed.")},
         {"lastAuditId", field(nullable("integer"), "The audit id at the end of the chain; null while it is empty.")}});
    add("audit.verification_failed", "audit",
        "A run of kaireon.verify_audit() found the tenant's audit hash chain broken.",
        {{"firstBrokenId", field("integer", "The audit id of the first broken or missing link.")},
         {"reason", field("string", "What is wrong, as verify_audit() reports it.")}});
    add("audit.refusals", "audit",
        "Refusals of one kind counted since the previous report were recorded in the audit trail.",
        {{"kind", field("string", "What was refused (for example quota).")},
         {"count", count("How many refusals of that kind.")},
         {"since", timestamp("The start of the counted interval.")}});
    return out;
}

}  // namespace

const std::vector<EventType>& builtin_event_types() {
    static const std::vector<EventType> types = make_builtin_event_types();
    return types;
}

const EventType* find_event_type(std::string_view type) {
    for (const auto& entry : builtin_event_types()) {
        if (entry.type == type) return &entry;
    }
    return nullptr;
}

}  // namespace kaireon::events
