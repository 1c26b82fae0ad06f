// decision_functions.cpp - kaireon_recommend (SPEC 6.2) and its SQL twins
// kaireon.recommend and kaireon.recommend_batch: the database side of a
// decision (tenant, feature gates, the customer, the decision record, the
// trace allowance) around the pipeline of src/core/pipeline.cpp.
#include "core/bayes.h"
#include "core/caps.h"
#include "core/catalog_compiled.h"
#include "core/contact_policies.h"
#include "core/decision.h"
#include "core/entitlements.h"
#include "core/experiments.h"
#include "core/license.h"
#include "core/pipeline.h"
#include "core/quota.h"
#include "core/scoring.h"

#include "pg/bandit_rng.h"
#include "pg/cap_state.h"
#include "pg/catalog_state.h"
#include "pg/clock.h"
#include "pg/custom_scorer.h"
#include "pg/decision_functions.h"
#include "pg/direct_insert.h"
#include "pg/entitlement_state.h"
#include "pg/guard.h"
#include "pg/jsonb.h"
#include "pg/license_state.h"
#include "pg/name_lock.h"
#include "pg/offer_stats.h"
#include "pg/policy_state.h"
#include "pg/quota_state.h"
#include "pg/row_id.h"
#include "pg/shared_state.h"
#include "pg/spi.h"
#include "pg/tenant_access.h"
#include "pg/xact_state.h"

#include <cmath>
#include <map>
#include <string>
#include <vector>

extern "C" {
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/tuplestore.h"
#include "utils/uuid.h"
}

