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

// Cached is a backend's picture of one tenant's counts: a decision reads
// at most kaireon.model_stats_max_age old a picture; this backend's own
// responses make it stale at once (a session sees what it recorded).
template <typename Stats>
struct Cached {
    TimestampTz loaded_at = 0;
    std::shared_ptr<const Stats> stats;
};

template <typename Stats>
std::unordered_map<std::string, Cached<Stats>>& cache() {
    static std::unordered_map<std::string, Cached<Stats>> entries;
    return entries;
}

void forget_tenant(const std::string& tenant) noexcept {
    cache<bayes::Stats>().erase(tenant);
    cache<ArmStats>().erase(tenant);
}

// TouchedStats are the tenants whose counts this transaction changed:
// their cached pictures are dropped when it (or a subtransaction) ends, so
// that a rolled-back response is never kept in the cache.
class TouchedStats final : public XactState {
public:
    void add(const std::string& tenant) {
        tenants_.insert(tenant);
        forget_tenant(tenant);
    }
    void reset_at_end(bool) noexcept override {
        forget();
        tenants_.clear();
    }
    void reset_subxact(SubTransactionId) noexcept override { forget(); }

private:
    void forget() noexcept {
        for (const auto& tenant : tenants_) forget_tenant(tenant);
    }
    std::set<std::string> tenants_;
};

TouchedStats& touched() { return registered_state<TouchedStats>(); }

// SlotTable is a table of counting slots: impressions and positives per
// (tenant, key1, key2), a key's count the sum of its slots. Its statements
// are written once (respond adds to a slot at every impression).
struct SlotTable {
    std::string table, key1, key2;
    std::string add, make, sums, insert_corrections;

    SlotTable(std::string t, std::string k1, std::string k2)
        : table(std::move(t)), key1(std::move(k1)), key2(std::move(k2)) {
        const std::string key = "tenant_id = $1 AND " + key1 + " = $2 AND " + key2 + " = $3";
        add = "UPDATE " + table + " SET impressions = impressions + $4::bigint, positives = positives + $5::bigint " +
              "WHERE " + key + " AND slot = (SELECT slot FROM " + table + " WHERE " + key +
              " LIMIT 1 FOR UPDATE SKIP LOCKED)";
        // A random slot number, so that racing makers do not meet on one key.
        make = "INSERT INTO " + table + " (tenant_id, " + key1 + ", " + key2 + ", slot, impressions, positives) " +
               "VALUES ($1, $2, $3, floor(random() * 2147483647)::integer, $4::bigint, $5::bigint) " +
               "ON CONFLICT DO NOTHING";
        sums = "SELECT " + key1 + ", " + key2 + ", sum(impressions)::text, sum(positives)::text FROM " + table +
               " WHERE tenant_id = $1 GROUP BY 1, 2";
        insert_corrections = "INSERT INTO " + table + " (tenant_id, " + key1 + ", " + key2 +
                          ", slot, impressions, positives) " +
                          "SELECT $1, a, b, floor(random() * 2147483647)::integer, i, p " +
                          "FROM unnest($2::text[], $3::text[], $4::bigint[], $5::bigint[]) AS u(a, b, i, p) " +
                          "ON CONFLICT DO NOTHING";
    }
};

const SlotTable& offer_slots() {
    static const SlotTable table{"kaireon.offer_stat_slots", "offer_id", "segment"};
    return table;
}

const SlotTable& arm_slots() {
    static const SlotTable table{"kaireon.bandit_arm_slots", "experiment_id", "variant"};
    return table;
}

