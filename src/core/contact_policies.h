// contact_policies.h - the contact policies of pipeline step 4 (SPEC 6.3),
// pure: which of the customer's interactions a decision needs, the
// behavioral metrics they give, and the gate that judges each candidate
// against the tenant's enabled policies in priority order.
//
// The customer's history comes from the database as an interaction
// summary: the customer's recorded interactions grouped by what policies
// and metrics look at (offer, category, creative, channel, placement,
// outcome, kind) and by time bucket, the buckets being cut at the instants
// the decision's windows start (the local day, ISO week and month in the
// customer's time zone; now minus a cooldown, a lookback, a metric window).
// Counting "since instant b" is then a sum over buckets, exact to the second.
// Time-of-day facts come from a LocalClock the caller supplies (the
// PostgreSQL layer reads PostgreSQL's time zone data; tests pass fixed ones).
#pragma once
#include "core/pure.h"

#include "core/catalog_compiled.h"
#include "core/json.h"
#include "core/pipeline.h"

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kaireon::policies {

// LocalTime is an instant as a time zone sees it: ISO weekday (1 = Monday),
// hour and minute, and the first second (Unix time) of its day, ISO week and
// month there.
struct LocalTime {
    int weekday = 1, hour = 0, minute = 0;
    int64_t day_start = 0, week_start = 0, month_start = 0;
};

// LocalClock gives LocalTime of `now` in time zone `zone` ("" or "UTC":
// UTC). The zone names come from the catalog, which checked them.
using LocalClock = std::function<LocalTime(const std::string& zone, int64_t now)>;

// utc_time is LocalClock for UTC (period.h's calendar).
LocalTime utc_time(int64_t now);

// Needs is what one decision asks of the customer's history.
struct Needs {
    bool history = false;            // false: no query at all
    std::vector<int64_t> boundaries;  // ascending, distinct: where buckets are cut
    std::optional<int64_t> since;     // the oldest instant any window needs (none: all time, maxTotal)
    std::vector<std::string> outcomes;  // outcome types needed besides impressions
};

// needs returns what the tenant's policies and metrics need for a customer
// in time zone `zone` at `now` (budgets are counted apart: budget_spent).
Needs needs(const catalog::CompiledCatalog& catalog, const std::string& zone, int64_t now, const LocalClock& clock);

// bucket_of returns the bucket of an interaction that occurred at `at`
// (Unix seconds, rounded down): the number of boundaries at or before it,
// as PostgreSQL's width_bucket(at, boundaries) counts (0 before the first).
int bucket_of(const std::vector<int64_t>& boundaries, int64_t at);

// Bucket is a group of the customer's interactions: the same offer,
// category, creative, channel, placement, outcome and kind, that occurred
// in the same bucket (the number of boundaries at or before their
// occurred_at, as PostgreSQL's width_bucket counts).
struct Bucket {
    std::string offer_id, category_id, creative_id, channel, placement, outcome, kind;
    int bucket = 0;
    int64_t count = 0;
    double value = 0;     // sum of the interactions' values
    int64_t last_at = 0;  // the latest occurred_at (Unix seconds)
};

// History is the customer's interaction summary.
class History {
public:
    History() = default;
    History(std::vector<int64_t> boundaries, std::vector<Bucket> buckets);

    // Totals over the buckets that `match` accepts, occurred at or after
    // `since` (none: all); `since` must be a boundary.
    struct Totals {
        int64_t count = 0;
        double value = 0;
        std::optional<int64_t> last_at;
    };
    Totals totals(const std::function<bool(const Bucket&)>& match, std::optional<int64_t> since) const;

private:
    std::vector<int64_t> boundaries_;
    std::vector<Bucket> buckets_;
};

// metric_values computes every metric of the catalog from the history
// (a metric with no interactions is 0).
std::map<std::string, double, std::less<>> metric_values(const catalog::CompiledCatalog& catalog,
                                                         const History& history, int64_t now);

// BudgetSpent is what each budgeted offer has spent in its budget period,
// over all customers (impressions, or the sum of the values of its
// interactions), by offer id.
using BudgetSpent = std::map<std::string, double, std::less<>>;

// Gate judges candidates against the catalog's enabled contact policies, in
// priority order (then by id). A bypassable policy does not block an offer
// an allow_override names, nor a mandatory offer (except a frequency_cap or
// a cross_channel_cap); such a lift is noted. The first policy that blocks
// gives the reason, in SPEC 6.3's words:
// `frequency_cap exceeded: 3/day at scope=global`.
// A Gate serves one decision (its history is one customer's): a verdict
// that is the same for every candidate is computed once, and forgotten
// only when judge() is asked about another CustomerView object.
class Gate final : public decision::PolicyGate {
public:
    Gate(const catalog::CompiledCatalog& catalog, const History& history, BudgetSpent budgets, const Json& context,
         int64_t now, const LocalClock& clock);

    decision::GateVerdict judge(const catalog::CompiledOffer& offer, const catalog::CompiledCreative& creative,
                                const decision::CustomerView& customer) const override;
    std::vector<decision::RivalGroup> rival_groups(const catalog::CompiledOffer& offer,
                                                   const catalog::CompiledCreative& creative,
                                                   const decision::CustomerView& customer) const override;
    bool empty() const { return catalog_.policies.empty(); }

private:
    std::optional<std::string> blocks(const catalog::CompiledPolicy& policy, const catalog::CompiledOffer& offer,
                                      const catalog::CompiledCreative& creative,
                                      const decision::CustomerView& customer) const;
    bool applies(const catalog::CompiledPolicy& policy, const catalog::CompiledOffer& offer,
                 const catalog::CompiledCreative& creative, const decision::CustomerView& customer) const;
    bool at_scope(const catalog::CompiledPolicy& policy, const Bucket& bucket) const;
    bool member(const catalog::CompiledPolicy& policy, std::string_view offer_id) const;
    std::optional<std::string> lift(const catalog::CompiledPolicy& policy, const catalog::CompiledOffer& offer) const;

    // evaluate is blocks() without the memo.
    std::optional<std::string> evaluate(const catalog::CompiledPolicy& policy, const catalog::CompiledOffer& offer,
                                        const catalog::CompiledCreative& creative,
                                        const decision::CustomerView& customer) const;

    // PolicyState is what the gate knows of one policy (same index as
    // catalog_.policies) for this decision: a mutual exclusion's window
    // read once, and the verdict of a policy whose verdict is the same for
    // every candidate it applies to (it counts at its own scope, or looks
    // only at the customer), computed once per customer.
    // Its type and scope are parsed here too: judging compares them for
    // every candidate, and an enum costs less than a string each time.
    enum class Type : uint8_t {
        FrequencyCap, CustomerTotalCap, CrossChannelCap, Cooldown, BudgetExhausted, OutcomeBased,
        SegmentExclusion, TimeWindow, MutualExclusion, CategorySuppression, MetricCondition, AllowOverride,
        Unknown,  // a type this version does not know: it blocks nothing
    };
    enum class Scope : uint8_t { Global, Category, Subcategory, Offer, Creative, Channel, Placement, Segment, Unknown };
    struct PolicyState {
        Type type = Type::Unknown;
        Scope scope = Scope::Unknown;
        bool shared = false;
        int64_t within_days = 0;  // mutual_exclusion's withinDays
        std::optional<std::optional<std::string>> verdict;
    };
    PolicyState& state_of(const catalog::CompiledPolicy& policy) const;  // states_ is the decision's memo
    // The customer and context values of the decision, for the policies'
    // conditions (created for the first customer judged, as the verdicts).
    catalog::SubjectValues& subject(const decision::CustomerView& customer) const;

    const catalog::CompiledCatalog& catalog_;
    const History& history_;
    mutable std::vector<PolicyState> states_;
    mutable const decision::CustomerView* verdicts_for_ = nullptr;
    mutable std::optional<catalog::SubjectValues> subject_;
    BudgetSpent budgets_;
    const Json& context_;
    int64_t now_;
    LocalClock clock_;  // a copy: callers may pass a temporary
    std::vector<std::string> overridden_;  // offers an allow_override names
};

// budget_period_start returns the first second of the budget's period that
// contains `now` (0 for "total"); budget_counter names its count (the
// metric and period are part of it: changing them starts another count).
int64_t budget_period_start(const catalog::CompiledBudget& budget, int64_t now);
int64_t budget_period_end(const catalog::CompiledBudget& budget, int64_t now);  // INT64_MAX for "total"
std::string budget_counter(const std::string& offer_id, const catalog::CompiledBudget& budget);

// oldest_counted is the oldest instant (Unix seconds) whose interactions
// something current of the catalog still counts at `now`: its contact
// policies' and metrics' windows (a day earlier than in UTC, for the
// customers' time zones), its frequency caps' current periods and its
// budgets' current periods. None when something counts every interaction
// ever: a maxTotal, a "total" budget, an active experiment (its report and
// its arms count from its start). Time-partition retention keeps what is
// newer (the partition_maintenance job).
std::optional<int64_t> oldest_counted(const catalog::CompiledCatalog& catalog, int64_t now);

// budgeted tells whether the catalog has an enabled budget_exhausted policy
// (budgets are only counted for decisions then).
bool budgeted(const catalog::CompiledCatalog& catalog);

}  // namespace kaireon::policies
