// ingest_functions.cpp - kaireon.ingest_event and kaireon.ingest_events
// (SPEC 6.7, docs/automation.md): the streaming entry. An event of a
// customer fires the tenant's triggers of its type, in priority order: each
// whose condition holds (over the customer, and the event's payload as the
// context) and whose per-customer cooldown has passed runs its action in
// the calling transaction and puts trigger.fired in the outbox.
#include "core/catalog.h"
#include "core/catalog_compiled.h"
#include "core/decision.h"
#include "core/entitlements.h"
#include "core/license.h"

#include "pg/catalog_state.h"
#include "pg/clock.h"
#include "pg/decision_functions.h"
#include "pg/entitlement_state.h"
#include "pg/events.h"
#include "pg/journeys.h"
#include "pg/guard.h"
#include "pg/jsonb.h"
#include "pg/spi.h"
#include "pg/tenant_access.h"

#include <string>

namespace kaireon {
namespace {

// kMaxEventsPerBatch bounds ingest_events: one transaction, one answer.
constexpr size_t kMaxEventsPerBatch = 1000;

struct Event {
    std::string customer_id, type;
    Json payload = Json::object();
};

// check_event refuses (KR400 naming `path`) what is not an event.
void check_event(const Event& event, const std::string& path) {
    if (event.customer_id.empty())
        throw_bad_request(path + "customerId: must not be empty", Json{{"path", path + "customerId"}});
    if (!catalog::valid_id(event.type))
        throw_bad_request(path + "eventType: must be an identifier (letters, digits and _ - . : @, at most " +
                              std::to_string(catalog::kMaxIdLength) + " bytes)",
                          Json{{"path", path + "eventType"}});
    if (!event.payload.is_object())
        throw_bad_request(path + "payload: must be a JSON object, not " + std::string(type_name(event.payload)),
                          Json{{"path", path + "payload"}});
}

// claim_cooldown records that `trigger` fires for the customer now, unless it
// fired within its cooldown: then it returns the seconds left. Two sessions
// ingesting for one customer take turns on the row; the second sees the
// first's firing once it commits.
std::optional<int64_t> claim_cooldown(pg::SpiSession& spi, const std::string& tenant,
                                      const catalog::CompiledTrigger& trigger, const std::string& customer,
                                      int64_t now) {
    const pg::SpiArg args[] = {
        pg::text_arg(tenant), pg::text_arg(trigger.id), pg::text_arg(customer),
        pg::SpiArg{TIMESTAMPTZOID, TimestampTzGetDatum(pg::timestamp_from_seconds(now))},
        pg::text_arg(std::to_string(trigger.cooldown_seconds))};
    if (spi.execute("INSERT INTO kaireon.trigger_cooldowns AS t (tenant_id, trigger_id, customer_id, last_fired_at, fired) "
                    "VALUES ($1, $2, $3, $4, 1) "
                    "ON CONFLICT (tenant_id, trigger_id, customer_id) DO UPDATE "
                    "SET last_fired_at = EXCLUDED.last_fired_at, fired = t.fired + 1 "
                    "WHERE t.last_fired_at <= EXCLUDED.last_fired_at - make_interval(secs => $5::bigint)",
                    {args[0], args[1], args[2], args[3], args[4]}) == 1)
        return std::nullopt;
    // Not read-only: a fresh snapshot, which sees the row the upsert found
    // (committed by another session after this statement began, or written
    // by an earlier event of this statement).
    spi.execute("SELECT ceil(extract(epoch FROM last_fired_at + make_interval(secs => $5::bigint) - $4))::bigint::text "
                "FROM kaireon.trigger_cooldowns WHERE tenant_id = $1 AND trigger_id = $2 AND customer_id = $3",
                {args[0], args[1], args[2], args[3], args[4]});
    if (spi.rows() != 1) throw Error(ErrorCode::Internal, "trigger \"" + trigger.id + "\": its cooldown row is gone");
    return std::stoll(spi.text(0, 0).value_or("0"));
}

// run_action runs a trigger's action for the customer and returns what it
// did (the answer's "result", also in the trigger.fired event).
Json run_action(pg::SpiSession& spi, const std::string& tenant, const catalog::CompiledCatalog& catalog,
                const catalog::CompiledTrigger& trigger, const Event& event) {
    const std::string type = trigger.action_type();
    const Json& action = trigger.action;
    if (type == "run_flow") {
        // The event's payload is the decision's context.
        Json request = {{"customerId", event.customer_id}, {"flow", action.value("flowId", "")},
                        {"context", event.payload}};
        Json response = pg::recommend_for(tenant, request);
        return {{"decisionId", response.value("decisionId", Json())}, {"offers", response.value("offers", Json::array())}};
    }
    if (type == "update_attribute") {
        const std::string attribute = action.value("attribute", "");
        const Json value = action.value("value", Json());
        spi.execute("UPDATE kaireon.customers SET attributes = jsonb_set(attributes, ARRAY[$3], $4, true) "
                    "WHERE tenant_id = $1 AND id = $2",
                    {pg::text_arg(tenant), pg::text_arg(event.customer_id), pg::text_arg(attribute),
                     pg::SpiArg{JSONBOID, pg::jsonb_datum(value)}});
        return {{"attribute", attribute}, {"value", value}};
    }
    if (type == "webhook") {
        // The outbox is the contract: the event below carries the action's
        // endpoint and payload to the delivery of docs/automation.md.
        return {{"endpointId", action.value("endpointId", Json())},
                {"payload", action.value("payload", Json::object())}};
    }
    if (type == "enroll_journey") {
        // The event's payload is the journey's context.
        pg::require_feature_enabled(tenant, "journeys");
        return pg::enroll_in_journey(tenant, catalog, event.customer_id, action.value("journeyId", ""), event.payload,
                                     action.value("mode", "skip_if_active"));
    }
    throw Error(ErrorCode::Internal, "trigger \"" + trigger.id + "\": unknown action type \"" + type + "\"");
}

// ingest handles one event for the tenant and returns its answer.
Json ingest(const std::string& tenant, const Event& event) {
    auto compiled = pg::compiled_catalog(tenant);
    pg::SpiSession spi;
    decision::CustomerView view = pg::read_customer(tenant, event.customer_id, "customerId");
    const auto triggers = compiled->triggers_for(event.type);
    if (!triggers.empty()) pg::require_feature_enabled(tenant, "triggers");
    const int64_t now = pg::now_seconds();
    // The event is news for the customer's journeys first (it happened before
    // any enrolment its triggers make): it ends waits for it.
    Json journeys = Json::array();
    if (compiled->journey_outcomes.contains(event.type))
        journeys = pg::observe_journey_outcome(tenant, *compiled, event.customer_id, event.type, true);
    Json answers = Json::array();
    for (const catalog::CompiledTrigger* trigger : triggers) {
        Json answer = {{"triggerId", trigger->id}, {"action", trigger->action_type()}, {"fired", false}};
        if (trigger->condition &&
            !catalog::holds(*trigger->condition, view.customer, nullptr, event.payload, static_cast<double>(now))) {
            answer["reason"] = "condition";
        } else if (auto left = claim_cooldown(spi, tenant, *trigger, event.customer_id, now)) {
            answer["reason"] = "cooldown: " + std::to_string(*left) + "s left";
        } else {
            // The action sees what earlier triggers of this event changed.
            pg::OwnWritesSnapshot own_writes;
            Json result = run_action(spi, tenant, *compiled, *trigger, event);
            answer["fired"] = true;
            answer["result"] = result;
            pg::emit_event(tenant, "trigger.fired",
                           {{"triggerId", trigger->id},
                            {"customerId", event.customer_id},
                            {"eventType", event.type},
                            {"action", trigger->action_type()},
                            {"result", result}});
            // A later trigger sees what an earlier one changed.
            if (trigger->action_type() == "update_attribute")
                view.customer.attributes[result["attribute"].get<std::string>()] = result["value"];
        }
        answers.push_back(std::move(answer));
    }
    Json out = {{"customerId", event.customer_id}, {"eventType", event.type}, {"triggers", std::move(answers)}};
    if (compiled->journey_outcomes.contains(event.type)) out["journeys"] = std::move(journeys);
    return out;
}

}  // namespace
}  // namespace kaireon

