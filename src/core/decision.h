// decision.h - the request of kaireon_recommend and the arithmetic of
// ranking (SPEC 6.2): parsing and checking a request, the arbitration score,
// the top-n order and filling placement groups. The pipeline that uses them
// is pipeline.h.
#pragma once
#include "core/pure.h"

#include "core/json.h"

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kaireon::decision {

inline constexpr int kDefaultLimit = 5;
inline constexpr int kMaxLimit = 50;
inline constexpr size_t kMaxExcludedOffers = 1000;

// Request is a parsed kaireon_recommend request.
struct Request {
    std::string customer_id;
    std::string flow;
    std::optional<std::string> channel;
    std::optional<std::string> placement;
    std::optional<int> limit;  // absent: the flow's ranking.n, else kDefaultLimit
    Json context = Json::object();
    std::optional<std::vector<std::string>> segments;  // replace the customer's for this call
    Json attributes = Json::object();                  // override the customer's for this call
    std::vector<std::string> exclude_offers;
    bool trace = false;
    bool dry_run = false;
};

// parse_request checks a request document and returns it, or throws
// Error(BadRequest) naming the field ("limit: must be at most 50").
// Unknown fields are errors.
Request parse_request(const Json& request);

// Weights of the arbitration formula (SPEC 6.2 step 6).
struct Weights {
    double propensity = 0.4;
    double relevance = 0.2;
    double impact = 0.3;
    double emphasis = 0.1;
};

// Factors of one offer in arbitration.
struct Factors {
    double propensity = 0;
    double relevance = 1;
    double impact = 1;
    double emphasis = 1;
    double context_weight = 1;
};

// arbitration_score returns propensity^Wp x relevance^Wr x impact^Wi x
// emphasis^We x context weight. Factors are clamped at 0 (a negative
// relevance cannot flip a sign); a factor of 0 with a positive weight gives
// 0 ("a near-zero factor pulls the score to zero"); a weight of 0 ignores its
// factor.
double arbitration_score(const Factors& factors, const Weights& weights);

// Ranked is what the ranking orders: the score, then priority (higher
// first), then offer id (bytewise), so the order never depends on anything
// else (SPEC's tie-break). The id is borrowed: ranking compares candidates
// many times and never copies their ids.
struct Ranked {
    std::string_view offer_id;
    double score = 0;
    double priority = 0;
};

// ranks_before is the top-n order.
bool ranks_before(const Ranked& a, const Ranked& b);

// A group of a flow: fill `slots` offers for a placement.
struct Group {
    std::string placement_id;
    int slots = 1;
    bool allow_partial = true;
};

// fill_groups assigns ranked candidates (already in rank order) to groups:
// each group takes, in order, the best candidates not taken yet that fit its
// placement (fits(candidate index, placement id)), up to its slots and to
// what is left of `limit`; a group with allow_partial = false that cannot
// fill all its slots within both takes nothing (its candidates stay
// available to later groups). Returns, for each candidate taken, its index
// and the placement, group by group.
struct Placed {
    size_t candidate;
    std::string placement_id;
};
template <typename Fits>
std::vector<Placed> fill_groups(size_t candidates, const std::vector<Group>& groups, Fits&& fits,
                                size_t limit = static_cast<size_t>(-1)) {
    std::vector<Placed> out;
    std::vector<bool> taken(candidates, false);
    for (const auto& group : groups) {
        const size_t slots = static_cast<size_t>(std::max(group.slots, 0));
        const size_t room = std::min(slots, limit - out.size());
        std::vector<size_t> chosen;
        for (size_t i = 0; i < candidates && chosen.size() < room; ++i)
            if (!taken[i] && fits(i, group.placement_id)) chosen.push_back(i);
        if (!group.allow_partial && chosen.size() < slots) continue;
        for (size_t i : chosen) {
            taken[i] = true;
            out.push_back({i, group.placement_id});
        }
    }
    return out;
}

}  // namespace kaireon::decision
