#include "core/caps.h"

#include "core/license.h"
#include "core/period.h"
#include "core/sha256.h"

namespace kaireon::caps {
namespace {

CalendarPeriod calendar(const catalog::CompiledCap& cap) {
    return cadence_period(cap.period).value_or(CalendarPeriod::Month);
}

std::string_view per(const catalog::CompiledCap& cap) {
    if (cap.period == "daily") return "day";
    if (cap.period == "weekly") return "week";
    return "month";
}

}  // namespace

bool matches(const catalog::CompiledCap& cap, std::string_view offer_id, std::string_view category_id,
             std::string_view channel) {
    if (cap.scope == "offer") return cap.scope_id == offer_id;
    if (cap.scope == "category") return !category_id.empty() && cap.scope_id == category_id;
    if (cap.scope == "channel") return !channel.empty() && cap.scope_id == channel;
    return false;
}

int64_t period_start(const catalog::CompiledCap& cap, int64_t now) { return kaireon::period_start(calendar(cap), now); }
int64_t reset_at(const catalog::CompiledCap& cap, int64_t now) { return kaireon::period_end(calendar(cap), now); }

std::string counter_name(const catalog::CompiledCap& cap) {
    return joined_name("cap:", {cap.id, cap.scope, cap.scope_id});
}

bool exhausted(const catalog::CompiledCap& cap, int64_t count) { return cap.enabled && count >= cap.max_volume; }

Gate::Gate(std::vector<CountedCap> exhausted_caps) : exhausted_(std::move(exhausted_caps)) {}

decision::GateVerdict Gate::judge(const catalog::CompiledOffer& offer, const catalog::CompiledCreative& creative,
                                  const decision::CustomerView&) const {
    for (const CountedCap& counted : exhausted_) {
        const catalog::CompiledCap& cap = *counted.cap;
        if (!matches(cap, offer.id, offer.category_id, creative.channel_id)) continue;
        return {"frequency_cap \"" + cap.id + "\" exhausted: " + std::to_string(counted.count) + "/" +
               std::to_string(cap.max_volume) + " per " + std::string(per(cap)) + " at scope=" + cap.scope + ":" +
               cap.scope_id, {}};
    }
    return {};
}

Json cap_json(const catalog::CompiledCap& cap, int64_t count, int64_t now) {
    Json out = json_object(6);
    out["capId"] = cap.id;
    out["name"] = cap.name;
    out["currentCount"] = count;
    out["maxVolume"] = cap.max_volume;
    out["exhausted"] = count >= cap.max_volume;
    out["resetAt"] = license::iso8601(reset_at(cap, now));
    return out;
}

}  // namespace kaireon::caps