using namespace kaireon;

// kaireon.ingest_event(customer_id text, event_type text, payload jsonb)
// returns jsonb: {"customerId", "eventType", "triggers": [{"triggerId",
// "action", "fired", "reason" | "result"}]}.
KAIREON_FUNCTION(kaireon_ingest_event) {
    const std::string tenant = pg::require_current_tenant();
    // Streaming ingest is professional+: checked before anything else.
    pg::require_feature_enabled(tenant, "pipelines.streaming");
    Event event;
    if (PG_ARGISNULL(0)) throw_bad_request("customer_id must not be null", Json{{"path", "customerId"}});
    if (PG_ARGISNULL(1)) throw_bad_request("event_type must not be null", Json{{"path", "eventType"}});
    event.customer_id = pg::text_from_datum(PG_GETARG_DATUM(0));
    event.type = pg::text_from_datum(PG_GETARG_DATUM(1));
    if (!PG_ARGISNULL(2)) event.payload = pg::json_from_jsonb(PG_GETARG_DATUM(2), "payload");
    check_event(event, "");
    return pg::jsonb_datum(ingest(tenant, event));
}

// kaireon.ingest_events(events jsonb) returns jsonb: the events of an array
// of {"customerId", "eventType", "payload"} in order, in this transaction
// (one failure fails them all): {"events": [answer, ...]}.
KAIREON_FUNCTION(kaireon_ingest_events) {
    const std::string tenant = pg::require_current_tenant();
    pg::require_feature_enabled(tenant, "pipelines.streaming");
    if (PG_ARGISNULL(0)) throw_bad_request("events must not be null", Json{{"path", "events"}});
    const Json events = pg::json_from_jsonb(PG_GETARG_DATUM(0), "events");
    if (!events.is_array()) throw_bad_request("events must be a JSON array", Json{{"path", "events"}});
    if (events.size() > kMaxEventsPerBatch)
        throw_bad_request("events: at most " + std::to_string(kMaxEventsPerBatch) + " per call, not " +
                              std::to_string(events.size()),
                          Json{{"path", "events"}, {"limit", kMaxEventsPerBatch}});
    std::vector<Event> parsed;
    for (size_t i = 0; i < events.size(); ++i) {
        const std::string path = "events[" + std::to_string(i) + "].";
        const Json& item = events[i];
        if (!item.is_object())
            throw_bad_request(path.substr(0, path.size() - 1) + ": must be an object",
                              Json{{"path", path.substr(0, path.size() - 1)}});
        for (const auto& [key, value] : item.items())
            if (key != "customerId" && key != "eventType" && key != "payload")
                throw_bad_request(path + key + ": unknown field", Json{{"path", path + key}});
        Event event;
        if (item.contains("customerId") && item["customerId"].is_string()) event.customer_id = item["customerId"];
        if (item.contains("eventType") && item["eventType"].is_string()) event.type = item["eventType"];
        if (item.contains("payload")) event.payload = item["payload"];
        check_event(event, path);
        parsed.push_back(std::move(event));
    }
    Json answers = Json::array();
    for (const Event& event : parsed) answers.push_back(ingest(tenant, event));
    return pg::jsonb_datum(Json{{"events", std::move(answers)}});
}