namespace kaireon {
namespace {

using decision::Outcome;
using decision::Request;

using pg::require_feature_enabled;

// DecisionCounts counts this transaction's decisions per tenant into
// kaireon.stats when it commits: a rolled-back decision (or a batch that
// failed part way) was never made.
class DecisionCounts final : public pg::XactState {
public:
    DecisionCounts() { pg::register_xact_state(this); }
    void add(const std::string& tenant, bool empty) {
        pending_.push_back({tenant, GetCurrentSubTransactionId(), empty});
    }
    void reset_at_end(bool committed) noexcept override {
        if (committed) {
            try {
                for (const auto& d : pending_) {
                    pg::stat_add(d.tenant, pg::Stat::Decisions);
                    if (d.empty) pg::stat_add(d.tenant, pg::Stat::EmptyDecisions);
                }
            } catch (...) {
                // the tenants' slots exist (the decisions read them); nothing to do
            }
        }
        pending_.clear();
    }
    // The decisions of an aborted subtransaction (and of the ones it
    // started, which have later ids) were rolled back with it.
    void reset_subxact(SubTransactionId subxact) noexcept override {
        std::erase_if(pending_, [&](const Decision& d) { return d.subxact >= subxact; });
    }

private:
    struct Decision {
        std::string tenant;
        SubTransactionId subxact;
        bool empty;
    };
    std::vector<Decision> pending_;
};

DecisionCounts g_decision_counts;

Json offer_json(const decision::Chosen& chosen) {
    Json offer = json_object(8);
    offer["rank"] = chosen.rank;
    offer["offerId"] = chosen.offer_id;
    offer["creativeId"] = chosen.creative_id;
    offer["placement"] = chosen.placement.empty() ? Json(nullptr) : Json(chosen.placement);
    offer["category"] = chosen.category.empty() ? Json(nullptr) : Json(chosen.category);
    offer["score"] = json_number(chosen.score);
    offer["propensity"] = chosen.propensity ? json_number(*chosen.propensity) : Json(nullptr);
    offer["value"] = json_number(chosen.value);
    return offer;
}

Json trace_json(const std::vector<decision::StageTrace>& stages) {
    Json out = Json::array();
    for (const auto& stage : stages) {
        Json removed = Json::array();
        for (const auto& [offer, reason] : stage.removed) removed.push_back({{"offerId", offer}, {"reason", reason}});
        Json entry = {{"stage", stage.stage},
                      {"in", stage.in},
                      {"out", stage.out},
                      {"micros", json_number(std::round(static_cast<double>(stage.nanos) / 100.0) / 10.0)},
                      {"removed", std::move(removed)}};
        // Policies an allow_override or a mandatory offer lifted (only when some were).
        if (!stage.lifted.empty()) {
            Json lifted = Json::array();
            for (const auto& [offer, reason] : stage.lifted) lifted.push_back({{"offerId", offer}, {"reason", reason}});
            entry["lifted"] = std::move(lifted);
        }
        out.push_back(std::move(entry));
    }
    return out;
}

// trace_allowed tells whether the tenant may store one more trace today
// (decision_traces_per_day, whose usage is the traces stored today); traced
// decisions of a tenant take turns on a lock until commit and count with the
// latest snapshot, so the allowance is exact.
bool trace_allowed(const std::string& tenant) {
    pg::FeaturePtr feature = pg::find_feature("decision_traces_per_day");
    if (!pg::evaluate_entitlement(tenant, *feature, 0, false).enabled) return false;
    pg::lock_name(pg::NameSpace::TraceAllowance, tenant, "decision_traces_per_day", true);
    pg::LatestSnapshot latest;
    return pg::evaluate_entitlement(tenant, *feature, 1, true).status == entitlements::Status::Accepted;
}

struct Decided {
    Json response = json_object(12);  // filled by record()
    Outcome outcome;
    std::string decision_id;  // "" for a dry run
    std::string channel;      // the request's, else the flow's
    Json license;             // {"tier", "state"}
    std::optional<experiments::Assignment> experiment;  // with experiment_id
    std::string experiment_id;
};

// assign_experiment places the customer in the active experiment of the
// requested flow (SPEC 6.5): the experiment the flow names in
// experimentId, when it is about that flow. A/B: a variant from a hash of
// tenant, experiment and customer. Bandit: the holdout from that hash,
// then a variant drawn from the arms' counts (a bandit over offers keeps
// the flow: its scorer draws). Nothing when none applies.
std::optional<experiments::Assignment> assign_experiment(const std::string& tenant, const catalog::CompiledCatalog& catalog,
                                                         const catalog::CompiledFlow& flow, const Request& request,
                                                         const experiments::Experiment*& applied) {
    if (flow.experiment_id.empty()) return std::nullopt;
    auto it = catalog.experiments.find(flow.experiment_id);
    if (it == catalog.experiments.end()) return std::nullopt;
    const experiments::Experiment& experiment = it->second;
    if (experiment.status != "active" || experiment.flow_id != flow.id) return std::nullopt;
    applied = &experiment;
    if (!experiment.is_bandit()) {
        require_feature_enabled(tenant, "experiments.ab");
        return experiments::assign(experiment, tenant, request.customer_id);
    }
    require_feature_enabled(tenant, "experiments.bandit");
    std::vector<bandits::Arm> arms;
    if (!experiment.variants.empty()) {
        auto counts = pg::bandit_arm_stats(tenant);
        for (const auto& variant : experiment.variants) {
            auto found = counts->find({experiment.id, variant.id});
            arms.push_back(found == counts->end() ? bandits::Arm{}
                                                  : experiments::arm_of(found->second.impressions, found->second.positives));
        }
    }
    return experiments::assign_bandit(experiment, tenant, request.customer_id, arms, pg::bandit_rng());
}

// experiment_json is the decision's {"id", "variant"} (response and record);
// a bandit over offers has no variant (null).
Json experiment_json(const Decided& decided) {
    const std::string& variant = decided.experiment->variant;
    return {{"id", decided.experiment_id}, {"variant", variant.empty() ? Json(nullptr) : Json(variant)}};
}

// evaluate runs the checks and the pipeline of one decision for the current
// tenant; it writes nothing, so that a batch can be counted against the
// quota before any of it is recorded.
Decided evaluate(const std::string& tenant, const Request& request) {
    if (request.dry_run && !pg::is_kaireon_admin(GetOuterUserId()))
        throw Error(ErrorCode::TenantAccessDenied, "dryRun is for administrators (kaireon_admin)",
                    Json{{"path", "dryRun"}});
    auto compiled = pg::compiled_catalog(tenant);
    auto flow_it = compiled->flows.find(request.flow);
    if (flow_it == compiled->flows.end())
        throw_bad_request("unknown flow \"" + request.flow + "\"", Json{{"path", "flow"}});
    // An experiment on the flow places the customer (an A/B variant from a
    // hash of tenant, experiment and customer; a bandit's variant drawn from
    // its arms): a variant's flow decides (as it is: its own experiment is
    // not followed), a held-out customer is shown nothing; the decision
    // records the variant.
    Decided decided;
    const experiments::Experiment* experiment = nullptr;
    decided.experiment = assign_experiment(tenant, *compiled, flow_it->second, request, experiment);
    if (experiment != nullptr) decided.experiment_id = experiment->id;
    const bool held_out = decided.experiment && decided.experiment->variant == experiments::kHoldout;
    if (decided.experiment && !held_out) {
        flow_it = compiled->flows.find(decided.experiment->flow_id);
        if (flow_it == compiled->flows.end())
            throw_bad_request("experiment \"" + decided.experiment_id + "\": variant \"" + decided.experiment->variant +
                                  "\" names the unknown flow \"" + decided.experiment->flow_id + "\"",
                              Json{{"experiment", decided.experiment_id}, {"variant", decided.experiment->variant}});
    }
    const catalog::CompiledFlow& flow = flow_it->second;
    if (flow.arbitration) require_feature_enabled(tenant, "ranking.arbitration");
    // A bandit over offers scores in place of the flow's model.
    const bool offer_bandit = experiment != nullptr && experiment->bandit_over_offers();
    const catalog::CompiledModel* model = nullptr;
    if (!flow.model_id.empty() && !offer_bandit) {
        auto it = compiled->models.find(flow.model_id);
        if (it != compiled->models.end()) {
            model = &it->second;
            require_feature_enabled(tenant, "scoring." + model->type);
        }
    }
    pg::EffectiveLicense licence = pg::effective_license(tenant);

    decision::CustomerView view = pg::read_customer(tenant, request.customer_id, "customerId");
    // The request's attributes and segments stand for the customer's, for this call.
    for (const auto& [key, value] : request.attributes.items()) view.customer.attributes[key] = value;
    if (request.segments) view.customer.segments = *request.segments;
    const int64_t now = pg::now_seconds();
    // Step 4: contact policies in priority order over the customer's
    // history (which also gives metric() its values), then the scopes of
    // exhausted frequency caps.
    pg::CustomerPolicies history = pg::read_customer_policies(tenant, *compiled, view, now);
    const policies::LocalClock clock = pg::local_time;
    policies::Gate policy_gate(*compiled, history.history, std::move(history.budgets), request.context, now, clock);
    caps::Gate cap_gate(pg::exhausted_caps(tenant, *compiled, now));
    std::vector<const decision::PolicyGate*> gates;
    if (!policy_gate.empty()) gates.push_back(&policy_gate);
    if (!cap_gate.empty()) gates.push_back(&cap_gate);
    decision::GateChain gate(gates);
    // Step 5's scorer: a bandit over offers draws from each offer's
    // posterior (in place of the flow's model); custom models call the
    // tenant's SQL function as the calling role; Bayesian ones read the
    // offer statistics.
    std::shared_ptr<const bayes::Stats> stats;
    std::unique_ptr<decision::Scorer> scorer;
    if (offer_bandit && !held_out) {
        stats = pg::offer_stats(tenant);
        scorer = decision::offer_bandit_scorer(experiment->bandit, *stats, pg::bandit_rng());
    } else if (model != nullptr && model->type == "custom") {
        scorer = pg::custom_scorer(*model, flow.id);
    } else if (model != nullptr && model->type == "bayesian") {
        stats = pg::offer_stats(tenant);
        scorer = decision::builtin_scorer(model, flow.id, compiled.get(), stats.get());
    }
    if (held_out) {
        decided.outcome.limit = request.limit.value_or(flow.n.value_or(decision::kDefaultLimit));
    } else {
        decided.outcome = decision::run(*compiled, flow, request, view, gates.empty() ? nullptr : &gate,
                                        static_cast<double>(now), request.trace, nullptr, scorer.get());
    }
    decided.channel = request.channel.value_or(flow.channel_id);
    decided.license = {{"tier", std::string(license::tier_name(licence.status.effective_tier))},
                       {"state", std::string(license::state_name(licence.status.state))}};
    return decided;
}

bool counts(const Request& request, const Decided& decided) {
    return !request.dry_run && !decided.outcome.offers.empty();
}

// record stores a decision that was not a dry run (with its trace, within
// the daily allowance) and completes the response; `quota` is the count
// after this decision (or batch).
void record(const std::string& tenant, const Request& request, Decided& decided, const pg::QuotaCount& quota) {
    Json offers = Json::array();
    for (const auto& chosen : decided.outcome.offers) offers.push_back(offer_json(chosen));
    std::optional<std::string> trace_id;
    if (!request.dry_run) {
        if (request.trace) {
            if (trace_allowed(tenant)) {
                trace_id = "";
            } else {
                pg::stat_add(tenant, pg::Stat::TraceDrops);
            }
        }
        // quota_period tells which period the decision counted in: the
        // quota's durable record (quota_state.h).
        const bool counted = counts(request, decided);
        const pg::SpiArg id{UUIDOID, pg::time_ordered_uuid()};
        const pg::SpiArg trace{UUIDOID, trace_id ? pg::pg_call([] { return OidFunctionCall0(F_GEN_RANDOM_UUID); }) : 0,
                               !trace_id};
        // Directly, as on every recorded decision (direct_insert.h).
        pg::insert_row("decisions",
                       {{"tenant_id", pg::text_arg(tenant)},
                        {"id", id},
                        {"customer_id", pg::text_arg(request.customer_id)},
                        {"flow", pg::text_arg(request.flow)},
                        {"channel", pg::text_or_null(decided.channel)},
                        {"offers", pg::SpiArg{JSONBOID, pg::jsonb_datum(offers)}},
                        {"experiment", decided.experiment ? pg::SpiArg{JSONBOID, pg::jsonb_datum(experiment_json(decided))}
                                                          : pg::SpiArg{JSONBOID, 0, true}},
                        {"trace_id", trace},
                        {"quota_period", pg::SpiArg{TIMESTAMPTZOID,
                                                    TimestampTzGetDatum(
                                                        pg::timestamp_from_seconds(quota.snapshot.period.start)),
                                                    !counted}}});
        decided.decision_id = pg::uuid_text(id.value);
        if (trace_id) {
            trace_id = pg::uuid_text(trace.value);
            pg::SpiSession spi;
            spi.execute(
                "INSERT INTO kaireon.decision_traces (tenant_id, id, decision_id, customer_id, flow, stages) "
                "VALUES ($1, $2::uuid, $3::uuid, $4, $5, $6)",
                {pg::text_arg(tenant), pg::text_arg(*trace_id), pg::text_arg(decided.decision_id),
                 pg::text_arg(request.customer_id), pg::text_arg(request.flow),
                 pg::SpiArg{JSONBOID, pg::jsonb_datum(trace_json(decided.outcome.stages))}});
        }
        g_decision_counts.add(tenant, decided.outcome.offers.empty());
    }

    Json& response = decided.response;
    response["decisionId"] = decided.decision_id.empty() ? Json(nullptr) : Json(decided.decision_id);
    response["customerId"] = request.customer_id;
    response["flow"] = request.flow;
    response["offers"] = std::move(offers);
    if (decided.experiment) response["experiment"] = experiment_json(decided);
    response["license"] = decided.license;
    response["quota"] = quota::quota_json(quota.snapshot);
    if (trace_id) response["traceId"] = *trace_id;
    if (request.dry_run) {
        response["dryRun"] = true;
        if (request.trace) response["trace"] = trace_json(decided.outcome.stages);
    }
}

// decide makes one decision: evaluate, count it when it is not empty (KR429
// past the quota), record.
Decided decide(const std::string& tenant, const Request& request) {
    Decided decided = evaluate(tenant, request);
    pg::QuotaCount quota = counts(request, decided) ? pg::count_decisions(tenant, 1) : pg::quota_now(tenant);
    record(tenant, request, decided, quota);
    return decided;
}

Datum uuid_or_null(const std::string& id, bool* is_null) {
    *is_null = id.empty();
    if (id.empty()) return 0;
    return pg::pg_call([&] { return DirectFunctionCall1(uuid_in, CStringGetDatum(id.c_str())); });
}

// put_rows appends one row per chosen offer (prefix columns first).
void put_rows(FunctionCallInfo fcinfo, const Decided& decided, const std::optional<std::string>& customer) {
    auto* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
    for (const auto& chosen : decided.outcome.offers) {
        std::vector<Datum> values;
        std::vector<bool> nulls;
        if (customer) {
            values.push_back(pg::text_datum(*customer));
            nulls.push_back(false);
        }
        auto text_or_null = [&](const std::string& s) {
            values.push_back(s.empty() ? 0 : pg::text_datum(s));
            nulls.push_back(s.empty());
        };
        values.push_back(Int32GetDatum(chosen.rank));
        nulls.push_back(false);
        text_or_null(chosen.offer_id);
        text_or_null(chosen.creative_id);
        text_or_null(chosen.placement);
        text_or_null(chosen.category);
        values.push_back(Float8GetDatum(chosen.score));
        nulls.push_back(false);
        values.push_back(chosen.propensity ? Float8GetDatum(*chosen.propensity) : 0);
        nulls.push_back(!chosen.propensity);
        values.push_back(Float8GetDatum(chosen.value));
        nulls.push_back(false);
        bool is_null = false;
        values.push_back(uuid_or_null(decided.decision_id, &is_null));
        nulls.push_back(is_null);
        bool null_flags[16];
        for (size_t i = 0; i < nulls.size(); ++i) null_flags[i] = nulls[i];
        pg::pg_call([&] { tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values.data(), null_flags); });
    }
}

Request sql_request(const std::string& customer, const std::string& flow, FunctionCallInfo fcinfo, int n_arg, int context_arg) {
    Json doc = {{"customerId", customer}, {"flow", flow}};
    if (!PG_ARGISNULL(n_arg)) doc["limit"] = PG_GETARG_INT32(n_arg);
    if (!PG_ARGISNULL(context_arg)) doc["context"] = pg::json_from_jsonb(PG_GETARG_DATUM(context_arg), "context");
    return decision::parse_request(doc);
}

}  // namespace

