// journeys.h - multi-step journeys (SPEC 6.7, docs/automation.md): a
// journey's graph compiled from its catalog row, and the engine that moves
// one customer's instance along it. The engine is pure: decisions and
// conditions are asked of the caller (src/pg/journey_functions.cpp), which
// stores the instance and records each transition.
//
// Nodes: recommend (a decision through a flow), wait (a delay, or an
// outcome with an optional timeout), branch (a condition, or whether an
// outcome was seen since entering), exit. Edges leave a node by a label
// (`when`) that the node's result picks; an edge without `when` is taken
// for any result no labelled edge matches; a node with no edge to take
// completes the journey, as an exit node does.
#pragma once
#include "core/pure.h"

#include "core/expr.h"
#include "core/json.h"

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace kaireon::journeys {

// kMaxNodes bounds a journey; kMaxStepsPerAdvance bounds one advance (the
// catalog refuses a cycle without a wait, so this is only a safety net).
constexpr size_t kMaxNodes = 200;
constexpr int kMaxStepsPerAdvance = 100;

struct Node {
    std::string id, type;  // recommend, wait, branch, exit
    std::string flow_id;   // recommend
    std::string outcome;   // wait (for it), branch (seen?)
    std::optional<double> wait_hours, timeout_hours;
    std::optional<expr::Program> condition;     // branch
    std::map<std::string, std::string> edges;   // when ("" = otherwise) -> node id

    bool waits_for_outcome() const { return type == "wait" && !outcome.empty(); }
    // timeout_seconds is how long an outcome wait lasts (timeoutHours, else
    // waitHours), or a delay's length; nullopt: an outcome wait without end.
    std::optional<double> timeout_seconds() const;
};

struct Journey {
    std::string id, name;
    std::optional<expr::Program> entry_condition;
    std::optional<int> max_duration_days;
    std::vector<Node> nodes;  // nodes[0] is where customers enter

    // outcome_types are the outcome types the journey waits for or branches
    // on: a response or an ingested event of one of them is news for it.
    // compile fills it (read on every response, so worked out once).
    std::set<std::string, std::less<>> outcome_types;

    const Node* node(std::string_view node_id) const;
    const std::set<std::string, std::less<>>& outcomes() const { return outcome_types; }
};

// Invalid is what compile throws for a journey the engine cannot run:
// `field` is the path inside the row ("edges[2].when").
struct Invalid {
    std::string field, message;
};

// compile builds a journey from its validated catalog row (field types
// already checked) and checks the rules across nodes and edges: the labels
// each node type may use, one edge per node and label, no edge out of an
// exit, edges between known nodes, and no cycle that passes through no
// wait node (it would loop within one step). Throws Invalid.
Journey compile(const Json& row);

// Instance is one customer's place in a journey; times are Unix seconds.
struct Instance {
    std::string node;  // where the customer is
    double node_entered_at = 0;
    std::optional<double> expires_at;  // entered + maxDurationDays
    // Outcome types seen while in the journey (responses, ingested events).
    std::map<std::string, double, std::less<>> outcomes;
};

enum class Status { Active, Completed, Exited };
std::string_view status_name(Status status);

// Transition is one recorded move: `to` "" ends the journey.
struct Transition {
    std::string from, to;
    // entered (by the caller), offered, no_offer, waited, outcome, timeout, true,
    // false (a node's result); exit, maxDuration, node removed (an end).
    std::string reason;
    std::string decision_id;  // the decision a recommend node made ("" otherwise)
};

// Effects is what the engine asks of its caller.
class Effects {
public:
    virtual ~Effects() = default;
    // recommend makes the node's decision for the customer and returns its
    // id, and whether it placed any offer.
    struct Decision {
        std::string id;
        bool offered = false;
    };
    virtual Decision recommend(const Node& node) = 0;
    // holds evaluates a branch's condition for the customer.
    virtual bool holds(const expr::Program& condition) = 0;
};

struct Options {
    double now = 0;
    // An outcome that has just happened to the customer: it ends a wait for
    // it at the node the instance is at (and only there).
    std::string observed_outcome;
    // Without decisions (a response arriving), the engine stops at a
    // recommend node and asks to be woken at once (tick() makes it).
    bool allow_decisions = true;
};

struct Advance {
    Status status = Status::Active;
    std::vector<Transition> transitions;
    std::optional<double> wake_at;  // when tick() should look again (active only)
    // Why it ended: exit (an exit node), end (no edge to take), maxDuration,
    // node removed; "" while active.
    std::string end_reason;
};

// advance moves the instance as far as it can go now and updates it.
Advance advance(const Journey& journey, Instance& instance, Effects& effects, const Options& options);

}  // namespace kaireon::journeys
