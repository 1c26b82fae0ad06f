// journey_functions.cpp - journeys in the database (SPEC 6.7,
// docs/automation.md): kaireon.enroll_journey, kaireon.exit_journey, the
// step tick() takes for each due instance (kaireon._advance_journey), and
// the news responses and ingested events bring (pg/journeys.h). The engine
// that decides each move is src/core/journeys.h; here instances are read
// and locked, their moves recorded as transitions and outbox events.
#include "core/catalog.h"
#include "core/decision.h"
#include "core/entitlements.h"
#include "core/journeys.h"
#include "core/license.h"

#include "pg/journeys.h"

#include "pg/catalog_state.h"
#include "pg/clock.h"
#include "pg/decision_functions.h"
#include "pg/entitlement_state.h"
#include "pg/events.h"
#include "pg/guard.h"
#include "pg/jsonb.h"
#include "pg/spi.h"
#include "pg/tenant_access.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <vector>

namespace kaireon {
namespace {

using journeys::Status;

// An instance as stored, with the engine's view of it.
struct StoredInstance {
    int64_t id = 0;
    std::string journey_id, customer_id;
    journeys::Instance state;
    Json context = Json::object();
    int64_t steps = 0;
};

// Times travel as text of Unix seconds (to_timestamp on the SQL side).
std::string seconds_text(double seconds) { return std::to_string(seconds); }

pg::SpiArg optional_seconds_arg(const std::optional<double>& seconds) {
    if (!seconds) return pg::null_text_arg();
    return pg::text_arg(seconds_text(*seconds));
}


// kInstanceColumns are what read_instances reads, in this order.
constexpr const char* kSelectInstances =
    "SELECT i.id::text, i.journey_id, i.customer_id, i.node_id, extract(epoch FROM i.node_entered_at)::float8::text, "
    "       extract(epoch FROM i.expires_at)::float8::text, i.context, i.outcomes, i.steps::text "
    "FROM kaireon.journey_instances i ";

std::vector<StoredInstance> read_instances(pg::SpiSession& spi) {
    std::vector<StoredInstance> out;
    for (uint64 row = 0; row < spi.rows(); ++row) {
        StoredInstance instance;
        instance.id = std::stoll(spi.text(row, 0).value_or("0"));
        instance.journey_id = spi.text(row, 1).value_or("");
        instance.customer_id = spi.text(row, 2).value_or("");
        instance.state.node = spi.text(row, 3).value_or("");
        instance.state.node_entered_at = std::stod(spi.text(row, 4).value_or("0"));
        if (auto expires = spi.text(row, 5)) instance.state.expires_at = std::stod(*expires);
        instance.context = spi.json(row, 6).value_or(Json::object());
        const Json outcomes = spi.json(row, 7).value_or(Json::object());
        for (const auto& [outcome, at] : outcomes.items())
            if (at.is_number()) instance.state.outcomes[outcome] = at.get<double>();
        instance.steps = std::stoll(spi.text(row, 8).value_or("0"));
        out.push_back(std::move(instance));
    }
    return out;
}

// DatabaseEffects makes a journey's decisions as kaireon_recommend does and
// evaluates its branch conditions over the customer as this transaction
// sees it (earlier triggers' attribute updates included).
class DatabaseEffects final : public journeys::Effects {
public:
    DatabaseEffects(const std::string& tenant, const StoredInstance& instance, double now)
        : tenant_(tenant), instance_(instance), now_(now) {}

    Decision recommend(const journeys::Node& node) override {
        pg::OwnWritesSnapshot own_writes;
        const Json request = {{"customerId", instance_.customer_id}, {"flow", node.flow_id}, {"context", instance_.context}};
        const Json response = pg::recommend_for(tenant_, request);
        Decision decision;
        if (auto id = response.find("decisionId"); id != response.end() && id->is_string()) decision.id = *id;
        if (auto offers = response.find("offers"); offers != response.end() && offers->is_array())
            decision.offered = !offers->empty();
        return decision;
    }

