// journeys_test.cpp - multi-step journeys (SPEC 6.7, src/core/journeys.h):
// compile (every node type, every refusal with its field path and message,
// cycles, limits, null optional fields) and the catalog's check of journeys
// through the same compile; the engine's advance with a scripted Effects
// (recommend edges and fallbacks, decisions with and without
// allow_decisions, delays and outcome waits to the second, wake_at, branches
// on conditions and outcomes, exit, maxDuration, removed nodes, loops, the
// step limit); and simulations of a nurture loop over days.
//
// The engine does not enter a customer itself: the caller places a new
// instance at nodes[0] (enter() below does what the caller does).
#include "core/journeys.h"

#include "core/catalog.h"
#include "core/error.h"
#include "core/expr.h"

#include "refusal.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kaireon::journeys {
namespace {

using test_support::refusal;

using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr double kT0 = 1767225600;  // 2026-01-01T00:00:00Z
constexpr double kHour = 3600;
constexpr double kDay = 86400;

Journey journey_of(std::string_view text) { return compile(Json::parse(text)); }

// invalid_of returns what compile refuses `text` with (nothing if accepted).
std::optional<Invalid> invalid_of(const Json& row) {
    try {
        compile(row);
    } catch (const Invalid& invalid) {
        return invalid;
    }
    return std::nullopt;
}

// EXPECT_INVALID checks that compile refuses `row` with exactly this field
// path and message.
#define EXPECT_INVALID(row, field_path, text)                              \
    do {                                                                   \
        SCOPED_TRACE(#row);                                                \
        const std::optional<Invalid> invalid_ = invalid_of(row);           \
        if (!invalid_) {                                                   \
            ADD_FAILURE() << "accepted";                                   \
        } else {                                                           \
            EXPECT_EQ(invalid_->field, (field_path)) << invalid_->message; \
            EXPECT_EQ(invalid_->message, (text));                          \
        }                                                                  \
    } while (0)

#define EXPECT_COMPILES(row)                                                                        \
    do {                                                                                            \
        SCOPED_TRACE(#row);                                                                         \
        const std::optional<Invalid> invalid_ = invalid_of(row);                                    \
        if (invalid_) ADD_FAILURE() << "refused: " << invalid_->field << ": " << invalid_->message; \
    } while (0)

Json row_of(std::string_view text) { return Json::parse(text); }

// row_with returns a journey row of these nodes and edges (JSON arrays).
Json row_with(std::string_view nodes, std::string_view edges = "[]") {
    Json row = Json::object();
    row["id"] = "j";
    row["nodes"] = Json::parse(nodes);
    row["edges"] = Json::parse(edges);
    return row;
}
Journey journey_with(std::string_view nodes, std::string_view edges = "[]") { return compile(row_with(nodes, edges)); }

// ScriptedEffects records what the engine asks and answers from a script:
// the successive results of each recommend node (by node id) and of each
// condition (by source), then a default.
class ScriptedEffects final : public Effects {
public:
    std::map<std::string, std::deque<bool>> offers;
    bool offered_otherwise = true;
    std::map<std::string, std::deque<bool>> answers;
    bool holds_otherwise = true;

    std::vector<std::string> recommended;  // "node/flow" of each decision asked, in order
    std::vector<std::string> evaluated;    // the source of each condition evaluated, in order

    Decision recommend(const Node& node) override {
        recommended.push_back(node.id + "/" + node.flow_id);
        Decision decision;
        decision.id = "d" + std::to_string(recommended.size());
        decision.offered = next(offers, node.id, offered_otherwise);
        return decision;
    }
    bool holds(const expr::Program& condition) override {
        evaluated.push_back(condition.source());
        return next(answers, condition.source(), holds_otherwise);
    }

private:
    static bool next(std::map<std::string, std::deque<bool>>& script, const std::string& key, bool otherwise) {
        auto it = script.find(key);
        if (it == script.end() || it->second.empty()) return otherwise;
        const bool result = it->second.front();
        it->second.pop_front();
        return result;
    }
};

// enter places a new instance at the journey's first node at `now`, as the
// caller does (expires_at from maxDurationDays).
Instance enter(const Journey& journey, double now) {
    Instance instance;
    instance.node = journey.nodes.at(0).id;
    instance.node_entered_at = now;
    if (journey.max_duration_days) instance.expires_at = now + *journey.max_duration_days * kDay;
    return instance;
}

// at places an instance at node `node` since `since`.
Instance at(std::string node, double since, std::optional<double> expires_at = std::nullopt) {
    Instance instance;
    instance.node = std::move(node);
    instance.node_entered_at = since;
    instance.expires_at = expires_at;
    return instance;
}

Options when(double now, std::string observed = {}, bool allow_decisions = true) {
    Options options;
    options.now = now;
    options.observed_outcome = std::move(observed);
    options.allow_decisions = allow_decisions;
    return options;
}

// moves renders transitions as "from -> to: reason [decision]" ("from -> .:
// reason" when the journey ends).
std::vector<std::string> moves(const Advance& advance) {
    std::vector<std::string> out;
    for (const Transition& t : advance.transitions)
        out.push_back(t.from + " -> " + (t.to.empty() ? "." : t.to) + ": " + t.reason +
                      (t.decision_id.empty() ? "" : " [" + t.decision_id + "]"));
    return out;
}

// --- compile ---------------------------------------------------------------------

TEST(JourneyCompile, EveryNodeType) {
    const Journey j = journey_of(R"({"id": "welcome", "name": "Welcome", "entryCondition": "customer.age >= 18",
        "maxDurationDays": 30, "nodes": [
            {"id": "r", "type": "recommend", "flowId": "f", "name": "first"},
            {"id": "d", "type": "wait", "waitHours": 1.5},
            {"id": "w", "type": "wait", "outcome": "purchase", "timeoutHours": 48, "waitHours": 2},
            {"id": "b", "type": "branch", "condition": "customer.vip = true"},
            {"id": "b2", "type": "branch", "outcome": "click"},
            {"id": "e", "type": "exit", "name": "done"}],
        "edges": [{"from": "r", "to": "d", "when": "offered"}, {"from": "r", "to": "e", "when": "no_offer"},
                  {"from": "d", "to": "w"},
                  {"from": "w", "to": "b", "when": "outcome"}, {"from": "w", "to": "b2", "when": "timeout"},
                  {"from": "w", "to": "e"},
                  {"from": "b", "to": "e", "when": "true"}, {"from": "b", "to": "b2", "when": "false"},
                  {"from": "b", "to": "r"},
                  {"from": "b2", "to": "e"}]})");
    EXPECT_EQ(j.id, "welcome");
    EXPECT_EQ(j.name, "Welcome");
    ASSERT_TRUE(j.entry_condition.has_value());
    EXPECT_EQ(j.entry_condition->source(), "customer.age >= 18");
    EXPECT_EQ(j.max_duration_days, 30);
    ASSERT_EQ(j.nodes.size(), 6u);
    std::vector<std::string> ids;
    for (const Node& n : j.nodes) ids.push_back(n.id + ":" + n.type);
    EXPECT_THAT(ids, ElementsAre("r:recommend", "d:wait", "w:wait", "b:branch", "b2:branch", "e:exit"));

    const Node& r = j.nodes[0];
    EXPECT_EQ(r.flow_id, "f");
    EXPECT_EQ(r.edges, (std::map<std::string, std::string>{{"offered", "d"}, {"no_offer", "e"}}));
    EXPECT_FALSE(r.waits_for_outcome());
    EXPECT_EQ(r.timeout_seconds(), std::nullopt);

    const Node& d = j.nodes[1];
    EXPECT_EQ(d.wait_hours, 1.5);
    EXPECT_EQ(d.timeout_hours, std::nullopt);
    EXPECT_EQ(d.outcome, "");
    EXPECT_FALSE(d.waits_for_outcome());
    EXPECT_EQ(d.timeout_seconds(), 1.5 * 3600);
    EXPECT_EQ(d.edges, (std::map<std::string, std::string>{{"", "w"}}));

    const Node& w = j.nodes[2];
    EXPECT_EQ(w.outcome, "purchase");
    EXPECT_TRUE(w.waits_for_outcome());
    EXPECT_EQ(w.timeout_hours, 48);
    EXPECT_EQ(w.wait_hours, 2);
    EXPECT_EQ(w.timeout_seconds(), 48 * 3600);  // timeoutHours before waitHours
    EXPECT_EQ(w.edges, (std::map<std::string, std::string>{{"outcome", "b"}, {"timeout", "b2"}, {"", "e"}}));

    const Node& b = j.nodes[3];
    ASSERT_TRUE(b.condition.has_value());
    EXPECT_EQ(b.condition->source(), "customer.vip = true");
    EXPECT_EQ(b.outcome, "");
    EXPECT_EQ(b.edges, (std::map<std::string, std::string>{{"true", "e"}, {"false", "b2"}, {"", "r"}}));

    const Node& b2 = j.nodes[4];
    EXPECT_FALSE(b2.condition.has_value());
    EXPECT_EQ(b2.outcome, "click");
    EXPECT_FALSE(b2.waits_for_outcome());

    const Node& e = j.nodes[5];
    EXPECT_THAT(e.edges, IsEmpty());

    EXPECT_EQ(j.node("b2"), &j.nodes[4]);
    EXPECT_EQ(j.node("r"), &j.nodes[0]);
    EXPECT_EQ(j.node("nope"), nullptr);
    EXPECT_EQ(j.node(""), nullptr);
    EXPECT_EQ(j.outcomes(), (std::set<std::string, std::less<>>{"click", "purchase"}));
}

TEST(JourneyCompile, MinimalJourney) {
    const Journey j = journey_of(R"({"id": "j", "nodes": [{"id": "e", "type": "exit"}]})");
    EXPECT_EQ(j.id, "j");
    EXPECT_EQ(j.name, "");
    EXPECT_FALSE(j.entry_condition.has_value());
    EXPECT_FALSE(j.max_duration_days.has_value());
    ASSERT_EQ(j.nodes.size(), 1u);
    EXPECT_THAT(j.outcomes(), IsEmpty());
}

TEST(JourneyCompile, TimeoutSecondsOfAWaitOnAnOutcome) {
    const Journey j = journey_with(
        R"([{"id": "forever", "type": "wait", "outcome": "click"},
            {"id": "hours", "type": "wait", "outcome": "click", "waitHours": 5},
            {"id": "timeout", "type": "wait", "outcome": "click", "timeoutHours": 0.25}])");
    EXPECT_EQ(j.node("forever")->timeout_seconds(), std::nullopt);
    EXPECT_EQ(j.node("hours")->timeout_seconds(), 5 * 3600);
    EXPECT_EQ(j.node("timeout")->timeout_seconds(), 900);
}

// Validated rows carry absent optional fields as null: they are absent.
TEST(JourneyCompile, NullOptionalFieldsAreAbsent) {
    const Journey j = journey_of(R"({"id": "j", "name": null, "entryCondition": null, "maxDurationDays": null,
        "nodes": [
            {"id": "r", "type": "recommend", "flowId": "f", "name": null, "waitHours": null, "outcome": null,
             "timeoutHours": null, "condition": null},
            {"id": "w", "type": "wait", "waitHours": 2, "flowId": null, "condition": null, "timeoutHours": null,
             "outcome": null},
            {"id": "b", "type": "branch", "outcome": "click", "condition": null, "flowId": null},
            {"id": "e", "type": "exit", "flowId": null, "waitHours": null, "outcome": null, "timeoutHours": null,
             "condition": null}],
        "edges": [{"from": "r", "to": "w", "when": null}, {"from": "w", "to": "b"},
                  {"from": "b", "to": "e", "when": "true"}]})");
    EXPECT_EQ(j.name, "");
    EXPECT_FALSE(j.entry_condition.has_value());
    EXPECT_FALSE(j.max_duration_days.has_value());
    EXPECT_EQ(j.nodes[0].edges, (std::map<std::string, std::string>{{"", "w"}}));
    EXPECT_FALSE(j.nodes[0].wait_hours.has_value());
    EXPECT_FALSE(j.nodes[1].waits_for_outcome());
    EXPECT_FALSE(j.nodes[1].timeout_hours.has_value());
    EXPECT_FALSE(j.nodes[2].condition.has_value());
    EXPECT_EQ(j.nodes[2].outcome, "click");
    EXPECT_EQ(j.outcomes(), (std::set<std::string, std::less<>>{"click"}));

