// catalog_compiled.h - a tenant's catalog compiled for decisions: offers with
// their eligibility programs and date windows, flows, and the resolution of
// expression paths against a customer, an offer and a request context
// (SPEC 6.1). Built once per catalog change (the PostgreSQL layer caches it
// per backend and tenant) and then only read.
#pragma once
#include "core/pure.h"

#include "core/experiments.h"
#include "core/expr.h"
#include "core/journeys.h"
#include "core/json.h"
#include "core/xgboost.h"

#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace kaireon::catalog {

// PathRef is an expression path parsed once (SPEC 6.1; resolve() reads
// it): where its value comes from, and the dotted keys to follow from
// there. `keys` points into the path's text, which must outlive it.
struct PathRef {
    enum class Source : uint8_t {
        Null,                // an unknown root or a bare name: always null
        CustomerId,          // customer.id
        CustomerSegments,    // customer.segments
        CustomerAttributes,  // customer.<attribute>[...]
        OfferRow,            // offer.<field>[...] (id, name, categoryId, ...)
        OfferAttributes,     // offer.<attribute>[...]
        Context,             // context.<name>[...]
    };
    static constexpr uint32_t kUnbound = UINT32_MAX;

    Source source = Source::Null;
    std::string_view keys;
    // A path of a bound expression: its index in the catalog's PathTable,
    // in offer_paths for an offer path, else in subject_paths.
    uint32_t index = kUnbound;

    bool reads_offer() const { return source == Source::OfferRow || source == Source::OfferAttributes; }
};

// parse_path parses a path's text; `path` must outlive the result.
PathRef parse_path(std::string_view path);

// PathTable is the table of the distinct paths that a catalog's
// offer-reading expressions read (offer eligibility, scorecard rules,
// arbitration relevance, policy conditions). Every offer of the catalog
// resolves the offer paths once when it compiles (CompiledOffer::path_values),
// and a decision resolves each customer and context path at most once for
// all its offers (SubjectValues), so evaluating an expression for an offer
// walks no JSON. (An expression left unbound still works: it resolves its
// paths at each evaluation.)
struct PathTable {
    std::vector<std::string> offer_paths;    // full text: "offer.value"
    std::vector<std::string> subject_paths;  // customer and context paths: "customer.age"
    // The distinct programs of bound expressions that read no offer path
    // (Expression::subject_program numbers them): SubjectValues keeps one
    // result of each per decision.
    uint32_t subject_programs = 0;
    // All the results SubjectValues may keep: the subject programs', then
    // those of the expressions kept by class of offers (Expression::
    // first_result).
    uint32_t kept_results = 0;
};

// Expression is a compiled expression evaluated against offers: the program
// with its path slots parsed once, each bound to its entry in `table`
// (compile_catalog binds them).
struct Expression {
    explicit Expression(expr::Program compiled);

    expr::Program program;
    std::vector<PathRef> paths;              // by slot of program.paths()
    std::shared_ptr<const PathTable> table;  // what PathRef::index indexes; null: unbound
    // Whether a path reads the offer. One that reads none has the same value
    // for every offer of a decision: bound, it has its program's number in
    // the table (SubjectValues keeps the result there).
    bool reads_offer = false;
    uint32_t subject_program = PathRef::kUnbound;
    // One that reads the offer has the same result for offers whose values
    // at its offer paths are the same: where few classes of such offers
    // cover many offers (a scorecard rule on offer.categoryId), each offer
    // has its class number in its path_values at `class_slot`, and
    // SubjectValues keeps the result of class k at first_result + k.
    uint32_t class_slot = PathRef::kUnbound;
    uint32_t first_result = PathRef::kUnbound;

    const std::string& source() const { return program.source(); }
    bool uses_metric() const { return program.uses_metric(); }
};

struct CompiledCreative {
    std::string id;
    std::string channel_id;
    std::string placement_id;  // "" when the creative names none
};

