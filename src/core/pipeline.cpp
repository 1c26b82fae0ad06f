#include "core/pipeline.h"

#include "core/catalog.h"
#include "core/error.h"
#include "core/scoring.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <deque>

namespace kaireon::decision {
namespace {

using catalog::CompiledCreative;
using catalog::CompiledOffer;

int64_t steady_nanos() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

struct Candidate {
    const CompiledOffer* offer;
    const CompiledCreative* creative;  // the creative that shows it (the first that fits, by id)
    double score = 0;
    std::optional<double> propensity;
};

// Stages records the trace; without tracing it only keeps the counters it
// needs (nothing).
class Stages {
public:
    Stages(bool traced, Clock clock) : traced_(traced), clock_(clock ? clock : steady_nanos) {}

    void begin(const char* name, size_t in) {
        if (!traced_) return;
        current_ = StageTrace{name, in, in, 0, {}, {}};
        started_ = clock_();
    }
    bool traced() const { return traced_; }
    // remove records that `offer` left the stage with the reason `why()`
    // makes, called only when traced: an untraced decision (most) builds no
    // reason strings.
    template <typename MakeReason>
    void remove(const CompiledOffer& offer, MakeReason&& why) {
        if (traced_) current_.removed.emplace_back(offer.id, std::string(why()));
    }
    void lifted(const CompiledOffer& offer, const std::vector<std::string>& reasons) {
        if (!traced_) return;
        for (const auto& reason : reasons) current_.lifted.emplace_back(offer.id, reason);
    }
    void end(size_t out) {
        if (!traced_) return;
        current_.out = out;
        current_.nanos = clock_() - started_;
        done_.push_back(std::move(current_));
    }
    std::vector<StageTrace> take() { return std::move(done_); }

private:
    bool traced_;
    Clock clock_;
    StageTrace current_;
    int64_t started_ = 0;
    std::vector<StageTrace> done_;
};

bool fits(const CompiledCreative& creative, const std::string& channel, const std::string& placement) {
    return (channel.empty() || creative.channel_id == channel) &&
           (placement.empty() || creative.placement_id == placement);
}

// Spot is a channel and a placement ("": any) that a creative must fit,
// as their numbers in a catalog's places.
struct Spot {
    Spot(const catalog::CompiledCatalog& catalog, const std::string& channel_id, const std::string& placement_id)
        : any_channel(channel_id.empty()),
          any_placement(placement_id.empty()),
          channel_number(catalog.place_number(channel_id)),
          placement_number(catalog.place_number(placement_id)) {}