    bool holds(const expr::Program& condition) override {
        if (!customer_) {
            pg::OwnWritesSnapshot own_writes;
            customer_ = pg::read_customer(tenant_, instance_.customer_id, "customerId").customer;
        }
        return catalog::holds(condition, *customer_, nullptr, instance_.context, now_);
    }

private:
    const std::string& tenant_;
    const StoredInstance& instance_;
    double now_;
    std::optional<catalog::Customer> customer_;
};

Json transition_json(const journeys::Transition& t) {
    Json out = {{"from", t.from.empty() ? Json() : Json(t.from)},
                {"to", t.to.empty() ? Json() : Json(t.to)},
                {"reason", t.reason}};
    if (!t.decision_id.empty()) out["decisionId"] = t.decision_id;
    return out;
}

// record stores the instance after `moves`: each transition (and its
// outbox event), then the row itself (`end_reason` when it ended). Returns
// the transitions as JSON.
Json record(pg::SpiSession& spi, const std::string& tenant, StoredInstance& instance,
            const std::vector<journeys::Transition>& moves, Status status, const std::optional<double>& wake_at,
            const std::string& end_reason, double now) {
    Json transitions = Json::array();
    std::string last_decision;
    const Json base = {{"journeyId", instance.journey_id}, {"customerId", instance.customer_id},
                       {"instanceId", instance.id}};
    for (const journeys::Transition& move : moves) {
        ++instance.steps;
        spi.execute("INSERT INTO kaireon.journey_transitions "
                    "(tenant_id, instance_id, step, journey_id, customer_id, from_node, to_node, reason, decision_id, at) "
                    "VALUES ($1, $2::bigint, $3::integer, $4, $5, $6, $7, $8, $9::uuid, to_timestamp($10::float8))",
                    {pg::text_arg(tenant), pg::text_arg(std::to_string(instance.id)),
                     pg::text_arg(std::to_string(instance.steps)), pg::text_arg(instance.journey_id),
                     pg::text_arg(instance.customer_id), pg::text_or_null(move.from), pg::text_or_null(move.to),
                     pg::text_arg(move.reason), pg::text_or_null(move.decision_id), pg::text_arg(seconds_text(now))});
        if (!move.decision_id.empty()) last_decision = move.decision_id;
        Json payload = base;
        payload["from"] = move.from.empty() ? Json() : Json(move.from);
        payload["reason"] = move.reason;
        if (move.from.empty()) {
            payload["step"] = move.to;
            pg::emit_event(tenant, "journey.entered", payload);
        } else if (!move.to.empty()) {
            payload["step"] = move.to;
            pg::emit_event(tenant, "journey.advanced", payload);
        }
        transitions.push_back(transition_json(move));
    }
    Json outcomes = Json::object();
    for (const auto& [outcome, at] : instance.state.outcomes) outcomes[outcome] = at;
    const bool ended = status != Status::Active;
    spi.execute("UPDATE kaireon.journey_instances SET "
                "  status = $3, node_id = $4, node_entered_at = to_timestamp($5::float8), "
                "  wake_at = to_timestamp($6::float8), outcomes = $7, steps = $8::integer, "
                "  last_decision_id = coalesce($9::uuid, last_decision_id), last_error = NULL, "
                "  ended_at = CASE WHEN $3 = 'active' THEN NULL ELSE to_timestamp($10::float8) END, end_reason = $11 "
                "WHERE tenant_id = $1 AND id = $2::bigint",
                {pg::text_arg(tenant), pg::text_arg(std::to_string(instance.id)),
                 pg::text_arg(std::string(journeys::status_name(status))), pg::text_or_null(instance.state.node),
                 pg::text_arg(seconds_text(instance.state.node_entered_at)),
                 optional_seconds_arg(ended ? std::nullopt : wake_at), pg::SpiArg{JSONBOID, pg::jsonb_datum(outcomes)},
                 pg::text_arg(std::to_string(instance.steps)), pg::text_or_null(last_decision),
                 pg::text_arg(seconds_text(now)), pg::text_or_null(end_reason)});
    if (status == Status::Completed) pg::emit_event(tenant, "journey.completed", base);
    if (status == Status::Exited) {
        Json payload = base;
        payload["reason"] = end_reason;
        pg::emit_event(tenant, "journey.exited", payload);
    }
    return transitions;
}

// end_instance ends an instance without the engine (exit_journey, a
// restart, a journey or customer that is gone).
Json end_instance(pg::SpiSession& spi, const std::string& tenant, StoredInstance& instance, const std::string& reason,
                  double now) {
    std::vector<journeys::Transition> moves = {{instance.state.node, "", reason, ""}};
    instance.state.node.clear();
    return record(spi, tenant, instance, moves, Status::Exited, std::nullopt, reason, now);
}

Json instance_answer(const StoredInstance& instance, Status status, Json transitions) {
    return {{"instanceId", instance.id},
            {"journeyId", instance.journey_id},
            {"status", journeys::status_name(status)},
            {"node", instance.state.node.empty() ? Json() : Json(instance.state.node)},
            {"transitions", std::move(transitions)}};
}

// runnable returns the catalog's journey `id`: nullptr when the catalog has
// none (deleted); KR400 when it is stored but cannot run.
const journeys::Journey* runnable(const catalog::CompiledCatalog& catalog, const std::string& id) {
    if (auto invalid = catalog.invalid_journeys.find(id); invalid != catalog.invalid_journeys.end())
        throw_bad_request("journey \"" + id + "\" cannot run: " + invalid->second + " (fix it with apply_catalog)",
                          Json{{"path", "journeyId"}, {"journeyId", id}});
    auto it = catalog.journeys.find(id);
    return it == catalog.journeys.end() ? nullptr : &it->second;
}

// move advances a locked instance with the engine and records the result.
Json move(pg::SpiSession& spi, const std::string& tenant, const journeys::Journey& journey, StoredInstance& instance,
          const journeys::Options& options) {
    DatabaseEffects effects(tenant, instance, options.now);
    journeys::Advance advance = journeys::advance(journey, instance.state, effects, options);
    Json transitions =
        record(spi, tenant, instance, advance.transitions, advance.status, advance.wake_at, advance.end_reason, options.now);
    return instance_answer(instance, advance.status, std::move(transitions));
}

bool customer_exists(pg::SpiSession& spi, const std::string& tenant, const std::string& customer_id) {
    spi.execute("SELECT 1 FROM kaireon.customers WHERE tenant_id = $1 AND id = $2",
                {pg::text_arg(tenant), pg::text_arg(customer_id)});
    return spi.rows() == 1;
}

// kAllJourneys asks lock_active for the instances of every journey.
const std::optional<std::string> kAllJourneys;

// lock_active reads and locks the customer's active instances of
// `journey_id` (of every journey: kAllJourneys), oldest first.
std::vector<StoredInstance> lock_active(pg::SpiSession& spi, const std::string& tenant, const std::string& customer_id,
                                        const std::optional<std::string>& journey_id) {
    std::string sql = std::string(kSelectInstances) +
                      "WHERE i.tenant_id = $1 AND i.customer_id = $2 AND i.status = 'active' "
                      "  AND ($3::text IS NULL OR i.journey_id = $3) ORDER BY i.id FOR UPDATE";
    spi.execute(sql.c_str(), {pg::text_arg(tenant), pg::text_arg(customer_id),
                              journey_id ? pg::text_arg(*journey_id) : pg::null_text_arg()});
    return read_instances(spi);
}

const char* const kModes[] = {"skip_if_active", "restart", "allow_multiple"};

}  // namespace

Json pg::enroll_in_journey(const std::string& tenant, const catalog::CompiledCatalog& catalog,
                           const std::string& customer_id, const std::string& journey_id, const Json& context,
                           const std::string& mode) {
    if (std::find(std::begin(kModes), std::end(kModes), mode) == std::end(kModes))
        throw_bad_request("mode must be skip_if_active, restart or allow_multiple, not \"" + mode + "\"",
                          Json{{"path", "mode"}});
    if (!context.is_object())
        throw_bad_request("context must be a JSON object, not " + std::string(type_name(context)),
                          Json{{"path", "context"}});
    const journeys::Journey* journey = runnable(catalog, journey_id);
    if (journey == nullptr)
        throw_bad_request("journeyId: unknown journey \"" + journey_id + "\"", Json{{"path", "journeyId"}});
    const double now = static_cast<double>(pg::now_seconds());
    SpiSession spi;
    Json answer = {{"journeyId", journey_id}, {"customerId", customer_id}, {"enrolled", false}};
    {
        OwnWritesSnapshot own_writes;
        decision::CustomerView view = read_customer(tenant, customer_id, "customerId");
        if (journey->entry_condition && !catalog::holds(*journey->entry_condition, view.customer, nullptr, context, now)) {
            answer["reason"] = "entryCondition";
            return answer;
        }
    }
    // Enrolments of one customer in one journey take turns on this row (the
    // upsert locks it, also when it only exists).
    spi.execute("INSERT INTO kaireon.journey_enrollments AS e (tenant_id, journey_id, customer_id, enrolled) "
                "VALUES ($1, $2, $3, 0) "
                "ON CONFLICT (tenant_id, journey_id, customer_id) DO UPDATE SET enrolled = e.enrolled",
                {text_arg(tenant), text_arg(journey_id), text_arg(customer_id)});
    std::vector<StoredInstance> active = lock_active(spi, tenant, customer_id, journey_id);
    if (!active.empty() && mode == "skip_if_active") {
        answer["reason"] = "active";
        answer["instanceId"] = active.front().id;
        return answer;
    }
    if (mode == "restart")
        for (StoredInstance& instance : active) end_instance(spi, tenant, instance, "restarted", now);
    spi.execute("UPDATE kaireon.journey_enrollments SET enrolled = enrolled + 1, last_enrolled_at = to_timestamp($4::float8) "
                "WHERE tenant_id = $1 AND journey_id = $2 AND customer_id = $3",
                {text_arg(tenant), text_arg(journey_id), text_arg(customer_id), text_arg(seconds_text(now))});

    StoredInstance instance;
    instance.journey_id = journey_id;
    instance.customer_id = customer_id;
    instance.context = context;
    instance.state.node = journey->nodes.front().id;
    instance.state.node_entered_at = now;
    if (journey->max_duration_days) instance.state.expires_at = now + *journey->max_duration_days * 86400.0;
    spi.execute("INSERT INTO kaireon.journey_instances "
                "(tenant_id, journey_id, customer_id, node_id, node_entered_at, entered_at, expires_at, context) "
                "VALUES ($1, $2, $3, $4, to_timestamp($5::float8), to_timestamp($5::float8), to_timestamp($6::float8), $7) "
                "RETURNING id::text",
                {text_arg(tenant), text_arg(journey_id), text_arg(customer_id), text_arg(instance.state.node),
                 text_arg(seconds_text(now)), optional_seconds_arg(instance.state.expires_at),
                 SpiArg{JSONBOID, jsonb_datum(context)}});
    instance.id = std::stoll(spi.text(0, 0).value_or("0"));
    Json entered = record(spi, tenant, instance, {{"", instance.state.node, "entered", ""}}, Status::Active,
                          std::nullopt, "", now);
    journeys::Options options;
    options.now = now;
    Json moved = move(spi, tenant, *journey, instance, options);
    for (const Json& t : moved["transitions"]) entered.push_back(t);
    moved["transitions"] = std::move(entered);
    moved["customerId"] = customer_id;
    moved["enrolled"] = true;
    return moved;
}

Json pg::observe_journey_outcome(const std::string& tenant, const catalog::CompiledCatalog& catalog,
                                 const std::string& customer_id, const std::string& outcome, bool allow_decisions) {
    Json moved = Json::array();
    if (!catalog.journey_outcomes.contains(outcome)) return moved;
    // Journeys stand still while the tenant is not entitled to them.
    if (!feature_enabled(tenant, "journeys")) return moved;
    const double now = static_cast<double>(pg::now_seconds());
    SpiSession spi;
    for (StoredInstance& instance : lock_active(spi, tenant, customer_id, kAllJourneys)) {
        auto journey = catalog.journeys.find(instance.journey_id);
        if (journey == catalog.journeys.end() || !journey->second.outcomes().contains(outcome)) continue;
        journeys::Options options;
        options.now = now;
        options.observed_outcome = outcome;
        options.allow_decisions = allow_decisions;
        moved.push_back(move(spi, tenant, journey->second, instance, options));
    }
    return moved;
}

}  // namespace kaireon

