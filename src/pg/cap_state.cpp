#include "core/caps.h"
#include "core/catalog_compiled.h"
#include "core/license.h"
#include "core/pipeline.h"

#include "pg/cap_state.h"

#include "pg/clock.h"
#include "pg/events.h"
#include "pg/limit_gate.h"
#include "pg/spi.h"

namespace kaireon::pg {
namespace {

// impressions counts the cap's impressions in the period [start, end) (the
// gate's slow path, once per cap, scope and period per server lifetime).
CountedRows impressions(const std::string& tenant, const catalog::CompiledCap& cap, int64_t start, int64_t end) {
    return count_rows(
        "SELECT count(*)::text FROM kaireon.interactions "
        "WHERE tenant_id = $1 AND kind = 'impression' AND recorded_at >= $2 AND recorded_at < $3 "
        "  AND CASE $4 WHEN 'offer' THEN offer_id WHEN 'category' THEN category_id ELSE channel END = $5",
        {text_arg(tenant), SpiArg{TIMESTAMPTZOID, TimestampTzGetDatum(timestamp_from_seconds(start))},
         SpiArg{TIMESTAMPTZOID, TimestampTzGetDatum(timestamp_from_seconds(end))}, text_arg(cap.scope),
         text_arg(cap.scope_id)});
}

int64_t admit(const std::string& tenant, const catalog::CompiledCap& cap, int64_t now, int64_t amount) {
    const int64_t start = caps::period_start(cap, now);
    const int64_t end = caps::reset_at(cap, now);
    Admission admission = admit_counted(GateKey{tenant, caps::counter_name(cap), start},
                                        static_cast<double>(amount), std::nullopt,
                                        [&] { return impressions(tenant, cap, start, end); });
    return static_cast<int64_t>(admission.before) + amount;
}

}  // namespace

int64_t cap_count(const std::string& tenant, const catalog::CompiledCap& cap, int64_t now) {
    return admit(tenant, cap, now, 0);
}

std::vector<caps::CountedCap> exhausted_caps(const std::string& tenant, const catalog::CompiledCatalog& catalog,
                                             int64_t now) {
    std::vector<caps::CountedCap> out;
    for (const catalog::CompiledCap& cap : catalog.caps) {
        if (!cap.enabled) continue;
        int64_t count = cap_count(tenant, cap, now);
        if (caps::exhausted(cap, count)) out.push_back({&cap, count});
    }
    return out;
}

std::vector<caps::CountedCap> matching_caps(const std::string& tenant, const catalog::CompiledCatalog& catalog,
                                            const std::string& offer_id, const std::string& category_id,
                                            const std::string& channel, int64_t now) {
    std::vector<caps::CountedCap> out;
    for (const catalog::CompiledCap& cap : catalog.caps) {
        if (caps::matches(cap, offer_id, category_id, channel)) out.push_back({&cap, cap_count(tenant, cap, now)});
    }
    return out;
}

std::vector<caps::CountedCap> count_impression(const std::string& tenant, const catalog::CompiledCatalog& catalog,
                                               const std::string& offer_id, const std::string& category_id,
                                               const std::string& channel, const std::string& customer_id,
                                               int64_t now) {
    std::vector<caps::CountedCap> out;
    for (const catalog::CompiledCap& cap : catalog.caps) {
        if (!caps::matches(cap, offer_id, category_id, channel)) continue;
        const int64_t count = admit(tenant, cap, now, 1);
        out.push_back({&cap, count});
        if (!caps::exhausted(cap, count)) continue;
        // Sent by the impression that reached the cap (or, if its
        // transaction rolls back, by a later one past it); never waits for
        // another transaction sending it.
        const std::string period = license::iso8601(caps::period_start(cap, now));
        const std::string dedupe = "cap.exhausted:" + cap.id + ":" + period;
        if (known_emitted(tenant, dedupe)) continue;
        emit_event_once_remembered(tenant, "cap.exhausted",
                                   Json{{"capId", cap.id},
                                        {"name", cap.name},
                                        {"scope", cap.scope},
                                        {"scopeId", cap.scope_id},
                                        {"maxVolume", cap.max_volume},
                                        {"currentCount", count},
                                        {"customerId", customer_id},
                                        {"channel", channel.empty() ? Json(nullptr) : Json(channel)},
                                        {"periodStart", period},
                                        {"resetAt", license::iso8601(caps::reset_at(cap, now))}},
                                   dedupe, false);
    }
    return out;
}

}  // namespace kaireon::pg