// add_to_slot adds to one key's count: to a slot no open transaction holds
// (rows this transaction holds included), else to a new slot.
void add_to_slot(SpiSession& spi, const SlotTable& t, const std::string& tenant, const std::string& key1,
                 const std::string& key2, int impressions, int positives) {
    const SpiArg args[] = {text_arg(tenant), text_arg(key1), text_arg(key2), text_arg(std::to_string(impressions)),
                           text_arg(std::to_string(positives))};
    for (int attempt = 0; attempt < 32; ++attempt) {
        if (spi.execute(t.add.c_str(), {args[0], args[1], args[2], args[3], args[4]}) == 1) return;
        // Every slot is held by an open transaction: a new one.
        if (spi.execute(t.make.c_str(), {args[0], args[1], args[2], args[3], args[4]}) == 1) return;
    }
    throw Error(ErrorCode::Internal, "could not find or make a free counting slot in " + t.table + " for \"" + key1 +
                                         "\", \"" + key2 + "\"");
}

// cached_sums returns the tenant's counts per key of `t` through the
// backend's cache, `put` filling a picture from each key's sums.
template <typename Stats, typename Put>
std::shared_ptr<const Stats> cached_sums(const SlotTable& t, const std::string& tenant, Put put) {
    const TimestampTz now = GetCurrentTimestamp();
    auto& entries = cache<Stats>();
    auto it = entries.find(tenant);
    if (it != entries.end() && g_max_age_ms > 0 &&
        !TimestampDifferenceExceeds(it->second.loaded_at, now, g_max_age_ms))
        return it->second.stats;
    auto stats = std::make_shared<Stats>();
    {
        AsExtensionOwner owner;
        SpiSession spi;
        LatestSnapshot latest;
        spi.execute(t.sums.c_str(), {text_arg(tenant)}, true);
        for (uint64 i = 0; i < spi.rows(); ++i)
            put(*stats, spi.text(i, 0).value_or(""), spi.text(i, 1).value_or(""),
                bayes::Counts{std::stod(spi.text(i, 2).value_or("0")), std::stod(spi.text(i, 3).value_or("0"))});
    }
    entries[tenant] = {now, stats};
    return stats;
}

// add_corrections adds to `t` a correction slot per key whose recount
// (`recounted`: a query of k1, k2, impressions, positives of tenant $1
// over the latest committed data) differs from its slots' sums; `keys`
// narrows both to the keys recounted (a condition on the table's columns).
void add_corrections(SpiSession& spi, const SlotTable& t, const std::string& tenant, const std::string& recounted,
                     const std::string& keys, std::initializer_list<SpiArg> args) {
    // What responding transactions committed before the caller held them
    // back, whatever this transaction's isolation level: the recount and
    // the slots' sums both read the latest committed data, and the
    // difference goes into a new slot, so no slot written after this
    // transaction's snapshot is ever missed or rewritten.
    const std::string& k1 = t.key1;
    const std::string& k2 = t.key2;
    std::string key1s, key2s, impressions, positives;
    {
        LatestSnapshot latest;
        const std::string sql =
            "WITH recounted AS (" + recounted + "), "
            "counted AS ("
            "  SELECT " + k1 + " AS k1, " + k2 + " AS k2, sum(impressions) AS impressions, sum(positives) AS positives "
            "  FROM " + t.table + " WHERE tenant_id = $1" + keys + " GROUP BY 1, 2), "
            "corrections AS ("
            "  SELECT coalesce(r.k1, c.k1) AS k1, coalesce(r.k2, c.k2) AS k2, "
            "         coalesce(r.impressions, 0) - coalesce(c.impressions, 0) AS impressions, "
            "         coalesce(r.positives, 0) - coalesce(c.positives, 0) AS positives "
            "  FROM recounted r FULL JOIN counted c ON c.k1 = r.k1 AND c.k2 = r.k2) "
            "SELECT array_agg(k1)::text, array_agg(k2)::text, array_agg(impressions)::text, "
            "       array_agg(positives)::text "
            "FROM corrections WHERE impressions <> 0 OR positives <> 0";
        spi.execute(sql.c_str(), args, true);
        key1s = spi.text(0, 0).value_or("{}");
        key2s = spi.text(0, 1).value_or("{}");
        impressions = spi.text(0, 2).value_or("{}");
        positives = spi.text(0, 3).value_or("{}");
    }
    spi.execute(t.insert_corrections.c_str(),
                {text_arg(tenant), text_arg(key1s), text_arg(key2s), text_arg(impressions), text_arg(positives)});
    touched().add(tenant);
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
    for (const auto& segment : segments) add_to_slot(spi, offer_slots(), tenant, offer_id, segment, impressions, positives);
    touched().add(tenant);
}