using namespace kaireon;

// kaireon.enroll_journey(customer_id text, journey_id text, context jsonb,
// mode text) returns jsonb: the enrolment (pg::enroll_in_journey).
KAIREON_FUNCTION(kaireon_enroll_journey) {
    const std::string tenant = pg::require_current_tenant();
    pg::require_feature_enabled(tenant, "journeys");
    const std::string customer_id = pg::required_text(fcinfo, 0, "customer_id");
    const std::string journey_id = pg::required_text(fcinfo, 1, "journey_id");
    const Json context = PG_ARGISNULL(2) ? Json::object() : pg::json_from_jsonb(PG_GETARG_DATUM(2), "context");
    const std::string mode = PG_ARGISNULL(3) ? "skip_if_active" : pg::text_from_datum(PG_GETARG_DATUM(3));
    auto compiled = pg::compiled_catalog(tenant);
    return pg::jsonb_datum(pg::enroll_in_journey(tenant, *compiled, customer_id, journey_id, context, mode));
}

// kaireon.exit_journey(customer_id text, journey_id text) returns jsonb
// {"journeyId", "customerId", "exited": n}: the customer's active instances
// of the journey end with the reason "removed".
KAIREON_FUNCTION(kaireon_exit_journey) {
    const std::string tenant = pg::require_current_tenant();
    const std::string customer_id = pg::required_text(fcinfo, 0, "customer_id");
    const std::string journey_id = pg::required_text(fcinfo, 1, "journey_id");
    if (journey_id.empty()) throw_bad_request("journey_id must not be empty", Json{{"path", "journeyId"}});
    const double now = static_cast<double>(pg::now_seconds());
    pg::SpiSession spi;
    if (!customer_exists(spi, tenant, customer_id))
        throw_bad_request("unknown customer \"" + customer_id + "\"", Json{{"path", "customerId"}});
    int64_t exited = 0;
    for (StoredInstance& instance : lock_active(spi, tenant, customer_id, journey_id)) {
        end_instance(spi, tenant, instance, "removed", now);
        ++exited;
    }
    return pg::jsonb_datum(Json{{"journeyId", journey_id}, {"customerId", customer_id}, {"exited", exited}});
}