    // A null nodes or edges is no nodes or no edges.
    EXPECT_INVALID(row_of(R"({"id": "j", "nodes": null})"), "nodes", "a journey needs at least one node");
    EXPECT_COMPILES(row_of(R"({"id": "j", "nodes": [{"id": "e", "type": "exit"}], "edges": null})"));
    // A null edge label is unlabelled: a second one is a second unlabelled edge.
    EXPECT_INVALID(row_with(R"([{"id": "w", "type": "wait", "waitHours": 1}, {"id": "e", "type": "exit"}])",
                            R"([{"from": "w", "to": "e", "when": null}, {"from": "w", "to": "e"}])"),
                   "edges[1]", "node \"w\" already has an edge without when");
}

TEST(JourneyCompile, NeedsNodes) {
    EXPECT_INVALID(row_of(R"({"id": "j", "nodes": []})"), "nodes", "a journey needs at least one node");
    EXPECT_INVALID(row_of(R"({"id": "j"})"), "nodes", "a journey needs at least one node");
}

TEST(JourneyCompile, AtMostMaxNodes) {
    auto with_exits = [](size_t count) {
        Json row = {{"id", "j"}, {"nodes", Json::array()}};
        for (size_t i = 0; i < count; ++i) row["nodes"].push_back({{"id", "n" + std::to_string(i)}, {"type", "exit"}});
        return row;
    };
    ASSERT_EQ(kMaxNodes, 200u);
    EXPECT_COMPILES(with_exits(kMaxNodes));
    EXPECT_EQ(compile(with_exits(kMaxNodes)).nodes.size(), kMaxNodes);
    EXPECT_INVALID(with_exits(kMaxNodes + 1), "nodes", "a journey has at most 200 nodes, not 201");
    EXPECT_INVALID(with_exits(500), "nodes", "a journey has at most 200 nodes, not 500");
}

TEST(JourneyCompile, DuplicateNode) {
    EXPECT_INVALID(row_with(R"([{"id": "a", "type": "exit"}, {"id": "b", "type": "exit"},
                                    {"id": "a", "type": "wait", "waitHours": 1}])"),
                   "nodes[2].id", "duplicate node \"a\"");
}

TEST(JourneyCompile, RequiredFieldsOfEachType) {
    EXPECT_INVALID(row_with(R"([{"id": "e", "type": "exit"}, {"id": "r", "type": "recommend"}])"), "nodes[1].flowId",
                   "is required for a recommend node");
    EXPECT_INVALID(row_with(R"([{"id": "w", "type": "wait"}])"), "nodes[0]",
                   "a wait node needs waitHours (a delay) or outcome (a wait for it)");
    EXPECT_INVALID(row_with(R"([{"id": "b", "type": "branch"}])"), "nodes[0]",
                   "a branch node needs either condition or outcome");
    EXPECT_INVALID(row_with(R"([{"id": "b", "type": "branch", "condition": "customer.vip = true",
                                     "outcome": "click"}])"),
                   "nodes[0]", "a branch node needs either condition or outcome");
    EXPECT_COMPILES(row_with(R"([{"id": "b", "type": "branch", "condition": "customer.vip = true"}])"));
    EXPECT_COMPILES(row_with(R"([{"id": "b", "type": "branch", "outcome": "click"}])"));
    EXPECT_COMPILES(row_with(R"([{"id": "w", "type": "wait", "outcome": "click"}])"));
    EXPECT_COMPILES(row_with(R"([{"id": "w", "type": "wait", "waitHours": 3}])"));
}

// A field another node type uses would be silently ignored: it is refused.
TEST(JourneyCompile, FieldsANodeTypeDoesNotUse) {
    EXPECT_INVALID(row_with(R"([{"id": "r", "type": "recommend", "flowId": "f",
                                     "condition": "customer.vip = true"}])"),
                   "nodes[0].condition", "is not used by a recommend node");
    EXPECT_INVALID(row_with(R"([{"id": "r", "type": "recommend", "flowId": "f", "waitHours": 2}])"),
                   "nodes[0].waitHours", "is not used by a recommend node");
    EXPECT_INVALID(row_with(R"([{"id": "r", "type": "recommend", "flowId": "f", "outcome": "click"}])"),
                   "nodes[0].outcome", "is not used by a recommend node");
    EXPECT_INVALID(row_with(R"([{"id": "e", "type": "exit"},
                                    {"id": "w", "type": "wait", "waitHours": 2, "flowId": "f"}])"),
                   "nodes[1].flowId", "is not used by a wait node");
    EXPECT_INVALID(row_with(R"([{"id": "w", "type": "wait", "outcome": "click",
                                     "condition": "customer.vip = true"}])"),
                   "nodes[0].condition", "is not used by a wait node");
    EXPECT_INVALID(row_with(R"([{"id": "b", "type": "branch", "outcome": "click", "waitHours": 1}])"),
                   "nodes[0].waitHours", "is not used by a branch node");
    EXPECT_INVALID(row_with(R"([{"id": "b", "type": "branch", "outcome": "click", "timeoutHours": 1}])"),
                   "nodes[0].timeoutHours", "is not used by a branch node");
    EXPECT_INVALID(row_with(R"([{"id": "b", "type": "branch", "outcome": "click", "flowId": "f"}])"), "nodes[0].flowId",
                   "is not used by a branch node");
    EXPECT_INVALID(row_with(R"([{"id": "e", "type": "exit", "flowId": "f"}])"), "nodes[0].flowId",
                   "is not used by an exit node");
    EXPECT_INVALID(row_with(R"([{"id": "e", "type": "exit", "outcome": "click"}])"), "nodes[0].outcome",
                   "is not used by an exit node");
    // name is every node's.
    EXPECT_COMPILES(row_with(R"([{"id": "e", "type": "exit", "name": "bye"}])"));
    // A delay has no timeout: its length is waitHours.
    EXPECT_INVALID(row_with(R"([{"id": "d", "type": "wait", "waitHours": 2, "timeoutHours": 4}])"),
                   "nodes[0].timeoutHours", "is for a wait on an outcome; a delay is waitHours");
}

TEST(JourneyCompile, ConditionsCompileWithoutMetric) {
    EXPECT_INVALID(row_with(R"([{"id": "b", "type": "branch", "condition": "metric('clicks_30d') > 3"}])"),
                   "nodes[0].condition", "metric() is not available in journey conditions");
    EXPECT_INVALID(row_of(R"({"id": "j", "entryCondition": "customer.age > 1 and metric('spend') > 10",
                              "nodes": [{"id": "e", "type": "exit"}]})"),
                   "entryCondition", "metric() is not available in journey conditions");
    // A condition that does not compile: the expression's own message.
    std::string message;
    try {
        expr::compile("customer.age >=", expr::ResultType::Bool);
    } catch (const Error& e) {
        message = e.what();
    }
    ASSERT_FALSE(message.empty());
    EXPECT_INVALID(row_with(R"([{"id": "e", "type": "exit"},
                                    {"id": "b", "type": "branch", "condition": "customer.age >="}])"),
                   "nodes[1].condition", message);
    EXPECT_INVALID(row_of(R"({"id": "j", "entryCondition": "customer.age >=",
                              "nodes": [{"id": "e", "type": "exit"}]})"),
                   "entryCondition", message);
    // A condition is a condition: a number is not.
    const std::optional<Invalid> number =
        invalid_of(row_with(R"([{"id": "b", "type": "branch", "condition": "customer.age + 1"}])"));
    ASSERT_TRUE(number.has_value());
    EXPECT_EQ(number->field, "nodes[0].condition");
}

