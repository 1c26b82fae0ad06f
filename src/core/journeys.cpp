#include "core/journeys.h"

#include "core/error.h"

#include <algorithm>
#include <functional>

namespace kaireon::journeys {
namespace {

// kLabels are the edge labels (`when`) each kind of node can leave by;
// every node may also have one unlabelled edge (any other result).
std::vector<std::string_view> labels_of(const Node& node) {
    if (node.type == "recommend") return {"offered", "no_offer"};
    if (node.type == "wait") return node.outcome.empty() ? std::vector<std::string_view>{}
                                                         : std::vector<std::string_view>{"outcome", "timeout"};
    if (node.type == "branch") return {"true", "false"};
    return {};
}

// kFields are the node fields each type uses (besides id, type and name):
// a field another type uses would be silently ignored, so it is refused.
std::vector<std::string_view> fields_of(std::string_view type) {
    if (type == "recommend") return {"flowId"};
    if (type == "wait") return {"waitHours", "outcome", "timeoutHours"};
    if (type == "branch") return {"condition", "outcome"};
    return {};
}

std::string in_quotes(std::string_view text) { return "\"" + std::string(text) + "\""; }

// Validated rows may carry absent optional fields as null.
bool has(const Json& row, const char* key) { return row.contains(key) && !row[key].is_null(); }
std::string text_of(const Json& row, const char* key) { return has(row, key) ? row[key].get<std::string>() : ""; }

Node compile_node(const Json& row, const std::string& at) {
    Node node;
    node.id = text_of(row, "id");
    node.type = text_of(row, "type");
    const auto used = fields_of(node.type);
    for (const auto& [key, value] : row.items()) {
        if (key == "id" || key == "type" || key == "name" || value.is_null()) continue;
        if (std::find(used.begin(), used.end(), key) == used.end())
            throw Invalid{at + "." + key, "is not used by " + std::string(node.type == "exit" ? "an " : "a ") + node.type +
                                              " node"};
    }
    node.flow_id = text_of(row, "flowId");
    node.outcome = text_of(row, "outcome");
    if (has(row, "waitHours")) node.wait_hours = row["waitHours"].get<double>();
    if (has(row, "timeoutHours")) node.timeout_hours = row["timeoutHours"].get<double>();
    if (has(row, "condition")) {
        try {
            node.condition = expr::compile(row["condition"].get<std::string>(), expr::ResultType::Bool);
        } catch (const Error& e) {
            throw Invalid{at + ".condition", e.what()};
        }
        if (node.condition->uses_metric())
            throw Invalid{at + ".condition", "metric() is not available in journey conditions"};
    }
    // The catalog's field checks say the same; the engine does not rely on them.
    if (node.type != "recommend" && node.type != "wait" && node.type != "branch" && node.type != "exit")
        throw Invalid{at + ".type", "must be one of recommend, wait, branch, exit"};
    for (const auto& [field, hours] : {std::pair{"waitHours", node.wait_hours}, std::pair{"timeoutHours", node.timeout_hours}})
        if (hours && !(*hours > 0)) throw Invalid{at + "." + field, "must be greater than 0"};
    if (node.type == "recommend" && node.flow_id.empty()) throw Invalid{at + ".flowId", "is required for a recommend node"};
    if (node.type == "wait" && !node.wait_hours && node.outcome.empty())
        throw Invalid{at, "a wait node needs waitHours (a delay) or outcome (a wait for it)"};
    if (node.type == "wait" && node.outcome.empty() && node.timeout_hours)
        throw Invalid{at + ".timeoutHours", "is for a wait on an outcome; a delay is waitHours"};
    if (node.type == "branch" && node.condition.has_value() == !node.outcome.empty())
        throw Invalid{at, "a branch node needs either condition or outcome"};
    return node;
}

// check_cycles refuses a cycle that passes through no wait node: an advance
// would go round it without ever stopping.
void check_cycles(const Journey& journey) {
    enum Mark { Unseen, OnPath, Done };
    std::map<std::string, Mark, std::less<>> marks;
    std::vector<std::string> path;
    std::function<void(const Node&)> visit = [&](const Node& node) {
        marks[node.id] = OnPath;
        path.push_back(node.id);
        if (node.type != "wait") {
            for (const auto& [when, to] : node.edges) {
                const Node* next = journey.node(to);
                Mark mark = marks.contains(to) ? marks[to] : Unseen;
                if (mark == OnPath) {
                    std::string cycle;
                    for (auto it = std::find(path.begin(), path.end(), to); it != path.end(); ++it) cycle += *it + " -> ";
                    throw Invalid{"edges", "the cycle " + cycle + to + " passes through no wait node"};
                }
                if (mark == Unseen) visit(*next);
            }
        }
        path.pop_back();
        marks[node.id] = Done;
    };
    for (const Node& node : journey.nodes)
        if (!marks.contains(node.id)) visit(node);
}

}  // namespace

std::optional<double> Node::timeout_seconds() const {
    if (timeout_hours) return *timeout_hours * 3600;
    if (wait_hours) return *wait_hours * 3600;
    return std::nullopt;
}

const Node* Journey::node(std::string_view node_id) const {
    for (const Node& node : nodes)
        if (node.id == node_id) return &node;
    return nullptr;
}

Journey compile(const Json& row) {
    Journey journey;
    journey.id = text_of(row, "id");
    journey.name = text_of(row, "name");
    if (has(row, "entryCondition")) {
        try {
            journey.entry_condition = expr::compile(row["entryCondition"].get<std::string>(), expr::ResultType::Bool);
        } catch (const Error& e) {
            throw Invalid{"entryCondition", e.what()};
        }
        if (journey.entry_condition->uses_metric())
            throw Invalid{"entryCondition", "metric() is not available in journey conditions"};
    }
    if (has(row, "maxDurationDays"))
        journey.max_duration_days = row["maxDurationDays"].get<int>();
    const Json nodes = has(row, "nodes") ? row["nodes"] : Json::array();
    if (nodes.empty()) throw Invalid{"nodes", "a journey needs at least one node"};
    if (nodes.size() > kMaxNodes)
        throw Invalid{"nodes", "a journey has at most " + std::to_string(kMaxNodes) + " nodes, not " +
                                   std::to_string(nodes.size())};
    for (size_t i = 0; i < nodes.size(); ++i) {
        Node node = compile_node(nodes[i], "nodes[" + std::to_string(i) + "]");
        if (journey.node(node.id)) throw Invalid{"nodes[" + std::to_string(i) + "].id", "duplicate node " + in_quotes(node.id)};
        journey.nodes.push_back(std::move(node));
    }
    const Json edges = has(row, "edges") ? row["edges"] : Json::array();
    for (size_t i = 0; i < edges.size(); ++i) {
        const std::string at = "edges[" + std::to_string(i) + "]";
        const std::string from = text_of(edges[i], "from"), to = text_of(edges[i], "to");
        const std::string when = text_of(edges[i], "when");
        auto it = std::find_if(journey.nodes.begin(), journey.nodes.end(), [&](const Node& n) { return n.id == from; });
        if (it == journey.nodes.end()) throw Invalid{at + ".from", "unknown node " + in_quotes(from)};
        if (!journey.node(to)) throw Invalid{at + ".to", "unknown node " + in_quotes(to)};
        Node& source = *it;
        if (source.type == "exit") throw Invalid{at + ".from", "an exit node has no edges out"};
        const auto labels = labels_of(source);
        if (!when.empty() && std::find(labels.begin(), labels.end(), when) == labels.end()) {
            std::string allowed;
            for (std::string_view label : labels) allowed += (allowed.empty() ? "" : ", ") + std::string(label);
            throw Invalid{at + ".when", "a " + std::string(source.waits_for_outcome() ? "wait (outcome)" : source.type) +
                                            " node's edges are " +
                                            (allowed.empty() ? "unlabelled" : "labelled " + allowed + " or unlabelled") +
                                            ", not " + in_quotes(when)};
        }
        if (!source.edges.emplace(when, to).second)
            throw Invalid{at, "node " + in_quotes(from) + " already has an edge " +
                                  (when.empty() ? std::string("without when") : "when " + in_quotes(when))};
    }
    check_cycles(journey);
    for (const Node& node : journey.nodes)
        if (!node.outcome.empty()) journey.outcome_types.insert(node.outcome);
    return journey;
}

std::string_view status_name(Status status) {
    switch (status) {
        case Status::Active: return "active";
        case Status::Completed: return "completed";
        case Status::Exited: return "exited";
    }
    return "active";
}

Advance advance(const Journey& journey, Instance& instance, Effects& effects, const Options& options) {
    Advance out;
    const double now = options.now;
    if (!options.observed_outcome.empty()) instance.outcomes[options.observed_outcome] = now;
    // end leaves the journey from the node the instance is at.
    auto end = [&](Status status, const std::string& reason) {
        out.transitions.push_back({instance.node, "", reason, ""});
        out.status = status;
        out.end_reason = reason;
        instance.node.clear();
    };
    for (int steps = 0;; ++steps) {
        if (instance.expires_at && now >= *instance.expires_at) {
            end(Status::Exited, "maxDuration");
            return out;
        }
        const Node* node = journey.node(instance.node);
        if (node == nullptr) {
            end(Status::Exited, "node removed");
            return out;
        }
        if (steps >= kMaxStepsPerAdvance) {
            out.wake_at = now;  // go on at the next tick
            return out;
        }
        std::string result, decision_id;
        if (node->type == "exit") {
            end(Status::Completed, "exit");
            return out;
        } else if (node->type == "recommend") {
            if (!options.allow_decisions) {
                out.wake_at = now;
                return out;
            }
            Effects::Decision decision = effects.recommend(*node);
            result = decision.offered ? "offered" : "no_offer";
            decision_id = decision.id;
        } else if (node->type == "branch") {
            const bool yes = node->condition ? effects.holds(*node->condition) : instance.outcomes.contains(node->outcome);
            result = yes ? "true" : "false";
        } else {  // wait
            const std::optional<double> length = node->timeout_seconds();
            const bool first = steps == 0;
            // The outcome is checked first: a response that comes after the
            // wait's time but before the tick that ends it (ticks run every
            // minute) still finds the customer waiting, and counts.
            if (node->waits_for_outcome() && first && options.observed_outcome == node->outcome) {
                result = "outcome";
            } else if (length && now >= instance.node_entered_at + *length) {
                result = node->waits_for_outcome() ? "timeout" : "waited";
            } else {
                std::optional<double> wake;
                if (length) wake = instance.node_entered_at + *length;
                if (instance.expires_at) wake = wake ? std::min(*wake, *instance.expires_at) : *instance.expires_at;
                out.wake_at = wake;
                return out;
            }
        }
        auto edge = node->edges.find(result);
        if (edge == node->edges.end()) edge = node->edges.find("");
        if (edge == node->edges.end()) {
            // No edge to take: the journey ends here, as at an exit node.
            out.transitions.push_back({node->id, "", result, decision_id});
            out.status = Status::Completed;
            out.end_reason = "end";
            instance.node.clear();
            return out;
        }
        out.transitions.push_back({node->id, edge->second, result, decision_id});
        instance.node = edge->second;
        instance.node_entered_at = now;
    }
}

}  // namespace kaireon::journeys
