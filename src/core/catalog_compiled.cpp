#include "core/catalog_compiled.h"

#include "core/catalog.h"
#include "core/error.h"
#include "core/name_table.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <utility>

namespace kaireon::catalog {
namespace {

std::optional<expr::Program> compile_optional(const Json& row, const char* field, expr::ResultType type) {
    auto it = row.find(field);
    if (it == row.end() || !it->is_string()) return std::nullopt;
    return expr::compile(it->get_ref<const std::string&>(), type);
}

// The statuses the catalog accepts (kaireon.offers.status).
constexpr NameTable<OfferStatus, 4> kOfferStatuses{{
    {"draft", OfferStatus::Draft},
    {"active", OfferStatus::Active},
    {"paused", OfferStatus::Paused},
    {"retired", OfferStatus::Retired},
}};

std::optional<double> timestamp(const Json& row, const char* field) {
    auto it = row.find(field);
    if (it == row.end() || !it->is_string()) return std::nullopt;
    return expr::parse_timestamp(it->get_ref<const std::string&>());
}

// walk follows dotted `keys` into a JSON value; a missing key is null.
expr::Value walk(const Json* value, std::string_view keys) {
    while (!keys.empty()) {
        if (value == nullptr || !value->is_object()) return nullptr;
        size_t dot = keys.find('.');
        std::string_view key = keys.substr(0, dot);
        auto it = value->find(key);  // heterogeneous: no std::string per step
        if (it == value->end()) return nullptr;
        value = &*it;
        keys = dot == std::string_view::npos ? std::string_view{} : keys.substr(dot + 1);
    }
    return value == nullptr ? expr::Value() : expr::Value::from_json(*value);
}

constexpr std::string_view kOfferFields[] = {"id",    "name",    "categoryId", "priority", "value",
                                             "lever", "startAt", "endAt",      "status",   "mandatory"};

// Bindings of one evaluation: every path of the program resolved up front;
// for a bound expression, an offer path is read from the offer's
// precomputed values and a customer or context path from the decision's
// SubjectValues. Programs rarely read more than a few paths: those values live in
// the object, so an evaluation allocates nothing for them (it runs for every
// offer and rule of every decision).
class ResolvedBindings final : public expr::Bindings {
public:
    // A program's paths, parsed here, over an offer's row (may be null).
    ResolvedBindings(const expr::Program& program, const Customer& customer, const Json* offer, const Json& context,
                     double now)
        : customer_(customer), now_(static_cast<int64_t>(std::floor(now))) {
        const auto& texts = program.paths();
        reserve(texts.size());
        for (size_t slot = 0; slot < texts.size(); ++slot)
            own(slot, resolve(texts[slot], customer, offer, context));
    }
    // An expression's paths over a compiled offer (may be null).
    ResolvedBindings(const Expression& expression, const Customer& customer, const CompiledOffer* offer,
                     const Json& context, double now, SubjectValues* subject)
        : customer_(customer), now_(static_cast<int64_t>(std::floor(now))) {
        const Json* row = offer == nullptr ? nullptr : &offer->row;
        // Values are by index in their own catalog's table, and the
        // subject's only for its own customer and context.
        const PathTable* table = expression.table.get();
        const bool precomputed = offer != nullptr && table != nullptr && offer->path_table.get() == table;
        const bool shared = subject != nullptr && subject->serves(expression, customer, context);
        reserve(expression.paths.size());
        for (size_t slot = 0; slot < expression.paths.size(); ++slot) {
            const PathRef& path = expression.paths[slot];
            if (path.reads_offer() && precomputed && path.index < offer->path_values.size())
                slots_[slot] = &offer->path_values[path.index];
            else if (!path.reads_offer() && shared && path.index < table->subject_paths.size())
                slots_[slot] = &subject->value(path);
            else
                own(slot, resolve(path, customer, row, context));
        }
    }
    ResolvedBindings(const ResolvedBindings&) = delete;
    ResolvedBindings& operator=(const ResolvedBindings&) = delete;

    const expr::Value& path(size_t slot) const override { return *slots_[slot]; }
    std::optional<double> metric(std::string_view name) const override {
        auto it = customer_.metrics.find(name);
        if (it == customer_.metrics.end()) return std::nullopt;
        return it->second;
    }
    int64_t now() const override { return now_; }
    bool has_segment(std::string_view segment) const override {
        return std::find(customer_.segments.begin(), customer_.segments.end(), segment) != customer_.segments.end();
    }

private:
    static constexpr size_t kInline = 6;