// kaireon._advance_journey(tenant_id text, instance_id bigint) returns jsonb:
// the instance moved as far as it goes now (advance_journeys' step, called
// by tick() for every tenant), or {"instanceId", "status": null} when it is
// no longer active. An instance whose journey or customer is gone exits.
KAIREON_FUNCTION(kaireon_advance_journey) {
    const std::string tenant = pg::required_text(fcinfo, 0, "tenant_id");
    if (PG_ARGISNULL(1)) throw_bad_request("instance_id must not be null", Json{{"path", "instance_id"}});
    const int64_t instance_id = PG_GETARG_INT64(1);
    const double now = static_cast<double>(pg::now_seconds());
    auto compiled = pg::compiled_catalog(tenant);
    pg::SpiSession spi;
    std::string sql = std::string(kSelectInstances) + "WHERE i.tenant_id = $1 AND i.id = $2::bigint AND i.status = 'active' FOR UPDATE";
    spi.execute(sql.c_str(), {pg::text_arg(tenant), pg::text_arg(std::to_string(instance_id))});
    std::vector<StoredInstance> found = read_instances(spi);
    if (found.empty()) return pg::jsonb_datum(Json{{"instanceId", instance_id}, {"status", nullptr}});
    StoredInstance& instance = found.front();
    const journeys::Journey* journey = runnable(*compiled, instance.journey_id);
    if (journey == nullptr) {
        Json transitions = end_instance(spi, tenant, instance, "journey removed", now);
        return pg::jsonb_datum(instance_answer(instance, Status::Exited, std::move(transitions)));
    }
    if (!customer_exists(spi, tenant, instance.customer_id)) {
        Json transitions = end_instance(spi, tenant, instance, "customer removed", now);
        return pg::jsonb_datum(instance_answer(instance, Status::Exited, std::move(transitions)));
    }
    const bool expired = instance.state.expires_at && now >= *instance.state.expires_at;
    if (!expired) pg::require_feature_enabled(tenant, "journeys");
    journeys::Options options;
    options.now = now;
    return pg::jsonb_datum(move(spi, tenant, *journey, instance, options));
}
