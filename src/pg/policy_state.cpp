#include "core/catalog_compiled.h"
#include "core/contact_policies.h"
#include "core/respond.h"

#include "pg/policy_state.h"

#include "pg/catalog_state.h"
#include "pg/clock.h"
#include "pg/guard.h"
#include "pg/jsonb.h"
#include "pg/limit_gate.h"
#include "pg/spi.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <tuple>

extern "C" {
#include "pgtime.h"
#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/datum.h"
#include "utils/numeric.h"
#include "utils/datetime.h"
#include "utils/timestamp.h"
}

namespace kaireon::pg {
namespace {

// utc_of returns the Unix time of local midnight starting the civil date
// (year, month, day) in `tz` (DST-exact: the zone's offset at that instant).
int64_t utc_of(int year, int month, int day, pg_tz* tz) {
    struct pg_tm tm = {};
    tm.tm_year = year;
    tm.tm_mon = month;
    tm.tm_mday = day;
    const int offset = DetermineTimeZoneOffset(&tm, tz);  // seconds west of UTC
    const int64_t local = static_cast<int64_t>(date2j(year, month, day) - date2j(1970, 1, 1)) * 86400;
    return local + offset;
}

// text_array makes an array Datum of a query's parameter: typed, so that
// the executor does not parse a literal for every row.
Datum text_array(const std::vector<std::string>& items) {
    std::vector<Datum> elements;
    elements.reserve(items.size());
    for (const std::string& item : items) elements.push_back(text_datum(item));
    return pg_call([&] {
        return PointerGetDatum(
            construct_array(elements.data(), static_cast<int>(elements.size()), TEXTOID, -1, false, TYPALIGN_INT));
    });
}

// The loader of a budget's count: its interactions in the period.
CountedRows budget_rows(const std::string& tenant, const catalog::CompiledOffer& offer, int64_t start, int64_t end) {
    const bool impressions = offer.budget->metric == "impressions";
    return count_rows(impressions ? "SELECT count(*)::text FROM kaireon.interactions "
                                    "WHERE tenant_id = $1 AND kind = 'impression' AND offer_id = $2 "
                                    "  AND recorded_at >= to_timestamp($3::float8) "
                                    "  AND recorded_at < to_timestamp($4::float8)"
                                  : "SELECT coalesce(sum(value) FILTER (WHERE value > 0), 0)::text FROM kaireon.interactions "
                                    "WHERE tenant_id = $1 AND offer_id = $2 "
                                    "  AND recorded_at >= to_timestamp($3::float8) "
                                    "  AND recorded_at < to_timestamp($4::float8)",
                      {text_arg(tenant), text_arg(offer.id), text_arg(std::to_string(start)),
                       text_arg(std::to_string(std::min<int64_t>(end, 253402300799)))});  // "total": up to 9999
}

double admit_budget(const std::string& tenant, const catalog::CompiledOffer& offer, int64_t now, double amount) {
    const int64_t start = policies::budget_period_start(*offer.budget, now);
    const int64_t end = policies::budget_period_end(*offer.budget, now);
    Admission admission =
        admit_counted(GateKey{tenant, policies::budget_counter(offer.id, *offer.budget), start}, amount, std::nullopt,
                      [&] { return budget_rows(tenant, offer, start, end); });
    return admission.before + amount;
}

}  // namespace

policies::LocalTime local_time(const std::string& zone, int64_t now) {
    pg_tz* tz = nullptr;
    if (!zone.empty() && zone != "UTC") tz = pg_call([&] { return pg_tzset(zone.c_str()); });
    if (tz == nullptr) return policies::utc_time(now);
    return pg_call([&] {
        struct pg_tm tm = {};
        fsec_t fsec = 0;
        int offset = 0;
        if (timestamp2tm(timestamp_from_seconds(now), &offset, &tm, &fsec, nullptr, tz) != 0)
            return policies::utc_time(now);  // out of range: cannot happen for a transaction's time
        policies::LocalTime local;
        const int julian = date2j(tm.tm_year, tm.tm_mon, tm.tm_mday);
        const int weekday = j2day(julian);  // 0 = Sunday
        local.weekday = weekday == 0 ? 7 : weekday;
        local.hour = tm.tm_hour;
        local.minute = tm.tm_min;
        local.day_start = utc_of(tm.tm_year, tm.tm_mon, tm.tm_mday, tz);
        int year = 0, month = 0, day = 0;
        j2date(julian - (local.weekday - 1), &year, &month, &day);
        local.week_start = utc_of(year, month, day, tz);
        local.month_start = utc_of(tm.tm_year, tm.tm_mon, 1, tz);
        return local;
    });
}

namespace {

constexpr int64_t kRecordedAfterNowAtMost = 24 * 3600;

// latest_recorded_at bounds the time partition key (recorded_at) of the
// interactions a history reads, so that the executor leaves out the
// partitions pg_partman made ahead (premake, time_partitioning): each
// partition left in cost an index scan's set-up on every decision, empty or
// not (the current month, 4 ahead and the default: 13 % more per recorded
// decision, 16 % per dry run than without partitions). A row recorded more
// than a day after this transaction's time could only come from a
// transaction that started a day later and committed while this one still
// runs.
TimestampTz latest_recorded_at() { return timestamp_from_seconds(now_seconds() + kRecordedAfterNowAtMost); }

// earliest_recorded_at bounds it from below: an interaction that occurred
// at or after `since` was recorded at most respond::kMaxFutureSkew before
// (the table's CHECK interactions_recorded_after_occurred, 0.18). Without
// it a history read every partition retention kept: 24 months of past
// partitions took a dry run from 114 to 189 µs, 60 months to 314 µs.
// (A lifetime count has no window: it reads every partition.)
TimestampTz earliest_recorded_at(int64_t since) {
    return timestamp_from_seconds(since - static_cast<int64_t>(respond::kMaxFutureSkew));
}

}  // namespace

policies::History customer_history(const std::string& tenant, const std::string& customer_id,
                                   const policies::Needs& needs) {
    AsExtensionOwner owner;
    SpiSession spi;
    // The interactions that policies and metrics count, as stored. Their
    // time buckets between the windows' boundaries are counted here (the
    // SQL's extract(epoch) went through numeric and text for every row), and
    // they are grouped here rather than by a GROUP BY, whose aggregate and
    // sort nodes cost more to start on every decision than a customer's few
    // rows cost to group. Two statements, so that a window's start is an
    // index condition (the lookup is (customer_id, tenant_id, occurred_at)):
    // the customer's older rows are not fetched to be filtered out.
    const SpiArg tenant_arg = text_arg(tenant), customer_arg = text_arg(customer_id),
                 outcomes_arg{TEXTARRAYOID, text_array(needs.outcomes)},
                 latest_arg{TIMESTAMPTZOID, TimestampTzGetDatum(latest_recorded_at())};
    if (needs.since) {
        spi.execute_generic(
            "SELECT offer_id, category_id, creative_id, channel, placement, outcome, kind::text, value, occurred_at "
            "FROM kaireon.interactions "
            "WHERE customer_id = $2 AND tenant_id = $1 AND occurred_at >= $5 "
            "  AND recorded_at <= $4 AND recorded_at >= $6 "
            "  AND (kind = 'impression' OR outcome = ANY ($3))",
            {tenant_arg, customer_arg, outcomes_arg, latest_arg,
             SpiArg{TIMESTAMPTZOID, TimestampTzGetDatum(timestamp_from_seconds(*needs.since))},
             SpiArg{TIMESTAMPTZOID, TimestampTzGetDatum(earliest_recorded_at(*needs.since))}},
            true);
    } else {
        spi.execute_generic(
            "SELECT offer_id, category_id, creative_id, channel, placement, outcome, kind::text, value, occurred_at "
            "FROM kaireon.interactions "
            "WHERE customer_id = $2 AND tenant_id = $1 AND recorded_at <= $4 "
            "  AND (kind = 'impression' OR outcome = ANY ($3))",
            {tenant_arg, customer_arg, outcomes_arg, latest_arg}, true);
    }
    // Grouped by views into the result's rows (a customer may have hundreds
    // of interactions in the windows): strings only for each group.
    using Key = std::tuple<std::string_view, std::string_view, std::string_view, std::string_view, std::string_view,
                           std::string_view, std::string_view, int>;
    struct Group {
        int64_t count = 0;
        int64_t last_at = 0;
        std::optional<Datum> sum;  // numeric, exact as sum(value) is: thresholds compare the total
    };
    std::map<Key, Group> groups;  // in key order, as the GROUP BY's sort gave them
    for (uint64 i = 0; i < spi.rows(); ++i) {
        bool null = false;
        const int64_t at = seconds_from_timestamp(DatumGetTimestampTz(spi.datum(i, 8, &null)));
        Key key{spi.text_view(i, 0).value_or(""), spi.text_view(i, 1).value_or(""), spi.text_view(i, 2).value_or(""),
                spi.text_view(i, 3).value_or(""), spi.text_view(i, 4).value_or(""), spi.text_view(i, 5).value_or(""),
                spi.text_view(i, 6).value_or(""), policies::bucket_of(needs.boundaries, at)};
        Group& group = groups[key];
        ++group.count;
        const Datum value = spi.datum(i, 7, &null);
        if (!null) {
            group.sum = !group.sum ? pg_call([&] { return datumCopy(value, false, -1); })
                                   : pg_call([&] { return DirectFunctionCall2(numeric_add, *group.sum, value); });
        }
        group.last_at = group.count == 1 ? at : std::max(group.last_at, at);  // (before 1970 too)
    }
    std::vector<policies::Bucket> buckets;
    buckets.reserve(groups.size());
    for (const auto& [key, group] : groups) {
        policies::Bucket b;
        b.offer_id = std::get<0>(key);
        b.category_id = std::get<1>(key);
        b.creative_id = std::get<2>(key);
        b.channel = std::get<3>(key);
        b.placement = std::get<4>(key);
        b.outcome = std::get<5>(key);
        b.kind = std::get<6>(key);
        b.bucket = std::get<7>(key);
        b.count = group.count;
        b.last_at = group.last_at;
        if (group.sum) {
            const char* text = pg_call([&] { return DatumGetCString(DirectFunctionCall1(numeric_out, *group.sum)); });
            b.value = std::stod(text);
        }
        buckets.push_back(std::move(b));
    }
    return policies::History(needs.boundaries, std::move(buckets));
}

policies::History read_customer_history(const std::string& tenant, const catalog::CompiledCatalog& catalog,
                                        decision::CustomerView& view, int64_t now) {
    policies::History history;
    if (catalog.policies.empty() && !catalog.uses_metrics) return history;
    const policies::Needs needs = policies::needs(catalog, view.timezone, now, local_time);
    if (needs.history) history = customer_history(tenant, view.customer.id, needs);
    if (catalog.uses_metrics) view.customer.metrics = policies::metric_values(catalog, history, now);
    return history;
}

CustomerPolicies read_customer_policies(const std::string& tenant, const catalog::CompiledCatalog& catalog,
                                        decision::CustomerView& view, int64_t now) {
    CustomerPolicies out;
    out.history = read_customer_history(tenant, catalog, view, now);
    if (policies::budgeted(catalog)) {
        for (uint32_t index : catalog.budgeted_offers) {
            const catalog::CompiledOffer& offer = catalog.offers.at(index);
            if (offer.status == catalog::OfferStatus::Active) out.budgets[offer.id] = budget_spent(tenant, offer, now);
        }
    }
    return out;
}

double budget_spent(const std::string& tenant, const catalog::CompiledOffer& offer, int64_t now) {
    return admit_budget(tenant, offer, now, 0);
}

void count_budget(const std::string& tenant, const catalog::CompiledOffer& offer, const std::string& kind,
                  std::optional<double> value, int64_t now) {
    if (!offer.budget) return;
    if (offer.budget->metric == "impressions") {
        if (kind == "impression") admit_budget(tenant, offer, now, 1);
    } else if (value && *value > 0) {  // a refund (a negative value) gives nothing back
        admit_budget(tenant, offer, now, *value);
    }
}

}  // namespace kaireon::pg