    void reserve(size_t count) {
        if (count <= kInline) return;
        spilled_values_.resize(count);
        spilled_slots_.resize(count);
        values_ = spilled_values_.data();
        slots_ = spilled_slots_.data();
    }
    void own(size_t slot, expr::Value value) {
        values_[slot] = std::move(value);
        slots_[slot] = &values_[slot];
    }

    const Customer& customer_;
    int64_t now_;
    // Each slot's value: one the bindings resolved (values_) or an offer's.
    std::array<expr::Value, kInline> inline_values_;
    std::array<const expr::Value*, kInline> inline_slots_{};
    std::vector<expr::Value> spilled_values_;  // when the program reads more than kInline paths
    std::vector<const expr::Value*> spilled_slots_;
    expr::Value* values_ = inline_values_.data();
    const expr::Value** slots_ = inline_slots_.data();
};

std::vector<PathRef> parse_paths(const expr::Program& program) {
    std::vector<PathRef> out;
    out.reserve(program.paths().size());
    for (const std::string& text : program.paths()) out.push_back(parse_path(text));
    return out;
}

// ExpressionCompiler compiles each distinct source once per catalog: offers
// often share their eligibility text, and a decision over many offers then
// runs a few programs that stay in the CPU's cache rather than one program
// per offer. Programs are immutable: sharing one changes no answer.
class ExpressionCompiler {
public:
    std::optional<Expression> compile(const Json& row, const char* field, expr::ResultType type) {
        const std::string* source = source_of(row, field);
        if (source == nullptr) return std::nullopt;
        return Expression(program(*source, type));
    }
    // shared compiles an offer's expression: offers with the same text share
    // one Expression, bound once (bind_paths), whose paths a decision then
    // reads once for all of them.
    std::shared_ptr<const Expression> shared(const Json& row, const char* field, expr::ResultType type) {
        const std::string* source = source_of(row, field);
        if (source == nullptr) return nullptr;
        auto& kept = shared_[std::pair(*source, type)];
        if (kept == nullptr) kept = std::make_shared<Expression>(program(*source, type));
        return kept;
    }
    // for_each_shared calls `bind` on every shared expression, once each.
    void for_each_shared(auto&& bind) {
        for (auto& [key, expression] : shared_) bind(*expression);
    }

private:
    static const std::string* source_of(const Json& row, const char* field) {
        auto it = row.find(field);
        return it == row.end() || !it->is_string() ? nullptr : &it->get_ref<const std::string&>();
    }
    const expr::Program& program(const std::string& source, expr::ResultType type) {
        auto known = programs_.find(std::pair(source, type));
        if (known == programs_.end()) known = programs_.emplace(std::pair(source, type), expr::compile(source, type)).first;
        return known->second;
    }