TEST(JourneyCompile, EdgeLabelsPerNodeType) {
    const std::string nodes = R"([
        {"id": "r", "type": "recommend", "flowId": "f"},
        {"id": "d", "type": "wait", "waitHours": 1},
        {"id": "w", "type": "wait", "outcome": "click", "timeoutHours": 1},
        {"id": "b", "type": "branch", "outcome": "click"},
        {"id": "e", "type": "exit"}])";
    auto one_edge = [&](std::string_view from, std::string_view label) {
        Json row = row_with(nodes);
        Json edge = {{"from", std::string(from)}, {"to", "e"}};
        if (!label.empty()) edge["when"] = std::string(label);
        row["edges"].push_back(edge);
        return row;
    };
    for (const char* label : {"offered", "no_offer", ""}) {
        SCOPED_TRACE(label);
        EXPECT_COMPILES(one_edge("r", label));
    }
    for (const char* label : {"outcome", "timeout", ""}) {
        SCOPED_TRACE(label);
        EXPECT_COMPILES(one_edge("w", label));
    }
    for (const char* label : {"true", "false", ""}) {
        SCOPED_TRACE(label);
        EXPECT_COMPILES(one_edge("b", label));
    }
    EXPECT_COMPILES(one_edge("d", ""));

    EXPECT_INVALID(one_edge("r", "true"), "edges[0].when",
                   "a recommend node's edges are labelled offered, no_offer or unlabelled, not \"true\"");
    EXPECT_INVALID(one_edge("r", "outcome"), "edges[0].when",
                   "a recommend node's edges are labelled offered, no_offer or unlabelled, not \"outcome\"");
    EXPECT_INVALID(one_edge("w", "offered"), "edges[0].when",
                   "a wait (outcome) node's edges are labelled outcome, timeout or unlabelled, not \"offered\"");
    EXPECT_INVALID(one_edge("w", "waited"), "edges[0].when",
                   "a wait (outcome) node's edges are labelled outcome, timeout or unlabelled, not \"waited\"");
    EXPECT_INVALID(one_edge("d", "timeout"), "edges[0].when", "a wait node's edges are unlabelled, not \"timeout\"");
    EXPECT_INVALID(one_edge("d", "waited"), "edges[0].when", "a wait node's edges are unlabelled, not \"waited\"");
    EXPECT_INVALID(one_edge("b", "yes"), "edges[0].when",
                   "a branch node's edges are labelled true, false or unlabelled, not \"yes\"");
    EXPECT_INVALID(one_edge("b", "TRUE"), "edges[0].when",
                   "a branch node's edges are labelled true, false or unlabelled, not \"TRUE\"");
    // An exit node has no edges at all, labelled or not.
    EXPECT_INVALID(one_edge("e", ""), "edges[0].from", "an exit node has no edges out");
    EXPECT_INVALID(one_edge("e", "true"), "edges[0].from", "an exit node has no edges out");
}

TEST(JourneyCompile, OneEdgePerNodeAndLabel) {
    const std::string nodes = R"([
        {"id": "r", "type": "recommend", "flowId": "f"},
        {"id": "e", "type": "exit"}, {"id": "e2", "type": "exit"}])";
    EXPECT_INVALID(row_with(nodes, R"([{"from": "r", "to": "e", "when": "offered"},
                                           {"from": "r", "to": "e2", "when": "no_offer"},
                                           {"from": "r", "to": "e2", "when": "offered"}])"),
                   "edges[2]", "node \"r\" already has an edge when \"offered\"");
    EXPECT_INVALID(row_with(nodes, R"([{"from": "r", "to": "e"}, {"from": "r", "to": "e2"}])"), "edges[1]",
                   "node \"r\" already has an edge without when");
    // The same edge twice is a second edge too.
    EXPECT_INVALID(row_with(nodes, R"([{"from": "r", "to": "e", "when": "offered"},
                                           {"from": "r", "to": "e", "when": "offered"}])"),
                   "edges[1]", "node \"r\" already has an edge when \"offered\"");
    // One edge per label, and one without: all three may coexist.
    EXPECT_COMPILES(row_with(nodes, R"([{"from": "r", "to": "e", "when": "offered"},
                                            {"from": "r", "to": "e2", "when": "no_offer"},
                                            {"from": "r", "to": "e"}])"));
}

TEST(JourneyCompile, EdgesNameKnownNodes) {
    const std::string nodes = R"([{"id": "a", "type": "wait", "waitHours": 1}, {"id": "e", "type": "exit"}])";
    EXPECT_INVALID(row_with(nodes, R"([{"from": "a", "to": "e"}, {"from": "a2", "to": "e"}])"), "edges[1].from",
                   "unknown node \"a2\"");
    EXPECT_INVALID(row_with(nodes, R"([{"from": "a", "to": "zz"}])"), "edges[0].to", "unknown node \"zz\"");
    // from is checked first.
    EXPECT_INVALID(row_with(nodes, R"([{"from": "q", "to": "zz"}])"), "edges[0].from", "unknown node \"q\"");
}

TEST(JourneyCompile, CycleWithoutWaitIsRefused) {
    // branch -> recommend -> branch: an advance would go round for ever.
    EXPECT_INVALID(row_with(R"([{"id": "r", "type": "recommend", "flowId": "f"},
                                    {"id": "b", "type": "branch", "condition": "customer.vip = true"},
                                    {"id": "e", "type": "exit"}])",
                            R"([{"from": "r", "to": "b"}, {"from": "b", "to": "r", "when": "true"},
                                    {"from": "b", "to": "e", "when": "false"}])"),
                   "edges", "the cycle r -> b -> r passes through no wait node");
    // The message names the cycle only, not the path that led to it.
    EXPECT_INVALID(row_with(R"([{"id": "start", "type": "recommend", "flowId": "f"},
                                    {"id": "x", "type": "branch", "outcome": "click"},
                                    {"id": "y", "type": "recommend", "flowId": "f"},
                                    {"id": "z", "type": "branch", "outcome": "click"}])",
                            R"([{"from": "start", "to": "x"}, {"from": "x", "to": "y"},
                                    {"from": "y", "to": "z"}, {"from": "z", "to": "x"}])"),
                   "edges", "the cycle x -> y -> z -> x passes through no wait node");
    // A node looping on itself.
    EXPECT_INVALID(row_with(R"([{"id": "b", "type": "branch", "outcome": "click"}])",
                            R"([{"from": "b", "to": "b", "when": "false"}])"),
                   "edges", "the cycle b -> b passes through no wait node");
    // A cycle reached only through a wait node is still found.
    EXPECT_INVALID(row_with(R"([{"id": "w", "type": "wait", "waitHours": 1},
                                    {"id": "a", "type": "branch", "outcome": "click"},
                                    {"id": "c", "type": "recommend", "flowId": "f"}])",
                            R"([{"from": "w", "to": "a"}, {"from": "a", "to": "c"}, {"from": "c", "to": "a"}])"),
                   "edges", "the cycle a -> c -> a passes through no wait node");
}

TEST(JourneyCompile, CycleThroughAWaitIsAccepted) {
    EXPECT_COMPILES(row_with(R"([{"id": "r", "type": "recommend", "flowId": "f"},
                                     {"id": "w", "type": "wait", "outcome": "click", "timeoutHours": 24},
                                     {"id": "b", "type": "branch", "outcome": "click"},
                                     {"id": "e", "type": "exit"}])",
                             R"([{"from": "r", "to": "w"}, {"from": "w", "to": "b"},
                                     {"from": "b", "to": "r", "when": "false"}, {"from": "b", "to": "e", "when": "true"}])"));
    EXPECT_COMPILES(row_with(R"([{"id": "d", "type": "wait", "waitHours": 1}])", R"([{"from": "d", "to": "d"}])"));
    // Two cycles sharing the recommend node, each through its own wait.
    EXPECT_COMPILES(row_with(R"([{"id": "r", "type": "recommend", "flowId": "f"},
                                     {"id": "w1", "type": "wait", "waitHours": 1},
                                     {"id": "w2", "type": "wait", "outcome": "click"}])",
                             R"([{"from": "r", "to": "w1", "when": "offered"},
                                     {"from": "r", "to": "w2", "when": "no_offer"},
                                     {"from": "w1", "to": "r"}, {"from": "w2", "to": "r"}])"));
    // Converging paths without a cycle (a diamond) are no cycle.
    EXPECT_COMPILES(row_with(R"([{"id": "b", "type": "branch", "outcome": "click"},
                                     {"id": "x", "type": "recommend", "flowId": "f"},
                                     {"id": "y", "type": "recommend", "flowId": "g"},
                                     {"id": "e", "type": "exit"}])",
                             R"([{"from": "b", "to": "x", "when": "true"}, {"from": "b", "to": "y", "when": "false"},
                                     {"from": "x", "to": "e"}, {"from": "y", "to": "e"}])"));
}

// --- the catalog checks journeys with compile ------------------------------------

catalog::Validated check_journey_row(std::string_view text) {
    return catalog::validate(*catalog::find_entity("journeys"), Json::parse(text), "journeys[0]");
}