// CreativePlace is where a creative shows, as the numbers of its channel and
// its placement in CompiledCatalog::place_numbers (0: it names none). The
// decision pipeline looks for an offer's creative on a channel and a
// placement in these: every offer's are in one small array
// (CompiledCatalog::creative_places), where the creatives' strings are
// spread over the heap, mostly outside the CPU's caches when a backend
// serves many tenants.
struct CreativePlace {
    uint32_t channel = 0;
    uint32_t placement = 0;
};

// CompiledBudget is an offer's budget: what the budget_exhausted policy
// stops at, over all customers (src/core/contact_policies.h).
struct CompiledBudget {
    std::string metric = "impressions";  // impressions, value
    double limit = 0;
    std::string period = "monthly";      // daily, weekly, monthly, total
};

// OfferStatus is an offer's status; only an active offer is decided on.
enum class OfferStatus : uint8_t { Draft, Active, Paused, Retired };
std::string_view name(OfferStatus status);

// CompiledOffer is laid out for a backend serving many tenants, where most
// catalogs are outside the CPU's caches and every cache line a decision
// reads of every offer costs it one miss per offer: the candidates and
// qualification stages read only the first 64 bytes (the type is aligned to
// a cache line), a candidate's scoring the next 64, its policies the third.
struct alignas(64) CompiledOffer {
    OfferStatus status = OfferStatus::Active;
    bool mandatory = false;
    // Where the creatives' places start in CompiledCatalog::creative_places
    // (kNoPlaces: an offer built otherwise has none).
    static constexpr uint32_t kNoPlaces = UINT32_MAX;
    uint32_t first_place = kNoPlaces;
    // Its date window in Unix seconds: available from start_at, until
    // end_at (infinite without startAt or endAt).
    double start_at = -std::numeric_limits<double>::infinity();
    double end_at = std::numeric_limits<double>::infinity();
    // Offers with the same eligibility text share one (compile_catalog).
    std::shared_ptr<const Expression> eligibility;
    std::vector<CompiledCreative> creatives;  // sorted by id

    // The values of the catalog's offer paths for this offer, by index in
    // `path_table`'s offer_paths (compile_catalog fills both; an offer built
    // otherwise has none, and its paths are read from `row`); after them,
    // the offer's class number in each expression kept by class
    // (Expression::class_slot), where a scoring reads anyway.
    std::vector<expr::Value> path_values;
    std::shared_ptr<const PathTable> path_table;
    double priority = 50, value = 0, lever = 1;

    std::string category_id;  // "" when none
    std::string id;

    std::optional<CompiledBudget> budget;
    Json row;  // the validated document object
};

// CategoryTree is the catalog's categories with their parents. Policies,
// caps and metrics ask whether a category is at or below another for every
// candidate and history bucket: a hash lookup, then a walk up by index
// (string compares), not a tree search per level.
class CategoryTree {
public:
    CategoryTree() = default;
    // From each category id to its parent id ("" at the top; a parent that
    // is no category ends the walk there).
    explicit CategoryTree(std::map<std::string, std::string, std::less<>> parents);

    const std::map<std::string, std::string, std::less<>>& parents() const { return parents_; }
    // contains tells whether `category` is `ancestor` or below it (a cycle,
    // which the catalog refuses, ends after as many steps as categories).
    bool contains(std::string_view ancestor, std::string_view category) const;

private:
    struct TextHash {
        using is_transparent = void;
        size_t operator()(std::string_view text) const noexcept { return std::hash<std::string_view>{}(text); }
    };
    struct Node {
        std::string parent;
        uint32_t parent_node;  // kNoNode: the parent is no category
    };
    static constexpr uint32_t kNoNode = UINT32_MAX;

    std::map<std::string, std::string, std::less<>> parents_;
    std::vector<Node> nodes_;
    std::unordered_map<std::string, uint32_t, TextHash, std::equal_to<>> node_of_;
};

// CompiledModel is a scoring model (scoring.h scores it).
struct CompiledModel {
    std::string id;
    std::string type;  // scorecard, bayesian, gradient_boosted, custom
    Json definition;
    // scorecard
    double base = 0, factor = 1;
    bool logistic = false;
    std::vector<std::pair<Expression, double>> rules;  // when, points
    // gradient_boosted: the loaded trees, and the path of each feature
    std::shared_ptr<const xgboost::Forest> forest;
    std::vector<std::string> features;
};