    bool any_channel, any_placement;
    uint32_t channel_number, placement_number;
};

// first_fit returns the first creative of `offer` (one of `catalog`'s
// offers: compile_catalog gave each its places) that fits `spot`.
const CompiledCreative* first_fit(const catalog::CompiledCatalog& catalog, const CompiledOffer& offer,
                                  const Spot& spot) {
    const std::span<const catalog::CreativePlace> places = catalog.places(offer);
    if (places.size() != offer.creatives.size())
        throw Error(ErrorCode::Internal, "offer \"" + offer.id + "\" has no creative places in its catalog");
    for (size_t i = 0; i < places.size(); ++i) {
        if ((spot.any_channel || places[i].channel == spot.channel_number) &&
            (spot.any_placement || places[i].placement == spot.placement_number))
            return &offer.creatives[i];
    }
    return nullptr;
}

std::string where(const std::string& channel, const std::string& placement) {
    std::string out;
    if (!channel.empty()) out += "channel " + channel;
    if (!placement.empty()) out += std::string(out.empty() ? "" : " and ") + "placement " + placement;
    return out.empty() ? "any channel" : out;
}

}  // namespace

bool consent_required(std::string_view channel_type) {
    return channel_type == "email" || channel_type == "sms" || channel_type == "push";
}

GateVerdict GateChain::judge(const catalog::CompiledOffer& offer, const catalog::CompiledCreative& creative,
                             const CustomerView& customer) const {
    GateVerdict out;
    for (const PolicyGate* gate : gates_) {
        GateVerdict verdict = gate->judge(offer, creative, customer);
        out.lifted.insert(out.lifted.end(), verdict.lifted.begin(), verdict.lifted.end());
        if (verdict.blocked) {
            out.blocked = std::move(verdict.blocked);
            return out;
        }
    }
    return out;
}

std::vector<RivalGroup> GateChain::rival_groups(const catalog::CompiledOffer& offer,
                                                const catalog::CompiledCreative& creative,
                                                const CustomerView& customer) const {
    std::vector<RivalGroup> out;
    for (const PolicyGate* gate : gates_) {
        auto groups = gate->rival_groups(offer, creative, customer);
        out.insert(out.end(), groups.begin(), groups.end());
    }
    return out;
}

Outcome run(const catalog::CompiledCatalog& catalog, const catalog::CompiledFlow& flow, const Request& request,
            const CustomerView& view, const PolicyGate* gate, double now, bool traced, Clock clock,
            const Scorer* scorer) {
    Outcome outcome;
    outcome.limit = request.limit.value_or(flow.n.value_or(kDefaultLimit));
    Stages stages(traced, clock);
    const catalog::Customer& customer = view.customer;
    const std::string channel = request.channel.value_or(flow.channel_id);
    // With groups, each group names its placement; otherwise the request's or the flow's.
    const std::string placement = flow.groups.empty() ? request.placement.value_or(flow.placement_id) : std::string();
    if (request.channel && !catalog.channel_types.contains(*request.channel))
        throw_bad_request("unknown channel \"" + *request.channel + "\"", {{"path", "channel"}});
    if (request.placement && !catalog.placement_slots.contains(*request.placement))
        throw_bad_request("unknown placement \"" + *request.placement + "\"", {{"path", "placement"}});
    // A placement holds at most its slots (a flow's groups name their own).
    if (auto slots = catalog.placement_slots.find(placement); !placement.empty() && slots != catalog.placement_slots.end())
        outcome.limit = std::min(outcome.limit, slots->second);
    std::string group_placements;
    for (const auto& group : flow.groups) group_placements += (group_placements.empty() ? "" : ", ") + group.placement_id;

    // 1. Candidates: active, inside their date window, not excluded, with a
    // creative for the channel and placement.
    std::vector<Candidate> candidates;
    candidates.reserve(catalog.offers.size());
    stages.begin("candidates", catalog.offers.size());
    const Spot spot(catalog, channel, placement);
    std::vector<Spot> group_spots;
    for (const auto& group : flow.groups) group_spots.emplace_back(catalog, channel, group.placement_id);
    for (const auto& offer : catalog.offers) {
        if (!catalog::available(offer, now)) {
            stages.remove(offer, [&] { return catalog::unavailable(offer, now).value_or(""); });
            continue;
        }
        if (std::find(request.exclude_offers.begin(), request.exclude_offers.end(), offer.id) !=
            request.exclude_offers.end()) {
            stages.remove(offer, [] { return "excluded by the request"; });
            continue;
        }
        const CompiledCreative* creative = nullptr;
        if (flow.groups.empty()) {
            creative = first_fit(catalog, offer, spot);
        } else {
            for (const Spot& group_spot : group_spots)
                if ((creative = first_fit(catalog, offer, group_spot)) != nullptr) break;
        }
        if (creative == nullptr) {
            stages.remove(offer, [&] {
                return "no creative for " + (flow.groups.empty()
                                                 ? where(channel, placement)
                                                 : where(channel, "") + " and placements " + group_placements);
            });
            continue;
        }
        candidates.push_back({&offer, creative, 0, std::nullopt});
    }
    stages.end(candidates.size());

    // 2. Qualification: the flow's eligibility (about the customer and the
    // context), then each offer's.
    stages.begin("qualification", candidates.size());
    if (auto reason = catalog::flow_refusal(flow, customer, request.context, now)) {
        for (const auto& c : candidates) stages.remove(*c.offer, [&] { return *reason; });
        candidates.clear();
    }
    // The customer's and the context's path values, shared by every offer.
    catalog::SubjectValues subject(catalog.path_table, customer, request.context);
    std::erase_if(candidates, [&](const Candidate& c) {
        if (!stages.traced()) return !catalog::eligible(*c.offer, customer, request.context, now, &subject);
        auto reason = catalog::eligibility_refusal(*c.offer, customer, request.context, now, &subject);
        if (reason) stages.remove(*c.offer, [&] { return *reason; });
        return reason.has_value();
    });
    stages.end(candidates.size());

    // The creatives that could show an offer: those on the channel and the
    // placement (with groups, any group's placement), in id order. Consent
    // and the policies judge each one: an offer stays while one of them may
    // be shown, and only such a creative is ever placed.
    auto shows = [&](const CompiledCreative& creative) {
        if (flow.groups.empty()) return fits(creative, channel, placement);
        for (const auto& group : flow.groups)
            if (fits(creative, channel, group.placement_id)) return true;
        return false;
    };
    auto consent_refusal = [&](const CompiledCreative& creative) -> std::optional<std::string> {
        const std::string& ch = creative.channel_id;
        auto consent = view.consents.find(ch);
        if (consent != view.consents.end() && !consent->second) return "consent refused for channel " + ch;
        auto type = catalog.channel_types.find(ch);
        if (consent == view.consents.end() && type != catalog.channel_types.end() && consent_required(type->second))
            return "no consent for channel " + ch + " (" + type->second + " needs an opt-in)";
        return std::nullopt;
    };
    // The gate is asked once per creative and decision (policies count the
    // customer's history: not cheap). A few dozen creatives, mostly asked
    // about right after they were judged: a list searched from its end, not
    // a hash table's node per creative. A deque: as one vector (a block of
    // kilobytes asked for after the earlier stages freed their temporaries)
    // it made glibc's malloc consolidate its free chunks on every decision,
    // cold ones when the backend serves many tenants (docs/performance.md).
    std::deque<std::pair<const CompiledCreative*, GateVerdict>> judged;
    auto verdict = [&](const CompiledOffer& offer, const CompiledCreative& creative) -> const GateVerdict& {
        for (auto it = judged.rbegin(); it != judged.rend(); ++it)
            if (it->first == &creative) return it->second;
        return judged.emplace_back(&creative, gate->judge(offer, creative, view)).second;
    };
    auto policy_refusal = [&](const CompiledOffer& offer, const CompiledCreative& creative) -> std::optional<std::string> {
        if (gate == nullptr) return std::nullopt;
        return verdict(offer, creative).blocked;
    };
    auto allowed = [&](const CompiledOffer& offer, const CompiledCreative& creative) {
        return !consent_refusal(creative) && !policy_refusal(offer, creative);
    };
    // keep_if_shown keeps a candidate when `refusal` lets one of its
    // creatives through (switching to it), else records the first refusal.
    auto keep_if_shown = [&](Candidate& c, auto&& refusal) {
        auto first = refusal(*c.creative);
        if (!first) return true;
        for (const auto& creative : c.offer->creatives) {
            if (&creative != c.creative && shows(creative) && !refusal(creative)) {
                c.creative = &creative;
                return true;
            }
        }
        stages.remove(*c.offer, [&] { return std::move(*first); });
        return false;
    };

    // 3. Consent for the creative's channel.
    stages.begin("consent", candidates.size());
    std::erase_if(candidates, [&](Candidate& c) { return !keep_if_shown(c, consent_refusal); });
    stages.end(candidates.size());

    // 4. Contact policies and frequency caps (of the creatives with consent).
    stages.begin("policies", candidates.size());
    std::erase_if(candidates, [&](Candidate& c) {
        bool kept = keep_if_shown(c, [&](const CompiledCreative& creative) -> std::optional<std::string> {
            if (consent_refusal(creative)) return "consent";  // never chosen: an earlier stage's refusal
            return policy_refusal(*c.offer, creative);
        });
        if (kept && gate != nullptr) stages.lifted(*c.offer, verdict(*c.offer, *c.creative).lifted);
        return !kept;
    });
    stages.end(candidates.size());

    // allowed_fit is the first creative of `offer` for placement `p` that
    // may be shown to the customer.
    auto allowed_fit = [&](const CompiledOffer& offer, const std::string& p) -> const CompiledCreative* {
        for (const auto& creative : offer.creatives)
            if (fits(creative, channel, p) && allowed(offer, creative)) return &creative;
        return nullptr;
    };

    // 5. Scoring by the flow's model; without one, by priority.
    stages.begin("scoring", candidates.size());
    std::unique_ptr<Scorer> own_scorer;
    if (scorer == nullptr) {
        const catalog::CompiledModel* model = nullptr;
        if (!flow.model_id.empty()) {
            auto it = catalog.models.find(flow.model_id);
            if (it == catalog.models.end())
                throw_bad_request("flow \"" + flow.id + "\" names the unknown model \"" + flow.model_id + "\"",
                                  {{"flow", flow.id}, {"modelId", flow.model_id}});
            model = &it->second;
        }
        own_scorer = builtin_scorer(model, flow.id, &catalog);
        scorer = own_scorer.get();
    }
    for (auto& c : candidates) {
        Score s = scorer->score(*c.offer, view, request.context, now);
        c.score = std::isfinite(s.score) ? s.score : 0;
        c.propensity = s.propensity;
        if (c.propensity && !std::isfinite(*c.propensity)) c.propensity = 0;  // a probability, never NaN
    }
    stages.end(candidates.size());

    // 6. Ranking: top_n by score, or arbitration.
    stages.begin("ranking", candidates.size());
    if (flow.arbitration) {
        double max_value = 0;
        for (const auto& c : candidates) max_value = std::max(max_value, c.offer->value);
        const Weights weights{flow.weight_propensity, flow.weight_relevance, flow.weight_impact, flow.weight_emphasis};
        for (auto& c : candidates) {
            Factors f;
            f.propensity = c.propensity.value_or(0);
            if (flow.relevance)
                f.relevance = catalog::value_of(*flow.relevance, customer, c.offer, request.context, now, &subject).value_or(1);
            f.impact = max_value > 0 ? c.offer->value / max_value : 1;
            f.emphasis = c.offer->lever;
            auto weight = flow.context_weights.find(c.offer->category_id);
            if (weight != flow.context_weights.end()) f.context_weight = weight->second;
            c.score = arbitration_score(f, weights);
        }
    }
    auto ranks = [](const Candidate& a, const Candidate& b) {
        return ranks_before({a.offer->id, a.score, a.offer->priority}, {b.offer->id, b.score, b.offer->priority});
    };
    // Untraced, without mutual exclusions or groups, nothing reads past the
    // limit: only the first `limit` are ordered (the order is total, ids
    // being unique, so they are the same ones).
    const size_t top = static_cast<size_t>(std::max(outcome.limit, 0));
    if (!traced && gate == nullptr && flow.groups.empty() && candidates.size() > top) {
        std::partial_sort(candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(top), candidates.end(),
                          ranks);
        candidates.resize(top);
    } else {
        std::stable_sort(candidates.begin(), candidates.end(), ranks);
    }
    // Mutual exclusions in this decision: the best ranked member of each
    // group stays.
    if (gate != nullptr) {
        std::map<std::string, std::string, std::less<>> first_of_group;  // group -> best ranked member
        std::vector<Candidate> kept;
        kept.reserve(candidates.size());
        for (Candidate& c : candidates) {  // in rank order
            const auto groups = gate->rival_groups(*c.offer, *c.creative, view);
            auto above = std::find_if(groups.begin(), groups.end(), [&](const RivalGroup& group) {
                return group.yields && first_of_group.contains(group.id);
            });
            if (above != groups.end()) {
                stages.remove(*c.offer, [&] {
                    return "mutual_exclusion: " + first_of_group.find(above->id)->second + " ranks higher in this decision";
                });
                continue;
            }
            for (const RivalGroup& group : groups) first_of_group.emplace(group.id, c.offer->id);
            kept.push_back(std::move(c));
        }
        candidates = std::move(kept);
    }
    stages.end(candidates.size());

    // 7. Groups and placements, then the limit.
    stages.begin("placement", candidates.size());
    std::vector<std::pair<size_t, const CompiledCreative*>> picked;
    if (flow.groups.empty()) {
        for (size_t i = 0; i < candidates.size(); ++i) picked.emplace_back(i, candidates[i].creative);
    } else {
        std::vector<Group> groups;
        for (const auto& g : flow.groups) groups.push_back({g.placement_id, g.slots, g.allow_partial});
        auto fits_placement = [&](size_t i, const std::string& p) {
            return allowed_fit(*candidates[i].offer, p) != nullptr;
        };
        for (const auto& placed :
             fill_groups(candidates.size(), groups, fits_placement, static_cast<size_t>(outcome.limit)))
            picked.emplace_back(placed.candidate, allowed_fit(*candidates[placed.candidate].offer, placed.placement_id));
    }
    if (picked.size() > static_cast<size_t>(outcome.limit)) picked.resize(static_cast<size_t>(outcome.limit));
    std::vector<bool> kept(candidates.size(), false);
    for (const auto& [i, creative] : picked) {
        kept[i] = true;
        const Candidate& c = candidates[i];
        Chosen chosen;
        chosen.rank = static_cast<int>(outcome.offers.size()) + 1;
        chosen.offer_id = c.offer->id;
        chosen.creative_id = creative->id;
        chosen.placement = creative->placement_id;
        chosen.category = c.offer->category_id;
        chosen.score = c.score;
        chosen.propensity = c.propensity;
        chosen.value = c.offer->value;
        outcome.offers.push_back(std::move(chosen));
    }
    int group_slots = 0;
    for (const auto& group : flow.groups) group_slots += group.slots;
    const bool at_limit = outcome.offers.size() >= static_cast<size_t>(outcome.limit) && outcome.limit < group_slots;
    for (size_t i = 0; i < candidates.size(); ++i)
        if (!kept[i])
            stages.remove(*candidates[i].offer, [&] {
                return flow.groups.empty() || at_limit ? "below the limit of " + std::to_string(outcome.limit)
                                                       : std::string("no slot left in the flow's groups");
            });
    stages.end(outcome.offers.size());
    outcome.stages = stages.take();
    return outcome;
}

}  // namespace kaireon::decision