TEST(JourneyCatalog, RefusesWhatCompileRefuses) {
    EXPECT_REFUSED(check_journey_row(R"({"id": "j", "nodes": [
                       {"id": "r", "type": "recommend", "flowId": "f", "condition": "customer.vip = true"}]})"),
                   "journeys[0].nodes[0].condition", "is not used by a recommend node");
    EXPECT_REFUSED(check_journey_row(R"({"id": "j", "nodes": [
                       {"id": "r", "type": "recommend", "flowId": "f"},
                       {"id": "b", "type": "branch", "outcome": "click"}],
                       "edges": [{"from": "r", "to": "b"}, {"from": "b", "to": "r"}]})"),
                   "journeys[0].edges", "the cycle r -> b -> r passes through no wait node");
    EXPECT_REFUSED(check_journey_row(R"({"id": "j", "nodes": [
                       {"id": "d", "type": "wait", "waitHours": 4}, {"id": "e", "type": "exit"}],
                       "edges": [{"from": "d", "to": "e", "when": "timeout"}]})"),
                   "journeys[0].edges[0].when", "a wait node's edges are unlabelled, not \"timeout\"");
    EXPECT_REFUSED(check_journey_row(R"({"id": "j", "nodes": [{"id": "b", "type": "branch",
                       "condition": "metric('spend') > 1"}]})"),
                   "journeys[0].nodes[0].condition", "metric() is not available in journey conditions");
}

// The catalog's validated row (absent fields as null) is what the engine
// compiles: it compiles to the journey of the document.
TEST(JourneyCatalog, ValidatedRowCompiles) {
    const catalog::Validated v = check_journey_row(R"({"id": "nurture", "maxDurationDays": 14, "nodes": [
        {"id": "r", "type": "recommend", "flowId": "f"},
        {"id": "w", "type": "wait", "outcome": "purchase", "timeoutHours": 24},
        {"id": "b", "type": "branch", "outcome": "click"},
        {"id": "e", "type": "exit"}],
        "edges": [{"from": "r", "to": "w"}, {"from": "w", "to": "e", "when": "outcome"},
                  {"from": "w", "to": "b", "when": "timeout"}, {"from": "b", "to": "r", "when": "true"},
                  {"from": "b", "to": "e"}]})");
    const Journey j = compile(v.row);
    EXPECT_EQ(j.id, "nurture");
    EXPECT_EQ(j.max_duration_days, 14);
    EXPECT_FALSE(j.entry_condition.has_value());
    ASSERT_EQ(j.nodes.size(), 4u);
    EXPECT_EQ(j.nodes[1].timeout_seconds(), 24 * 3600);
    EXPECT_EQ(j.nodes[2].edges, (std::map<std::string, std::string>{{"true", "r"}, {"", "e"}}));
    EXPECT_EQ(j.outcomes(), (std::set<std::string, std::less<>>{"click", "purchase"}));
}

// The engine does not rely on the catalog's field rules: both refuse a
// wait of 0 hours (which would loop until the step limit).
TEST(JourneyCatalog, FieldRulesComeFirst) {
    EXPECT_INVALID(row_with(R"([{"id": "d", "type": "wait", "waitHours": 0}])"), "nodes[0].waitHours",
                   "must be greater than 0");
    EXPECT_INVALID(row_with(R"([{"id": "d", "type": "wait", "outcome": "click", "timeoutHours": -1}])"),
                   "nodes[0].timeoutHours", "must be greater than 0");
    EXPECT_INVALID(row_with(R"([{"id": "d", "type": "loop"}])"), "nodes[0].type",
                   "must be one of recommend, wait, branch, exit");
    EXPECT_REFUSED_AT(check_journey_row(R"({"id": "j", "nodes": [{"id": "d", "type": "wait", "waitHours": 0}]})"),
                      "journeys[0].nodes[0].waitHours");
}

// --- advance ---------------------------------------------------------------------

TEST(JourneyAdvance, EntersAtTheFirstNode) {
    // nodes[0] is the entry, whatever its id or the order of the edges.
    const Journey j = journey_with(R"([{"id": "z-start", "type": "recommend", "flowId": "welcome"},
                                       {"id": "a", "type": "recommend", "flowId": "other"},
                                       {"id": "e", "type": "exit"}])",
                                   R"([{"from": "a", "to": "e"}, {"from": "z-start", "to": "e"}])");
    Instance instance = enter(j, kT0);
    EXPECT_EQ(instance.node, "z-start");
    ScriptedEffects effects;
    const Advance a = advance(j, instance, effects, when(kT0));
    EXPECT_THAT(effects.recommended, ElementsAre("z-start/welcome"));
    EXPECT_THAT(moves(a), ElementsAre("z-start -> e: offered [d1]", "e -> .: exit"));
    EXPECT_EQ(a.status, Status::Completed);
    EXPECT_EQ(a.end_reason, "exit");
}

TEST(JourneyAdvance, RecommendTakesTheLabelledEdge) {
    const Journey j = journey_with(R"([{"id": "r", "type": "recommend", "flowId": "f"},
                                       {"id": "yes", "type": "wait", "waitHours": 1},
                                       {"id": "no", "type": "wait", "waitHours": 2},
                                       {"id": "other", "type": "wait", "waitHours": 3}])",
                                   R"([{"from": "r", "to": "yes", "when": "offered"},
                                       {"from": "r", "to": "no", "when": "no_offer"},
                                       {"from": "r", "to": "other"}])");
    ScriptedEffects effects;
    effects.offers["r"] = {true, false};
    Instance first = enter(j, kT0);
    const Advance offered = advance(j, first, effects, when(kT0 + 10));
    EXPECT_THAT(moves(offered), ElementsAre("r -> yes: offered [d1]"));
    EXPECT_EQ(offered.status, Status::Active);
    EXPECT_EQ(offered.end_reason, "");
    EXPECT_EQ(offered.wake_at, kT0 + 10 + kHour);
    EXPECT_EQ(first.node, "yes");
    EXPECT_EQ(first.node_entered_at, kT0 + 10);

    Instance second = enter(j, kT0);
    const Advance no_offer = advance(j, second, effects, when(kT0 + 20));
    EXPECT_THAT(moves(no_offer), ElementsAre("r -> no: no_offer [d2]"));
    EXPECT_EQ(no_offer.wake_at, kT0 + 20 + 2 * kHour);
    EXPECT_EQ(second.node, "no");
    EXPECT_THAT(effects.recommended, ElementsAre("r/f", "r/f"));
    EXPECT_THAT(effects.evaluated, IsEmpty());
}

TEST(JourneyAdvance, RecommendFallsBackToTheUnlabelledEdge) {
    const Journey j = journey_with(R"([{"id": "r", "type": "recommend", "flowId": "f"},
                                       {"id": "yes", "type": "wait", "waitHours": 1},
                                       {"id": "other", "type": "wait", "waitHours": 3}])",
                                   R"([{"from": "r", "to": "yes", "when": "offered"}, {"from": "r", "to": "other"}])");
    ScriptedEffects effects;
    effects.offers["r"] = {false, true};
    Instance no_offer = enter(j, kT0);
    EXPECT_THAT(moves(advance(j, no_offer, effects, when(kT0))), ElementsAre("r -> other: no_offer [d1]"));
    EXPECT_EQ(no_offer.node, "other");
    Instance offered = enter(j, kT0);
    EXPECT_THAT(moves(advance(j, offered, effects, when(kT0))), ElementsAre("r -> yes: offered [d2]"));
    EXPECT_EQ(offered.node, "yes");
}

TEST(JourneyAdvance, RecommendWithNoEdgeToTakeCompletes) {
    // Only an offered edge: no_offer has no edge, the journey completes with
    // the result as the reason and the decision on the transition.
    const Journey j = journey_with(R"([{"id": "r", "type": "recommend", "flowId": "f"},
                                       {"id": "w", "type": "wait", "waitHours": 1}])",
                                   R"([{"from": "r", "to": "w", "when": "offered"}])");
    ScriptedEffects effects;
    effects.offers["r"] = {false};
    Instance instance = enter(j, kT0);
    const Advance a = advance(j, instance, effects, when(kT0 + 5));
    EXPECT_THAT(moves(a), ElementsAre("r -> .: no_offer [d1]"));
    EXPECT_EQ(a.status, Status::Completed);
    EXPECT_EQ(a.end_reason, "end");  // the transition's reason is the node's result
    EXPECT_EQ(a.wake_at, std::nullopt);
    EXPECT_EQ(instance.node, "");

    // A recommend node without edges at all completes after its decision.
    const Journey single = journey_with(R"([{"id": "r", "type": "recommend", "flowId": "f"}])");
    Instance only = enter(single, kT0);
    const Advance b = advance(single, only, effects, when(kT0));
    EXPECT_THAT(moves(b), ElementsAre("r -> .: offered [d2]"));
    EXPECT_EQ(b.status, Status::Completed);
    EXPECT_EQ(b.end_reason, "end");
    EXPECT_EQ(only.node, "");
}

TEST(JourneyAdvance, DecisionIdsAreOnTheirTransitionsOnly) {
    const Journey j = journey_with(R"([{"id": "r1", "type": "recommend", "flowId": "f1"},
                                       {"id": "b", "type": "branch", "condition": "customer.vip = true"},
                                       {"id": "r2", "type": "recommend", "flowId": "f2"},
                                       {"id": "d", "type": "wait", "waitHours": 1}])",
                                   R"([{"from": "r1", "to": "b"}, {"from": "b", "to": "r2"},
                                       {"from": "r2", "to": "d"}])");
    ScriptedEffects effects;
    Instance instance = enter(j, kT0);
    const Advance a = advance(j, instance, effects, when(kT0));
    ASSERT_EQ(a.transitions.size(), 3u);
    EXPECT_EQ(a.transitions[0].decision_id, "d1");
    EXPECT_EQ(a.transitions[1].decision_id, "");
    EXPECT_EQ(a.transitions[2].decision_id, "d2");
    EXPECT_THAT(effects.recommended, ElementsAre("r1/f1", "r2/f2"));
    EXPECT_THAT(moves(a), ElementsAre("r1 -> b: offered [d1]", "b -> r2: true", "r2 -> d: offered [d2]"));
}