// load_forest loads a gradient_boosted definition's model: XGBoost's JSON
// as an object, or the saved file's text as a string (NaN allowed).
xgboost::Forest load_forest(const Json& model);

struct CompiledGroup {
    std::string placement_id;
    int slots = 1;
    bool allow_partial = true;
};

struct CompiledFlow {
    std::string id;
    Json row;
    std::optional<expr::Program> eligibility;
    std::string channel_id, placement_id, model_id, experiment_id;  // "" when none
    bool arbitration = false;                                       // ranking.method
    std::optional<int> n;                                           // ranking.n
    double weight_propensity = 0.4, weight_relevance = 0.2, weight_impact = 0.3, weight_emphasis = 0.1;
    std::optional<Expression> relevance;                 // ranking.relevance
    std::map<std::string, double, std::less<>> context_weights;  // by category id
    std::vector<CompiledGroup> groups;
};

// CompiledCap is a system-wide frequency cap (SPEC 6.4); its count lives in
// the database (src/pg/cap_state.cpp), its rules in src/core/caps.h.
struct CompiledCap {
    std::string id, name;
    std::string scope;     // offer, category, channel
    std::string scope_id;
    int64_t max_volume = 1;
    std::string period;    // daily, weekly, monthly
    bool enabled = true;
};

// CompiledPolicy is an enabled contact policy (SPEC 6.3); its rules are in
// src/core/contact_policies.h.
struct CompiledPolicy {
    std::string id, name, type;
    std::string scope = "global";  // global, category, subcategory, offer, creative, channel, segment, placement
    std::string scope_id;
    int64_t priority = 100;
    bool bypassable = true;
    Json config = Json::object();
    std::optional<Expression> condition;  // category_suppression's
    // The config's offerIds, categoryIds and channels (its strings;
    // compile_catalog reads them from `config`), read by the policy gate
    // for every candidate.
    std::vector<std::string> offer_ids, category_ids, channels;
};

// CompiledTrigger is a trigger (SPEC 6.7): when an ingested event of its
// type satisfies its condition (over the customer, and the event's payload
// as the context), its action runs, at most once per customer within its
// cooldown.
struct CompiledTrigger {
    std::string id, name, event_type;
    int64_t priority = 100, cooldown_seconds = 0;
    std::optional<expr::Program> condition;
    Json action = Json::object();  // {"type", ...} as the catalog has it
    std::string action_type() const { return action.value("type", ""); }
};

// CompiledMetric is a behavioral metric: the count (or the sum of the
// values) of the customer's interactions with the given outcome types at a
// scope, over the last window_days days.
struct CompiledMetric {
    std::string id;
    std::vector<std::string> outcome_types;
    std::string scope = "global";  // global, offer, category, channel
    std::string scope_id;
    int window_days = 30;
    bool sum = false;  // aggregation "sum" (of the interactions' values), else "count"
};

