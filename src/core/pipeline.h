// pipeline.h - the decision pipeline of kaireon_recommend (SPEC 6.2), over a
// compiled catalog, in SPEC's order: candidates, qualification, consent,
// contact policies and frequency caps (a seam), scoring, ranking, groups and
// placements. Each stage records why an offer left. Pure and deterministic:
// the same catalog, customer, request and time give the same answer.
#pragma once
#include "core/pure.h"

#include "core/catalog_compiled.h"
#include "core/decision.h"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace kaireon::decision {

// CustomerView is what the database supplies about the customer: attributes
// and segments (the request's overrides already applied) and consents by
// channel id.
struct CustomerView {
    catalog::Customer customer;
    std::map<std::string, bool, std::less<>> consents;
    std::string timezone;  // "" when unknown
};

// consent_required tells whether a channel type needs an explicit grant
// (email, sms, push: opt-in) rather than only the absence of a refusal.
bool consent_required(std::string_view channel_type);

// GateVerdict is what step 4 says of an offer shown through one creative:
// the reason it is blocked (nothing: it may be shown), and the policies
// that would have blocked it but were lifted (allow_override, a mandatory
// offer), for the trace.
struct GateVerdict {
    std::optional<std::string> blocked;
    std::vector<std::string> lifted;
};

// RivalGroup is a mutual exclusion an offer belongs to (SPEC 6.3,
// mutual_exclusion): only the best ranked member of a group stays in a
// decision. `yields` is false when the policy is lifted for this offer: it
// stays even below another member (and still keeps lower ones out).
struct RivalGroup {
    std::string id;
    bool yields = true;
};

// PolicyGate is the seam of step 4 (contact policies, then frequency caps):
// judge tells whether an offer shown through `creative` is blocked for the
// customer; rival_groups serves step 6 (ranking), which keeps the best
// ranked member of each group (of the offers as shown through `creative`,
// the one the decision would show).
class PolicyGate {
public:
    virtual ~PolicyGate() = default;
    virtual GateVerdict judge(const catalog::CompiledOffer& offer, const catalog::CompiledCreative& creative,
                              const CustomerView& customer) const = 0;
    virtual std::vector<RivalGroup> rival_groups(const catalog::CompiledOffer&, const catalog::CompiledCreative&,
                                                 const CustomerView&) const {
        return {};
    }
};

// GateChain asks its gates in order (contact policies, then frequency
// caps): the first block wins; lifts add up.
class GateChain final : public PolicyGate {
public:
    explicit GateChain(std::vector<const PolicyGate*> gates) : gates_(std::move(gates)) {}
    GateVerdict judge(const catalog::CompiledOffer& offer, const catalog::CompiledCreative& creative,
                      const CustomerView& customer) const override;
    std::vector<RivalGroup> rival_groups(const catalog::CompiledOffer& offer, const catalog::CompiledCreative& creative,
                                         const CustomerView& customer) const override;

private:
    std::vector<const PolicyGate*> gates_;
};

// Score is what scoring gives an offer: the score ranking orders by, and the
// propensity (a probability) when the model gives one.
struct Score {
    double score = 0;
    std::optional<double> propensity;
};

// Scorer is step 5: it scores one candidate offer for the customer, once
// per decision (a scorer may keep what it computed for the decision). The
// built-in ones are in scoring.h; custom models score in src/pg.
class Scorer {
public:
    virtual ~Scorer() = default;
    virtual Score score(const catalog::CompiledOffer& offer, const CustomerView& customer, const Json& context,
                        double now) const = 0;
};

// StageTrace is one stage of a traced decision.
struct StageTrace {
    std::string stage;  // candidates, qualification, consent, policies, scoring, ranking, placement
    size_t in = 0, out = 0;
    int64_t nanos = 0;
    std::vector<std::pair<std::string, std::string>> removed;  // offer id, reason
    std::vector<std::pair<std::string, std::string>> lifted;   // offer id, why a policy did not block it
};

// Chosen is one offer of the answer.
struct Chosen {
    int rank = 0;
    std::string offer_id, creative_id, placement, category;
    double score = 0;
    std::optional<double> propensity;
    double value = 0;
};

struct Outcome {
    std::vector<Chosen> offers;
    std::vector<StageTrace> stages;  // filled when traced
    int limit = kDefaultLimit;       // the limit that applied
};

// Clock returns a monotonic time in nanoseconds, for stage durations
// (injectable: tests pass a fake one).
using Clock = int64_t (*)();

// run decides for one customer. `now` is Unix seconds (date windows,
// days_since). `scorer` null: builtin_scorer (scoring.h) of the flow's model (an unknown
// model or a type it cannot score is Error(BadRequest)). Feature gates
// (arbitration, model types) are the caller's.
Outcome run(const catalog::CompiledCatalog& catalog, const catalog::CompiledFlow& flow, const Request& request,
            const CustomerView& customer, const PolicyGate* gate, double now, bool traced, Clock clock = nullptr,
            const Scorer* scorer = nullptr);

}  // namespace kaireon::decision