TEST(JourneyAdvance, WithoutDecisionsStopsAtARecommendNode) {
    const Journey j = journey_with(R"([{"id": "r", "type": "recommend", "flowId": "f"},
                                       {"id": "e", "type": "exit"}])",
                                   R"([{"from": "r", "to": "e"}])");
    ScriptedEffects effects;
    Instance instance = at("r", kT0);
    const Advance a = advance(j, instance, effects, when(kT0 + 100, "", false));
    EXPECT_EQ(a.status, Status::Active);
    EXPECT_THAT(a.transitions, IsEmpty());
    EXPECT_EQ(a.wake_at, kT0 + 100);  // at once
    EXPECT_EQ(a.end_reason, "");
    EXPECT_THAT(effects.recommended, IsEmpty());
    EXPECT_EQ(instance.node, "r");
    EXPECT_EQ(instance.node_entered_at, kT0);

    // The tick that follows makes the decision.
    const Advance b = advance(j, instance, effects, when(kT0 + 100));
    EXPECT_THAT(moves(b), ElementsAre("r -> e: offered [d1]", "e -> .: exit"));
}

TEST(JourneyAdvance, WithoutDecisionsMovesUpToTheRecommendNode) {
    // A response ends a wait for it; the engine moves on and stops at the
    // recommend node it reaches, without deciding.
    const Journey j = journey_with(R"([{"id": "w", "type": "wait", "outcome": "click", "timeoutHours": 24},
                                       {"id": "r", "type": "recommend", "flowId": "f"},
                                       {"id": "e", "type": "exit"}])",
                                   R"([{"from": "w", "to": "r", "when": "outcome"}, {"from": "r", "to": "e"}])");
    ScriptedEffects effects;
    Instance instance = at("w", kT0);
    const Advance a = advance(j, instance, effects, when(kT0 + kHour, "click", false));
    EXPECT_THAT(moves(a), ElementsAre("w -> r: outcome"));
    EXPECT_EQ(a.status, Status::Active);
    EXPECT_EQ(a.wake_at, kT0 + kHour);
    EXPECT_EQ(instance.node, "r");
    EXPECT_EQ(instance.node_entered_at, kT0 + kHour);
    EXPECT_THAT(effects.recommended, IsEmpty());
}

TEST(JourneyAdvance, DelayWaitsItsHoursFromEnteringTheNode) {
    const Journey j = journey_with(R"([{"id": "d", "type": "wait", "waitHours": 1.5},
                                       {"id": "w", "type": "wait", "outcome": "click", "timeoutHours": 1},
                                       {"id": "e", "type": "exit"}])",
                                   R"([{"from": "d", "to": "w"}, {"from": "w", "to": "e"}])");
    ScriptedEffects effects;
    Instance instance = enter(j, kT0);
    const double end = kT0 + 1.5 * kHour;
    for (double now : {kT0, kT0 + kHour, end - 1}) {
        const Advance a = advance(j, instance, effects, when(now));
        EXPECT_EQ(a.status, Status::Active) << now - kT0;
        EXPECT_THAT(a.transitions, IsEmpty()) << now - kT0;
        EXPECT_EQ(a.wake_at, end) << now - kT0;  // the node's end, not now + waitHours
        EXPECT_EQ(instance.node, "d");
        EXPECT_EQ(instance.node_entered_at, kT0);
    }
    const Advance a = advance(j, instance, effects, when(end));
    EXPECT_THAT(moves(a), ElementsAre("d -> w: waited"));
    EXPECT_EQ(instance.node, "w");
    EXPECT_EQ(instance.node_entered_at, end);
    EXPECT_EQ(a.wake_at, end + kHour);  // the next wait counts from now
    EXPECT_EQ(a.status, Status::Active);
}

TEST(JourneyAdvance, LateTickMovesOnAndTheNextWaitCountsFromNow) {
    // A tick that comes late: the delay is over, the instance moves on at
    // the tick's time (the next wait starts then, not at the delay's end).
    const Journey j = journey_with(R"([{"id": "d", "type": "wait", "waitHours": 2},
                                       {"id": "d2", "type": "wait", "waitHours": 2}])",
                                   R"([{"from": "d", "to": "d2"}])");
    ScriptedEffects effects;
    Instance instance = enter(j, kT0);
    const Advance a = advance(j, instance, effects, when(kT0 + 3 * kHour));
    EXPECT_THAT(moves(a), ElementsAre("d -> d2: waited"));
    EXPECT_EQ(instance.node_entered_at, kT0 + 3 * kHour);
    EXPECT_EQ(a.wake_at, kT0 + 5 * kHour);
    // ...and a delay with nowhere to go completes ("waited").
    const Advance b = advance(j, instance, effects, when(kT0 + 5 * kHour));
    EXPECT_THAT(moves(b), ElementsAre("d2 -> .: waited"));
    EXPECT_EQ(b.status, Status::Completed);
    EXPECT_EQ(b.end_reason, "end");
}

TEST(JourneyAdvance, OutcomeWaitMovesOnItsOutcome) {
    const Journey j = journey_with(R"([{"id": "w", "type": "wait", "outcome": "purchase", "timeoutHours": 24},
                                       {"id": "thanks", "type": "wait", "waitHours": 1},
                                       {"id": "late", "type": "wait", "waitHours": 2}])",
                                   R"([{"from": "w", "to": "thanks", "when": "outcome"},
                                       {"from": "w", "to": "late", "when": "timeout"}])");
    ScriptedEffects effects;
    Instance instance = at("w", kT0);
    // Another outcome: still waiting (and recorded).
    const Advance other = advance(j, instance, effects, when(kT0 + kHour, "click"));
    EXPECT_THAT(other.transitions, IsEmpty());
    EXPECT_EQ(other.wake_at, kT0 + 24 * kHour);
    EXPECT_EQ(instance.node, "w");
    // Its outcome.
    const Advance a = advance(j, instance, effects, when(kT0 + 2 * kHour, "purchase"));
    EXPECT_THAT(moves(a), ElementsAre("w -> thanks: outcome"));
    EXPECT_EQ(instance.node, "thanks");
    EXPECT_EQ(instance.node_entered_at, kT0 + 2 * kHour);
    EXPECT_EQ(a.wake_at, kT0 + 3 * kHour);
    EXPECT_EQ(instance.outcomes,
              (std::map<std::string, double, std::less<>>{{"click", kT0 + kHour}, {"purchase", kT0 + 2 * kHour}}));
}

TEST(JourneyAdvance, OutcomeSeenBeforeTheWaitDoesNotEndIt) {
    // Only the outcome observed by this advance ends a wait; one recorded
    // earlier (while at another node) does not.
    const Journey j = journey_with(R"([{"id": "w", "type": "wait", "outcome": "click", "timeoutHours": 24},
                                       {"id": "e", "type": "exit"}])",
                                   R"([{"from": "w", "to": "e", "when": "outcome"}])");
    ScriptedEffects effects;
    Instance instance = at("w", kT0);
    instance.outcomes["click"] = kT0 - kHour;
    const Advance a = advance(j, instance, effects, when(kT0 + kHour));
    EXPECT_THAT(a.transitions, IsEmpty());
    EXPECT_EQ(a.wake_at, kT0 + 24 * kHour);
}

TEST(JourneyAdvance, ObservedOutcomeEndsOnlyTheWaitTheInstanceIsAt) {
    // Two waits for the same outcome in a row: one click ends the first
    // only; the second waits for the next click.
    const Journey j = journey_with(R"([{"id": "w1", "type": "wait", "outcome": "click", "timeoutHours": 24},
                                       {"id": "w2", "type": "wait", "outcome": "click", "timeoutHours": 24},
                                       {"id": "e", "type": "exit"}])",
                                   R"([{"from": "w1", "to": "w2", "when": "outcome"},
                                       {"from": "w2", "to": "e", "when": "outcome"}])");
    ScriptedEffects effects;
    Instance instance = at("w1", kT0);
    const Advance a = advance(j, instance, effects, when(kT0 + kHour, "click"));
    EXPECT_THAT(moves(a), ElementsAre("w1 -> w2: outcome"));
    EXPECT_EQ(a.status, Status::Active);
    EXPECT_EQ(instance.node, "w2");
    EXPECT_EQ(a.wake_at, kT0 + 25 * kHour);
    const Advance b = advance(j, instance, effects, when(kT0 + 2 * kHour, "click"));
    EXPECT_THAT(moves(b), ElementsAre("w2 -> e: outcome", "e -> .: exit"));
    EXPECT_EQ(b.status, Status::Completed);
}

TEST(JourneyAdvance, ObservedOutcomeDoesNotEndAWaitReachedAfterADelay) {
    const Journey j = journey_with(R"([{"id": "d", "type": "wait", "waitHours": 1},
                                       {"id": "w", "type": "wait", "outcome": "click"},
                                       {"id": "e", "type": "exit"}])",
                                   R"([{"from": "d", "to": "w"}, {"from": "w", "to": "e", "when": "outcome"}])");
    ScriptedEffects effects;
    Instance instance = at("d", kT0);
    const Advance a = advance(j, instance, effects, when(kT0 + kHour, "click"));
    EXPECT_THAT(moves(a), ElementsAre("d -> w: waited"));
    EXPECT_EQ(instance.node, "w");
    EXPECT_EQ(a.wake_at, std::nullopt);
}