struct CompiledCatalog {
    std::vector<CompiledOffer> offers;  // sorted by id
    std::vector<uint32_t> budgeted_offers;  // indices in offers of those with a budget, in order
    // The places of every offer's creatives, offer after offer, each
    // offer's in the order of its creatives (CompiledOffer::first_place);
    // the numbers are those of the channel and placement ids in
    // place_numbers, from 1 ("" is 0).
    std::vector<CreativePlace> creative_places;
    std::map<std::string, uint32_t, std::less<>> place_numbers;
    std::map<std::string, CompiledFlow, std::less<>> flows;
    std::map<std::string, CompiledModel, std::less<>> models;
    std::map<std::string, experiments::Experiment, std::less<>> experiments;
    std::map<std::string, std::string, std::less<>> channel_types;  // channel id -> type
    std::map<std::string, int, std::less<>> placement_slots;        // placement id -> slots
    std::map<std::string, std::string, std::less<>> outcome_kinds;  // outcome type id -> kind
    std::vector<CompiledCap> caps;                                  // sorted by id
    std::vector<CompiledPolicy> policies;                           // enabled ones, by priority then id
    std::vector<CompiledMetric> metrics;                            // sorted by id
    std::vector<CompiledTrigger> triggers;                          // by priority, then id
    // Journeys by id; one stored under rules older than the engine's has its
    // reason in invalid_journeys instead (enrolling or advancing it is refused).
    std::map<std::string, journeys::Journey, std::less<>> journeys;
    std::map<std::string, std::string, std::less<>> invalid_journeys;
    // The outcome types some journey waits for or branches on: a response or
    // an ingested event of one of them is news for the customer's journeys.
    std::set<std::string, std::less<>> journey_outcomes;
    CategoryTree categories;
    bool uses_metrics = false;  // an expression calls metric() or a policy is a metric_condition
    // A bayesian model or a bandit over offers learns from offer
    // statistics: respond counts them (per customer segment too when one
    // model has bySegment).
    bool counts_offer_stats = false, offer_stats_by_segment = false;
    // A bandit with variants learns from its arms' counts: respond counts
    // the answers to its decisions.
    bool counts_bandit_arms = false;
    // The paths its offer-reading expressions read (never null once compiled).
    std::shared_ptr<const PathTable> path_table;

    // offer returns the offer `id`, or nullptr.
    const CompiledOffer* offer(std::string_view id) const;
    // place_number returns the number of a channel or placement id in
    // place_numbers: 0 for "", kUnplaced for one no creative names.
    static constexpr uint32_t kUnplaced = UINT32_MAX;
    uint32_t place_number(std::string_view id) const;
    // places returns the places of `offer`'s creatives, by creative; empty
    // when it has none here (an offer of another catalog, or built otherwise).
    std::span<const CreativePlace> places(const CompiledOffer& offer) const;
    // triggers_for returns the triggers of `event_type`, in firing order.
    std::vector<const CompiledTrigger*> triggers_for(std::string_view event_type) const;
};

// RowsByKey holds validated document objects by document key ("offers").
using RowsByKey = std::map<std::string, std::vector<Json>, std::less<>>;

// compile_catalog builds the compiled catalog from validated rows of the
// keys offers, creatives, flows, models, experiments, channels, placements,
// outcomeTypes, caps, policies, metrics, categories, triggers and journeys
// (others are ignored).
CompiledCatalog compile_catalog(const RowsByKey& rows);

// Customer is what decisions know of a customer.
struct Customer {
    std::string id;
    Json attributes = Json::object();
    std::vector<std::string> segments;
    // Behavioral metrics by id, computed from the customer's interactions
    // (contact_policies.h, metric_values); metric() of one not here is null.
    std::map<std::string, double, std::less<>> metrics;
};

// in_category tells whether `category_id` is `ancestor` or below it in the
// category tree (a cycle, which the catalog refuses, ends the walk).
bool in_category(const CompiledCatalog& catalog, std::string_view category_id, std::string_view ancestor);

// resolve returns the value of a path (SPEC 6.1): customer.id,
// customer.segments, customer.<attribute>[.<key>...]; offer.<field> (id,
// name, categoryId, priority, value, lever, startAt, endAt, status,
// mandatory) else offer.<attribute>[...]; context.<name>[.<key>...]. What is
// missing is null. `offer` may be null (flow conditions): offer paths are
// then null.
expr::Value resolve(std::string_view path, const Customer& customer, const Json* offer, const Json& context);
expr::Value resolve(const PathRef& path, const Customer& customer, const Json* offer, const Json& context);

// SubjectValues holds, for one decision, the values of a catalog's customer
// and context paths (PathTable::subject_paths): each resolved on first use,
// then shared by every offer and expression of the decision. It also keeps
// the result of each expression that reads no offer path (offer
// eligibility such as `customer.age >= 18`, most scorecard rules): evaluated
// for the first offer, then the same for every other one; and of one kept by
// class of offers (`offer.categoryId = 'loans' and ...`), evaluated for the
// first offer of each class. The customer, the context and the table must
// outlive it; not for several threads.
class SubjectValues {
public:
    SubjectValues(std::shared_ptr<const PathTable> table, const Customer& customer, const Json& context);

