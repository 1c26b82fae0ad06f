#include "pg/offer_stats.h"

#include "pg/guard.h"
#include "pg/spi.h"
#include "pg/xact_state.h"

#include <set>
#include <unordered_map>
#include <vector>

extern "C" {
#include "utils/timestamp.h"
}

namespace kaireon::pg {
namespace {

int g_max_age_ms = 1000;

struct CachedStats {
    TimestampTz loaded_at = 0;
    std::shared_ptr<const bayes::Stats> stats;
};

// Per backend: a decision reads at most this old a picture; this backend's
// own responses make it stale at once (a session sees what it recorded).
std::unordered_map<std::string, CachedStats>& cache() {
    static std::unordered_map<std::string, CachedStats> entries;
    return entries;
}

// TouchedStats are the tenants whose statistics this transaction changed:
// their cached pictures are dropped when it (or a subtransaction) ends, so
// that a rolled-back response is never kept in the cache.
class TouchedStats final : public XactState {
public:
    void add(const std::string& tenant) {
        tenants_.insert(tenant);
        cache().erase(tenant);
    }
    void reset_at_end(bool) noexcept override {
        forget();
        tenants_.clear();
    }
    void reset_subxact(SubTransactionId) noexcept override { forget(); }

private:
    void forget() noexcept {
        for (const auto& tenant : tenants_) cache().erase(tenant);
    }
    std::set<std::string> tenants_;
};

TouchedStats& touched() { return registered_state<TouchedStats>(); }

// add_to_slot adds to one key's count: to a slot no open transaction holds
// (rows this transaction holds included), else to a new slot.
void add_to_slot(SpiSession& spi, const std::string& tenant, const std::string& offer_id, const std::string& segment,
                 int impressions, int positives) {
    const SpiArg args[] = {text_arg(tenant), text_arg(offer_id), text_arg(segment),
                           text_arg(std::to_string(impressions)), text_arg(std::to_string(positives))};
    for (int attempt = 0; attempt < 32; ++attempt) {
        if (spi.execute("UPDATE kaireon.offer_stat_slots "
                        "SET impressions = impressions + $4::bigint, positives = positives + $5::bigint "
                        "WHERE tenant_id = $1 AND offer_id = $2 AND segment = $3 AND slot = "
                        "  (SELECT slot FROM kaireon.offer_stat_slots "
                        "   WHERE tenant_id = $1 AND offer_id = $2 AND segment = $3 "
                        "   LIMIT 1 FOR UPDATE SKIP LOCKED)",
                        {args[0], args[1], args[2], args[3], args[4]}) == 1)
            return;
        // Every slot is held by an open transaction: a new one (a random
        // number, so that racing makers do not meet on one key).
        if (spi.execute("INSERT INTO kaireon.offer_stat_slots (tenant_id, offer_id, segment, slot, impressions, positives) "
                        "VALUES ($1, $2, $3, floor(random() * 2147483647)::integer, $4::bigint, $5::bigint) "
                        "ON CONFLICT DO NOTHING",
                        {args[0], args[1], args[2], args[3], args[4]}) == 1)
            return;
    }
    throw Error(ErrorCode::Internal, "could not find or make a free statistics slot for offer \"" + offer_id + "\"");
}

}  // namespace

void count_offer_stats(const std::string& tenant, const catalog::CompiledCatalog& catalog, const std::string& offer_id,
                       const std::string& customer_id, const std::string& kind) {
    if (!catalog.counts_offer_stats || (kind != "impression" && kind != "positive")) return;
    const int impressions = kind == "impression" ? 1 : 0;
    const int positives = kind == "positive" ? 1 : 0;
    AsExtensionOwner owner;
    SpiSession spi;
    std::vector<std::string> segments = {""};
    if (catalog.offer_stats_by_segment) {
        spi.execute("SELECT DISTINCT s FROM kaireon.customers c CROSS JOIN LATERAL unnest(c.segments) AS s "
                    "WHERE c.tenant_id = $1 AND c.id = $2 AND s <> '' ORDER BY 1",
                    {text_arg(tenant), text_arg(customer_id)}, true);
        for (uint64 i = 0; i < spi.rows(); ++i) segments.push_back(spi.text(i, 0).value_or(""));
    }
    // Keys in one order in every transaction.
    for (const auto& segment : segments) add_to_slot(spi, tenant, offer_id, segment, impressions, positives);
    touched().add(tenant);
}

std::shared_ptr<const bayes::Stats> offer_stats(const std::string& tenant) {
    const TimestampTz now = GetCurrentTimestamp();
    auto& entries = cache();
    auto it = entries.find(tenant);
    if (it != entries.end() && g_max_age_ms > 0 &&
        !TimestampDifferenceExceeds(it->second.loaded_at, now, g_max_age_ms))
        return it->second.stats;
    auto stats = std::make_shared<bayes::Stats>();
    {
        AsExtensionOwner owner;
        SpiSession spi;
        LatestSnapshot latest;
        spi.execute("SELECT offer_id, segment, sum(impressions)::text, sum(positives)::text "
                    "FROM kaireon.offer_stat_slots WHERE tenant_id = $1 GROUP BY 1, 2",
                    {text_arg(tenant)}, true);
        for (uint64 i = 0; i < spi.rows(); ++i) {
            bayes::Counts counts{std::stod(spi.text(i, 2).value_or("0")), std::stod(spi.text(i, 3).value_or("0"))};
            std::string offer = spi.text(i, 0).value_or("");
            std::string segment = spi.text(i, 1).value_or("");
            if (segment.empty()) stats->offers[offer] = counts;
            else stats->segments[{offer, segment}] = counts;
        }
    }
    entries[tenant] = {now, stats};
    return stats;
}

void rebuild_offer_stats(const std::string& tenant) {
    AsExtensionOwner owner;
    SpiSession spi;
    // What responding transactions committed before the caller held them
    // back, whatever this transaction's isolation level: the recount and
    // the slots' sums both read the latest committed data, and the
    // difference goes into a new slot, so no slot written after this
    // transaction's snapshot is ever missed or rewritten.
    std::string offers, segments, impressions, positives;
    {
        LatestSnapshot latest;
        spi.execute(
            "WITH recounted AS ("
            "  SELECT i.offer_id, s.segment, count(*) FILTER (WHERE i.kind = 'impression') AS impressions, "
            "         count(*) FILTER (WHERE i.kind = 'positive') AS positives "
            "  FROM kaireon.interactions i "
            "  LEFT JOIN kaireon.customers c ON c.tenant_id = i.tenant_id AND c.id = i.customer_id "
            "  CROSS JOIN LATERAL (SELECT '' UNION ALL "
            "                      SELECT DISTINCT x FROM unnest(c.segments) AS x WHERE x <> '') AS s(segment) "
            "  WHERE i.tenant_id = $1 AND i.kind IN ('impression', 'positive') "
            "  GROUP BY 1, 2), "
            "counted AS ("
            "  SELECT offer_id, segment, sum(impressions) AS impressions, sum(positives) AS positives "
            "  FROM kaireon.offer_stat_slots WHERE tenant_id = $1 GROUP BY 1, 2), "
            "corrections AS ("
            "  SELECT coalesce(r.offer_id, c.offer_id) AS offer_id, coalesce(r.segment, c.segment) AS segment, "
            "         coalesce(r.impressions, 0) - coalesce(c.impressions, 0) AS impressions, "
            "         coalesce(r.positives, 0) - coalesce(c.positives, 0) AS positives "
            "  FROM recounted r FULL JOIN counted c USING (offer_id, segment)) "
            "SELECT array_agg(offer_id)::text, array_agg(segment)::text, array_agg(impressions)::text, "
            "       array_agg(positives)::text "
            "FROM corrections WHERE impressions <> 0 OR positives <> 0",
            {text_arg(tenant)}, true);
        offers = spi.text(0, 0).value_or("{}");
        segments = spi.text(0, 1).value_or("{}");
        impressions = spi.text(0, 2).value_or("{}");
        positives = spi.text(0, 3).value_or("{}");
    }
    spi.execute("INSERT INTO kaireon.offer_stat_slots (tenant_id, offer_id, segment, slot, impressions, positives) "
                "SELECT $1, o, s, floor(random() * 2147483647)::integer, i, p "
                "FROM unnest($2::text[], $3::text[], $4::bigint[], $5::bigint[]) AS u(o, s, i, p) "
                "ON CONFLICT DO NOTHING",
                {text_arg(tenant), text_arg(offers), text_arg(segments), text_arg(impressions), text_arg(positives)});
    touched().add(tenant);
}

void offer_stats_init() {
    DefineCustomIntVariable("kaireon.model_stats_max_age", "How old the offer statistics a decision reads may be.",
                            "Bayesian models read impressions and positives through a per-backend cache refreshed "
                            "when older than this; 0 reads them at every decision.",
                            &g_max_age_ms, 1000, 0, 3600 * 1000, PGC_USERSET, GUC_UNIT_MS, nullptr, nullptr, nullptr);
}

}  // namespace kaireon::pg