TEST(JourneyAdvance, OutcomeWaitTimesOut) {
    const Journey j = journey_with(R"([{"id": "w", "type": "wait", "outcome": "purchase", "timeoutHours": 48,
                                        "waitHours": 1},
                                       {"id": "yes", "type": "exit"}, {"id": "no", "type": "exit"}])",
                                   R"([{"from": "w", "to": "yes", "when": "outcome"},
                                       {"from": "w", "to": "no", "when": "timeout"}])");
    ScriptedEffects effects;
    Instance instance = at("w", kT0);
    const double end = kT0 + 48 * kHour;  // timeoutHours, not waitHours
    const Advance early = advance(j, instance, effects, when(end - 1));
    EXPECT_THAT(early.transitions, IsEmpty());
    EXPECT_EQ(early.wake_at, end);
    const Advance a = advance(j, instance, effects, when(end));
    EXPECT_THAT(moves(a), ElementsAre("w -> no: timeout", "no -> .: exit"));
    EXPECT_EQ(a.status, Status::Completed);
}

TEST(JourneyAdvance, OutcomeWaitWithoutTimeoutHoursTimesOutAfterWaitHours) {
    const Journey j = journey_with(R"([{"id": "w", "type": "wait", "outcome": "purchase", "waitHours": 5},
                                       {"id": "d", "type": "wait", "waitHours": 1}])",
                                   R"([{"from": "w", "to": "d"}])");
    ScriptedEffects effects;
    Instance instance = at("w", kT0);
    const Advance early = advance(j, instance, effects, when(kT0 + 5 * kHour - 1));
    EXPECT_THAT(early.transitions, IsEmpty());
    EXPECT_EQ(early.wake_at, kT0 + 5 * kHour);
    // No timeout edge: the unlabelled one, with "timeout" as the reason.
    const Advance a = advance(j, instance, effects, when(kT0 + 5 * kHour));
    EXPECT_THAT(moves(a), ElementsAre("w -> d: timeout"));
    EXPECT_EQ(instance.node, "d");
}

TEST(JourneyAdvance, OutcomeWaitWithoutEndHasNoWake) {
    const Journey j = journey_with(R"([{"id": "w", "type": "wait", "outcome": "purchase"},
                                       {"id": "e", "type": "exit"}])",
                                   R"([{"from": "w", "to": "e"}])");
    ScriptedEffects effects;
    Instance instance = at("w", kT0);
    const Advance a = advance(j, instance, effects, when(kT0 + 1000 * kDay));
    EXPECT_EQ(a.status, Status::Active);
    EXPECT_THAT(a.transitions, IsEmpty());
    EXPECT_EQ(a.wake_at, std::nullopt);
    // With a maxDuration, it wakes when the journey expires.
    Instance expiring = at("w", kT0, kT0 + 7 * kDay);
    const Advance b = advance(j, expiring, effects, when(kT0 + kDay));
    EXPECT_EQ(b.wake_at, kT0 + 7 * kDay);
    // And its outcome still ends it.
    const Advance c = advance(j, instance, effects, when(kT0 + 1000 * kDay, "purchase"));
    EXPECT_THAT(moves(c), ElementsAre("w -> e: outcome", "e -> .: exit"));
}

TEST(JourneyAdvance, WakeAtIsTheEarlierOfTheWaitsEndAndTheExpiry) {
    const Journey j = journey_with(R"([{"id": "w", "type": "wait", "outcome": "click", "timeoutHours": 10},
                                       {"id": "d", "type": "wait", "waitHours": 10}])");
    ScriptedEffects effects;
    for (const char* node : {"w", "d"}) {
        SCOPED_TRACE(node);
        Instance expires_first = at(node, kT0, kT0 + 4 * kHour);
        EXPECT_EQ(advance(j, expires_first, effects, when(kT0 + kHour)).wake_at, kT0 + 4 * kHour);
        Instance ends_first = at(node, kT0, kT0 + 30 * kHour);
        EXPECT_EQ(advance(j, ends_first, effects, when(kT0 + kHour)).wake_at, kT0 + 10 * kHour);
        Instance no_expiry = at(node, kT0);
        EXPECT_EQ(advance(j, no_expiry, effects, when(kT0 + kHour)).wake_at, kT0 + 10 * kHour);
    }
}

TEST(JourneyAdvance, BranchOnAConditionAsksEffects) {
    const Journey j =
        journey_with(R"([{"id": "b", "type": "branch", "condition": "customer.vip = true"},
                                       {"id": "y", "type": "wait", "waitHours": 1},
                                       {"id": "n", "type": "wait", "waitHours": 2}])",
                     R"([{"from": "b", "to": "y", "when": "true"}, {"from": "b", "to": "n", "when": "false"}])");
    ScriptedEffects effects;
    effects.answers["customer.vip = true"] = {true, false};
    Instance first = at("b", kT0);
    EXPECT_THAT(moves(advance(j, first, effects, when(kT0))), ElementsAre("b -> y: true"));
    Instance second = at("b", kT0);
    EXPECT_THAT(moves(advance(j, second, effects, when(kT0))), ElementsAre("b -> n: false"));
    EXPECT_EQ(second.node, "n");
    EXPECT_THAT(effects.evaluated, ElementsAre("customer.vip = true", "customer.vip = true"));
    EXPECT_THAT(effects.recommended, IsEmpty());
}

TEST(JourneyAdvance, BranchWithoutItsLabelTakesTheUnlabelledEdgeOrCompletes) {
    const Journey j = journey_with(R"([{"id": "b", "type": "branch", "condition": "customer.vip = true"},
                                       {"id": "y", "type": "wait", "waitHours": 1},
                                       {"id": "other", "type": "wait", "waitHours": 2}])",
                                   R"([{"from": "b", "to": "y", "when": "true"}, {"from": "b", "to": "other"}])");
    ScriptedEffects effects;
    effects.holds_otherwise = false;
    Instance instance = at("b", kT0);
    EXPECT_THAT(moves(advance(j, instance, effects, when(kT0))), ElementsAre("b -> other: false"));

    const Journey only_true = journey_with(R"([{"id": "b", "type": "branch", "condition": "customer.vip = true"},
                                              {"id": "y", "type": "wait", "waitHours": 1}])",
                                           R"([{"from": "b", "to": "y", "when": "true"}])");
    Instance ends = at("b", kT0);
    const Advance a = advance(only_true, ends, effects, when(kT0));
    EXPECT_THAT(moves(a), ElementsAre("b -> .: false"));
    EXPECT_EQ(a.status, Status::Completed);
    EXPECT_EQ(a.end_reason, "end");
}

TEST(JourneyAdvance, BranchOnAnOutcomeReadsTheOutcomesSeen) {
    const Journey j =
        journey_with(R"([{"id": "b", "type": "branch", "outcome": "click"},
                                       {"id": "y", "type": "wait", "waitHours": 1},
                                       {"id": "n", "type": "wait", "waitHours": 2}])",
                     R"([{"from": "b", "to": "y", "when": "true"}, {"from": "b", "to": "n", "when": "false"}])");
    ScriptedEffects effects;
    Instance none = at("b", kT0);
    none.outcomes["purchase"] = kT0 - 5;  // another outcome
    EXPECT_THAT(moves(advance(j, none, effects, when(kT0))), ElementsAre("b -> n: false"));
    Instance seen = at("b", kT0);
    seen.outcomes["click"] = kT0 - 5;
    EXPECT_THAT(moves(advance(j, seen, effects, when(kT0))), ElementsAre("b -> y: true"));
    EXPECT_THAT(effects.evaluated, IsEmpty());  // no condition to ask
}

TEST(JourneyAdvance, ObservedOutcomeIsRecordedBeforeMoving) {
    // The outcome that comes with the advance is recorded with its time, and
    // a branch reached in the same advance sees it.
    const Journey j = journey_with(R"([{"id": "d", "type": "wait", "waitHours": 1},
                                       {"id": "b", "type": "branch", "outcome": "click"},
                                       {"id": "y", "type": "exit"}, {"id": "n", "type": "exit"}])",
                                   R"([{"from": "d", "to": "b"}, {"from": "b", "to": "y", "when": "true"},
                                       {"from": "b", "to": "n", "when": "false"}])");
    ScriptedEffects effects;
    Instance instance = at("d", kT0);
    instance.outcomes["click"] = kT0 - kDay;
    const Advance before = advance(j, instance, effects, when(kT0 + 10, "purchase"));
    EXPECT_THAT(before.transitions, IsEmpty());
    EXPECT_EQ(instance.outcomes,
              (std::map<std::string, double, std::less<>>{{"click", kT0 - kDay}, {"purchase", kT0 + 10}}));
    // The latest time of an outcome is kept.
    Instance fresh = at("d", kT0);
    const Advance a = advance(j, fresh, effects, when(kT0 + kHour, "click"));
    EXPECT_THAT(moves(a), ElementsAre("d -> b: waited", "b -> y: true", "y -> .: exit"));
    EXPECT_EQ(fresh.outcomes, (std::map<std::string, double, std::less<>>{{"click", kT0 + kHour}}));
    instance.outcomes["click"] = kT0 - kDay;
    (void)advance(j, instance, effects, when(kT0 + 20, "click"));
    EXPECT_EQ(instance.outcomes.at("click"), kT0 + 20);
    // Nothing observed: nothing recorded.
    Instance quiet = at("d", kT0);
    (void)advance(j, quiet, effects, when(kT0 + 10));
    EXPECT_THAT(quiet.outcomes, IsEmpty());
}