    const PathTable* table() const { return table_.get(); }
    const Customer& customer() const { return customer_; }
    const Json& context() const { return context_; }
    // value returns the value of `path`, bound to subject_paths[path.index].
    const expr::Value& value(const PathRef& path);
    // serves tells whether these are the values of `expression`'s catalog
    // for `customer` and `context` (the same objects, not equal ones).
    bool serves(const Expression& expression, const Customer& customer, const Json& context) const;

    // A kept result of an expression (one it serves): a test's (1 or 0) or
    // a number's (nullopt: null) at `now`, for every offer when it reads no
    // offer path, else for the offer's class (Expression::class_slot).
    struct Result {
        bool known = false;
        bool test = false;
        double now = 0;
        std::optional<double> value;
    };
    // result returns the kept result for `offer` (may be null), or nullptr.
    const Result* result(const Expression& expression, const CompiledOffer* offer, bool test, double now) const;
    void keep(const Expression& expression, const CompiledOffer* offer, bool test, double now,
              std::optional<double> value);

private:
    std::shared_ptr<const PathTable> table_;
    const Customer& customer_;
    const Json& context_;
    std::vector<expr::Value> values_;
    std::vector<bool> resolved_;
    // by Expression::subject_program, then first_result + an offer's class
    std::vector<Result> results_;
    size_t kept_at(const Expression& expression, const CompiledOffer* offer) const;
};

// holds tells whether a condition is true for the customer, the offer (may
// be null) and the context at `now`; value_of returns a numeric
// expression's value (null: nullopt). metric() reads Customer::metrics.
bool holds(const expr::Program& program, const Customer& customer, const Json* offer, const Json& context, double now);
std::optional<double> value_of(const expr::Program& program, const Customer& customer, const Json* offer,
                               const Json& context, double now);
// The same for an expression about an offer (may be null): its offer paths
// read the offer's precomputed values when the expression and the offer come
// from the same compiled catalog (else the offer's row), its customer and
// context paths the decision's `subject` values when given for that catalog
// (else they are resolved here); the result is the same either way.
bool holds(const Expression& expression, const Customer& customer, const CompiledOffer* offer, const Json& context,
           double now, SubjectValues* subject = nullptr);
std::optional<double> value_of(const Expression& expression, const Customer& customer, const CompiledOffer* offer,
                               const Json& context, double now, SubjectValues* subject = nullptr);

// The reasons an offer is out, each in one place for check_offer and the
// decision pipeline: unavailable (status not active, before startAt, at or
// after endAt: "status is paused", "starts at ...", "ended at ..."), the
// flow's eligibility false ("flow eligibility is false: <source>"), the
// offer's eligibility false ("eligibility is false: <source>"). Nothing
// when the offer passes.
std::optional<std::string> unavailable(const CompiledOffer& offer, double now);
// available is unavailable without the reason (the pipeline's hot loop).
bool available(const CompiledOffer& offer, double now);
std::optional<std::string> flow_refusal(const CompiledFlow& flow, const Customer& customer, const Json& context,
                                        double now);
std::optional<std::string> eligibility_refusal(const CompiledOffer& offer, const Customer& customer,
                                               const Json& context, double now, SubjectValues* subject = nullptr);
// eligible is eligibility_refusal without the reason: the offer's own
// eligibility holds (or it has none).
bool eligible(const CompiledOffer& offer, const Customer& customer, const Json& context, double now,
              SubjectValues* subject = nullptr);

// Eligibility is the verdict for one offer, with the reason when it is out.
struct Eligibility {
    bool eligible = false;
    std::string reason;  // "eligible", "status is paused", "starts at ...", ...
};

// check_offer tells whether `offer` is eligible for `customer` at `now`
// (Unix seconds) in `flow` (may be null): status active, inside its date
// window, the flow's and the offer's eligibility true. metric() reads
// Customer::metrics.
Eligibility check_offer(const CompiledOffer& offer, const CompiledFlow* flow, const Customer& customer,
                        const Json& context, double now);

}  // namespace kaireon::catalog