using namespace kaireon;

// kaireon._interactions_floor() is the oldest instant whose interactions some
// tenant's catalog still counts now (policies::oldest_counted over every
// tenant of the database; -infinity when one counts them all, or its
// catalog does not compile): time-partition retention keeps what is newer.
KAIREON_FUNCTION(kaireon_interactions_floor) {
    std::vector<std::string> tenants;
    {
        pg::AsExtensionOwner owner;
        pg::SpiSession spi;
        spi.execute("SELECT t.tenant_id FROM kaireon.tenants t", {}, true);
        for (uint64 row = 0; row < spi.rows(); ++row) tenants.push_back(spi.text(row, 0).value_or(""));
    }
    const int64_t now = pg::now_seconds();
    int64_t oldest = now;
    for (const std::string& tenant : tenants) {
        std::optional<int64_t> counted;
        try {
            counted = policies::oldest_counted(*pg::compiled_catalog(tenant), now);
        } catch (const pg::PgError&) {
            throw;  // PostgreSQL's error state must reach the guard
        } catch (const Error&) {
            counted = std::nullopt;  // a catalog that does not compile: keep everything
        }
        if (!counted) PG_RETURN_TIMESTAMPTZ(DT_NOBEGIN);
        oldest = std::min(oldest, *counted);
    }
    PG_RETURN_TIMESTAMPTZ(pg::timestamp_from_seconds(oldest));
}