TEST(JourneyAdvance, ExitCompletes) {
    const Journey j = journey_with(R"([{"id": "d", "type": "wait", "waitHours": 1}, {"id": "e", "type": "exit"}])",
                                   R"([{"from": "d", "to": "e"}])");
    ScriptedEffects effects;
    Instance instance = at("e", kT0);
    const Advance a = advance(j, instance, effects, when(kT0 + 3));
    EXPECT_EQ(a.status, Status::Completed);
    ASSERT_EQ(a.transitions.size(), 1u);
    EXPECT_EQ(a.transitions[0].from, "e");
    EXPECT_EQ(a.transitions[0].to, "");
    EXPECT_EQ(a.transitions[0].reason, "exit");
    EXPECT_EQ(a.transitions[0].decision_id, "");
    EXPECT_EQ(a.end_reason, "exit");
    EXPECT_EQ(a.wake_at, std::nullopt);
    EXPECT_EQ(instance.node, "");
}

TEST(JourneyAdvance, MaxDurationExitsBeforeAnyStep) {
    const Journey j = journey_with(R"([{"id": "r", "type": "recommend", "flowId": "f"},
                                       {"id": "w", "type": "wait", "outcome": "click", "timeoutHours": 1},
                                       {"id": "e", "type": "exit"}])",
                                   R"([{"from": "r", "to": "w"}, {"from": "w", "to": "e"}])");
    ScriptedEffects effects;
    Instance expired = at("r", kT0, kT0 + kDay);
    const Advance a = advance(j, expired, effects, when(kT0 + kDay));
    EXPECT_EQ(a.status, Status::Exited);
    EXPECT_THAT(moves(a), ElementsAre("r -> .: maxDuration"));
    EXPECT_EQ(a.end_reason, "maxDuration");
    EXPECT_EQ(a.wake_at, std::nullopt);
    EXPECT_EQ(expired.node, "");
    EXPECT_THAT(effects.recommended, IsEmpty());

    // Even the outcome a wait is waiting for does not beat the expiry (but
    // it is recorded).
    Instance waiting = at("w", kT0, kT0 + kDay);
    const Advance b = advance(j, waiting, effects, when(kT0 + 2 * kDay, "click"));
    EXPECT_THAT(moves(b), ElementsAre("w -> .: maxDuration"));
    EXPECT_EQ(b.status, Status::Exited);
    EXPECT_EQ(waiting.outcomes.at("click"), kT0 + 2 * kDay);

    // Even an exit node.
    Instance at_exit = at("e", kT0, kT0 + kDay);
    EXPECT_THAT(moves(advance(j, at_exit, effects, when(kT0 + kDay))), ElementsAre("e -> .: maxDuration"));

    // One second before: the journey goes on.
    Instance alive = at("r", kT0, kT0 + kDay);
    const Advance c = advance(j, alive, effects, when(kT0 + kDay - 1));
    EXPECT_THAT(moves(c), ElementsAre("r -> w: offered [d1]"));
    EXPECT_EQ(c.status, Status::Active);
    EXPECT_EQ(c.end_reason, "");
    EXPECT_EQ(c.wake_at, kT0 + kDay);  // the expiry, before the wait's end
}

TEST(JourneyAdvance, ExpiryDuringAWaitEndsTheJourneyAtTheWake) {
    const Journey j = journey_with(R"([{"id": "d", "type": "wait", "waitHours": 48}, {"id": "e", "type": "exit"}])",
                                   R"([{"from": "d", "to": "e"}])");
    ScriptedEffects effects;
    Instance instance = at("d", kT0, kT0 + kDay);
    const Advance a = advance(j, instance, effects, when(kT0));
    EXPECT_EQ(a.wake_at, kT0 + kDay);
    const Advance b = advance(j, instance, effects, when(*a.wake_at));
    EXPECT_THAT(moves(b), ElementsAre("d -> .: maxDuration"));
    EXPECT_EQ(b.status, Status::Exited);
}

TEST(JourneyAdvance, RemovedNodeExits) {
    // The journey was edited: the node the instance is at is gone.
    const Journey j = journey_with(R"([{"id": "r", "type": "recommend", "flowId": "f"}, {"id": "e", "type": "exit"}])",
                                   R"([{"from": "r", "to": "e"}])");
    ScriptedEffects effects;
    Instance instance = at("old-wait", kT0);
    const Advance a = advance(j, instance, effects, when(kT0 + kHour));
    EXPECT_EQ(a.status, Status::Exited);
    EXPECT_THAT(moves(a), ElementsAre("old-wait -> .: node removed"));
    EXPECT_EQ(a.end_reason, "node removed");
    EXPECT_EQ(a.wake_at, std::nullopt);
    EXPECT_EQ(instance.node, "");
    EXPECT_THAT(effects.recommended, IsEmpty());
}

TEST(JourneyAdvance, LoopThroughAWaitStopsAtTheWait) {
    const Journey j = journey_with(R"([{"id": "r", "type": "recommend", "flowId": "f"},
                                       {"id": "w", "type": "wait", "waitHours": 24}])",
                                   R"([{"from": "r", "to": "w"}, {"from": "w", "to": "r"}])");
    ScriptedEffects effects;
    Instance instance = enter(j, kT0);
    const Advance a = advance(j, instance, effects, when(kT0));
    EXPECT_THAT(moves(a), ElementsAre("r -> w: offered [d1]"));
    EXPECT_EQ(a.wake_at, kT0 + kDay);
    const Advance b = advance(j, instance, effects, when(kT0 + kDay));
    EXPECT_THAT(moves(b), ElementsAre("w -> r: waited", "r -> w: offered [d2]"));
    EXPECT_EQ(b.wake_at, kT0 + 2 * kDay);
    EXPECT_EQ(b.status, Status::Active);
    EXPECT_EQ(instance.node, "w");
    EXPECT_EQ(instance.node_entered_at, kT0 + kDay);
    EXPECT_EQ(effects.recommended.size(), 2u);
}

TEST(JourneyAdvance, OutcomeWaitLoopingOnItselfWaitsForTheNextOutcome) {
    const Journey j = journey_with(R"([{"id": "w", "type": "wait", "outcome": "click", "timeoutHours": 2}])",
                                   R"([{"from": "w", "to": "w", "when": "outcome"}])");
    ScriptedEffects effects;
    Instance instance = at("w", kT0);
    const Advance a = advance(j, instance, effects, when(kT0 + kHour, "click"));
    EXPECT_THAT(moves(a), ElementsAre("w -> w: outcome"));
    EXPECT_EQ(instance.node_entered_at, kT0 + kHour);
    EXPECT_EQ(a.wake_at, kT0 + 3 * kHour);
    const Advance b = advance(j, instance, effects, when(kT0 + 3 * kHour));
    EXPECT_THAT(moves(b), ElementsAre("w -> .: timeout"));
    EXPECT_EQ(b.status, Status::Completed);
    EXPECT_EQ(b.end_reason, "end");
}

TEST(JourneyAdvance, AdvanceBeforeTheWakeChangesNothing) {
    const Journey j = journey_with(R"([{"id": "r", "type": "recommend", "flowId": "f"},
                                       {"id": "w", "type": "wait", "outcome": "click", "timeoutHours": 24},
                                       {"id": "e", "type": "exit"}])",
                                   R"([{"from": "r", "to": "w"}, {"from": "w", "to": "e"}])");
    ScriptedEffects effects;
    Instance instance = enter(j, kT0);
    (void)advance(j, instance, effects, when(kT0));
    const Instance before = instance;
    for (int hour = 1; hour < 24; ++hour) {
        const Advance a = advance(j, instance, effects, when(kT0 + hour * kHour));
        EXPECT_THAT(a.transitions, IsEmpty());
        EXPECT_EQ(a.wake_at, kT0 + 24 * kHour);
    }
    EXPECT_EQ(instance.node, before.node);
    EXPECT_EQ(instance.node_entered_at, before.node_entered_at);
    EXPECT_EQ(effects.recommended.size(), 1u);
}

TEST(JourneyAdvance, StepLimitResumesAtTheNextTick) {
    // 150 branches in a row (no wait): one advance makes kMaxStepsPerAdvance
    // moves, then asks to be woken at once; the next goes on.
    Json row = {{"id", "j"}, {"nodes", Json::array()}, {"edges", Json::array()}};
    const int length = 150;
    for (int i = 0; i < length; ++i) {
        row["nodes"].push_back({{"id", "n" + std::to_string(i)}, {"type", "branch"}, {"condition", "customer.x = 1"}});
        row["edges"].push_back({{"from", "n" + std::to_string(i)},
                                {"to", i + 1 < length ? "n" + std::to_string(i + 1) : std::string("e")}});
    }
    row["nodes"].push_back({{"id", "e"}, {"type", "exit"}});
    const Journey j = compile(row);
    ScriptedEffects effects;
    Instance instance = enter(j, kT0);
    const Advance a = advance(j, instance, effects, when(kT0));
    EXPECT_EQ(a.status, Status::Active);
    EXPECT_EQ(a.transitions.size(), static_cast<size_t>(kMaxStepsPerAdvance));
    EXPECT_EQ(a.wake_at, kT0);
    EXPECT_EQ(a.end_reason, "");
    EXPECT_EQ(instance.node, "n" + std::to_string(kMaxStepsPerAdvance));
    const Advance b = advance(j, instance, effects, when(kT0));
    EXPECT_EQ(b.status, Status::Completed);
    EXPECT_EQ(b.transitions.size(), static_cast<size_t>(length - kMaxStepsPerAdvance + 1));
    EXPECT_EQ(b.transitions.back().reason, "exit");
    EXPECT_EQ(b.end_reason, "exit");
    EXPECT_EQ(effects.evaluated.size(), static_cast<size_t>(length));
}