Json pg::recommend_for(const std::string& tenant, const Json& request) {
    return decide(tenant, decision::parse_request(request)).response;
}

}  // namespace kaireon

using namespace kaireon;

// kaireon_recommend(request jsonb) returns the decision as jsonb (SPEC 6.2).
KAIREON_FUNCTION(kaireon_recommend) {
    std::string tenant = pg::require_current_tenant();
    if (PG_ARGISNULL(0)) throw_bad_request("request must not be null", Json{{"path", ""}});
    Request request = decision::parse_request(pg::json_from_jsonb(PG_GETARG_DATUM(0), "request"));
    return pg::jsonb_datum(decide(tenant, request).response);
}

// kaireon_recommend_rows(customer_id, flow, n, context): one row per offer.
KAIREON_FUNCTION(kaireon_recommend_rows) {
    std::string tenant = pg::require_current_tenant();
    Request request = sql_request(pg::required_text(fcinfo, 0, "customer_id"), pg::required_text(fcinfo, 1, "flow"),
                                  fcinfo, 2, 3);
    pg::pg_call([&] { InitMaterializedSRF(fcinfo, 0); });
    put_rows(fcinfo, decide(tenant, request), std::nullopt);
    return static_cast<Datum>(0);
}

// kaireon_recommend_batch(flow, customer_ids, n, context): decides for each
// customer in order, in this transaction: one failure fails them all.
KAIREON_FUNCTION(kaireon_recommend_batch) {
    std::string tenant = pg::require_current_tenant();
    std::string flow = pg::required_text(fcinfo, 0, "flow");
    if (PG_ARGISNULL(1)) throw_bad_request("customer_ids must not be null", Json{{"path", "customer_ids"}});
    Datum* elements = nullptr;
    bool* element_nulls = nullptr;
    int count = 0;
    pg::pg_call([&] {
        deconstruct_array(PG_GETARG_ARRAYTYPE_P(1), TEXTOID, -1, false, TYPALIGN_INT, &elements, &element_nulls, &count);
    });
    if (count > 10000)
        throw_bad_request("customer_ids: at most 10000 customers per batch", Json{{"path", "customer_ids"}});
    // All or nothing: every decision is made first, then the non-empty ones
    // are counted at once (KR429 when the quota cannot cover them all), then
    // they are recorded.
    std::vector<std::pair<Request, Decided>> made;
    made.reserve(static_cast<size_t>(count));
    int64_t counted = 0;
    for (int i = 0; i < count; ++i) {
        if (element_nulls[i])
            throw_bad_request("customer_ids[" + std::to_string(i) + "] must not be null",
                              Json{{"path", "customer_ids[" + std::to_string(i) + "]"}});
        Request request = sql_request(pg::text_from_datum(elements[i]), flow, fcinfo, 2, 3);
        Decided decided = evaluate(tenant, request);
        if (counts(request, decided)) ++counted;
        made.emplace_back(std::move(request), std::move(decided));
    }
    pg::QuotaCount quota = counted > 0 ? pg::count_decisions(tenant, counted) : pg::quota_now(tenant);
    pg::pg_call([&] { InitMaterializedSRF(fcinfo, 0); });
    for (auto& [request, decided] : made) {
        record(tenant, request, decided, quota);
        put_rows(fcinfo, decided, request.customer_id);
    }
    return static_cast<Datum>(0);
}