    std::map<std::pair<std::string, expr::ResultType>, expr::Program> programs_;
    std::map<std::pair<std::string, expr::ResultType>, std::shared_ptr<Expression>> shared_;
};

// append_identity appends bytes that only an identical value gives: the
// kind, then a number's bits (0 and -0 differ: 1/x tells them apart),
// a string's length and bytes, a list's items.
void append_identity(std::string& key, const expr::Value& value) {
    using Kind = expr::Value::Kind;
    key.push_back(static_cast<char>(value.kind()));
    auto append_raw = [&](const auto& raw) { key.append(reinterpret_cast<const char*>(&raw), sizeof(raw)); };
    switch (value.kind()) {
        case Kind::Null: break;
        case Kind::Bool: key.push_back(value.as_bool() ? 1 : 0); break;
        case Kind::Number: append_raw(value.as_number()); break;
        case Kind::String:
            append_raw(value.as_string().size());
            key.append(value.as_string());
            break;
        case Kind::List:
            append_raw(value.as_list().size());
            for (const expr::Value& item : value.as_list()) append_identity(key, item);
            break;
    }
}

// classify_offers keeps `expression` (bound, reading offer paths) by class
// of offers: offers with identical values at its offer paths get one class
// number, and the results for a class are the same (SubjectValues keeps
// them). Only where classes are few and shared (at most kMaxClasses, two
// offers a class on average): else a decision would clear many results to
// reuse few.
void classify_offers(CompiledCatalog& catalog, PathTable& table, Expression& expression) {
    constexpr size_t kMaxClasses = 256;
    if (!expression.reads_offer || catalog.offers.size() < 2) return;
    std::map<std::string, uint32_t> classes;
    std::vector<uint32_t> class_of;
    class_of.reserve(catalog.offers.size());
    std::string key;
    for (const CompiledOffer& offer : catalog.offers) {
        key.clear();
        for (const PathRef& path : expression.paths)
            if (path.reads_offer()) append_identity(key, offer.path_values[path.index]);
        class_of.push_back(classes.emplace(key, static_cast<uint32_t>(classes.size())).first->second);
        if (classes.size() > kMaxClasses) return;
    }
    if (classes.size() * 2 > catalog.offers.size()) return;
    expression.class_slot = static_cast<uint32_t>(catalog.offers.front().path_values.size());
    expression.first_result = table.kept_results;
    table.kept_results += static_cast<uint32_t>(classes.size());
    for (size_t i = 0; i < catalog.offers.size(); ++i) catalog.offers[i].path_values.emplace_back(class_of[i]);
}

// bind_paths gives the paths of every expression evaluated against offers
// their index in one table of the catalog, and each program that reads no
// offer path its number there (offers that share an eligibility text share
// its program: one number); then has every offer resolve the table's offer
// paths from its row: once per compile, not per decision.
void bind_paths(CompiledCatalog& catalog, ExpressionCompiler& expressions) {
    auto table = std::make_shared<PathTable>();
    std::map<std::string_view, uint32_t, std::less<>> offer_index, subject_index;  // into the table's lists
    std::map<const void*, uint32_t> subject_programs;                              // by Program::identity
    auto bind = [&](Expression& expression) {
        expression.table = table;
        for (size_t slot = 0; slot < expression.paths.size(); ++slot) {
            PathRef& path = expression.paths[slot];
            if (path.source == PathRef::Source::Null) continue;  // null whatever the decision
            const std::string& text = expression.program.paths()[slot];
            auto& index = path.reads_offer() ? offer_index : subject_index;
            auto& list = path.reads_offer() ? table->offer_paths : table->subject_paths;
            auto [at, added] = index.emplace(text, static_cast<uint32_t>(list.size()));
            if (added) list.push_back(text);
            path.index = at->second;
        }
        if (expression.reads_offer) return;
        auto [at, added] = subject_programs.emplace(expression.program.identity(), table->subject_programs);
        if (added) ++table->subject_programs;
        expression.subject_program = at->second;
    };
    std::vector<Expression*> bound;
    auto bind_one = [&](Expression& expression) {
        bind(expression);
        bound.push_back(&expression);
    };
    expressions.for_each_shared(bind_one);
    for (auto& [id, model] : catalog.models)
        for (auto& [when, points] : model.rules) bind_one(when);
    for (auto& [id, flow] : catalog.flows)
        if (flow.relevance) bind_one(*flow.relevance);
    for (auto& policy : catalog.policies)
        if (policy.condition) bind_one(*policy.condition);
    static const Customer kNobody;
    static const Json kNoContext = Json::object();
    for (auto& offer : catalog.offers) {
        offer.path_table = table;
        offer.path_values.reserve(table->offer_paths.size());
        for (const std::string& text : table->offer_paths)
            offer.path_values.push_back(resolve(text, kNobody, &offer.row, kNoContext));
    }
    table->kept_results = table->subject_programs;
    for (Expression* expression : bound) classify_offers(catalog, *table, *expression);
    catalog.path_table = std::move(table);
}

}  // namespace

CompiledCatalog compile_catalog(const RowsByKey& rows) {
    CompiledCatalog out;
    auto rows_of = [&](std::string_view key) -> const std::vector<Json>& {
        static const std::vector<Json> none;
        auto it = rows.find(key);
        return it == rows.end() ? none : it->second;
    };
    auto text = [](const Json& row, const char* field) {
        auto it = row.find(field);
        return it != row.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    auto number = [](const Json& row, const char* field, double fallback) {
        auto it = row.find(field);
        return it != row.end() && it->is_number() ? it->get<double>() : fallback;
    };
    ExpressionCompiler expressions;
    for (const Json& row : rows_of("offers")) {
        CompiledOffer offer;
        offer.id = row["id"].get<std::string>();
        offer.row = row;
        offer.eligibility = expressions.shared(row, "eligibility", expr::ResultType::Bool);
        if (auto start = timestamp(row, "startAt")) offer.start_at = *start;
        if (auto end = timestamp(row, "endAt")) offer.end_at = *end;
        if (auto status = row.find("status"); status != row.end() && status->is_string()) {
            const std::string& stored = status->get_ref<const std::string&>();
            auto known = from_name(kOfferStatuses, stored);
            // Only a row written around apply_catalog could have another.
            if (!known)
                throw Error(ErrorCode::Internal, "offer \"" + offer.id + "\" has the unknown status \"" + stored + "\"");
            offer.status = *known;
        }
        offer.category_id = text(row, "categoryId");
        offer.priority = number(row, "priority", 50);
        offer.value = number(row, "value", 0);
        offer.lever = number(row, "lever", 1);
        offer.mandatory = row.value("mandatory", false);
        if (auto budget = row.find("budget"); budget != row.end() && budget->is_object())
            offer.budget = CompiledBudget{text(*budget, "metric"), number(*budget, "limit", 0), text(*budget, "period")};
        if (offer.eligibility && offer.eligibility->uses_metric()) out.uses_metrics = true;
        out.offers.push_back(std::move(offer));
    }
    std::sort(out.offers.begin(), out.offers.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
    for (size_t i = 0; i < out.offers.size(); ++i)
        if (out.offers[i].budget) out.budgeted_offers.push_back(static_cast<uint32_t>(i));
    for (const Json& row : rows_of("creatives")) {
        std::string offer_id = text(row, "offerId");
        auto it = std::lower_bound(out.offers.begin(), out.offers.end(), offer_id,
                                   [](const CompiledOffer& o, const std::string& id) { return o.id < id; });
        if (it == out.offers.end() || it->id != offer_id) continue;
        it->creatives.push_back({text(row, "id"), text(row, "channelId"), text(row, "placementId")});
    }
    for (auto& offer : out.offers) {
        std::sort(offer.creatives.begin(), offer.creatives.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
        offer.first_place = static_cast<uint32_t>(out.creative_places.size());
        auto place_of = [&](const std::string& id) -> uint32_t {
            if (id.empty()) return 0;
            return out.place_numbers.emplace(id, static_cast<uint32_t>(out.place_numbers.size() + 1)).first->second;
        };
        for (const auto& creative : offer.creatives)
            out.creative_places.push_back({place_of(creative.channel_id), place_of(creative.placement_id)});
    }
    for (const Json& row : rows_of("models")) {
        CompiledModel model;
        model.id = text(row, "id");
        model.type = text(row, "type");
        model.definition = row.value("definition", Json::object());
        if (model.type == "scorecard") {
            model.base = number(model.definition, "base", 0);
            model.factor = number(model.definition, "factor", 1);
            model.logistic = model.definition.value("scale", "linear") == "logistic";
            for (const Json& rule : model.definition.value("rules", Json::array()))
                model.rules.emplace_back(expr::compile(rule["when"].get<std::string>(), expr::ResultType::Bool),
                                         rule["points"].get<double>());
            for (const auto& [when, points] : model.rules)
                if (when.uses_metric()) out.uses_metrics = true;
        } else if (model.type == "bayesian") {
            out.counts_offer_stats = true;
            if (model.definition.value("bySegment", false)) out.offer_stats_by_segment = true;
        } else if (model.type == "gradient_boosted") {
            model.forest = std::make_shared<const xgboost::Forest>(load_forest(model.definition["model"]));
            for (const Json& path : model.definition["features"]) model.features.push_back(path.get<std::string>());
        }
        out.models.emplace(model.id, std::move(model));
    }
    for (const Json& row : rows_of("experiments")) {
        experiments::Experiment e;
        e.id = text(row, "id");
        e.flow_id = text(row, "flowId");
        e.type = text(row, "type");
        e.status = row.value("status", "draft");
        e.holdout_percent = number(row, "holdoutPercent", 0);
        for (const Json& v : row.value("variants", Json::array()))
            e.variants.push_back({text(v, "id"), number(v, "weight", 1), text(v, "flowId"), v.value("control", false)});
        if (e.is_bandit()) {
            const Json bandit = row.value("bandit", Json::object());
            e.bandit.thompson = bandit.value("algorithm", "thompson") == "thompson";
            e.bandit.greedy.epsilon = number(bandit, "epsilon", 0.1);
            e.bandit.greedy.decay = number(bandit, "decay", 1);
            const Json prior = bandit.value("prior", Json::object());
            e.bandit.prior = {number(prior, "alpha", 1), number(prior, "beta", 1)};
            // Respond counts the arms of every bandit, whatever its status
            // (answers to its decisions may come after it is paused).
            if (e.bandit_over_offers()) out.counts_offer_stats = true;
            else out.counts_bandit_arms = true;
        }
        out.experiments.emplace(e.id, std::move(e));
    }
    for (const Json& row : rows_of("flows")) {
        CompiledFlow flow;
        flow.id = text(row, "id");
        flow.row = row;
        flow.eligibility = compile_optional(row, "eligibility", expr::ResultType::Bool);
        flow.channel_id = text(row, "channelId");
        flow.placement_id = text(row, "placementId");
        flow.model_id = text(row, "modelId");
        flow.experiment_id = text(row, "experimentId");
        if (auto ranking = row.find("ranking"); ranking != row.end() && ranking->is_object()) {
            flow.arbitration = ranking->value("method", "top_n") == "arbitration";
            if (ranking->contains("n")) flow.n = (*ranking)["n"].get<int>();
            if (auto w = ranking->find("weights"); w != ranking->end()) {
                flow.weight_propensity = number(*w, "propensity", flow.weight_propensity);
                flow.weight_relevance = number(*w, "relevance", flow.weight_relevance);
                flow.weight_impact = number(*w, "impact", flow.weight_impact);
                flow.weight_emphasis = number(*w, "emphasis", flow.weight_emphasis);
            }
            flow.relevance = expressions.compile(*ranking, "relevance", expr::ResultType::Number);
            if (auto cw = ranking->find("contextWeights"); cw != ranking->end())
                for (const auto& [category, weight] : cw->items())
                    if (weight.is_number()) flow.context_weights[category] = weight.get<double>();
        }
        if ((flow.eligibility && flow.eligibility->uses_metric()) || (flow.relevance && flow.relevance->uses_metric()))
            out.uses_metrics = true;
        for (const Json& group : row.value("groups", Json::array()))
            flow.groups.push_back({text(group, "placementId"), group.value("slots", 1), group.value("allowPartial", true)});
        out.flows.emplace(flow.id, std::move(flow));
    }
    for (const Json& row : rows_of("channels")) out.channel_types[text(row, "id")] = text(row, "type");
    for (const Json& row : rows_of("placements")) out.placement_slots[text(row, "id")] = row.value("slots", 1);
    for (const Json& row : rows_of("outcomeTypes")) out.outcome_kinds[text(row, "id")] = text(row, "kind");
    for (const Json& row : rows_of("caps")) {
        out.caps.push_back({text(row, "id"), text(row, "name"), text(row, "scope"), text(row, "scopeId"),
                            static_cast<int64_t>(number(row, "maxVolume", 1)), text(row, "period"),
                            row.value("enabled", true)});
    }
    std::sort(out.caps.begin(), out.caps.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
    for (const Json& row : rows_of("policies")) {
        if (!row.value("enabled", true)) continue;  // a disabled policy changes nothing
        CompiledPolicy policy;
        policy.id = text(row, "id");
        policy.name = text(row, "name");
        policy.type = text(row, "type");
        if (row.contains("scope") && row["scope"].is_string()) policy.scope = text(row, "scope");
        policy.scope_id = text(row, "scopeId");
        policy.priority = static_cast<int64_t>(number(row, "priority", 100));
        policy.bypassable = row.value("bypassable", true);
        if (auto config = row.find("config"); config != row.end() && config->is_object()) policy.config = *config;
        policy.condition = expressions.compile(policy.config, "condition", expr::ResultType::Bool);
        policy.offer_ids = string_items(policy.config, "offerIds");
        policy.category_ids = string_items(policy.config, "categoryIds");
        policy.channels = string_items(policy.config, "channels");
        if ((policy.condition && policy.condition->uses_metric()) || policy.type == "metric_condition")
            out.uses_metrics = true;
        out.policies.push_back(std::move(policy));
    }
    std::sort(out.policies.begin(), out.policies.end(), [](const auto& a, const auto& b) {
        return a.priority != b.priority ? a.priority < b.priority : a.id < b.id;
    });
    for (const Json& row : rows_of("triggers")) {
        CompiledTrigger trigger;
        trigger.id = text(row, "id");
        trigger.name = text(row, "name");
        trigger.event_type = text(row, "eventType");
        trigger.priority = static_cast<int64_t>(number(row, "priority", 100));
        trigger.cooldown_seconds = static_cast<int64_t>(number(row, "cooldownSeconds", 0));
        trigger.condition = compile_optional(row, "condition", expr::ResultType::Bool);
        if (auto action = row.find("action"); action != row.end() && action->is_object()) trigger.action = *action;
        out.triggers.push_back(std::move(trigger));
    }
    std::sort(out.triggers.begin(), out.triggers.end(), [](const auto& a, const auto& b) {
        return a.priority != b.priority ? a.priority < b.priority : a.id < b.id;
    });
    for (const Json& row : rows_of("journeys")) {
        try {
            journeys::Journey journey = journeys::compile(row);
            for (const std::string& outcome : journey.outcomes()) out.journey_outcomes.insert(outcome);
            out.journeys.emplace(journey.id, std::move(journey));
        } catch (const journeys::Invalid& invalid) {
            out.invalid_journeys.emplace(text(row, "id"), invalid.field + ": " + invalid.message);
        }
    }
    for (const Json& row : rows_of("metrics")) {
        CompiledMetric metric;
        metric.id = text(row, "id");
        const Json definition = row.value("definition", Json::object());
        for (const Json& outcome : definition.value("outcomeTypes", Json::array()))
            if (outcome.is_string()) metric.outcome_types.push_back(outcome.get<std::string>());
        if (definition.contains("scope") && definition["scope"].is_string()) metric.scope = text(definition, "scope");
        metric.scope_id = text(definition, "scopeId");
        metric.window_days = static_cast<int>(number(definition, "windowDays", 30));
        metric.sum = definition.value("aggregation", "count") == "sum";
        out.metrics.push_back(std::move(metric));
    }
    std::sort(out.metrics.begin(), out.metrics.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
    std::map<std::string, std::string, std::less<>> parents;
    for (const Json& row : rows_of("categories")) parents[text(row, "id")] = text(row, "parentId");
    out.categories = CategoryTree(std::move(parents));
    bind_paths(out, expressions);
    return out;
}

CategoryTree::CategoryTree(std::map<std::string, std::string, std::less<>> parents) : parents_(std::move(parents)) {
    nodes_.reserve(parents_.size());
    node_of_.reserve(parents_.size());
    for (const auto& [id, parent] : parents_) {
        node_of_.emplace(id, static_cast<uint32_t>(nodes_.size()));
        nodes_.push_back({parent, kNoNode});
    }
    for (Node& node : nodes_) {
        auto it = node_of_.find(node.parent);
        if (it != node_of_.end()) node.parent_node = it->second;
    }
}

bool CategoryTree::contains(std::string_view ancestor, std::string_view category) const {
    if (category.empty()) return false;
    if (category == ancestor) return true;
    auto it = node_of_.find(category);
    if (it == node_of_.end()) return false;
    const Node* node = &nodes_[it->second];
    // Step d compares the d-th ancestor; a cycle ends after size() steps.
    for (size_t depth = 1; depth <= nodes_.size(); ++depth) {
        if (node->parent.empty()) return false;
        if (node->parent == ancestor) return true;
        if (node->parent_node == kNoNode) return false;
        node = &nodes_[node->parent_node];
    }
    return false;
}

bool in_category(const CompiledCatalog& catalog, std::string_view category_id, std::string_view ancestor) {
    return catalog.categories.contains(ancestor, category_id);
}

xgboost::Forest load_forest(const Json& model) {
    return model.is_string() ? xgboost::load_text(model.get<std::string>()) : xgboost::load(model);
}

const CompiledOffer* CompiledCatalog::offer(std::string_view id) const {
    auto it = std::lower_bound(offers.begin(), offers.end(), id,
                               [](const CompiledOffer& o, std::string_view key) { return o.id < key; });
    return it != offers.end() && it->id == id ? &*it : nullptr;
}

uint32_t CompiledCatalog::place_number(std::string_view id) const {
    if (id.empty()) return 0;
    auto it = place_numbers.find(id);
    return it == place_numbers.end() ? kUnplaced : it->second;
}

std::span<const CreativePlace> CompiledCatalog::places(const CompiledOffer& offer) const {
    // Only an offer of this catalog has its places here.
    const std::less<const CompiledOffer*> before;
    const bool ours = !offers.empty() && !before(&offer, offers.data()) && before(&offer, offers.data() + offers.size());
    if (!ours || offer.first_place == CompiledOffer::kNoPlaces ||
        offer.first_place + offer.creatives.size() > creative_places.size())
        return {};
    return {creative_places.data() + offer.first_place, offer.creatives.size()};
}

std::vector<const CompiledTrigger*> CompiledCatalog::triggers_for(std::string_view event_type) const {
    std::vector<const CompiledTrigger*> out;
    for (const auto& trigger : triggers)
        if (trigger.event_type == event_type) out.push_back(&trigger);
    return out;
}

Expression::Expression(expr::Program compiled)
    : program(std::move(compiled)),
      paths(parse_paths(program)),
      reads_offer(std::any_of(paths.begin(), paths.end(), [](const PathRef& path) { return path.reads_offer(); })) {}

PathRef parse_path(std::string_view path) {
    using Source = PathRef::Source;
    size_t dot = path.find('.');
    if (dot == std::string_view::npos) return {};
    std::string_view root = path.substr(0, dot);
    std::string_view rest = path.substr(dot + 1);
    if (root == "customer") {
        if (rest == "id") return {Source::CustomerId, {}};
        if (rest == "segments") return {Source::CustomerSegments, {}};
        return {Source::CustomerAttributes, rest};
    }
    if (root == "offer") {
        std::string_view first = rest.substr(0, rest.find('.'));
        const bool field = std::find(std::begin(kOfferFields), std::end(kOfferFields), first) != std::end(kOfferFields);
        return {field ? Source::OfferRow : Source::OfferAttributes, rest};
    }
    if (root == "context") return {Source::Context, rest};
    return {};
}

expr::Value resolve(const PathRef& path, const Customer& customer, const Json* offer, const Json& context) {
    using Source = PathRef::Source;
    switch (path.source) {
        case Source::Null: return nullptr;
        case Source::CustomerId: return expr::Value(customer.id);
        case Source::CustomerSegments: {
            std::vector<expr::Value> items(customer.segments.begin(), customer.segments.end());
            return expr::Value::list(std::move(items));
        }
        case Source::CustomerAttributes: return walk(&customer.attributes, path.keys);
        case Source::OfferRow: return offer == nullptr ? expr::Value() : walk(offer, path.keys);
        case Source::OfferAttributes: {
            if (offer == nullptr) return nullptr;
            auto attributes = offer->find("attributes");
            return attributes == offer->end() ? expr::Value() : walk(&*attributes, path.keys);
        }
        case Source::Context: return walk(&context, path.keys);
    }
    return nullptr;
}

expr::Value resolve(std::string_view path, const Customer& customer, const Json* offer, const Json& context) {
    return resolve(parse_path(path), customer, offer, context);
}

bool holds(const expr::Program& program, const Customer& customer, const Json* offer, const Json& context, double now) {
    return program.test(ResolvedBindings(program, customer, offer, context, now));
}

std::optional<double> value_of(const expr::Program& program, const Customer& customer, const Json* offer,
                               const Json& context, double now) {
    return program.number(ResolvedBindings(program, customer, offer, context, now));
}

SubjectValues::SubjectValues(std::shared_ptr<const PathTable> table, const Customer& customer, const Json& context)
    : table_(std::move(table)), customer_(customer), context_(context) {
    const size_t count = table_ == nullptr ? 0 : table_->subject_paths.size();
    values_.resize(count);  // never resized again: bindings point into it
    resolved_.resize(count, false);
    results_.resize(table_ == nullptr ? 0 : table_->kept_results);
}

const expr::Value& SubjectValues::value(const PathRef& path) {
    if (!resolved_[path.index]) {
        values_[path.index] = resolve(path, customer_, nullptr, context_);
        resolved_[path.index] = true;
    }
    return values_[path.index];
}

bool SubjectValues::serves(const Expression& expression, const Customer& customer, const Json& context) const {
    return table_ != nullptr && expression.table.get() == table_.get() && &customer == &customer_ &&
           &context == &context_;
}

size_t SubjectValues::kept_at(const Expression& expression, const CompiledOffer* offer) const {
    if (!expression.reads_offer) return expression.subject_program;
    // An offer of the expression's catalog, and its class number there.
    if (offer == nullptr || expression.class_slot == PathRef::kUnbound ||
        offer->path_table.get() != expression.table.get() || expression.class_slot >= offer->path_values.size())
        return results_.size();
    const expr::Value& number = offer->path_values[expression.class_slot];
    return expression.first_result + static_cast<size_t>(number.as_number());
}

const SubjectValues::Result* SubjectValues::result(const Expression& expression, const CompiledOffer* offer, bool test,
                                                   double now) const {
    const size_t at = kept_at(expression, offer);
    if (at >= results_.size()) return nullptr;
    const Result& kept = results_[at];
    return kept.known && kept.test == test && kept.now == now ? &kept : nullptr;
}

void SubjectValues::keep(const Expression& expression, const CompiledOffer* offer, bool test, double now,
                         std::optional<double> value) {
    const size_t at = kept_at(expression, offer);
    if (at < results_.size()) results_[at] = {true, test, now, value};
}

namespace {

// evaluate_once returns `evaluate()`, computed once per decision (`subject`)
// and `now` for an expression that reads no offer path: its customer and
// context paths, metric(), has_segment() and days_since() are the same for
// every offer; and once per class of offers for one kept by class (its
// offer paths' values are the same within a class). SubjectValues keeps
// no other.
std::optional<double> evaluate_once(const Expression& expression, const Customer& customer, const CompiledOffer* offer,
                                    const Json& context, double now, SubjectValues* subject, bool test,
                                    auto&& evaluate) {
    if (subject == nullptr || !subject->serves(expression, customer, context)) return evaluate();
    if (const SubjectValues::Result* kept = subject->result(expression, offer, test, now)) return kept->value;
    std::optional<double> value = evaluate();
    subject->keep(expression, offer, test, now, value);
    return value;
}

}  // namespace

bool holds(const Expression& expression, const Customer& customer, const CompiledOffer* offer, const Json& context,
           double now, SubjectValues* subject) {
    return evaluate_once(expression, customer, offer, context, now, subject, true, [&]() -> std::optional<double> {
               return expression.program.test(ResolvedBindings(expression, customer, offer, context, now, subject)) ? 1
                                                                                                                   : 0;
           }) == 1.0;
}

std::optional<double> value_of(const Expression& expression, const Customer& customer, const CompiledOffer* offer,
                               const Json& context, double now, SubjectValues* subject) {
    return evaluate_once(expression, customer, offer, context, now, subject, false, [&] {
        return expression.program.number(ResolvedBindings(expression, customer, offer, context, now, subject));
    });
}

namespace {

bool before_start(const CompiledOffer& offer, double now) { return now < offer.start_at; }
bool ended(const CompiledOffer& offer, double now) { return now >= offer.end_at; }

}  // namespace

std::string_view name(OfferStatus status) { return name_of(kOfferStatuses, status); }

bool available(const CompiledOffer& offer, double now) {
    return offer.status == OfferStatus::Active && !before_start(offer, now) && !ended(offer, now);
}

std::optional<std::string> unavailable(const CompiledOffer& offer, double now) {
    if (offer.status != OfferStatus::Active) return "status is " + std::string(name(offer.status));
    if (before_start(offer, now)) return "starts at " + format_timestamp(offer.start_at);
    if (ended(offer, now)) return "ended at " + format_timestamp(offer.end_at);
    return std::nullopt;
}

std::optional<std::string> flow_refusal(const CompiledFlow& flow, const Customer& customer, const Json& context,
                                        double now) {
    if (!flow.eligibility || holds(*flow.eligibility, customer, nullptr, context, now)) return std::nullopt;
    return "flow eligibility is false: " + flow.eligibility->source();
}

bool eligible(const CompiledOffer& offer, const Customer& customer, const Json& context, double now,
              SubjectValues* subject) {
    return !offer.eligibility || holds(*offer.eligibility, customer, &offer, context, now, subject);
}

std::optional<std::string> eligibility_refusal(const CompiledOffer& offer, const Customer& customer,
                                               const Json& context, double now, SubjectValues* subject) {
    if (eligible(offer, customer, context, now, subject)) return std::nullopt;
    return "eligibility is false: " + offer.eligibility->source();
}

Eligibility check_offer(const CompiledOffer& offer, const CompiledFlow* flow, const Customer& customer,
                        const Json& context, double now) {
    std::optional<std::string> reason = unavailable(offer, now);
    if (!reason && flow != nullptr) reason = flow_refusal(*flow, customer, context, now);
    if (!reason) reason = eligibility_refusal(offer, customer, context, now);
    if (reason) return {false, *reason};
    return {true, "eligible"};
}

}  // namespace kaireon::catalog