TEST(JourneyAdvance, StatusNames) {
    EXPECT_EQ(status_name(Status::Active), "active");
    EXPECT_EQ(status_name(Status::Completed), "completed");
    EXPECT_EQ(status_name(Status::Exited), "exited");
}

// Outcomes are remembered for the whole journey: a branch on an outcome is
// true for any time it was seen since the customer entered, even before the
// wait it follows or in an earlier round of a loop. (Documents the engine as
// written; see the report.)
TEST(JourneyAdvance, BranchOnAnOutcomeSeesOutcomesOfEarlierRounds) {
    const Journey j = journey_with(R"([{"id": "w", "type": "wait", "outcome": "click", "timeoutHours": 1},
                                       {"id": "b", "type": "branch", "outcome": "click"},
                                       {"id": "y", "type": "wait", "waitHours": 1}, {"id": "n", "type": "exit"}])",
                                   R"([{"from": "w", "to": "b"}, {"from": "b", "to": "y", "when": "true"},
                                       {"from": "b", "to": "n", "when": "false"}, {"from": "y", "to": "w"}])");
    ScriptedEffects effects;
    Instance instance = at("w", kT0);
    EXPECT_THAT(moves(advance(j, instance, effects, when(kT0 + 10, "click"))),
                ElementsAre("w -> b: outcome", "b -> y: true"));
    EXPECT_THAT(moves(advance(j, instance, effects, when(kT0 + 10 + kHour))), ElementsAre("y -> w: waited"));
    // The next round times out without a click, yet the branch is true.
    EXPECT_THAT(moves(advance(j, instance, effects, when(kT0 + 10 + 2 * kHour))),
                ElementsAre("w -> b: timeout", "b -> y: true"));
}

// The outcome a wait waits for ends it even when the advance comes after
// the wait's timeout: the outcome wins (no "timeout" is recorded).
// The customer is still at the wait until a tick moves them on: an outcome
// that comes after the wait's time but before that tick counts.
TEST(JourneyAdvance, OutcomeArrivingBeforeTheTimeoutsTickCounts) {
    const Journey j = journey_with(R"([{"id": "w", "type": "wait", "outcome": "click", "timeoutHours": 1},
                                       {"id": "y", "type": "exit"}, {"id": "n", "type": "exit"}])",
                                   R"([{"from": "w", "to": "y", "when": "outcome"},
                                       {"from": "w", "to": "n", "when": "timeout"}])");
    ScriptedEffects effects;
    Instance instance = at("w", kT0);
    EXPECT_THAT(moves(advance(j, instance, effects, when(kT0 + 5 * kHour, "click"))),
                ElementsAre("w -> y: outcome", "y -> .: exit"));
}

// --- simulation: a nurture loop over days ------------------------------------------

// The nurture journey: recommend; offered -> wait 20h for a purchase (then
// thank and exit) or else branch on whether the customer clicked (yes:
// recommend again; no: cool down 48h, then recommend again); no offer ->
// rest 24h, then recommend again. maxDurationDays 10.
const char* const kNurture = R"({"id": "nurture", "maxDurationDays": 10, "nodes": [
    {"id": "r", "type": "recommend", "flowId": "nurture-flow"},
    {"id": "w", "type": "wait", "outcome": "purchase", "timeoutHours": 20},
    {"id": "b", "type": "branch", "outcome": "click"},
    {"id": "cool", "type": "wait", "waitHours": 48},
    {"id": "rest", "type": "wait", "waitHours": 24},
    {"id": "thanks", "type": "exit"}],
    "edges": [{"from": "r", "to": "w", "when": "offered"}, {"from": "r", "to": "rest", "when": "no_offer"},
              {"from": "w", "to": "thanks", "when": "outcome"}, {"from": "w", "to": "b", "when": "timeout"},
              {"from": "b", "to": "r", "when": "true"}, {"from": "b", "to": "cool", "when": "false"},
              {"from": "cool", "to": "r"}, {"from": "rest", "to": "r"}]})";

struct Simulation {
    Status status = Status::Active;
    std::string end_reason;
    std::vector<std::string> log;  // "h<hour> <move>"
    size_t decisions = 0;          // transitions carrying a decision id
    int advances = 0;
    Instance instance;
};

// simulate enters the journey at kT0 and looks at it every hour for `hours`
// hours, as tick() would: it advances when an outcome happens (`events`, by
// hour; without decisions, as a response does) or when the wake time has
// come (with decisions).
Simulation simulate(const Journey& journey, ScriptedEffects& effects, int hours,
                    const std::map<int, std::string>& events) {
    Simulation sim;
    sim.instance = enter(journey, kT0);
    std::optional<double> wake = kT0;
    for (int hour = 0; hour <= hours && sim.status == Status::Active; ++hour) {
        const double now = kT0 + hour * kHour;
        auto event = events.find(hour);
        Options options;
        if (event != events.end()) {
            options = when(now, event->second, false);
        } else if (wake && *wake <= now) {
            options = when(now);
        } else {
            continue;
        }
        const Advance a = advance(journey, sim.instance, effects, options);
        ++sim.advances;
        for (const std::string& move : moves(a)) sim.log.push_back("h" + std::to_string(hour) + " " + move);
        for (const Transition& t : a.transitions)
            if (!t.decision_id.empty()) ++sim.decisions;
        sim.status = a.status;
        sim.end_reason = a.end_reason;
        wake = a.wake_at;
        if (a.status == Status::Active) {
            EXPECT_TRUE(wake.has_value()) << "stuck at " << sim.instance.node;
        }
    }
    return sim;
}

TEST(JourneySimulation, NurtureLoopUntilMaxDuration) {
    // Always an offer, never a click or a purchase: recommend, time out,
    // cool down, recommend... until the tenth day ends it.
    const Journey j = journey_of(kNurture);
    ScriptedEffects effects;
    const Simulation sim = simulate(j, effects, 14 * 24, {});
    EXPECT_THAT(sim.log, ElementsAre("h0 r -> w: offered [d1]",                              //
                                     "h20 w -> b: timeout", "h20 b -> cool: false",          //
                                     "h68 cool -> r: waited", "h68 r -> w: offered [d2]",    //
                                     "h88 w -> b: timeout", "h88 b -> cool: false",          //
                                     "h136 cool -> r: waited", "h136 r -> w: offered [d3]",  //
                                     "h156 w -> b: timeout", "h156 b -> cool: false",        //
                                     "h204 cool -> r: waited", "h204 r -> w: offered [d4]",  //
                                     "h224 w -> b: timeout", "h224 b -> cool: false",        //
                                     "h240 cool -> .: maxDuration"));
    EXPECT_EQ(sim.decisions, 4u);
    EXPECT_EQ(effects.recommended.size(), 4u);
    EXPECT_EQ(sim.advances, 9);  // only at the wakes: nothing is looked at in between
    EXPECT_EQ(sim.status, Status::Exited);
    EXPECT_EQ(sim.end_reason, "maxDuration");
    EXPECT_EQ(sim.instance.node, "");
    EXPECT_THAT(sim.instance.outcomes, IsEmpty());
}

TEST(JourneySimulation, NurtureLoopUntilPurchase) {
    // No offer at first (rest a day), a click while resting, an offer, a
    // timeout (the click makes the branch recommend again at once), an
    // offer, then the purchase: thanks, completed.
    const Journey j = journey_of(kNurture);
    ScriptedEffects effects;
    effects.offers["r"] = {false, true, true};
    const Simulation sim = simulate(j, effects, 14 * 24, {{10, "click"}, {60, "purchase"}});
    EXPECT_THAT(sim.log, ElementsAre("h0 r -> rest: no_offer [d1]",                                          //
                                     "h24 rest -> r: waited", "h24 r -> w: offered [d2]",                    //
                                     "h44 w -> b: timeout", "h44 b -> r: true", "h44 r -> w: offered [d3]",  //
                                     "h60 w -> thanks: outcome", "h60 thanks -> .: exit"));
    EXPECT_EQ(sim.decisions, 3u);
    EXPECT_THAT(effects.recommended, ElementsAre("r/nurture-flow", "r/nurture-flow", "r/nurture-flow"));
    EXPECT_EQ(sim.status, Status::Completed);
    EXPECT_EQ(sim.end_reason, "exit");
    EXPECT_EQ(sim.instance.node, "");
    EXPECT_EQ(sim.instance.outcomes, (std::map<std::string, double, std::less<>>{{"click", kT0 + 10 * kHour},
                                                                                 {"purchase", kT0 + 60 * kHour}}));
}

TEST(JourneySimulation, PurchaseWhileRestingDoesNotEndALaterWait) {
    // A purchase while the customer rests after no offer is recorded, but
    // the wait for a purchase that follows the next offer is not ended by
    // it: the journey goes on to its expiry.
    const Journey j = journey_of(kNurture);
    ScriptedEffects effects;
    effects.offers["r"] = {false};
    const Simulation sim = simulate(j, effects, 14 * 24, {{5, "purchase"}});
    EXPECT_EQ(sim.status, Status::Exited);
    ASSERT_FALSE(sim.log.empty());
    EXPECT_EQ(sim.log.front(), "h0 r -> rest: no_offer [d1]");
    EXPECT_EQ(sim.log[1], "h24 rest -> r: waited");
    EXPECT_EQ(sim.log[2], "h24 r -> w: offered [d2]");
    EXPECT_EQ(sim.log[3], "h44 w -> b: timeout");
    EXPECT_EQ(sim.log.back(), "h240 w -> .: maxDuration");
    // Decisions at h0, 24, 92 (44 + 48 cool), 160, 228.
    EXPECT_EQ(sim.decisions, 5u);
    EXPECT_EQ(effects.recommended.size(), 5u);
}

}  // namespace
}  // namespace kaireon::journeys