std::shared_ptr<const bayes::Stats> offer_stats(const std::string& tenant) {
    return cached_sums<bayes::Stats>(offer_slots(), tenant, [](bayes::Stats& stats, std::string offer, std::string segment,
                                                             bayes::Counts counts) {
        if (segment.empty()) stats.offers[std::move(offer)] = counts;
        else stats.segments[{std::move(offer), std::move(segment)}] = counts;
    });
}

void rebuild_offer_stats(const std::string& tenant) {
    AsExtensionOwner owner;
    SpiSession spi;
    add_corrections(spi, offer_slots(), tenant,
                    "SELECT i.offer_id AS k1, s.segment AS k2, "
                    "       count(*) FILTER (WHERE i.kind = 'impression') AS impressions, "
                    "       count(*) FILTER (WHERE i.kind = 'positive') AS positives "
                    "FROM kaireon.interactions i "
                    "LEFT JOIN kaireon.customers c ON c.tenant_id = i.tenant_id AND c.id = i.customer_id "
                    "CROSS JOIN LATERAL (SELECT '' UNION ALL "
                    "                    SELECT DISTINCT x FROM unnest(c.segments) AS x WHERE x <> '') AS s(segment) "
                    "WHERE i.tenant_id = $1 AND i.kind IN ('impression', 'positive') "
                    "GROUP BY 1, 2",
                    "", {text_arg(tenant)});
}

void count_bandit_arm(const std::string& tenant, const catalog::CompiledCatalog& catalog,
                      const std::string& experiment_id, const std::string& variant, const std::string& kind) {
    if (!catalog.counts_bandit_arms || variant.empty() || (kind != "impression" && kind != "positive")) return;
    auto it = catalog.experiments.find(experiment_id);
    if (it == catalog.experiments.end() || !it->second.is_bandit() || it->second.bandit_over_offers()) return;
    AsExtensionOwner owner;
    SpiSession spi;
    add_to_slot(spi, arm_slots(), tenant, experiment_id, variant, kind == "impression" ? 1 : 0, kind == "positive" ? 1 : 0);
    touched().add(tenant);
}

std::shared_ptr<const ArmStats> bandit_arm_stats(const std::string& tenant) {
    return cached_sums<ArmStats>(arm_slots(), tenant, [](ArmStats& stats, std::string experiment, std::string variant,
                                                       bayes::Counts counts) {
        stats[{std::move(experiment), std::move(variant)}] = counts;
    });
}

void rebuild_bandit_arms(const std::string& tenant, const std::string& experiment_id) {
    AsExtensionOwner owner;
    SpiSession spi;
    add_corrections(spi, arm_slots(), tenant,
                    "SELECT experiment_id AS k1, variant AS k2, "
                    "       count(*) FILTER (WHERE kind = 'impression') AS impressions, "
                    "       count(*) FILTER (WHERE kind = 'positive') AS positives "
                    "FROM kaireon.interactions "
                    "WHERE tenant_id = $1 AND experiment_id = $2 AND variant IS NOT NULL "
                    "  AND kind IN ('impression', 'positive') "
                    "GROUP BY 1, 2",
                    " AND experiment_id = $2", {text_arg(tenant), text_arg(experiment_id)});
}

void offer_stats_init() {
    DefineCustomIntVariable("kaireon.model_stats_max_age", "How old the offer statistics a decision reads may be.",
                            "Bayesian models read impressions and positives through a per-backend cache refreshed "
                            "when older than this; 0 reads them at every decision.",
                            &g_max_age_ms, 1000, 0, 3600 * 1000, PGC_USERSET, GUC_UNIT_MS, nullptr, nullptr, nullptr);
}

}  // namespace kaireon::pg
