// respond_functions.cpp - kaireon_respond (SPEC 6.6): records an outcome of
// a decision once per idempotency key, and counts impressions toward the
// frequency caps (cap_state.h).
#include "core/bayes.h"
#include "core/caps.h"
#include "core/contact_policies.h"
#include "core/catalog_compiled.h"
#include "core/license.h"
#include "core/pipeline.h"
#include "core/respond.h"

#include "pg/cap_state.h"
#include "pg/catalog_state.h"
#include "pg/clock.h"
#include "pg/direct_insert.h"
#include "pg/guard.h"
#include "pg/indexed_rows.h"
#include "pg/journeys.h"
#include "pg/jsonb.h"
#include "pg/name_lock.h"
#include "pg/offer_stats.h"
#include "pg/policy_state.h"
#include "pg/row_id.h"
#include "pg/spi.h"
#include "pg/tenant_access.h"

#include <cmath>
#include <string>
#include <vector>

extern "C" {
#include "funcapi.h"
}

namespace kaireon {
namespace {

using respond::Request;

std::string value_text(double value) {
    char buffer[64];
    snprintf(buffer, sizeof(buffer), "%.17g", value);
    return buffer;
}

// Variant is the A/B experiment and variant a decision was made in (empty
// when none): the interactions answering it carry them to the report.
struct Variant {
    std::string experiment_id, variant;
};

// from_decision completes the request from the decision it answers: the
// customer, the offer (when the decision had only one), its creative and
// placement, the channel. Anything the request says must agree with it.
Variant from_decision(pg::SpiSession& spi, const std::string& tenant, Request& request) {
    // Not read-only: a fresh snapshot, so that a decision made earlier in
    // the same statement (SELECT kaireon_respond(...) FROM ... LATERAL
    // kaireon_recommend(...)) is found.
    spi.execute("SELECT customer_id, coalesce(channel, ''), offers, coalesce(experiment ->> 'id', ''), "
                "       coalesce(experiment ->> 'variant', '') "
                "FROM kaireon.decisions WHERE tenant_id = $1 AND id = $2::uuid",
                {pg::text_arg(tenant), pg::text_arg(*request.decision_id)});
    if (spi.rows() != 1)
        throw_bad_request("unknown decision \"" + *request.decision_id + "\"", Json{{"path", "decisionId"}});
    const std::string customer = spi.text(0, 0).value_or("");
    const std::string channel = spi.text(0, 1).value_or("");
    const Json offers = spi.json(0, 2).value_or(Json::array());
    const Variant variant{spi.text(0, 3).value_or(""), spi.text(0, 4).value_or("")};
    if (request.customer_id.empty()) {
        request.customer_id = customer;
    } else if (request.customer_id != customer) {
        throw_bad_request("customerId: the decision was made for another customer", Json{{"path", "customerId"}});
    }
    const Json* shown = nullptr;
    for (const Json& offer : offers) {
        if (request.offer_id.empty() ? offers.size() == 1 : offer.value("offerId", "") == request.offer_id) {
            shown = &offer;
            break;
        }
    }
    if (shown == nullptr) {
        if (request.offer_id.empty())
            throw_bad_request("offerId: required: the decision offered " + std::to_string(offers.size()) + " offers",
                              Json{{"path", "offerId"}});
        throw_bad_request("offerId: offer \"" + request.offer_id + "\" was not in the decision", Json{{"path", "offerId"}});
    }
    request.offer_id = shown->value("offerId", "");
    auto text_of = [&](const char* field) {
        auto it = shown->find(field);
        return it != shown->end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    if (request.creative_id.empty()) request.creative_id = text_of("creativeId");
    if (request.placement.empty()) request.placement = text_of("placement");
    if (request.channel.empty()) request.channel = channel;
    return variant;
}

// recorded_before returns the id of the interaction already recorded under
// the request's idempotency key, if any: a retry (the same outcome) is a
// duplicate, another outcome under the same key is KR409. Racing calls with
// one key take turns on a lock until the first one's transaction ends; the
// second then finds its row (or, if it rolled back, records), at any
// isolation level.
std::optional<std::string> recorded_before(const std::string& tenant, const Request& request) {
    pg::lock_name(pg::NameSpace::RespondIdempotency, tenant, request.idempotency_key, true);
    // Interactions are partitioned by time: their keys live apart, in
    // kaireon.interaction_keys, with what a replay must match, and outlive
    // the partitions retention drops. Read by key without the executor
    // (indexed_rows.h), on every response.
    const pg::IndexedRows stored = [&] {
        pg::LatestSnapshot latest;
        return pg::IndexedRows("interaction_keys", "interaction_keys_pkey", {tenant, request.idempotency_key},
                               {"interaction_id", "customer_id", "offer_id", "outcome", "value", "decision_id"});
    }();
    if (stored.rows() == 1) {
        std::vector<std::string> differs;
        if (stored.text(0, 1) != request.customer_id) differs.push_back("customerId");
        if (stored.text(0, 2) != request.offer_id) differs.push_back("offerId");
        if (stored.text(0, 3) != request.outcome) differs.push_back("outcome");
        const std::string stored_value = stored.text(0, 4).value_or("");
        if (stored_value.empty() != !request.value.has_value() ||
            (request.value && std::fabs(std::stod(stored_value) - *request.value) > 1e-9 * std::fabs(*request.value)))
            differs.push_back("value");
        if (request.decision_id && stored.text(0, 5).value_or("") != *request.decision_id)
            differs.push_back("decisionId");
        if (!differs.empty()) {
            std::string list;
            for (const auto& field : differs) list += (list.empty() ? "" : ", ") + field;
            throw Error(ErrorCode::IdempotencyConflict,
                        "idempotency key \"" + request.idempotency_key + "\" was used for another outcome (" + list +
                            ")",
                        Json{{"idempotencyKey", request.idempotency_key}, {"differs", differs}},
                        "Use a new idempotency key for a different outcome.");
        }
        return stored.text(0, 0).value_or("");
    }
    return std::nullopt;
}

// record inserts the interaction and its idempotency key (whose primary key
// is the last guard against a second row) and returns its id. Directly, as
// on every response (direct_insert.h).
std::string record(const std::string& tenant, const Request& request, const std::string& kind,
                   const std::string& category, const Variant& variant, int64_t now) {
    const double occurred = request.occurred_at.value_or(static_cast<double>(now));
    const pg::SpiArg id{UUIDOID, pg::time_ordered_uuid()};
    const pg::SpiArg recorded_at{TIMESTAMPTZOID, TimestampTzGetDatum(pg::timestamp_from_seconds(now))};
    const pg::SpiArg decision_id = request.decision_id ? pg::text_arg(*request.decision_id) : pg::null_text_arg();
    const pg::SpiArg value = request.value ? pg::text_arg(value_text(*request.value)) : pg::null_text_arg();
    pg::insert_row("interactions",
                   {{"tenant_id", pg::text_arg(tenant)},
                    {"idempotency_key", pg::text_arg(request.idempotency_key)},
                    {"decision_id", decision_id},
                    {"customer_id", pg::text_arg(request.customer_id)},
                    {"offer_id", pg::text_arg(request.offer_id)},
                    {"category_id", pg::text_or_null(category)},
                    {"creative_id", pg::text_or_null(request.creative_id)},
                    {"channel", pg::text_or_null(request.channel)},
                    {"placement", pg::text_or_null(request.placement)},
                    {"outcome", pg::text_arg(request.outcome)},
                    {"kind", pg::text_arg(kind)},
                    {"value", value},
                    // to_timestamp(float8)'s own conversion, without the text between.
                    {"occurred_at", pg::SpiArg{TIMESTAMPTZOID, pg::pg_call([&] {
                                                   return DirectFunctionCall1(float8_timestamptz,
                                                                              Float8GetDatum(occurred));
                                               })}},
                    {"recorded_at", recorded_at},
                    {"experiment_id", pg::text_or_null(variant.experiment_id)},
                    {"variant", pg::text_or_null(variant.variant)},
                    {"id", id}});
    pg::insert_row("interaction_keys", {{"tenant_id", pg::text_arg(tenant)},
                                        {"idempotency_key", pg::text_arg(request.idempotency_key)},
                                        {"interaction_id", id},
                                        {"recorded_at", recorded_at},
                                        {"customer_id", pg::text_arg(request.customer_id)},
                                        {"offer_id", pg::text_arg(request.offer_id)},
                                        {"outcome", pg::text_arg(request.outcome)},
                                        {"value", value},
                                        {"decision_id", decision_id}});
    return pg::uuid_text(id.value);
}

}  // namespace
}  // namespace kaireon

using namespace kaireon;

// kaireon_respond(request jsonb) records an outcome (SPEC 6.6) and answers
// {"recorded", "duplicate", "interactionId", "decisionId", "customerId",
//  "offerId", "outcome", "kind", "caps": [...]}.
KAIREON_FUNCTION(kaireon_respond) {
    std::string tenant = pg::require_current_tenant();
    if (PG_ARGISNULL(0)) throw_bad_request("request must not be null", Json{{"path", ""}});
    Request request = respond::parse_request(pg::json_from_jsonb(PG_GETARG_DATUM(0), "request"));
    // Impressions count toward the caps of the catalog committed when this
    // lock is granted; an edit of the tenant's caps waits for the responding
    // transactions and they for it (cap_state.h).
    pg::lock_name(pg::NameSpace::CapCounting, tenant, "", true, true);
    auto compiled = pg::compiled_catalog(tenant);
    auto kind = compiled->outcome_kinds.find(request.outcome);
    if (kind == compiled->outcome_kinds.end())
        throw_bad_request("outcome: unknown outcome type \"" + request.outcome + "\" (register it in outcomeTypes)",
                          Json{{"path", "outcome"}});
    const int64_t now = pg::now_seconds();
    if (request.occurred_at && *request.occurred_at > static_cast<double>(now) + respond::kMaxFutureSkew)
        throw_bad_request("occurredAt: more than 5 minutes in the future", Json{{"path", "occurredAt"}});

    pg::SpiSession spi;
    Variant variant;
    if (request.decision_id) variant = from_decision(spi, tenant, request);
    const catalog::CompiledOffer* offer = compiled->offer(request.offer_id);
    if (offer == nullptr && !request.decision_id)
        throw_bad_request("offerId: unknown offer \"" + request.offer_id + "\"", Json{{"path", "offerId"}});
    const std::string category = offer != nullptr ? offer->category_id : std::string();
    if (request.channel.empty() && offer != nullptr && !request.creative_id.empty()) {
        for (const auto& creative : offer->creatives)
            if (creative.id == request.creative_id) request.channel = creative.channel_id;
    }

    const bool impression = kind->second == "impression";
    std::vector<caps::CountedCap> touched;
    std::optional<std::string> duplicate_of = recorded_before(tenant, request);
    std::string interaction_id;
    if (duplicate_of) {
        interaction_id = *duplicate_of;
        if (impression)
            touched = pg::matching_caps(tenant, *compiled, request.offer_id, category, request.channel, now);
    } else {
        // Counted before the row is written: a cap's count that loads now
        // reads the impressions committed so far, and this one joins it as
        // this transaction's admission.
        if (impression)
            touched = pg::count_impression(tenant, *compiled, request.offer_id, category, request.channel,
                                           request.customer_id, now);
        // The offer's budget (budget_exhausted) counts the same way.
        if (offer != nullptr) pg::count_budget(tenant, *offer, kind->second, request.value, now);
        interaction_id = record(tenant, request, kind->second, category, variant, now);
        // Bayesian models' and bandits' offer statistics learn from it, and
        // so does the arm of the bandit that placed the decision (SPEC 6.5).
        pg::count_offer_stats(tenant, *compiled, request.offer_id, request.customer_id, kind->second);
        pg::count_bandit_arm(tenant, *compiled, variant.experiment_id, variant.variant, kind->second);
        // It is news for the customer's journeys: it ends waits for this
        // outcome. Decisions it leads to are the next tick()'s, so a
        // journey never makes a response fail.
        pg::observe_journey_outcome(tenant, *compiled, request.customer_id, request.outcome, false);
    }
    Json caps_answer = Json::array();
    for (const auto& counted : touched) caps_answer.push_back(caps::cap_json(*counted.cap, counted.count, now));
    Json answer = json_object(9);
    answer["recorded"] = !duplicate_of;
    answer["duplicate"] = duplicate_of.has_value();
    answer["interactionId"] = interaction_id;
    answer["decisionId"] = request.decision_id ? Json(*request.decision_id) : Json(nullptr);
    answer["customerId"] = request.customer_id;
    answer["offerId"] = request.offer_id;
    answer["outcome"] = request.outcome;
    answer["kind"] = kind->second;
    answer["caps"] = std::move(caps_answer);
    return pg::jsonb_datum(std::move(answer));
}

// kaireon_cap_state(tenant_id, cap_id) returns (current_count, reset_at) of
// a cap of a tenant the caller may see (kaireon.frequency_caps).
KAIREON_FUNCTION(kaireon_cap_state) {
    std::string tenant = pg::text_from_datum(PG_GETARG_DATUM(0));
    std::string cap_id = pg::text_from_datum(PG_GETARG_DATUM(1));
    switch (pg::tenant_access(GetOuterUserId(), tenant)) {
        case pg::TenantAccess::Member:
        case pg::TenantAccess::Admin:
            break;
        default:
            throw Error(ErrorCode::TenantAccessDenied, "the calling role may not see the caps of tenant \"" + tenant + "\"",
                        Json{{"tenant", tenant}});
    }
    auto compiled = pg::compiled_catalog(tenant);
    const int64_t now = pg::now_seconds();
    int64_t count = 0, reset = 0;
    for (const auto& cap : compiled->caps) {
        if (cap.id != cap_id) continue;
        count = pg::cap_count(tenant, cap, now);
        reset = caps::reset_at(cap, now);
    }
    if (reset == 0) throw_bad_request("unknown cap \"" + cap_id + "\"", Json{{"capId", cap_id}});
    TupleDesc desc = nullptr;
    pg::pg_call([&] {
        if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE) elog(ERROR, "composite type expected");
        desc = BlessTupleDesc(desc);
    });
    Datum values[2] = {Int64GetDatum(count), TimestampTzGetDatum(pg::timestamp_from_seconds(reset))};
    bool nulls[2] = {false, false};
    return pg::pg_call([&] { return HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)); });
}
