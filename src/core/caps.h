// caps.h - system-wide frequency caps (SPEC 6.4), pure: which caps an
// impression touches, the cap's period (UTC day, ISO week from Monday,
// month) and reset_at, and the gate of pipeline step 4 that leaves out the
// scopes of exhausted caps. The counts come from the database
// (src/pg/cap_state.cpp): every impression recorded by kaireon_respond in
// the cap's current period, matching its scope.
#pragma once
#include "core/pure.h"

#include "core/catalog_compiled.h"
#include "core/json.h"
#include "core/pipeline.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kaireon::caps {

// matches tells whether an impression of `offer_id` (category
// `category_id`, on `channel`) counts toward `cap`: scope offer, category or
// channel and its scopeId.
bool matches(const catalog::CompiledCap& cap, std::string_view offer_id, std::string_view category_id,
             std::string_view channel);

// period_start returns the first second of the cap's period that contains
// `now`; reset_at the first second of the next one.
int64_t period_start(const catalog::CompiledCap& cap, int64_t now);
int64_t reset_at(const catalog::CompiledCap& cap, int64_t now);

// counter_name names the cap's count: it changes with the scope, so a cap
// whose scope is edited counts the impressions of its new scope.
std::string counter_name(const catalog::CompiledCap& cap);

// exhausted: the cap is enabled and its count reached max_volume.
bool exhausted(const catalog::CompiledCap& cap, int64_t count);

// CountedCap is a cap with its count in the current period.
struct CountedCap {
    const catalog::CompiledCap* cap;
    int64_t count;
};

// Gate is pipeline step 4's frequency caps: an offer is left out when an
// exhausted cap matches it (its id, its category, or the channel of the
// creative that would show it). The reason names the cap:
// `frequency_cap "winback-daily" exhausted: 20/20 per day at scope=offer:winback`.
class Gate final : public decision::PolicyGate {
public:
    explicit Gate(std::vector<CountedCap> exhausted_caps);
    decision::GateVerdict judge(const catalog::CompiledOffer& offer, const catalog::CompiledCreative& creative,
                                const decision::CustomerView& customer) const override;
    bool empty() const { return exhausted_.empty(); }

private:
    std::vector<CountedCap> exhausted_;
};

// cap_json is a cap as respond's answer lists it: {"capId", "name",
// "currentCount", "maxVolume", "exhausted", "resetAt"}.
Json cap_json(const catalog::CompiledCap& cap, int64_t count, int64_t now);

}  // namespace kaireon::caps
