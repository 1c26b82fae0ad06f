// contact_policies_test.cpp - the contact policies of pipeline step 4 (SPEC
// 6.3, docs/catalog.md "Policy configs", src/core/contact_policies.h): what a
// decision needs of the customer's history (needs), the interaction summary
// and its buckets (History, as PostgreSQL's width_bucket numbers them), the
// behavioral metrics, the gate of each of the 12 policy types with its exact
// trace reason, scopes, priority order, allow_override and mandatory offers,
// budgets, utc_time, the compiled policies/metrics/categories, and the
// pipeline with a policies gate (and a GateChain with the frequency caps).
//
// Histories are built as src/pg/policy_state.cpp's query builds them: the
// test's interactions are filtered by `since` and the needed outcomes, then
// grouped by what policies look at and by bucket (summarise below).
#include "core/contact_policies.h"

#include "core/caps.h"
#include "core/catalog.h"
#include "core/catalog_compiled.h"
#include "core/decision.h"
#include "core/expr.h"
#include "core/pipeline.h"

#include "catalog_rows.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

namespace kaireon::policies {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

using catalog::CompiledCatalog;
using decision::CustomerView;
using decision::GateVerdict;

constexpr int64_t kMinute = 60;
constexpr int64_t kHour = 3600;
constexpr int64_t kDay = 86400;
// Saturday 2026-03-14T15:30:00Z and the UTC day, ISO week and month it is in.
constexpr int64_t kNow = 1773502200;
constexpr int64_t kDayStart = 1773446400;    // 2026-03-14T00:00:00Z
constexpr int64_t kWeekStart = 1773014400;   // Monday 2026-03-09T00:00:00Z
constexpr int64_t kMonthStart = 1772323200;  // 2026-03-01T00:00:00Z

Json json(std::string_view text) { return Json::parse(text); }

// ---- building catalogs -------------------------------------------------------------

// Catalog collects validated rows by document key and compiles them.
class Catalog : public kaireon::test_support::CatalogRows<Catalog> {
public:
    // policy adds a policy {"id", "type", "config", ...extra}.
    Catalog& policy(const std::string& id, const std::string& type, Json config, Json extra = Json::object()) {
        Json p = {{"id", id}, {"type", type}, {"config", std::move(config)}};
        for (const auto& [k, v] : extra.items()) p[k] = v;
        return add_json("policies", p);
    }
    Catalog& metric(const std::string& id, Json definition) {
        return add_json("metrics", Json{{"id", id}, {"definition", std::move(definition)}});
    }
};

// at is a policy's scope.
Json at(const std::string& scope, const std::string& id) { return {{"scope", scope}, {"scopeId", id}}; }

// base is the catalog every test starts from: categories cards > premium and
// loans; offers gold and plat (premium), silver (cards), loan (loans), misc
// (none), each with a web creative; gold also on email, loan also on sms;
// outcome types; a metric; a flow on the web.
Catalog base() {
    Catalog c;
    c.add("channels", R"J({"id": "web", "type": "web"})J");
    c.add("channels", R"J({"id": "email", "type": "email"})J");
    c.add("channels", R"J({"id": "sms", "type": "sms"})J");
    c.add("placements", R"J({"id": "hero", "channelId": "web"})J");
    c.add("placements", R"J({"id": "side", "channelId": "web", "slots": 3})J");
    c.add("placements", R"J({"id": "inbox", "channelId": "email"})J");
    c.add("categories", R"J({"id": "cards", "name": "Cards"})J");
    c.add("categories", R"J({"id": "premium", "parentId": "cards"})J");
    c.add("categories", R"J({"id": "loans"})J");
    c.add("outcomeTypes", R"J({"id": "impression", "kind": "impression"})J");
    c.add("outcomeTypes", R"J({"id": "click", "kind": "positive"})J");
    c.add("outcomeTypes", R"J({"id": "dismiss", "kind": "negative"})J");
    c.add("outcomeTypes", R"J({"id": "complain", "kind": "negative"})J");
    c.add("outcomeTypes", R"J({"id": "purchase", "kind": "positive"})J");
    c.offer("gold", {{"categoryId", "premium"}, {"priority", 80}});
    c.offer("silver", {{"categoryId", "cards"}, {"priority", 70}});
    c.offer("plat", {{"categoryId", "premium"}, {"priority", 60}});
    c.offer("loan", {{"categoryId", "loans"}, {"priority", 50}});
    c.offer("misc", {{"priority", 40}});
    c.creative("gold-web", "gold", "web", "hero").creative("gold-mail", "gold", "email", "inbox");
    c.creative("silver-web", "silver", "web", "side").creative("plat-web", "plat", "web", "hero");
    c.creative("loan-web", "loan", "web").creative("loan-sms", "loan", "sms");
    c.creative("misc-web", "misc", "web");
    c.add("flows", R"J({"id": "f", "channelId": "web"})J");
    return c;
}

// ---- clocks ----------------------------------------------------------------------------

LocalClock utc_clock() {
    return [](const std::string&, int64_t now) { return utc_time(now); };
}

// Paris in March 2026 (before summer time) is UTC+1.
LocalTime paris_at_now() {
    LocalTime t = utc_time(kNow);
    t.hour = 16;
    t.day_start = kDayStart - kHour;
    t.week_start = kWeekStart - kHour;
    t.month_start = kMonthStart - kHour;
    return t;
}

// Zones is a fake LocalClock: fixed LocalTimes by zone (others: UTC), and
// the calls it answered.
struct Zones {
    std::map<std::string, LocalTime> zones;
    std::vector<std::pair<std::string, int64_t>> calls;

    LocalClock clock() {
        return [this](const std::string& zone, int64_t now) {
            calls.emplace_back(zone, now);
            auto it = zones.find(zone);
            return it == zones.end() ? utc_time(now) : it->second;
        };
    }
    std::vector<std::string> asked() const {
        std::vector<std::string> out;
        for (const auto& [zone, now] : calls) out.push_back(zone);
        return out;
    }
};

// ---- histories -------------------------------------------------------------------------

// Event is one recorded interaction (kaireon.interactions).
struct Event {
    std::string offer, category, creative, channel = "web", placement, outcome = "impression", kind = "impression";
    int64_t at = 0;
    double value = 0;

    Event on(std::string channel_id, std::string creative_id = "", std::string placement_id = "") const {
        Event e = *this;
        e.channel = std::move(channel_id);
        if (!creative_id.empty()) e.creative = std::move(creative_id);
        e.placement = std::move(placement_id);
        return e;
    }
    Event as(std::string outcome_id, std::string kind_name) const {
        Event e = *this;
        e.outcome = std::move(outcome_id);
        e.kind = std::move(kind_name);
        return e;
    }
    Event worth(double v) const {
        Event e = *this;
        e.value = v;
        return e;
    }
    Event in_category(std::string c) const {
        Event e = *this;
        e.category = std::move(c);
        return e;
    }
};

// shown: an impression of `offer` through its web creative at `at`, with
// the category the base catalog gives it.
Event shown(const std::string& offer, int64_t at) {
    static const std::map<std::string, std::string> categories = {
        {"gold", "premium"}, {"plat", "premium"}, {"silver", "cards"}, {"loan", "loans"}};
    auto it = categories.find(offer);
    Event e;
    e.offer = offer;
    e.category = it == categories.end() ? "" : it->second;
    e.creative = offer + "-web";
    e.at = at;
    return e;
}

std::vector<Event> times(int n, const Event& e) { return std::vector<Event>(static_cast<size_t>(n), e); }

std::vector<Event> operator+(std::vector<Event> a, const std::vector<Event>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

// bucket_of numbers an instant as width_bucket(t, boundaries) does: the
// number of boundaries at or before it.
int bucket_of(const std::vector<int64_t>& boundaries, int64_t t) {
    return static_cast<int>(std::upper_bound(boundaries.begin(), boundaries.end(), t) - boundaries.begin());
}

// summarise does what customer_history's query does: the interactions since
// `needs.since` that are impressions or of a needed outcome, grouped by
// offer, category, creative, channel, placement, outcome, kind and bucket.
History summarise(const Needs& needs, const std::vector<Event>& events) {
    using Key = std::tuple<std::string, std::string, std::string, std::string, std::string, std::string, std::string, int>;
    std::map<Key, Bucket> groups;
    for (const Event& e : events) {
        if (needs.since && e.at < *needs.since) continue;
        if (e.kind != "impression" &&
            std::find(needs.outcomes.begin(), needs.outcomes.end(), e.outcome) == needs.outcomes.end())
            continue;
        const int b = needs.boundaries.empty() ? 0 : bucket_of(needs.boundaries, e.at);
        Key key{e.offer, e.category, e.creative, e.channel, e.placement, e.outcome, e.kind, b};
        auto [it, fresh] = groups.try_emplace(key);
        Bucket& into = it->second;
        if (fresh) into = {e.offer, e.category, e.creative, e.channel, e.placement, e.outcome, e.kind, b, 0, 0, e.at};
        into.count += 1;
        into.value += e.value;
        into.last_at = std::max(into.last_at, e.at);
    }
    std::vector<Bucket> buckets;
    for (auto& [key, group] : groups) buckets.push_back(std::move(group));
    return History(needs.boundaries, std::move(buckets));
}

CustomerView customer(std::vector<std::string> segments = {}, const std::string& timezone = "") {
    CustomerView view;
    view.customer.id = "c1";
    view.customer.segments = std::move(segments);
    view.timezone = timezone;
    return view;
}

// Scene is one customer's decision: the catalog, the customer's history,
// the budgets and the clock; judge asks a policies::Gate about one offer.
struct Scene {
    CompiledCatalog cat;
    std::vector<Event> events;
    CustomerView view = customer();
    BudgetSpent budgets;
    Json context = Json::object();
    int64_t now = kNow;
    LocalClock clock = utc_clock();

    explicit Scene(const Catalog& c) : cat(c.build()) {}

    Needs need() const { return needs(cat, view.timezone, now, clock); }

    GateVerdict judge(const std::string& offer_id, const std::string& creative_id = "") const {
        const History history = summarise(need(), events);
        const Gate gate(cat, history, budgets, context, now, clock);
        const catalog::CompiledOffer* offer = cat.offer(offer_id);
        if (offer == nullptr) throw std::logic_error("no offer " + offer_id);
        const std::string wanted = creative_id.empty() ? offer_id + "-web" : creative_id;
        for (const auto& creative : offer->creatives)
            if (creative.id == wanted) return gate.judge(*offer, creative, view);
        throw std::logic_error("no creative " + wanted);
    }
    std::optional<std::string> blocked(const std::string& offer_id, const std::string& creative_id = "") const {
        return judge(offer_id, creative_id).blocked;
    }
};

// ---- utc_time --------------------------------------------------------------------------

void expect_local(const LocalTime& t, int weekday, int hour, int minute, int64_t day, int64_t week, int64_t month) {
    EXPECT_EQ(t.weekday, weekday);
    EXPECT_EQ(t.hour, hour);
    EXPECT_EQ(t.minute, minute);
    EXPECT_EQ(t.day_start, day);
    EXPECT_EQ(t.week_start, week);
    EXPECT_EQ(t.month_start, month);
}

TEST(ContactPolicyUtcTime, AnAfternoonSaturday) {
    expect_local(utc_time(kNow), 6, 15, 30, kDayStart, kWeekStart, kMonthStart);
    expect_local(utc_time(kNow + 29 * kMinute + 59), 6, 15, 59, kDayStart, kWeekStart, kMonthStart);
}

TEST(ContactPolicyUtcTime, SundayIsSevenAndMondayStartsTheWeek) {
    // Sunday 2026-03-15T23:59:59Z, then Monday 2026-03-16T00:00:00Z.
    expect_local(utc_time(kDayStart + 2 * kDay - 1), 7, 23, 59, kDayStart + kDay, kWeekStart, kMonthStart);
    expect_local(utc_time(kDayStart + 2 * kDay), 1, 0, 0, kDayStart + 2 * kDay, kDayStart + 2 * kDay, kMonthStart);
    // Sunday 2026-03-01 is the month's first day, in the week of Monday 2026-02-23.
    expect_local(utc_time(kMonthStart + 12 * kHour + 5 * kMinute), 7, 12, 5, kMonthStart, kMonthStart - 6 * kDay,
                 kMonthStart);
}

TEST(ContactPolicyUtcTime, TheEpochAndNegativeTimes) {
    // 1970-01-01 was a Thursday; its ISO week began on Monday 1969-12-29.
    expect_local(utc_time(0), 4, 0, 0, 0, -3 * kDay, 0);
    // 1969-12-31T23:59:59Z, a Wednesday in December.
    expect_local(utc_time(-1), 3, 23, 59, -kDay, -3 * kDay, -31 * kDay);
    // 1969-12-28T06:00:00Z, a Sunday: its week began on Monday 1969-12-22.
    expect_local(utc_time(-4 * kDay + 6 * kHour), 7, 6, 0, -4 * kDay, -10 * kDay, -31 * kDay);
    // 1969-12-29T00:00:00Z exactly: a Monday.
    expect_local(utc_time(-3 * kDay), 1, 0, 0, -3 * kDay, -3 * kDay, -31 * kDay);
}

// ---- needs -----------------------------------------------------------------------------

// ---- oldest_counted (time-partition retention) ------------------------------------------

TEST(OldestCounted, NothingCountedKeepsNothingOld) {
    EXPECT_EQ(oldest_counted(base().build(), kNow), kNow);
}

TEST(OldestCounted, PolicyWindowsADayEarlierCapsAndBudgetsAtTheirPeriods) {
    Catalog c = base();
    c.policy("fc", "frequency_cap", {{"maxPerWeek", 10}});
    EXPECT_EQ(oldest_counted(c.build(), kNow), kWeekStart - kDay);  // any zone's week: a day before UTC's

    Catalog cool = base();
    cool.policy("cd", "cooldown", {{"cooldownHours", 48}});
    // A cooldown's window starts a second after now - cooldown (needs()).
    EXPECT_EQ(oldest_counted(cool.build(), kNow), kNow - 48 * kHour + 1 - kDay);

    Catalog capped = base();
    capped.add("caps", R"({"id": "cap", "scope": "offer", "scopeId": "gold", "maxVolume": 10, "period": "monthly"})");
    capped.add("caps", R"({"id": "day", "scope": "offer", "scopeId": "plat", "maxVolume": 10, "period": "daily"})");
    EXPECT_EQ(oldest_counted(capped.build(), kNow), kMonthStart);

    Catalog budgets = base();
    budgets.offer("worth", {{"budget", {{"metric", "value"}, {"limit", 250.5}, {"period", "weekly"}}}});
    EXPECT_EQ(oldest_counted(budgets.build(), kNow), kNow);  // no budget_exhausted policy: budgets are not counted
    budgets.policy("bud", "budget_exhausted", Json::object());
    EXPECT_EQ(oldest_counted(budgets.build(), kNow), kWeekStart);
}

TEST(OldestCounted, EverythingWhenSomethingCountsForEver) {
    Catalog total = base();
    total.policy("fc", "frequency_cap", {{"maxPerDay", 3}, {"maxTotal", 5}});
    EXPECT_EQ(oldest_counted(total.build(), kNow), std::nullopt);

    Catalog budget = base();
    budget.offer("a", {{"budget", {{"metric", "impressions"}, {"limit", 1}, {"period", "total"}}}});
    budget.policy("bud", "budget_exhausted", Json::object());
    EXPECT_EQ(oldest_counted(budget.build(), kNow), std::nullopt);

    // An active experiment's report and arms count from its start, which the
    // catalog does not keep; a draft counts nothing yet.
    Catalog ab = base();
    ab.add("flows", R"({"id": "f", "experimentId": "x"})").add("flows", R"({"id": "f-green"})");
    ab.add("experiments", R"({"id": "x", "flowId": "f", "type": "ab", "status": "draft",
                              "variants": [{"id": "blue", "weight": 1, "control": true},
                                           {"id": "green", "weight": 1, "flowId": "f-green"}]})");
    EXPECT_EQ(oldest_counted(ab.build(), kNow), kNow);
    Catalog running = base();
    running.add("flows", R"({"id": "f", "experimentId": "x"})").add("flows", R"({"id": "f-green"})");
    running.add("experiments", R"({"id": "x", "flowId": "f", "type": "ab", "status": "active",
                                   "variants": [{"id": "blue", "weight": 1, "control": true},
                                                {"id": "green", "weight": 1, "flowId": "f-green"}]})");
    EXPECT_EQ(oldest_counted(running.build(), kNow), std::nullopt);
}

TEST(ContactPolicyNeeds, NothingIsNeededWithoutCountingPolicies) {
    Zones zones;
    const LocalClock clock = zones.clock();
    Catalog c = base();
    CompiledCatalog empty = c.build();
    Needs n = needs(empty, "Europe/Paris", kNow, clock);
    EXPECT_FALSE(n.history);
    EXPECT_THAT(n.boundaries, IsEmpty());
    EXPECT_FALSE(n.since);
    EXPECT_THAT(n.outcomes, IsEmpty());

    // Policies that read no history (and a metric nothing uses).
    c.policy("seg", "segment_exclusion", {{"segments", {"minor"}}});
    c.policy("tw", "time_window", {{"allowedDays", {"mon"}}});
    c.policy("ao", "allow_override", {{"offerIds", {"gold"}}});
    c.policy("sup", "category_suppression", {{"categoryIds", {"loans"}}, {"condition", "customer.has_loan"}});
    c.policy("bud", "budget_exhausted", Json::object());
    c.policy("mx", "mutual_exclusion", {{"offerIds", {"gold", "plat"}}, {"withinDays", 0}});
    c.metric("clicks_30d", {{"outcomeTypes", {"click"}}, {"windowDays", 30}});
    CompiledCatalog cat = c.build();
    ASSERT_FALSE(cat.uses_metrics);
    n = needs(cat, "Europe/Paris", kNow, clock);
    EXPECT_FALSE(n.history);
    EXPECT_THAT(n.boundaries, IsEmpty());
    EXPECT_FALSE(n.since);
    EXPECT_THAT(n.outcomes, IsEmpty());
    EXPECT_THAT(zones.calls, IsEmpty());  // no calendar window: the clock is not asked
}

TEST(ContactPolicyNeeds, CalendarWindowsStartAtTheLocalDayWeekAndMonth) {
    Zones zones;
    zones.zones["Europe/Paris"] = paris_at_now();
    const LocalClock clock = zones.clock();

    Catalog c = base();
    c.policy("fc", "frequency_cap", {{"maxPerDay", 3}, {"maxPerWeek", 10}});
    Needs n = needs(c.build(), "Europe/Paris", kNow, clock);
    EXPECT_TRUE(n.history);
    EXPECT_THAT(n.boundaries, ElementsAre(kWeekStart - kHour, kDayStart - kHour));
    EXPECT_EQ(n.since, kWeekStart - kHour);
    EXPECT_THAT(n.outcomes, IsEmpty());
    ASSERT_FALSE(zones.calls.empty());
    for (const auto& [zone, now] : zones.calls) {
        EXPECT_EQ(zone, "Europe/Paris");
        EXPECT_EQ(now, kNow);
    }

    Catalog m = base();
    m.policy("tc", "customer_total_cap", {{"maxPerMonth", 50}});
    n = needs(m.build(), "Europe/Paris", kNow, clock);
    EXPECT_THAT(n.boundaries, ElementsAre(kMonthStart - kHour));
    EXPECT_EQ(n.since, kMonthStart - kHour);

    Catalog x = base();
    x.policy("cc", "cross_channel_cap", {{"channels", {"email", "sms"}}, {"maxPerDay", 2}});
    n = needs(x.build(), "", kNow, clock);  // no zone: UTC
    EXPECT_THAT(n.boundaries, ElementsAre(kDayStart));
    EXPECT_EQ(n.since, kDayStart);
    EXPECT_EQ(zones.calls.back().first, "");
}

TEST(ContactPolicyNeeds, MaxTotalNeedsAllTime) {
    Zones zones;
    const LocalClock clock = zones.clock();
    Catalog c = base();
    c.policy("fc", "frequency_cap", {{"maxTotal", 5}}, at("offer", "gold"));
    Needs n = needs(c.build(), "", kNow, clock);
    EXPECT_TRUE(n.history);
    EXPECT_THAT(n.boundaries, IsEmpty());
    EXPECT_FALSE(n.since);
    EXPECT_THAT(zones.calls, IsEmpty());

    c.policy("fc2", "frequency_cap", {{"maxPerDay", 1}, {"maxTotal", 9}});
    n = needs(c.build(), "", kNow, clock);
    EXPECT_TRUE(n.history);
    EXPECT_THAT(n.boundaries, ElementsAre(kDayStart));
    EXPECT_FALSE(n.since);  // maxTotal: no lower bound even with other windows
}

TEST(ContactPolicyNeeds, CooldownStartsOneSecondAfterNowMinusTheHours) {
    Catalog c = base();
    c.policy("cd", "cooldown", {{"cooldownHours", 24}}, at("offer", "gold"));
    Needs n = needs(c.build(), "", kNow, utc_clock());
    EXPECT_TRUE(n.history);
    EXPECT_THAT(n.boundaries, ElementsAre(kNow - 24 * kHour + 1));
    EXPECT_EQ(n.since, kNow - 24 * kHour + 1);

    Catalog h = base();
    h.policy("cd", "cooldown", {{"cooldownHours", 1.5}});
    n = needs(h.build(), "", kNow, utc_clock());
    EXPECT_THAT(n.boundaries, ElementsAre(kNow - 5400 + 1));
}

TEST(ContactPolicyNeeds, OutcomeBasedLooksBackDaysAndCollectsOutcomes) {
    Catalog c = base();
    c.policy("ob", "outcome_based", {{"outcomeTypes", {"dismiss", "complain"}}, {"lookbackDays", 30}});
    c.policy("ob2", "outcome_based", {{"outcomeTypes", {"complain"}}, {"lookbackDays", 7}, {"maxCount", 2}});
    Needs n = needs(c.build(), "", kNow, utc_clock());
    EXPECT_TRUE(n.history);
    EXPECT_THAT(n.boundaries, ElementsAre(kNow - 30 * kDay, kNow - 7 * kDay));
    EXPECT_EQ(n.since, kNow - 30 * kDay);
    EXPECT_THAT(n.outcomes, UnorderedElementsAre("dismiss", "complain"));  // each once
}

TEST(ContactPolicyNeeds, MutualExclusionWithinDays) {
    Catalog c = base();
    c.policy("mx", "mutual_exclusion", {{"offerIds", {"gold", "plat"}}, {"withinDays", 2}});
    Needs n = needs(c.build(), "", kNow, utc_clock());
    EXPECT_TRUE(n.history);
    EXPECT_THAT(n.boundaries, ElementsAre(kNow - 2 * kDay));
    EXPECT_EQ(n.since, kNow - 2 * kDay);
}

TEST(ContactPolicyNeeds, MetricWindowsOnlyWhenMetricsAreUsed) {
    Catalog c = base();
    c.metric("clicks_30d", {{"outcomeTypes", {"click"}}, {"windowDays", 30}});
    c.metric("spend_90d", {{"outcomeTypes", {"purchase"}}, {"windowDays", 90}, {"aggregation", "sum"}});
    CompiledCatalog unused = c.build();
    EXPECT_FALSE(unused.uses_metrics);
    EXPECT_FALSE(needs(unused, "", kNow, utc_clock()).history);

    c.policy("mc", "metric_condition", {{"metric", "clicks_30d"}, {"op", ">="}, {"value", 10}});
    CompiledCatalog used = c.build();
    EXPECT_TRUE(used.uses_metrics);
    Needs n = needs(used, "", kNow, utc_clock());
    EXPECT_TRUE(n.history);
    EXPECT_THAT(n.boundaries, ElementsAre(kNow - 90 * kDay, kNow - 30 * kDay));  // every metric's window
    EXPECT_EQ(n.since, kNow - 90 * kDay);
    EXPECT_THAT(n.outcomes, UnorderedElementsAre("click", "purchase"));

    // An eligibility that calls metric() also makes metrics needed.
    Catalog e = base();
    e.metric("clicks_30d", {{"outcomeTypes", {"click"}}, {"windowDays", 30}});
    e.offer("m", {{"eligibility", "metric('clicks_30d') >= 3"}});
    n = needs(e.build(), "", kNow, utc_clock());
    EXPECT_THAT(n.boundaries, ElementsAre(kNow - 30 * kDay));
    EXPECT_THAT(n.outcomes, ElementsAre("click"));
}

TEST(ContactPolicyNeeds, BoundariesAreSortedAndDistinct) {
    Catalog c = base();
    c.policy("a", "cooldown", {{"cooldownHours", 24}});
    c.policy("b", "cooldown", {{"cooldownHours", 24}}, at("offer", "gold"));
    c.policy("c", "frequency_cap", {{"maxPerDay", 1}, {"maxPerWeek", 2}, {"maxPerMonth", 3}});
    c.policy("d", "customer_total_cap", {{"maxPerDay", 5}});
    c.policy("e", "mutual_exclusion", {{"categoryIds", {"premium"}}, {"withinDays", 30}});
    c.policy("f", "outcome_based", {{"outcomeTypes", {"dismiss"}}, {"lookbackDays", 30}});
    Needs n = needs(c.build(), "", kNow, utc_clock());
    EXPECT_THAT(n.boundaries,
                ElementsAre(kNow - 30 * kDay, kMonthStart, kWeekStart, kNow - 24 * kHour + 1, kDayStart));
    EXPECT_EQ(n.since, kNow - 30 * kDay);
    EXPECT_TRUE(std::is_sorted(n.boundaries.begin(), n.boundaries.end()));
}

TEST(ContactPolicyNeeds, DisabledPoliciesNeedNothing) {
    Catalog c = base();
    c.policy("fc", "frequency_cap", {{"maxPerDay", 1}}, {{"enabled", false}});
    c.policy("cd", "cooldown", {{"cooldownHours", 2}}, {{"enabled", false}});
    CompiledCatalog cat = c.build();
    EXPECT_THAT(cat.policies, IsEmpty());
    EXPECT_FALSE(needs(cat, "", kNow, utc_clock()).history);
}

// ---- History ---------------------------------------------------------------------------

Bucket bucket(int number, int64_t count, double value = 0, int64_t last_at = 0, std::string kind = "impression") {
    Bucket b;
    b.offer_id = "gold";
    b.kind = std::move(kind);
    b.outcome = b.kind == "impression" ? "impression" : "click";
    b.bucket = number;
    b.count = count;
    b.value = value;
    b.last_at = last_at;
    return b;
}

bool any(const Bucket&) { return true; }

TEST(ContactPolicyHistory, TotalsSinceEachBoundary) {
    const History h({100, 200, 300}, {bucket(0, 1, 0.5, 50), bucket(1, 10, 5, 150), bucket(2, 100, 50, 299),
                                      bucket(3, 1000, 500, 400)});
    auto all = h.totals(any, std::nullopt);
    EXPECT_EQ(all.count, 1111);
    EXPECT_DOUBLE_EQ(all.value, 555.5);
    EXPECT_EQ(all.last_at, 400);
    EXPECT_EQ(h.totals(any, 100).count, 1110);
    EXPECT_EQ(h.totals(any, 200).count, 1100);
    EXPECT_DOUBLE_EQ(h.totals(any, 200).value, 550);
    EXPECT_EQ(h.totals(any, 300).count, 1000);
    EXPECT_EQ(h.totals(any, 300).last_at, 400);
}

TEST(ContactPolicyHistory, MatchFiltersAndLastAtIsTheLatest) {
    const History h({100}, {bucket(1, 2, 0, 180), bucket(1, 3, 7, 170, "positive"), bucket(0, 4, 0, 90)});
    auto impressions = h.totals([](const Bucket& b) { return b.kind == "impression"; }, std::nullopt);
    EXPECT_EQ(impressions.count, 6);
    EXPECT_EQ(impressions.last_at, 180);
    auto clicks = h.totals([](const Bucket& b) { return b.kind == "positive"; }, 100);
    EXPECT_EQ(clicks.count, 3);
    EXPECT_DOUBLE_EQ(clicks.value, 7);
    EXPECT_EQ(clicks.last_at, 170);
    auto none = h.totals([](const Bucket&) { return false; }, std::nullopt);
    EXPECT_EQ(none.count, 0);
    EXPECT_EQ(none.value, 0);
    EXPECT_FALSE(none.last_at);
}

TEST(ContactPolicyHistory, ASinceThatIsNoBoundaryIsALogicError) {
    const History h({100, 200}, {bucket(1, 1)});
    EXPECT_THROW(h.totals(any, 150), std::logic_error);
    EXPECT_THROW(h.totals(any, 99), std::logic_error);
    EXPECT_THROW(h.totals(any, 201), std::logic_error);
    EXPECT_NO_THROW(h.totals(any, 200));
    const History empty;
    EXPECT_THROW(empty.totals(any, 0), std::logic_error);
    EXPECT_EQ(empty.totals(any, std::nullopt).count, 0);
    EXPECT_FALSE(empty.totals(any, std::nullopt).last_at);
}

TEST(ContactPolicyHistory, AnInteractionAtABoundaryIsInsideItsWindow) {
    // As width_bucket numbers them: bucket = boundaries at or before occurred_at.
    EXPECT_EQ(bucket_of({100, 200, 300}, 99), 0);
    EXPECT_EQ(bucket_of({100, 200, 300}, 100), 1);
    EXPECT_EQ(bucket_of({100, 200, 300}, 299), 2);
    EXPECT_EQ(bucket_of({100, 200, 300}, 300), 3);
    Needs n;
    n.history = true;
    n.boundaries = {100, 200, 300};
    n.since = 100;
    const History h = summarise(n, {shown("gold", 99), shown("gold", 100), shown("gold", 199), shown("gold", 200),
                                    shown("gold", 299), shown("gold", 300), shown("gold", 5000)});
    EXPECT_EQ(h.totals(any, 100).count, 6);  // 99 is before `since`: not even read
    EXPECT_EQ(h.totals(any, 200).count, 4);
    EXPECT_EQ(h.totals(any, 300).count, 2);
    EXPECT_EQ(h.totals(any, 300).last_at, 5000);
}

TEST(ContactPolicyHistory, HugeCountsSaturate) {
    const History h({100}, {bucket(1, INT64_MAX - 1), bucket(1, 5), bucket(0, INT64_MAX)});
    EXPECT_EQ(h.totals(any, 100).count, INT64_MAX);
    EXPECT_EQ(h.totals(any, std::nullopt).count, INT64_MAX);
    const History one({}, {bucket(0, INT64_MAX)});
    EXPECT_EQ(one.totals(any, std::nullopt).count, INT64_MAX);
}

// ---- frequency_cap ---------------------------------------------------------------------

TEST(ContactPolicyFrequencyCap, BlocksAtTheDailyMaximumNotBelow) {
    Catalog c = base();
    c.policy("fc", "frequency_cap", {{"maxPerDay", 3}, {"maxPerWeek", 100}});
    Scene s(c);
    s.events = times(2, shown("gold", kDayStart)) + times(5, shown("silver", kDayStart - 1));  // yesterday
    EXPECT_EQ(s.blocked("gold"), std::nullopt);
    EXPECT_EQ(s.blocked("misc"), std::nullopt);
    s.events.push_back(shown("loan", kNow - 1));
    EXPECT_EQ(s.blocked("gold"), "frequency_cap exceeded: 3/day at scope=global");
    EXPECT_EQ(s.blocked("misc"), "frequency_cap exceeded: 3/day at scope=global");
    s.events.push_back(shown("loan", kNow));
    EXPECT_EQ(s.blocked("gold"), "frequency_cap exceeded: 3/day at scope=global");  // past the max too
}

TEST(ContactPolicyFrequencyCap, OnlyImpressionsCount) {
    Catalog c = base();
    c.policy("fc", "frequency_cap", {{"maxPerDay", 2}});
    c.policy("ob", "outcome_based", {{"outcomeTypes", {"click"}}, {"lookbackDays", 1}, {"maxCount", 100}});
    Scene s(c);
    s.events = {shown("gold", kNow - 10), shown("gold", kNow - 9).as("click", "positive"),
                shown("gold", kNow - 8).as("click", "positive")};
    EXPECT_EQ(s.blocked("gold"), std::nullopt);
    s.events.push_back(shown("plat", kNow - 5));
    EXPECT_EQ(s.blocked("gold"), "frequency_cap exceeded: 2/day at scope=global");
}

TEST(ContactPolicyFrequencyCap, WeekAndMonth) {
    Catalog c = base();
    c.policy("fc", "frequency_cap", {{"maxPerWeek", 4}, {"maxPerMonth", 6}});
    Scene s(c);
    s.events = times(3, shown("gold", kWeekStart)) + times(2, shown("gold", kWeekStart - 1)) +
               times(9, shown("gold", kMonthStart - 1));
    EXPECT_EQ(s.blocked("gold"), std::nullopt);  // 3 this week, 5 this month
    s.events.push_back(shown("gold", kMonthStart));
    EXPECT_EQ(s.blocked("gold"), "frequency_cap exceeded: 6/month at scope=global");
    s.events.push_back(shown("gold", kNow));
    EXPECT_EQ(s.blocked("gold"), "frequency_cap exceeded: 4/week at scope=global");  // the week is judged first
}

TEST(ContactPolicyFrequencyCap, TheDayIsReportedBeforeTheWeek) {
    Catalog c = base();
    c.policy("fc", "frequency_cap", {{"maxPerMonth", 1}, {"maxPerWeek", 1}, {"maxPerDay", 1}});
    Scene s(c);
    s.events = {shown("gold", kNow)};
    EXPECT_EQ(s.blocked("gold"), "frequency_cap exceeded: 1/day at scope=global");
}

TEST(ContactPolicyFrequencyCap, MaxTotalCountsAllTime) {
    Catalog c = base();
    c.policy("fc", "frequency_cap", {{"maxTotal", 5}}, at("offer", "gold"));
    Scene s(c);
    s.events = times(4, shown("gold", 1000)) + times(10, shown("silver", kNow));
    EXPECT_EQ(s.blocked("gold"), std::nullopt);
    s.events.push_back(shown("gold", -5000));  // even before 1970
    EXPECT_EQ(s.blocked("gold"), "frequency_cap exceeded: 5 in total at scope=offer:gold");
    EXPECT_EQ(s.blocked("silver"), std::nullopt);  // the scope is gold
}

TEST(ContactPolicyFrequencyCap, TheDayIsTheCustomersLocalDay) {
    Zones zones;
    zones.zones["Europe/Paris"] = paris_at_now();
    Catalog c = base();
    c.policy("fc", "frequency_cap", {{"maxPerDay", 3}});
    Scene s(c);
    s.clock = zones.clock();
    // 23:30 UTC yesterday is 00:30 today in Paris.
    s.events = times(3, shown("gold", kDayStart - 30 * kMinute));
    s.view = customer({}, "Europe/Paris");
    EXPECT_EQ(s.blocked("gold"), "frequency_cap exceeded: 3/day at scope=global");
    for (const auto& zone : zones.asked()) EXPECT_EQ(zone, "Europe/Paris");
    s.view = customer({}, "");  // UTC: yesterday
    EXPECT_EQ(s.blocked("gold"), std::nullopt);
    // 23:00 UTC yesterday is exactly Paris midnight; 22:59:59 is not today there.
    s.view = customer({}, "Europe/Paris");
    s.events = times(2, shown("gold", kDayStart - kHour)) + times(5, shown("gold", kDayStart - kHour - 1));
    EXPECT_EQ(s.blocked("gold"), std::nullopt);
    s.events.push_back(shown("gold", kDayStart - kHour));
    EXPECT_EQ(s.blocked("gold"), "frequency_cap exceeded: 3/day at scope=global");
}

// ---- scopes ----------------------------------------------------------------------------

TEST(ContactPolicyScopes, GlobalCountsEverything) {
    Catalog c = base();
    c.policy("fc", "frequency_cap", {{"maxPerDay", 3}});
    Scene s(c);
    s.events = {shown("gold", kNow), shown("loan", kNow).on("sms", "loan-sms"), shown("misc", kNow)};
    for (const char* offer : {"gold", "silver", "plat", "loan", "misc"})
        EXPECT_EQ(s.blocked(offer), "frequency_cap exceeded: 3/day at scope=global") << offer;
}

TEST(ContactPolicyScopes, CategoryIncludesItsSubcategories) {
    Catalog c = base();
    c.policy("fc", "frequency_cap", {{"maxPerDay", 2}}, at("category", "cards"));
    Scene s(c);
    s.events = {shown("gold", kNow), shown("loan", kNow), shown("misc", kNow)};
    EXPECT_EQ(s.blocked("gold"), std::nullopt);  // 1 impression in cards (gold: premium under cards)
    s.events.push_back(shown("silver", kNow));
    const std::string reason = "frequency_cap exceeded: 2/day at scope=category:cards";
    EXPECT_EQ(s.blocked("gold"), reason);
    EXPECT_EQ(s.blocked("plat"), reason);
    EXPECT_EQ(s.blocked("silver"), reason);
    EXPECT_EQ(s.blocked("loan"), std::nullopt);
    EXPECT_EQ(s.blocked("misc"), std::nullopt);
}

TEST(ContactPolicyScopes, SubcategoryIsExactlyThatCategory) {
    Catalog c = base();
    c.policy("fc", "frequency_cap", {{"maxPerDay", 2}}, at("subcategory", "cards"));
    Scene s(c);
    s.events = {shown("gold", kNow), shown("plat", kNow), shown("silver", kNow)};
    EXPECT_EQ(s.blocked("silver"), std::nullopt);  // only silver's impression is in cards itself
    s.events.push_back(shown("silver", kNow));
    EXPECT_EQ(s.blocked("silver"), "frequency_cap exceeded: 2/day at scope=subcategory:cards");
    EXPECT_EQ(s.blocked("gold"), std::nullopt);  // premium is not cards

    Catalog p = base();
    p.policy("fc", "frequency_cap", {{"maxPerDay", 2}}, at("subcategory", "premium"));
    Scene t(p);
    t.events = {shown("gold", kNow), shown("plat", kNow)};
    EXPECT_EQ(t.blocked("gold"), "frequency_cap exceeded: 2/day at scope=subcategory:premium");
    EXPECT_EQ(t.blocked("silver"), std::nullopt);
}

TEST(ContactPolicyScopes, OfferCreativeChannelPlacement) {
    Catalog c = base();
    c.policy("o", "frequency_cap", {{"maxPerDay", 1}}, at("offer", "plat"));
    c.policy("cr", "frequency_cap", {{"maxPerDay", 1}}, at("creative", "gold-mail"));
    c.policy("ch", "frequency_cap", {{"maxPerDay", 1}}, at("channel", "sms"));
    c.policy("pl", "frequency_cap", {{"maxPerDay", 1}}, at("placement", "side"));
    Scene s(c);
    // Impressions that match no scope.
    s.events = {shown("gold", kNow), shown("loan", kNow), shown("misc", kNow)};
    for (const char* offer : {"gold", "silver", "plat", "loan", "misc"}) EXPECT_EQ(s.blocked(offer), std::nullopt);
    EXPECT_EQ(s.blocked("gold", "gold-mail"), std::nullopt);
    EXPECT_EQ(s.blocked("loan", "loan-sms"), std::nullopt);

    s.events = {shown("plat", kNow), shown("gold", kNow).on("email", "gold-mail", "inbox"),
                shown("loan", kNow).on("sms", "loan-sms"), shown("silver", kNow).on("web", "", "side")};
    EXPECT_EQ(s.blocked("plat"), "frequency_cap exceeded: 1/day at scope=offer:plat");
    EXPECT_EQ(s.blocked("gold", "gold-mail"), "frequency_cap exceeded: 1/day at scope=creative:gold-mail");
    EXPECT_EQ(s.blocked("gold", "gold-web"), std::nullopt);  // another creative
    EXPECT_EQ(s.blocked("loan", "loan-sms"), "frequency_cap exceeded: 1/day at scope=channel:sms");
    EXPECT_EQ(s.blocked("loan", "loan-web"), std::nullopt);  // another channel
    EXPECT_EQ(s.blocked("silver"), "frequency_cap exceeded: 1/day at scope=placement:side");
    EXPECT_EQ(s.blocked("misc"), std::nullopt);
}

TEST(ContactPolicyScopes, SegmentAppliesOnlyToItsCustomers) {
    Catalog c = base();
    c.policy("fc", "frequency_cap", {{"maxPerDay", 2}}, at("segment", "new customers"));
    Scene s(c);
    s.events = {shown("gold", kNow), shown("loan", kNow)};
    EXPECT_EQ(s.blocked("gold"), std::nullopt);
    s.view = customer({"vip", "new customers"});
    EXPECT_EQ(s.blocked("gold"), "frequency_cap exceeded: 2/day at scope=segment:new customers");
    EXPECT_EQ(s.blocked("misc"), "frequency_cap exceeded: 2/day at scope=segment:new customers");
    s.view = customer({"vip"});
    EXPECT_EQ(s.blocked("gold"), std::nullopt);
}

TEST(ContactPolicyScopes, PriorityThenIdDecidesTheReason) {
    Catalog c = base();
    c.policy("z-first", "frequency_cap", {{"maxPerDay", 1}}, {{"priority", 10}});
    c.policy("a-later", "segment_exclusion", {{"segments", {"vip"}}}, {{"priority", 20}});
    c.policy("b", "cooldown", {{"cooldownHours", 1}}, {{"priority", 5}, {"scope", "offer"}, {"scopeId", "plat"}});
    Scene s(c);
    s.view = customer({"vip"});
    EXPECT_EQ(s.blocked("gold"), "segment_exclusion: segment=vip");
    s.events = {shown("gold", kNow - 10 * kMinute)};
    EXPECT_EQ(s.blocked("gold"), "frequency_cap exceeded: 1/day at scope=global");
    s.events.push_back(shown("plat", kNow - 10 * kMinute));
    EXPECT_EQ(s.blocked("plat"), "cooldown: last impression 10m ago < 1h at scope=offer:plat");
    EXPECT_EQ(s.blocked("gold"), "frequency_cap exceeded: 1/day at scope=global");

    // Equal priorities: by id.
    Catalog e = base();
    e.policy("b", "segment_exclusion", {{"segments", {"vip"}}}, {{"priority", 7}});
    e.policy("a", "frequency_cap", {{"maxPerDay", 1}}, {{"priority", 7}});
    CompiledCatalog cat = e.build();
    ASSERT_EQ(cat.policies.size(), 2u);
    EXPECT_EQ(cat.policies[0].id, "a");
    Scene t(e);
    t.view = customer({"vip"});
    t.events = {shown("misc", kNow)};
    EXPECT_EQ(t.blocked("gold"), "frequency_cap exceeded: 1/day at scope=global");
}

// ---- cooldown --------------------------------------------------------------------------

TEST(ContactPolicyCooldown, TheLastImpressionAtTheScopeIsTooRecent) {
    Catalog c = base();
    c.policy("cd", "cooldown", {{"cooldownHours", 24}}, at("offer", "gold"));
    Scene s(c);
    s.events = {shown("gold", kNow - 20 * kHour), shown("gold", kNow - 5 * kHour - 20 * kMinute),
                shown("plat", kNow - kMinute)};
    EXPECT_EQ(s.blocked("gold"), "cooldown: last impression 5h ago < 24h at scope=offer:gold");
    EXPECT_EQ(s.blocked("plat"), std::nullopt);
    s.events = {shown("gold", kNow - 24 * kHour)};  // exactly 24h ago: over
    EXPECT_EQ(s.blocked("gold"), std::nullopt);
    s.events = {shown("gold", kNow - 24 * kHour + 1)};
    EXPECT_EQ(s.blocked("gold"), "cooldown: last impression 23h ago < 24h at scope=offer:gold");
    s.events = {shown("gold", kNow - 5 * kHour).as("click", "positive")};  // not an impression
    EXPECT_EQ(s.blocked("gold"), std::nullopt);
}

TEST(ContactPolicyCooldown, AgoInMinutesHoursAndDays) {
    Catalog c = base();
    c.policy("cd", "cooldown", {{"cooldownHours", 72}});
    Scene s(c);
    s.events = {shown("misc", kNow - 12 * kMinute - 59)};
    EXPECT_EQ(s.blocked("gold"), "cooldown: last impression 12m ago < 72h at scope=global");
    s.events = {shown("misc", kNow)};
    EXPECT_EQ(s.blocked("gold"), "cooldown: last impression 0m ago < 72h at scope=global");
    s.events = {shown("misc", kNow - 2 * kDay - 23 * kHour)};
    EXPECT_EQ(s.blocked("gold"), "cooldown: last impression 2d ago < 72h at scope=global");

    Catalog f = base();
    f.policy("cd", "cooldown", {{"cooldownHours", 1.5}}, at("category", "cards"));
    Scene t(f);
    t.events = {shown("plat", kNow - 89 * kMinute)};
    EXPECT_EQ(t.blocked("silver"), "cooldown: last impression 1h ago < 1.5h at scope=category:cards");
    t.events = {shown("plat", kNow - 90 * kMinute)};
    EXPECT_EQ(t.blocked("silver"), std::nullopt);
}

TEST(ContactPolicyCooldown, AHugeCooldownCoversAllHistoryWithoutOverflow) {
    // cooldownHours has no maximum (any number greater than 0): its window
    // must still start at an instant PostgreSQL can represent (after 4713 BC).
    Catalog c = base();
    c.policy("cd", "cooldown", {{"cooldownHours", 1e300}});
    Scene s(c);
    const Needs n = s.need();
    ASSERT_TRUE(n.since);
    EXPECT_LT(*n.since, -1000 * 365 * kDay);     // before the year 970
    EXPECT_GT(*n.since, -210866803200);           // 4713 BC, PostgreSQL's first timestamp
    s.events = {shown("misc", 0), shown("misc", -1000000000)};
    EXPECT_EQ(s.blocked("gold"), "cooldown: last impression 20526d ago < 1e+300h at scope=global");

    Catalog w = base();
    w.policy("cd", "cooldown", {{"cooldownHours", 100000}});  // about 11 years: exact
    Scene t(w);
    EXPECT_EQ(t.need().since, kNow - 100000 * kHour + 1);
}

// ---- budget_exhausted ------------------------------------------------------------------

TEST(ContactPolicyBudget, BlocksWhenTheOffersBudgetIsSpent) {
    Catalog c = base();
    c.offer("capped", {{"budget", {{"metric", "impressions"}, {"limit", 1000}, {"period", "monthly"}}}});
    c.offer("worth", {{"budget", {{"metric", "value"}, {"limit", 250.5}, {"period", "daily"}}}});
    c.creative("capped-web", "capped", "web").creative("worth-web", "worth", "web");
    c.policy("bud", "budget_exhausted", Json::object());
    Scene s(c);
    EXPECT_EQ(s.blocked("capped"), std::nullopt);  // nothing spent
    s.budgets = {{"capped", 999}, {"worth", 250.49}, {"gold", 1e9}};
    EXPECT_EQ(s.blocked("capped"), std::nullopt);
    EXPECT_EQ(s.blocked("worth"), std::nullopt);
    EXPECT_EQ(s.blocked("gold"), std::nullopt);  // no budget
    s.budgets = {{"capped", 1000}, {"worth", 300.25}};
    EXPECT_EQ(s.blocked("capped"), "budget_exhausted: 1000/1000 impressions for offer=capped");
    EXPECT_EQ(s.blocked("worth"), "budget_exhausted: 300.25/250.5 value for offer=worth");
    s.budgets = {{"capped", 1e17}};
    EXPECT_EQ(s.blocked("capped"), "budget_exhausted: 100000000000000000/1000 impressions for offer=capped");
    s.budgets = {{"capped", 1e300}};
    EXPECT_EQ(s.blocked("capped"), "budget_exhausted: 1e+300/1000 impressions for offer=capped");
}

TEST(ContactPolicyBudget, ThePolicyScopeLimitsWhichOffersItStops) {
    Catalog c = base();
    c.offer("a", {{"budget", {{"metric", "impressions"}, {"limit", 1}, {"period", "total"}}}});
    c.offer("b", {{"budget", {{"metric", "impressions"}, {"limit", 1}, {"period", "total"}}}});
    c.creative("a-web", "a", "web").creative("b-web", "b", "web");
    c.policy("bud", "budget_exhausted", Json::object(), at("offer", "a"));
    Scene s(c);
    s.budgets = {{"a", 1}, {"b", 1}};
    EXPECT_EQ(s.blocked("a"), "budget_exhausted: 1/1 impressions for offer=a");
    EXPECT_EQ(s.blocked("b"), std::nullopt);
}

TEST(ContactPolicyBudget, PeriodsAndCounters) {
    const catalog::CompiledBudget daily{"impressions", 10, "daily"}, weekly{"impressions", 10, "weekly"},
        monthly{"impressions", 10, "monthly"}, total{"impressions", 10, "total"}, value_monthly{"value", 10, "monthly"};
    EXPECT_EQ(budget_period_start(daily, kNow), kDayStart);
    EXPECT_EQ(budget_period_end(daily, kNow), kDayStart + kDay);
    EXPECT_EQ(budget_period_start(weekly, kNow), kWeekStart);
    EXPECT_EQ(budget_period_end(weekly, kNow), kWeekStart + 7 * kDay);
    EXPECT_EQ(budget_period_start(monthly, kNow), kMonthStart);
    EXPECT_EQ(budget_period_end(monthly, kNow), kMonthStart + 31 * kDay);  // 2026-04-01
    EXPECT_EQ(budget_period_start(total, kNow), 0);
    EXPECT_EQ(budget_period_end(total, kNow), INT64_MAX);
    EXPECT_EQ(budget_period_start(daily, kDayStart), kDayStart);
    EXPECT_EQ(budget_period_end(daily, kDayStart - 1), kDayStart);

    EXPECT_EQ(budget_counter("gold", monthly), budget_counter("gold", catalog::CompiledBudget{"impressions", 99, "monthly"}));
    EXPECT_NE(budget_counter("gold", monthly), budget_counter("gold", value_monthly));
    EXPECT_NE(budget_counter("gold", monthly), budget_counter("gold", weekly));
    EXPECT_NE(budget_counter("gold", monthly), budget_counter("plat", monthly));
    EXPECT_NE(budget_counter("gold", daily), budget_counter("gold", total));
    EXPECT_EQ(budget_counter("gold", monthly).rfind("budget:gold", 0), 0u);
}

TEST(ContactPolicyBudget, Budgeted) {
    Catalog c = base();
    EXPECT_FALSE(budgeted(c.build()));
    c.policy("bud-off", "budget_exhausted", Json::object(), {{"enabled", false}});
    c.policy("fc", "frequency_cap", {{"maxPerDay", 1}});
    EXPECT_FALSE(budgeted(c.build()));
    c.policy("bud", "budget_exhausted", Json::object());
    EXPECT_TRUE(budgeted(c.build()));
}

// ---- outcome_based ---------------------------------------------------------------------

Event dismissed(const std::string& offer, int64_t at) { return shown(offer, at).as("dismiss", "negative"); }

TEST(ContactPolicyOutcomeBased, OutcomesAtTheScopeInTheLookback) {
    Catalog c = base();
    c.policy("ob", "outcome_based", {{"outcomeTypes", {"dismiss"}}, {"lookbackDays", 30}}, at("offer", "gold"));
    Scene s(c);
    s.events = {dismissed("gold", kNow - 30 * kDay - 1), dismissed("plat", kNow), shown("gold", kNow),
                shown("gold", kNow).as("complain", "negative")};
    EXPECT_EQ(s.blocked("gold"), std::nullopt);
    s.events.push_back(dismissed("gold", kNow - 30 * kDay));  // the lookback's first second
    EXPECT_EQ(s.blocked("gold"), "outcome_based: 1 dismiss in 30d at scope=offer:gold");
    EXPECT_EQ(s.blocked("plat"), std::nullopt);
}

TEST(ContactPolicyOutcomeBased, MaxCountAndSeveralOutcomes) {
    Catalog c = base();
    c.policy("ob", "outcome_based", {{"outcomeTypes", {"dismiss", "complain"}}, {"lookbackDays", 7}, {"maxCount", 3}},
             at("category", "cards"));
    Scene s(c);
    s.events = {dismissed("gold", kNow - kDay), shown("silver", kNow).as("complain", "negative"),
                dismissed("loan", kNow), dismissed("gold", kNow - 8 * kDay)};
    EXPECT_EQ(s.blocked("silver"), std::nullopt);  // 2 in cards within 7 days
    s.events.push_back(dismissed("plat", kNow - 6 * kDay));
    EXPECT_EQ(s.blocked("silver"), "outcome_based: 3 dismiss,complain in 7d at scope=category:cards");
    s.events.push_back(dismissed("plat", kNow));
    EXPECT_EQ(s.blocked("gold"), "outcome_based: 4 dismiss,complain in 7d at scope=category:cards");
    EXPECT_EQ(s.blocked("loan"), std::nullopt);
}

// ---- segment_exclusion -----------------------------------------------------------------

TEST(ContactPolicySegmentExclusion, TheCustomerIsInOneOfTheSegments) {
    Catalog c = base();
    c.policy("seg", "segment_exclusion", {{"segments", {"minor", "banned"}}});
    Scene s(c);
    EXPECT_EQ(s.blocked("gold"), std::nullopt);
    s.view = customer({"vip"});
    EXPECT_EQ(s.blocked("gold"), std::nullopt);
    s.view = customer({"vip", "minor"});
    EXPECT_EQ(s.blocked("gold"), "segment_exclusion: segment=minor");
    s.view = customer({"banned", "minor"});
    EXPECT_EQ(s.blocked("gold"), "segment_exclusion: segment=minor");  // the config's order
    s.view = customer({"banned"});
    EXPECT_EQ(s.blocked("loan", "loan-sms"), "segment_exclusion: segment=banned");
}

// ---- time_window -----------------------------------------------------------------------

LocalTime local(int weekday, int hour, int minute) {
    LocalTime t;
    t.weekday = weekday;
    t.hour = hour;
    t.minute = minute;
    return t;
}

TEST(ContactPolicyTimeWindow, OutsideTheWindowInTheConfigsZone) {
    Zones zones;
    zones.zones["Europe/Paris"] = local(6, 23, 10);
    zones.zones["America/New_York"] = local(3, 12, 0);
    Catalog c = base();
    c.policy("tw", "time_window",
             {{"allowedDays", {"mon", "tue", "wed", "thu", "fri"}}, {"startHour", 8}, {"endHour", 20},
              {"timezone", "Europe/Paris"}});
    Scene s(c);
    s.clock = zones.clock();
    s.view = customer({}, "America/New_York");
    EXPECT_EQ(s.blocked("gold"), "time_window: sat 23:10 outside mon-fri 08-20 (Europe/Paris)");
    EXPECT_THAT(zones.asked(), ElementsAre("Europe/Paris"));
    EXPECT_EQ(zones.calls.at(0).second, kNow);
}

TEST(ContactPolicyTimeWindow, TheCustomersZoneByDefaultElseUtc) {
    Zones zones;
    zones.zones["Asia/Tokyo"] = local(1, 7, 59);
    zones.zones["UTC"] = local(2, 22, 5);
    Catalog c = base();
    c.policy("tw", "time_window", {{"startHour", 8}, {"endHour", 20}}, at("channel", "web"));
    Scene s(c);
    s.clock = zones.clock();
    s.view = customer({}, "Asia/Tokyo");
    EXPECT_EQ(s.blocked("gold"), "time_window: mon 07:59 outside 08-20 (Asia/Tokyo)");
    EXPECT_THAT(zones.asked(), ElementsAre("Asia/Tokyo"));
    zones.calls.clear();
    s.view = customer();
    EXPECT_EQ(s.blocked("gold"), "time_window: tue 22:05 outside 08-20 (UTC)");
    EXPECT_THAT(zones.asked(), ElementsAre("UTC"));
    EXPECT_EQ(s.blocked("gold", "gold-mail"), std::nullopt);  // the scope is the web channel
}

TEST(ContactPolicyTimeWindow, StartHourInsideEndHourOutside) {
    Zones zones;
    Catalog c = base();
    c.policy("tw", "time_window", {{"allowedDays", {"mon", "tue", "wed", "thu", "fri"}}, {"startHour", 8}, {"endHour", 20}});
    Scene s(c);
    s.clock = zones.clock();
    zones.zones["UTC"] = local(3, 8, 0);
    EXPECT_EQ(s.blocked("gold"), std::nullopt);
    zones.zones["UTC"] = local(5, 19, 59);
    EXPECT_EQ(s.blocked("gold"), std::nullopt);
    zones.zones["UTC"] = local(5, 20, 0);
    EXPECT_EQ(s.blocked("gold"), "time_window: fri 20:00 outside mon-fri 08-20 (UTC)");
    zones.zones["UTC"] = local(1, 7, 59);
    EXPECT_EQ(s.blocked("gold"), "time_window: mon 07:59 outside mon-fri 08-20 (UTC)");
    zones.zones["UTC"] = local(7, 12, 0);
    EXPECT_EQ(s.blocked("gold"), "time_window: sun 12:00 outside mon-fri 08-20 (UTC)");
}

TEST(ContactPolicyTimeWindow, DaysOnlyHoursOnlyAndHowDaysAreWritten) {
    Zones zones;
    zones.zones["UTC"] = local(1, 10, 0);
    auto reason = [&](Json config) {
        Catalog c = base();
        c.policy("tw", "time_window", std::move(config));
        Scene s(c);
        s.clock = zones.clock();
        return s.blocked("gold");
    };
    EXPECT_EQ(reason({{"allowedDays", {"sat", "sun"}}}), "time_window: mon 10:00 outside sat,sun (UTC)");
    EXPECT_EQ(reason({{"allowedDays", {"fri", "tue", "wed", "thu"}}}), "time_window: mon 10:00 outside tue-fri (UTC)");
    EXPECT_EQ(reason({{"allowedDays", {"sun", "tue", "wed", "thu", "sat"}}}),
              "time_window: mon 10:00 outside tue-thu,sat,sun (UTC)");
    EXPECT_EQ(reason({{"allowedDays", {"wed"}}}), "time_window: mon 10:00 outside wed (UTC)");
    EXPECT_EQ(reason({{"startHour", 11}, {"endHour", 24}}), "time_window: mon 10:00 outside 11-24 (UTC)");
    EXPECT_EQ(reason({{"startHour", 0}, {"endHour", 10}}), "time_window: mon 10:00 outside 00-10 (UTC)");
    EXPECT_EQ(reason({{"allowedDays", {"mon"}}}), std::nullopt);
    EXPECT_EQ(reason({{"startHour", 10}, {"endHour", 11}}), std::nullopt);
    zones.zones["UTC"] = local(7, 23, 59);
    EXPECT_EQ(reason({{"startHour", 0}, {"endHour", 24}}), std::nullopt);
    EXPECT_EQ(reason({{"allowedDays", {"mon", "tue", "wed", "thu", "fri", "sat"}}}),
              "time_window: sun 23:59 outside mon-sat (UTC)");
}

// ---- mutual_exclusion ------------------------------------------------------------------

TEST(ContactPolicyMutualExclusion, AnotherMemberShownWithinTheWindow) {
    Catalog c = base();
    c.policy("mx", "mutual_exclusion", {{"offerIds", {"gold", "plat", "loan"}}, {"withinDays", 7}});
    Scene s(c);
    s.events = {shown("gold", kNow), shown("plat", kNow - 7 * kDay - 1), shown("silver", kNow)};
    EXPECT_EQ(s.blocked("gold"), std::nullopt);  // its own impression, and plat's is too old
    s.events.push_back(shown("plat", kNow - 2 * kDay - 3 * kHour));
    EXPECT_EQ(s.blocked("gold"), "mutual_exclusion: plat shown 2d ago");
    EXPECT_EQ(s.blocked("silver"), std::nullopt);  // not a member
    EXPECT_EQ(s.blocked("plat"), "mutual_exclusion: gold shown 0m ago");
    s.events.push_back(shown("loan", kNow - 5 * kHour).on("sms", "loan-sms"));
    EXPECT_EQ(s.blocked("gold"), "mutual_exclusion: loan shown 5h ago");  // the latest names it
    s.events.push_back(shown("plat", kNow - 2 * kHour).as("click", "positive"));  // not an impression
    EXPECT_EQ(s.blocked("gold"), "mutual_exclusion: loan shown 5h ago");
}

TEST(ContactPolicyMutualExclusion, CategoryMembers) {
    Catalog c = base();
    c.policy("mx", "mutual_exclusion", {{"categoryIds", {"cards"}}, {"withinDays", 3}});
    Scene s(c);
    s.events = {shown("plat", kNow - kDay), shown("loan", kNow)};
    EXPECT_EQ(s.blocked("gold"), "mutual_exclusion: plat shown 1d ago");    // premium is under cards
    EXPECT_EQ(s.blocked("silver"), "mutual_exclusion: plat shown 1d ago");  // cards itself
    EXPECT_EQ(s.blocked("plat"), std::nullopt);
    EXPECT_EQ(s.blocked("loan"), std::nullopt);
}

TEST(ContactPolicyMutualExclusion, WithinZeroDaysIsOnlyTheSameDecision) {
    Catalog c = base();
    c.policy("mx", "mutual_exclusion", {{"offerIds", {"gold", "plat"}}, {"withinDays", 0}});
    Scene s(c);
    s.events = {shown("plat", kNow)};
    EXPECT_EQ(s.blocked("gold"), std::nullopt);
    EXPECT_FALSE(s.need().history);
}

TEST(ContactPolicyMutualExclusion, RivalGroups) {
    Catalog c = base();
    c.policy("mx", "mutual_exclusion", {{"offerIds", {"gold", "plat", "loan"}}});
    c.policy("my", "mutual_exclusion", {{"categoryIds", {"premium"}}, {"withinDays", 1}}, at("channel", "email"));
    c.policy("ao", "allow_override", {{"offerIds", {"plat"}}});
    c.policy("strict", "mutual_exclusion", {{"offerIds", {"plat", "gold"}}}, {{"bypassable", false}});
    c.offer("must", {{"mandatory", true}}).creative("must-web", "must", "web");
    c.policy("mm", "mutual_exclusion", {{"offerIds", {"must", "gold"}}});
    Scene s(c);
    const History h;
    const Gate gate(s.cat, h, {}, s.context, kNow, s.clock);
    auto groups = [&](const std::string& offer, const std::string& creative_id = "") {
        const catalog::CompiledOffer& o = *s.cat.offer(offer);
        const std::string wanted = creative_id.empty() ? offer + "-web" : creative_id;
        auto creative = std::find_if(o.creatives.begin(), o.creatives.end(), [&](const auto& cr) { return cr.id == wanted; });
        if (creative == o.creatives.end()) throw std::logic_error("no creative " + wanted);
        std::vector<std::string> out;
        for (const auto& g : gate.rival_groups(o, *creative, s.view)) out.push_back(g.id + (g.yields ? " yields" : " stays"));
        return out;
    };
    // my holds on the email channel only: gold is in it as shown by gold-mail.
    EXPECT_THAT(groups("gold"), ElementsAre("mutual_exclusion:mm yields", "mutual_exclusion:mx yields",
                                            "mutual_exclusion:strict yields"));
    EXPECT_THAT(groups("gold", "gold-mail"), ElementsAre("mutual_exclusion:mm yields", "mutual_exclusion:mx yields",
                                                         "mutual_exclusion:my yields", "mutual_exclusion:strict yields"));
    EXPECT_THAT(groups("plat"), ElementsAre("mutual_exclusion:mx stays", "mutual_exclusion:strict yields"));
    EXPECT_THAT(groups("loan"), ElementsAre("mutual_exclusion:mx yields"));
    EXPECT_THAT(groups("loan", "loan-sms"), ElementsAre("mutual_exclusion:mx yields"));
    EXPECT_THAT(groups("must"), ElementsAre("mutual_exclusion:mm stays"));
    EXPECT_THAT(groups("silver"), IsEmpty());
}

// ---- cross_channel_cap -----------------------------------------------------------------

TEST(ContactPolicyCrossChannelCap, ImpressionsAcrossTheChannels) {
    Catalog c = base();
    c.policy("cc", "cross_channel_cap", {{"channels", {"email", "sms"}}, {"maxPerWeek", 5}});
    Scene s(c);
    s.events = times(3, shown("gold", kWeekStart).on("email", "gold-mail", "inbox")) +
               times(1, shown("loan", kNow).on("sms", "loan-sms")) + times(9, shown("misc", kNow)) +
               times(4, shown("loan", kWeekStart - 1).on("sms", "loan-sms"));
    EXPECT_EQ(s.blocked("gold", "gold-mail"), std::nullopt);  // 4 this week on email and sms
    s.events.push_back(shown("loan", kNow).on("sms", "loan-sms"));
    EXPECT_EQ(s.blocked("gold", "gold-mail"), "cross_channel_cap: 5/week across email,sms");
    EXPECT_EQ(s.blocked("loan", "loan-sms"), "cross_channel_cap: 5/week across email,sms");
    EXPECT_EQ(s.blocked("gold", "gold-web"), std::nullopt);  // not on one of those channels
    EXPECT_EQ(s.blocked("loan", "loan-web"), std::nullopt);
}

TEST(ContactPolicyCrossChannelCap, PerDay) {
    Catalog c = base();
    c.policy("cc", "cross_channel_cap", {{"channels", {"sms", "web"}}, {"maxPerDay", 2}, {"maxPerWeek", 50}});
    Scene s(c);
    s.events = {shown("misc", kNow), shown("gold", kNow).on("email", "gold-mail")};
    EXPECT_EQ(s.blocked("loan", "loan-sms"), std::nullopt);
    s.events.push_back(shown("loan", kDayStart).on("sms", "loan-sms"));
    EXPECT_EQ(s.blocked("loan", "loan-sms"), "cross_channel_cap: 2/day across sms,web");
    EXPECT_EQ(s.blocked("gold", "gold-mail"), std::nullopt);
}

// ---- category_suppression --------------------------------------------------------------

TEST(ContactPolicyCategorySuppression, TheConditionHoldsForOffersOfTheCategories) {
    Catalog c = base();
    c.policy("sup", "category_suppression", {{"categoryIds", {"loans"}}, {"condition", "customer.has_loan"}});
    Scene s(c);
    EXPECT_EQ(s.blocked("loan"), std::nullopt);  // null: not true
    s.view.customer.attributes = {{"has_loan", false}};
    EXPECT_EQ(s.blocked("loan"), std::nullopt);
    s.view.customer.attributes = {{"has_loan", true}};
    EXPECT_EQ(s.blocked("loan"), "category_suppression: loans while customer.has_loan");
    EXPECT_EQ(s.blocked("loan", "loan-sms"), "category_suppression: loans while customer.has_loan");
    EXPECT_EQ(s.blocked("gold"), std::nullopt);
    EXPECT_EQ(s.blocked("misc"), std::nullopt);
}

TEST(ContactPolicyCategorySuppression, SubcategoriesContextAndOffer) {
    Catalog c = base();
    c.policy("sup", "category_suppression",
             {{"categoryIds", {"loans", "cards"}}, {"condition", "context.page = 'checkout' and offer.priority > 65"}});
    Scene s(c);
    EXPECT_EQ(s.blocked("gold"), std::nullopt);
    s.context = {{"page", "checkout"}};
    EXPECT_EQ(s.blocked("gold"), "category_suppression: cards while context.page = 'checkout' and offer.priority > 65");
    EXPECT_EQ(s.blocked("silver"), "category_suppression: cards while context.page = 'checkout' and offer.priority > 65");
    EXPECT_EQ(s.blocked("plat"), std::nullopt);  // priority 60
    EXPECT_EQ(s.blocked("loan"), std::nullopt);  // priority 50
}

// ---- metric_condition and metrics ------------------------------------------------------

TEST(ContactPolicyMetricCondition, TheComparisonHolds) {
    auto reason = [](const std::string& op, double value, std::optional<double> actual) {
        Catalog c = base();
        c.metric("clicks_30d", {{"outcomeTypes", {"click"}}, {"windowDays", 30}});
        c.policy("mc", "metric_condition", {{"metric", "clicks_30d"}, {"op", op}, {"value", value}});
        Scene s(c);
        if (actual) s.view.customer.metrics["clicks_30d"] = *actual;
        return s.blocked("gold");
    };
    EXPECT_EQ(reason(">=", 10, 10), "metric_condition: clicks_30d >= 10");
    EXPECT_EQ(reason(">=", 10, 9), std::nullopt);
    EXPECT_EQ(reason(">=", 10, std::nullopt), std::nullopt);  // no value: nothing to compare
    EXPECT_EQ(reason(">", 10, 10), std::nullopt);
    EXPECT_EQ(reason(">", 10, 11), "metric_condition: clicks_30d > 10");
    EXPECT_EQ(reason("<", 2.5, 2), "metric_condition: clicks_30d < 2.5");
    EXPECT_EQ(reason("<", 2.5, 2.5), std::nullopt);
    EXPECT_EQ(reason("<=", 0, 0), "metric_condition: clicks_30d <= 0");
    EXPECT_EQ(reason("<=", 0, 1), std::nullopt);
    EXPECT_EQ(reason("=", 3, 3), "metric_condition: clicks_30d = 3");
    EXPECT_EQ(reason("=", 3, 4), std::nullopt);
    EXPECT_EQ(reason("!=", 3, 4), "metric_condition: clicks_30d != 3");
    EXPECT_EQ(reason("!=", 3, 3), std::nullopt);
    EXPECT_EQ(reason(">", 0.125, 1), "metric_condition: clicks_30d > 0.125");
    EXPECT_EQ(reason(">", 0.001, 1), "metric_condition: clicks_30d > 0.001");
    EXPECT_EQ(reason("<", -7.5, -8), "metric_condition: clicks_30d < -7.5");
}

TEST(ContactPolicyMetrics, CountAndSumOverTheWindow) {
    Catalog c = base();
    c.metric("clicks_30d", {{"outcomeTypes", {"click"}}, {"windowDays", 30}});
    c.metric("spend_7d", {{"outcomeTypes", {"purchase"}}, {"windowDays", 7}, {"aggregation", "sum"}});
    c.metric("shown_90d", {{"outcomeTypes", {"impression"}}, {"windowDays", 90}});
    c.policy("mc", "metric_condition", {{"metric", "clicks_30d"}, {"op", ">="}, {"value", 3}});
    Scene s(c);
    auto click = [](const std::string& offer, int64_t at) { return shown(offer, at).as("click", "positive"); };
    auto buy = [](int64_t at, double value) { return shown("gold", at).as("purchase", "positive").worth(value); };
    s.events = {click("gold", kNow), click("loan", kNow - 30 * kDay), click("plat", kNow - 30 * kDay - 1),
                buy(kNow - kDay, 19.5), buy(kNow - 7 * kDay, 0.5), buy(kNow - 8 * kDay, 1000), shown("gold", kNow),
                shown("loan", kNow - 89 * kDay), shown("misc", kNow - 91 * kDay),
                shown("gold", kNow).as("dismiss", "negative")};
    const Needs n = s.need();
    const History h = summarise(n, s.events);
    auto values = metric_values(s.cat, h, kNow);
    EXPECT_THAT(values, ElementsAre(Pair("clicks_30d", 2), Pair("shown_90d", 2), Pair("spend_7d", 20)));

    // The values reach the policy through Customer::metrics.
    s.view.customer.metrics = values;
    EXPECT_EQ(s.blocked("gold"), std::nullopt);
    s.events.push_back(click("misc", kNow - kHour));
    s.view.customer.metrics = metric_values(s.cat, summarise(s.need(), s.events), kNow);
    EXPECT_EQ(s.view.customer.metrics.at("clicks_30d"), 3);
    EXPECT_EQ(s.blocked("gold"), "metric_condition: clicks_30d >= 3");
}

TEST(ContactPolicyMetrics, Scopes) {
    Catalog c = base();
    c.metric("gold_clicks", {{"outcomeTypes", {"click"}}, {"windowDays", 10}, {"scope", "offer"}, {"scopeId", "gold"}});
    c.metric("card_clicks", {{"outcomeTypes", {"click"}}, {"windowDays", 10}, {"scope", "category"}, {"scopeId", "cards"}});
    c.metric("email_clicks", {{"outcomeTypes", {"click", "purchase"}}, {"windowDays", 10}, {"scope", "channel"},
                              {"scopeId", "email"}});
    c.metric("email_value", {{"outcomeTypes", {"purchase"}}, {"windowDays", 10}, {"scope", "channel"},
                             {"scopeId", "email"}, {"aggregation", "sum"}});
    c.offer("m", {{"eligibility", "metric('gold_clicks') > 0"}});
    Scene s(c);
    ASSERT_TRUE(s.cat.uses_metrics);
    auto click = [](const std::string& offer) { return shown(offer, kNow - kDay).as("click", "positive"); };
    s.events = {click("gold"), click("gold").on("email", "gold-mail"), click("plat"), click("silver"), click("loan"),
                click("misc").on("email"), shown("gold", kNow).on("email", "gold-mail"),
                shown("loan", kNow).on("email").as("purchase", "positive").worth(42.25)};
    auto values = metric_values(s.cat, summarise(s.need(), s.events), kNow);
    EXPECT_EQ(values.at("gold_clicks"), 2);
    EXPECT_EQ(values.at("card_clicks"), 4);  // gold, gold, plat (premium) and silver
    EXPECT_EQ(values.at("email_clicks"), 3);  // gold-mail, misc, the purchase
    EXPECT_DOUBLE_EQ(values.at("email_value"), 42.25);
}

TEST(ContactPolicyMetrics, AMetricWithNoInteractionsIsZero) {
    Catalog c = base();
    c.metric("clicks_30d", {{"outcomeTypes", {"click"}}, {"windowDays", 30}});
    c.metric("spend", {{"outcomeTypes", {"purchase"}}, {"windowDays", 1}, {"aggregation", "sum"}});
    c.policy("mc", "metric_condition", {{"metric", "spend"}, {"op", "<"}, {"value", 1}});
    Scene s(c);
    auto values = metric_values(s.cat, summarise(s.need(), {}), kNow);
    EXPECT_THAT(values, ElementsAre(Pair("clicks_30d", 0), Pair("spend", 0)));
    s.view.customer.metrics = values;
    EXPECT_EQ(s.blocked("gold"), "metric_condition: spend < 1");
}

TEST(ContactPolicyMetrics, HoldsReadsCustomerMetrics) {
    const expr::Program program = expr::compile("metric('clicks_30d') >= 3", expr::ResultType::Bool);
    EXPECT_TRUE(program.uses_metric());
    catalog::Customer someone;
    EXPECT_FALSE(catalog::holds(program, someone, nullptr, Json::object(), kNow));  // null: false
    someone.metrics["clicks_30d"] = 2;
    EXPECT_FALSE(catalog::holds(program, someone, nullptr, Json::object(), kNow));
    someone.metrics["clicks_30d"] = 3;
    EXPECT_TRUE(catalog::holds(program, someone, nullptr, Json::object(), kNow));
    const expr::Program number = expr::compile("metric('spend') * 2", expr::ResultType::Number);
    EXPECT_FALSE(catalog::value_of(number, someone, nullptr, Json::object(), kNow));
    someone.metrics["spend"] = 10.5;
    EXPECT_EQ(catalog::value_of(number, someone, nullptr, Json::object(), kNow), 21);

    // An offer's eligibility and the check_offer verdict see them too.
    Catalog c = base();
    c.offer("m", {{"eligibility", "metric('clicks_30d') >= 3"}});
    const CompiledCatalog cat = c.build();
    EXPECT_TRUE(catalog::check_offer(*cat.offer("m"), nullptr, someone, Json::object(), kNow).eligible);
    someone.metrics.erase("clicks_30d");
    EXPECT_EQ(catalog::check_offer(*cat.offer("m"), nullptr, someone, Json::object(), kNow).reason,
              "eligibility is false: metric('clicks_30d') >= 3");
}

TEST(ContactPolicyMetrics, UsesMetricsComesFromEveryExpression) {
    auto uses = [](const std::function<void(Catalog&)>& add) {
        Catalog c = base();
        c.metric("x", {{"outcomeTypes", {"click"}}, {"windowDays", 1}});
        add(c);
        return c.build().uses_metrics;
    };
    EXPECT_FALSE(uses([](Catalog&) {}));
    EXPECT_FALSE(uses([](Catalog& c) { c.offer("o", {{"eligibility", "customer.age > 3"}}); }));
    EXPECT_TRUE(uses([](Catalog& c) { c.offer("o", {{"eligibility", "metric('x') > 3"}}); }));
    EXPECT_TRUE(uses([](Catalog& c) { c.add("flows", R"J({"id": "g", "eligibility": "metric('x') > 0"})J"); }));
    EXPECT_TRUE(uses([](Catalog& c) {
        c.add("models", R"J({"id": "m", "type": "scorecard", "definition": {"rules": [{"when": "metric('x') > 0", "points": 1}]}})J");
    }));
    EXPECT_TRUE(uses([](Catalog& c) {
        c.add("models", R"J({"id": "m", "type": "scorecard", "definition": {}})J");
        c.add("flows", R"J({"id": "g", "modelId": "m", "ranking": {"method": "arbitration", "relevance": "metric('x') + 1"}})J");
    }));
    EXPECT_TRUE(uses([](Catalog& c) {
        c.policy("s", "category_suppression", {{"categoryIds", {"loans"}}, {"condition", "metric('x') > 2"}});
    }));
    EXPECT_TRUE(uses([](Catalog& c) { c.policy("m", "metric_condition", {{"metric", "x"}, {"op", "="}, {"value", 0}}); }));
    EXPECT_FALSE(uses([](Catalog& c) {
        c.policy("m", "metric_condition", {{"metric", "x"}, {"op", "="}, {"value", 0}}, {{"enabled", false}});
    }));
}

// ---- customer_total_cap ----------------------------------------------------------------

TEST(ContactPolicyCustomerTotalCap, TheCustomersImpressionsOverEverything) {
    Catalog c = base();
    c.policy("tc", "customer_total_cap", {{"maxPerWeek", 10}}, at("offer", "gold"));
    Scene s(c);
    s.events = times(3, shown("gold", kNow)) + times(3, shown("loan", kWeekStart).on("sms", "loan-sms")) +
               times(3, shown("misc", kNow).on("email")) + times(5, shown("gold", kWeekStart - 1)) +
               times(4, shown("gold", kNow).as("click", "positive"));
    EXPECT_EQ(s.blocked("gold"), std::nullopt);  // 9 impressions this week
    s.events.push_back(shown("silver", kNow));
    EXPECT_EQ(s.blocked("gold"), "customer_total_cap: 10/week");
    EXPECT_EQ(s.blocked("gold", "gold-mail"), "customer_total_cap: 10/week");
    EXPECT_EQ(s.blocked("silver"), std::nullopt);  // the scope says which offers it stops

    Catalog d = base();
    d.policy("tc", "customer_total_cap", {{"maxPerDay", 2}, {"maxPerMonth", 3}});
    Scene t(d);
    t.events = {shown("gold", kMonthStart), shown("gold", kDayStart - 1), shown("plat", kDayStart)};
    EXPECT_EQ(t.blocked("loan"), "customer_total_cap: 3/month");
    t.events.push_back(shown("plat", kNow));
    EXPECT_EQ(t.blocked("loan"), "customer_total_cap: 2/day");
}

// ---- allow_override and mandatory offers -----------------------------------------------

TEST(ContactPolicyOverride, AllowOverrideLiftsBypassablePolicies) {
    Catalog c = base();
    c.policy("ao", "allow_override", {{"offerIds", {"gold", "loan"}}});
    c.policy("fc", "frequency_cap", {{"maxPerDay", 1}}, {{"priority", 1}});
    c.policy("seg", "segment_exclusion", {{"segments", {"minor"}}}, {{"priority", 2}});
    Scene s(c);
    s.events = {shown("misc", kNow)};
    s.view = customer({"minor"});
    GateVerdict v = s.judge("gold");
    EXPECT_EQ(v.blocked, std::nullopt);
    EXPECT_THAT(v.lifted, ElementsAre("allow_override: gold (lifts frequency_cap exceeded: 1/day at scope=global)",
                                      "allow_override: gold (lifts segment_exclusion: segment=minor)"));
    v = s.judge("silver");
    EXPECT_EQ(v.blocked, "frequency_cap exceeded: 1/day at scope=global");
    EXPECT_THAT(v.lifted, IsEmpty());
    s.events.clear();
    s.view = customer();
    EXPECT_THAT(s.judge("gold").lifted, IsEmpty());  // nothing to lift
}

TEST(ContactPolicyOverride, NeverANonBypassablePolicy) {
    Catalog c = base();
    c.policy("ao", "allow_override", {{"offerIds", {"gold"}}});
    c.policy("cd", "cooldown", {{"cooldownHours", 2}}, {{"priority", 1}});
    c.policy("seg", "segment_exclusion", {{"segments", {"minor"}}}, {{"priority", 2}, {"bypassable", false}});
    c.policy("fc", "frequency_cap", {{"maxPerDay", 1}}, {{"priority", 3}});
    Scene s(c);
    s.events = {shown("misc", kNow - kHour)};
    s.view = customer({"minor"});
    GateVerdict v = s.judge("gold");
    EXPECT_EQ(v.blocked, "segment_exclusion: segment=minor");
    EXPECT_THAT(v.lifted, ElementsAre("allow_override: gold (lifts cooldown: last impression 1h ago < 2h at scope=global)"));
}

TEST(ContactPolicyOverride, ADisabledOverrideLiftsNothing) {
    Catalog c = base();
    c.policy("ao", "allow_override", {{"offerIds", {"gold"}}}, {{"enabled", false}});
    c.policy("seg", "segment_exclusion", {{"segments", {"minor"}}});
    Scene s(c);
    s.view = customer({"minor"});
    EXPECT_EQ(s.blocked("gold"), "segment_exclusion: segment=minor");
}

TEST(ContactPolicyOverride, MandatoryOffersSkipAllButCapsAndNonBypassable) {
    Zones zones;
    zones.zones["UTC"] = local(7, 3, 0);
    Catalog c = base();
    c.offer("must", {{"mandatory", true}, {"categoryId", "loans"}, {"budget", {{"metric", "impressions"}, {"limit", 1}, {"period", "total"}}}});
    c.creative("must-web", "must", "web").creative("must-sms", "must", "sms");
    c.metric("x", {{"outcomeTypes", {"click"}}, {"windowDays", 1}});
    c.policy("p01", "cooldown", {{"cooldownHours", 2}}, {{"priority", 1}});
    c.policy("p02", "budget_exhausted", Json::object(), {{"priority", 2}});
    c.policy("p03", "outcome_based", {{"outcomeTypes", {"dismiss"}}, {"lookbackDays", 1}}, {{"priority", 3}});
    c.policy("p04", "segment_exclusion", {{"segments", {"minor"}}}, {{"priority", 4}});
    c.policy("p05", "time_window", {{"startHour", 8}, {"endHour", 20}}, {{"priority", 5}});
    c.policy("p06", "mutual_exclusion", {{"offerIds", {"must", "gold"}}, {"withinDays", 1}}, {{"priority", 6}});
    c.policy("p07", "category_suppression", {{"categoryIds", {"loans"}}, {"condition", "true"}}, {{"priority", 7}});
    c.policy("p08", "metric_condition", {{"metric", "x"}, {"op", ">="}, {"value", 0}}, {{"priority", 8}});
    c.policy("p09", "customer_total_cap", {{"maxPerDay", 1}}, {{"priority", 9}});
    c.policy("p10", "cross_channel_cap", {{"channels", {"sms"}}, {"maxPerDay", 1}}, {{"priority", 10}});
    c.policy("p11", "frequency_cap", {{"maxPerDay", 1}}, {{"priority", 11}});
    Scene s(c);
    s.clock = zones.clock();
    s.view = customer({"minor"});
    s.view.customer.metrics["x"] = 0;
    s.budgets = {{"must", 5}};
    s.events = {shown("gold", kNow - kHour), dismissed("must", kNow - kHour), shown("loan", kNow - kHour).on("sms", "loan-sms")};
    GateVerdict v = s.judge("must", "must-web");
    EXPECT_EQ(v.blocked, "frequency_cap exceeded: 1/day at scope=global");
    EXPECT_THAT(v.lifted,
                ElementsAre("mandatory offer (lifts cooldown: last impression 1h ago < 2h at scope=global)",
                            "mandatory offer (lifts budget_exhausted: 5/1 impressions for offer=must)",
                            "mandatory offer (lifts outcome_based: 1 dismiss in 1d at scope=global)",
                            "mandatory offer (lifts segment_exclusion: segment=minor)",
                            "mandatory offer (lifts time_window: sun 03:00 outside 08-20 (UTC))",
                            "mandatory offer (lifts mutual_exclusion: gold shown 1h ago)",
                            "mandatory offer (lifts category_suppression: loans while true)",
                            "mandatory offer (lifts metric_condition: x >= 0)",
                            "mandatory offer (lifts customer_total_cap: 1/day)"));
    EXPECT_EQ(s.blocked("must", "must-sms"), "cross_channel_cap: 1/day across sms");
    EXPECT_EQ(s.blocked("loan", "loan-web"), "cooldown: last impression 1h ago < 2h at scope=global");
}

TEST(ContactPolicyOverride, MandatoryOffersKeepNonBypassablePolicies) {
    Catalog c = base();
    c.offer("must", {{"mandatory", true}}).creative("must-web", "must", "web");
    c.policy("seg", "segment_exclusion", {{"segments", {"minor"}}}, {{"bypassable", false}});
    c.policy("ao", "allow_override", {{"offerIds", {"must"}}});
    c.policy("fc", "frequency_cap", {{"maxPerDay", 1}}, {{"priority", 1}});
    Scene s(c);
    s.events = {shown("misc", kNow)};
    GateVerdict v = s.judge("must");
    EXPECT_EQ(v.blocked, std::nullopt);  // the override lifts even the frequency cap
    EXPECT_THAT(v.lifted, ElementsAre("allow_override: must (lifts frequency_cap exceeded: 1/day at scope=global)"));
    s.view = customer({"minor"});
    EXPECT_EQ(s.blocked("must"), "segment_exclusion: segment=minor");
}

// ---- the compiled catalog --------------------------------------------------------------

TEST(ContactPolicyCompiled, PoliciesMetricsBudgetsAndCategories) {
    Catalog c = base();
    c.policy("b", "frequency_cap", {{"maxPerDay", 2}}, {{"name", "Two a day"}, {"priority", 5}, {"scope", "offer"}, {"scopeId", "gold"}, {"bypassable", false}});
    c.policy("a", "category_suppression", {{"categoryIds", {"loans"}}, {"condition", "customer.has_loan"}});
    c.policy("c", "cooldown", {{"cooldownHours", 1}}, {{"priority", 5}});
    c.policy("off", "cooldown", {{"cooldownHours", 1}}, {{"enabled", false}});
    c.metric("m2", {{"outcomeTypes", {"click", "purchase"}}, {"windowDays", 7}, {"scope", "channel"}, {"scopeId", "email"}, {"aggregation", "sum"}});
    c.metric("m1", {{"outcomeTypes", {"click"}}, {"windowDays", 3}});
    c.offer("budgeted", {{"budget", {{"metric", "value"}, {"limit", 12.5}, {"period", "weekly"}}}});
    const CompiledCatalog cat = c.build();

    ASSERT_EQ(cat.policies.size(), 3u);
    EXPECT_EQ(cat.policies[0].id, "b");
    EXPECT_EQ(cat.policies[0].name, "Two a day");
    EXPECT_EQ(cat.policies[0].type, "frequency_cap");
    EXPECT_EQ(cat.policies[0].scope, "offer");
    EXPECT_EQ(cat.policies[0].scope_id, "gold");
    EXPECT_EQ(cat.policies[0].priority, 5);
    EXPECT_FALSE(cat.policies[0].bypassable);
    EXPECT_EQ(cat.policies[0].config, json(R"({"maxPerDay": 2})"));
    EXPECT_FALSE(cat.policies[0].condition);
    EXPECT_EQ(cat.policies[1].id, "c");
    EXPECT_EQ(cat.policies[2].id, "a");
    EXPECT_EQ(cat.policies[2].scope, "global");
    EXPECT_EQ(cat.policies[2].scope_id, "");
    EXPECT_EQ(cat.policies[2].priority, 100);
    EXPECT_TRUE(cat.policies[2].bypassable);
    EXPECT_TRUE(cat.policies[2].condition);

    ASSERT_EQ(cat.metrics.size(), 2u);
    EXPECT_EQ(cat.metrics[0].id, "m1");
    EXPECT_THAT(cat.metrics[0].outcome_types, ElementsAre("click"));
    EXPECT_EQ(cat.metrics[0].scope, "global");
    EXPECT_EQ(cat.metrics[0].window_days, 3);
    EXPECT_FALSE(cat.metrics[0].sum);
    EXPECT_EQ(cat.metrics[1].id, "m2");
    EXPECT_THAT(cat.metrics[1].outcome_types, ElementsAre("click", "purchase"));
    EXPECT_EQ(cat.metrics[1].scope, "channel");
    EXPECT_EQ(cat.metrics[1].scope_id, "email");
    EXPECT_EQ(cat.metrics[1].window_days, 7);
    EXPECT_TRUE(cat.metrics[1].sum);

    ASSERT_TRUE(cat.offer("budgeted")->budget);
    EXPECT_EQ(cat.offer("budgeted")->budget->metric, "value");
    EXPECT_EQ(cat.offer("budgeted")->budget->limit, 12.5);
    EXPECT_EQ(cat.offer("budgeted")->budget->period, "weekly");
    EXPECT_FALSE(cat.offer("gold")->budget);
    // The offers with a budget, by index (read on every decision when a policy stops at budgets).
    std::vector<std::string> budgeted;
    for (uint32_t index : cat.budgeted_offers) budgeted.push_back(cat.offers.at(index).id);
    EXPECT_THAT(budgeted, ElementsAre("budgeted"));

    EXPECT_THAT(cat.categories.parents(),
                ElementsAre(Pair("cards", ""), Pair("loans", ""), Pair("premium", "cards")));
}

TEST(ContactPolicyCompiled, InCategory) {
    const CompiledCatalog cat = base().build();
    EXPECT_TRUE(catalog::in_category(cat, "premium", "premium"));
    EXPECT_TRUE(catalog::in_category(cat, "premium", "cards"));
    EXPECT_TRUE(catalog::in_category(cat, "cards", "cards"));
    EXPECT_FALSE(catalog::in_category(cat, "cards", "premium"));
    EXPECT_FALSE(catalog::in_category(cat, "loans", "cards"));
    EXPECT_FALSE(catalog::in_category(cat, "", "cards"));
    EXPECT_FALSE(catalog::in_category(cat, "", ""));
    EXPECT_FALSE(catalog::in_category(cat, "ghost", "cards"));
    EXPECT_TRUE(catalog::in_category(cat, "ghost", "ghost"));
}

// The tree answers as the walk up the parents map does (the definition):
// random forests with cycles, self-parents, parents that are no category
// and empty ids, every pair of names asked.
TEST(ContactPolicyCompiled, CategoryTreeAnswersAsTheWalkUpItsParents) {
    auto walk = [](const std::map<std::string, std::string, std::less<>>& parents, std::string_view category,
                   std::string_view ancestor) {
        std::string_view at = category;
        for (size_t depth = 0; !at.empty() && depth <= parents.size(); ++depth) {
            if (at == ancestor) return true;
            auto it = parents.find(at);
            if (it == parents.end()) return false;
            at = it->second;
        }
        return false;
    };
    std::mt19937 rng(7);
    const std::vector<std::string> names = {"", "a", "b", "c", "d", "e", "f", "g", "ghost"};
    size_t contained = 0;
    for (int round = 0; round < 300; ++round) {
        std::map<std::string, std::string, std::less<>> parents;
        const int count = static_cast<int>(rng() % 7);
        for (int i = 0; i < count; ++i) parents[names[1 + rng() % 7]] = names[rng() % names.size()];
        const catalog::CategoryTree tree(parents);
        for (const std::string& category : names)
            for (const std::string& ancestor : names) {
                const bool expected = walk(parents, category, ancestor);
                ASSERT_EQ(tree.contains(ancestor, category), expected)
                    << "round " << round << ": " << category << " under " << ancestor;
                contained += expected;
            }
    }
    EXPECT_GT(contained, 2000u);  // not only the trivial answers
}

// ---- hostile inputs --------------------------------------------------------------------

TEST(ContactPolicyHostile, ACategoryCycleEnds) {
    Catalog c = base();
    c.add("categories", R"J({"id": "a", "parentId": "b"})J");
    c.add("categories", R"J({"id": "b", "parentId": "c"})J");
    c.add("categories", R"J({"id": "c", "parentId": "a"})J");
    c.offer("cyc", {{"categoryId", "a"}}).creative("cyc-web", "cyc", "web");
    c.policy("fc", "frequency_cap", {{"maxPerDay", 1}}, at("category", "cards"));
    c.policy("fb", "frequency_cap", {{"maxPerDay", 1}}, at("category", "c"));
    c.policy("mx", "mutual_exclusion", {{"categoryIds", {"loans"}}, {"withinDays", 1}});
    Scene s(c);
    EXPECT_TRUE(catalog::in_category(s.cat, "a", "c"));
    EXPECT_TRUE(catalog::in_category(s.cat, "c", "a"));
    EXPECT_FALSE(catalog::in_category(s.cat, "a", "cards"));
    EXPECT_FALSE(catalog::in_category(s.cat, "a", "zzz"));
    s.events = {shown("cyc", kNow).in_category("a"), shown("loan", kNow)};
    EXPECT_EQ(s.blocked("cyc"), "frequency_cap exceeded: 1/day at scope=category:c");
    EXPECT_EQ(s.blocked("gold"), std::nullopt);

    // A category that is its own parent (compiled from rows that skipped the check).
    catalog::CompiledCatalog self = s.cat;
    auto parents = self.categories.parents();
    parents["self"] = "self";
    self.categories = catalog::CategoryTree(parents);
    EXPECT_TRUE(catalog::in_category(self, "self", "self"));
    EXPECT_FALSE(catalog::in_category(self, "self", "cards"));
}

TEST(ContactPolicyHostile, PoliciesNamingWhatDoesNotExist) {
    Catalog c = base();
    c.policy("o", "frequency_cap", {{"maxPerDay", 1}}, at("offer", "ghost"));
    c.policy("k", "frequency_cap", {{"maxPerDay", 1}}, at("category", "nowhere"));
    c.policy("ao", "allow_override", {{"offerIds", {"ghost"}}});
    c.policy("sup", "category_suppression", {{"categoryIds", {"nowhere"}}, {"condition", "true"}});
    c.policy("mc", "metric_condition", {{"metric", "gone"}, {"op", ">="}, {"value", 0}});
    c.policy("ob", "outcome_based", {{"outcomeTypes", {"unheard"}}, {"lookbackDays", 5}});
    c.policy("mx", "mutual_exclusion", {{"categoryIds", {"nowhere"}}, {"withinDays", 2}});
    c.policy("cc", "cross_channel_cap", {{"channels", {"pigeon"}}, {"maxPerDay", 1}});
    c.policy("ghost-mx", "mutual_exclusion", {{"offerIds", {"ghost", "gold"}}, {"withinDays", 2}});
    Scene s(c);
    s.events = times(3, shown("ghost", kNow - kDay)) + times(3, shown("gold", kNow).in_category("nowhere")) +
               times(3, shown("misc", kNow).on("pigeon"));
    for (const char* offer : {"silver", "plat", "loan", "misc"}) EXPECT_EQ(s.blocked(offer), std::nullopt) << offer;
    // An offer the catalog no longer has is still a named member.
    EXPECT_EQ(s.blocked("gold"), "mutual_exclusion: ghost shown 1d ago");
    const History h;
    const Gate gate(s.cat, h, {}, s.context, kNow, s.clock);
    EXPECT_THAT(gate.rival_groups(*s.cat.offer("silver"), s.cat.offer("silver")->creatives.front(), s.view), IsEmpty());
}

TEST(ContactPolicyHostile, EmptyHistoryBlocksNothingThatCounts) {
    Catalog c = base();
    c.offer("capped", {{"budget", {{"metric", "impressions"}, {"limit", 1}, {"period", "daily"}}}});
    c.creative("capped-web", "capped", "web");
    c.metric("x", {{"outcomeTypes", {"click"}}, {"windowDays", 30}});
    c.policy("fc", "frequency_cap", {{"maxPerDay", 1}, {"maxTotal", 1}});
    c.policy("cd", "cooldown", {{"cooldownHours", 100}});
    c.policy("bud", "budget_exhausted", Json::object());
    c.policy("ob", "outcome_based", {{"outcomeTypes", {"dismiss"}}, {"lookbackDays", 3650}});
    c.policy("mx", "mutual_exclusion", {{"offerIds", {"gold", "plat"}}, {"withinDays", 3650}});
    c.policy("cc", "cross_channel_cap", {{"channels", {"web"}}, {"maxPerDay", 1}});
    c.policy("mc", "metric_condition", {{"metric", "x"}, {"op", ">"}, {"value", 0}});
    c.policy("tc", "customer_total_cap", {{"maxPerMonth", 1}});
    Scene s(c);
    s.view.customer.metrics = metric_values(s.cat, summarise(s.need(), {}), kNow);
    for (const char* offer : {"gold", "silver", "plat", "loan", "misc", "capped"})
        EXPECT_EQ(s.judge(offer).blocked, std::nullopt) << offer;

    // A default History (no query was made) answers all-time totals.
    const History none;
    Catalog t = base();
    t.policy("fc", "frequency_cap", {{"maxTotal", 1}});
    const CompiledCatalog total = t.build();
    const Gate total_gate(total, none, {}, s.context, kNow, s.clock);
    EXPECT_EQ(total_gate.judge(*total.offer("gold"), total.offer("gold")->creatives.back(), s.view).blocked,
              std::nullopt);
}

TEST(ContactPolicyHostile, ConfigsWithoutTheirKeysBlockNothing) {
    // Compiled by hand, past the catalog's checks: every type with an empty
    // config, and a type this version does not know.
    Scene s(base());
    for (const char* type : {"frequency_cap", "cooldown", "budget_exhausted", "outcome_based", "segment_exclusion",
                             "time_window", "mutual_exclusion", "cross_channel_cap", "allow_override",
                             "category_suppression", "metric_condition", "customer_total_cap", "future_type"}) {
        catalog::CompiledPolicy policy;
        policy.id = type;
        policy.type = type;
        s.cat.policies.push_back(policy);
    }
    s.view = customer({"minor"}, "Europe/Paris");
    s.events = times(5, shown("gold", kNow)) + times(3, dismissed("gold", kNow));
    s.budgets = {{"gold", 1e9}};
    for (const char* offer : {"gold", "silver", "plat", "loan", "misc"}) {
        GateVerdict v = s.judge(offer);
        EXPECT_EQ(v.blocked, std::nullopt) << offer;
        EXPECT_THAT(v.lifted, IsEmpty()) << offer;
    }
}

// A scope this version does not know (past the catalog's checks) applies
// to no offer, and counts nothing in the history: the policy blocks nothing.
// Its known twin at scope "offer" blocks gold, so the scope is what decides.
TEST(ContactPolicyHostile, AnUnknownScopeAppliesToNothing) {
    Scene s(base());
    catalog::CompiledPolicy policy;
    policy.id = "far";
    policy.type = "segment_exclusion";
    policy.scope = "galaxy";
    policy.scope_id = "gold";
    policy.config = {{"segments", {"minor"}}};
    s.cat.policies.push_back(policy);
    s.view = customer({"minor"}, "UTC");
    for (const char* offer : {"gold", "silver", "misc"}) EXPECT_EQ(s.judge(offer).blocked, std::nullopt) << offer;
    s.cat.policies.back().scope = "offer";
    EXPECT_EQ(s.judge("gold").blocked, std::optional<std::string>("segment_exclusion: segment=minor"));
    EXPECT_EQ(s.judge("silver").blocked, std::nullopt);
}

TEST(ContactPolicyHostile, HugeCounts) {
    Catalog c = base();
    c.policy("fc", "frequency_cap", {{"maxPerDay", 2147483647}});
    c.policy("ob", "outcome_based", {{"outcomeTypes", {"dismiss"}}, {"lookbackDays", 3650}, {"maxCount", 2147483647}});
    Scene s(c);
    const Needs n = s.need();
    auto huge = [&](const std::string& kind, const std::string& outcome, int64_t count, int64_t at) {
        Bucket b;
        b.offer_id = "gold";
        b.category_id = "premium";
        b.creative_id = "gold-web";
        b.channel = "web";
        b.outcome = outcome;
        b.kind = kind;
        b.bucket = bucket_of(n.boundaries, at);
        b.count = count;
        b.last_at = at;
        return b;
    };
    const History h(n.boundaries, {huge("impression", "impression", INT64_MAX, kNow),
                                   huge("impression", "impression", INT64_MAX, kNow - 1),
                                   huge("negative", "dismiss", 1000000000000000, kNow - kDay),
                                   huge("negative", "dismiss", 234, kNow - 2 * kDay)});
    const Gate gate(s.cat, h, {}, s.context, kNow, s.clock);
    const auto& gold = *s.cat.offer("gold");
    EXPECT_EQ(gate.judge(gold, gold.creatives.back(), s.view).blocked,
              "frequency_cap exceeded: 2147483647/day at scope=global");
    Catalog o = base();
    o.policy("ob", "outcome_based", {{"outcomeTypes", {"dismiss"}}, {"lookbackDays", 3650}, {"maxCount", 2147483647}});
    const CompiledCatalog only = o.build();
    const Needs on = needs(only, "", kNow, utc_clock());
    const History oh(on.boundaries, {huge("negative", "dismiss", 1000000000000000, kNow - kDay),
                                     huge("negative", "dismiss", 234, kNow - 2 * kDay)});
    const Gate og(only, oh, {}, s.context, kNow, s.clock);
    EXPECT_EQ(og.judge(*only.offer("gold"), only.offer("gold")->creatives.back(), s.view).blocked,
              "outcome_based: 1000000000000234 dismiss in 3650d at scope=global");
}

// ---- the pipeline with contact policies --------------------------------------------------

decision::Request request(const Json& extra = Json::object()) {
    Json r = {{"customerId", "c1"}, {"flow", "f"}};
    for (const auto& [k, v] : extra.items()) r[k] = v;
    return decision::parse_request(r);
}

std::vector<std::string> ids(const decision::Outcome& o) {
    std::vector<std::string> out;
    for (const auto& c : o.offers) out.push_back(c.offer_id);
    return out;
}

const decision::StageTrace& stage(const decision::Outcome& o, std::string_view name) {
    for (const auto& s : o.stages)
        if (s.stage == name) return s;
    throw std::logic_error("no stage " + std::string(name));
}

std::vector<std::string> removed(const decision::Outcome& o, std::string_view name) {
    std::vector<std::string> out;
    for (const auto& [id, reason] : stage(o, name).removed) out.push_back(id + ": " + reason);
    return out;
}

std::vector<std::string> lifted(const decision::Outcome& o, std::string_view name) {
    std::vector<std::string> out;
    for (const auto& [id, reason] : stage(o, name).lifted) out.push_back(id + ": " + reason);
    return out;
}

// Decision runs the pipeline for Scene's customer with a policies::Gate
// (and the exhausted caps, when there are some, behind it in a GateChain).
struct Decision {
    const Scene& s;
    std::vector<caps::CountedCap> exhausted = {};
    Json extra = Json::object();
    bool traced = true;

    decision::Outcome operator()() const {
        const History history = summarise(s.need(), s.events);
        const Gate policy_gate(s.cat, history, s.budgets, s.context, s.now, s.clock);
        const caps::Gate cap_gate(exhausted);
        const decision::GateChain chain({&policy_gate, &cap_gate});
        const decision::PolicyGate* gate = exhausted.empty() ? static_cast<const decision::PolicyGate*>(&policy_gate)
                                                             : &chain;
        return decision::run(s.cat, s.cat.flows.at("f"), request(extra), s.view, gate, static_cast<double>(s.now),
                             traced);
    }
};

TEST(ContactPolicyPipeline, ThePoliciesStageListsRemovalsAndLifts) {
    Catalog c = base();
    c.policy("fc-silver", "frequency_cap", {{"maxPerDay", 1}}, at("offer", "silver"));
    c.policy("cool-loans", "cooldown", {{"cooldownHours", 1}}, at("category", "loans"));
    c.policy("ao", "allow_override", {{"offerIds", {"loan"}}});
    c.policy("seg", "segment_exclusion", {{"segments", {"minor"}}}, at("offer", "misc"));
    Scene s(c);
    s.view = customer({"minor"});
    s.events = {shown("silver", kDayStart), shown("loan", kNow - 10 * kMinute)};
    decision::Outcome o = Decision{s}();
    EXPECT_THAT(ids(o), ElementsAre("gold", "plat", "loan"));
    EXPECT_THAT(removed(o, "policies"), ElementsAre("misc: segment_exclusion: segment=minor",
                                                    "silver: frequency_cap exceeded: 1/day at scope=offer:silver"));
    EXPECT_THAT(lifted(o, "policies"),
                ElementsAre("loan: allow_override: loan (lifts cooldown: last impression 10m ago < 1h at scope=category:loans)"));
    EXPECT_EQ(stage(o, "policies").in, 5u);
    EXPECT_EQ(stage(o, "policies").out, 3u);
    for (const auto& st : o.stages) {
        if (st.stage != "policies") {
            EXPECT_THAT(st.lifted, IsEmpty()) << st.stage;
        }
    }

    // Untraced: the same answer, no stages.
    decision::Outcome quiet = Decision{s, {}, Json::object(), false}();
    EXPECT_THAT(ids(quiet), ElementsAre("gold", "plat", "loan"));
    EXPECT_THAT(quiet.stages, IsEmpty());
}

TEST(ContactPolicyPipeline, AMandatoryOfferIsKeptWithItsLiftsInTheTrace) {
    Catalog c = base();
    c.offer("must", {{"mandatory", true}, {"priority", 90}}).creative("must-web", "must", "web");
    c.policy("cd", "cooldown", {{"cooldownHours", 24}}, {{"priority", 1}});
    c.policy("seg", "segment_exclusion", {{"segments", {"minor"}}}, {{"priority", 2}});
    c.policy("fc", "frequency_cap", {{"maxPerDay", 9}}, {{"priority", 3}});
    Scene s(c);
    s.view = customer({"minor"});
    s.events = {shown("misc", kNow - 3 * kHour)};
    decision::Outcome o = Decision{s}();
    EXPECT_THAT(ids(o), ElementsAre("must"));
    EXPECT_THAT(lifted(o, "policies"),
                ElementsAre("must: mandatory offer (lifts cooldown: last impression 3h ago < 24h at scope=global)",
                            "must: mandatory offer (lifts segment_exclusion: segment=minor)"));
    EXPECT_THAT(removed(o, "policies"),
                ElementsAre("gold: cooldown: last impression 3h ago < 24h at scope=global",
                            "loan: cooldown: last impression 3h ago < 24h at scope=global",
                            "misc: cooldown: last impression 3h ago < 24h at scope=global",
                            "plat: cooldown: last impression 3h ago < 24h at scope=global",
                            "silver: cooldown: last impression 3h ago < 24h at scope=global"));
    // The frequency cap is not lifted for a mandatory offer.
    s.events = times(9, shown("misc", kNow - 3 * kHour));
    o = Decision{s}();
    EXPECT_THAT(ids(o), IsEmpty());
    EXPECT_THAT(removed(o, "policies"), ::testing::Contains("must: frequency_cap exceeded: 9/day at scope=global"));
    EXPECT_THAT(lifted(o, "policies"), IsEmpty());
}

TEST(ContactPolicyPipeline, APolicyOnOneCreativeSwitchesToAnother) {
    Catalog c = base();
    c.add("flows", R"J({"id": "any"})J");
    c.policy("fc", "frequency_cap", {{"maxPerDay", 1}}, at("channel", "email"));
    Scene s(c);
    s.view.consents = {{"email", true}};
    s.events = {shown("gold", kNow).on("email", "gold-mail", "inbox")};
    const History history = summarise(s.need(), s.events);
    const Gate gate(s.cat, history, {}, s.context, kNow, s.clock);
    decision::Outcome o = decision::run(s.cat, s.cat.flows.at("any"), decision::parse_request({{"customerId", "c1"}, {"flow", "any"}}),
                                        s.view, &gate, kNow, true);
    ASSERT_FALSE(o.offers.empty());
    EXPECT_EQ(o.offers[0].offer_id, "gold");
    EXPECT_EQ(o.offers[0].creative_id, "gold-web");  // gold-mail is capped
    EXPECT_THAT(removed(o, "policies"), IsEmpty());
}

TEST(ContactPolicyPipeline, AGateChainWithFrequencyCaps) {
    Catalog c = base();
    c.add("caps", R"J({"id": "c-loans", "scope": "category", "scopeId": "loans", "maxVolume": 4, "period": "weekly"})J");
    c.add("caps", R"J({"id": "c-plat", "scope": "offer", "scopeId": "plat", "maxVolume": 2, "period": "daily"})J");
    c.policy("fc-silver", "frequency_cap", {{"maxPerDay", 1}}, at("offer", "silver"));
    c.policy("fc-plat", "frequency_cap", {{"maxPerDay", 1}}, at("offer", "plat"));
    c.policy("cool-loans", "cooldown", {{"cooldownHours", 1}}, at("category", "loans"));
    c.policy("ao", "allow_override", {{"offerIds", {"loan", "gold"}}});
    Scene s(c);
    s.events = {shown("silver", kNow), shown("plat", kNow), shown("loan", kNow - 10 * kMinute)};
    ASSERT_EQ(s.cat.caps.size(), 2u);
    Decision d{s, {{&s.cat.caps[0], 4}, {&s.cat.caps[1], 7}}};
    decision::Outcome o = d();
    EXPECT_THAT(ids(o), ElementsAre("gold", "misc"));
    // The policies come first: plat's frequency_cap names it, not the cap; loan's
    // lifted cooldown leaves it to the cap.
    EXPECT_THAT(removed(o, "policies"),
                ElementsAre("loan: frequency_cap \"c-loans\" exhausted: 4/4 per week at scope=category:loans",
                            "plat: frequency_cap exceeded: 1/day at scope=offer:plat",
                            "silver: frequency_cap exceeded: 1/day at scope=offer:silver"));
    EXPECT_THAT(lifted(o, "policies"), IsEmpty());

    // GateChain: the first block wins, lifts add up.
    const History history = summarise(s.need(), s.events);
    const Gate policy_gate(s.cat, history, {}, s.context, kNow, s.clock);
    const caps::Gate cap_gate(d.exhausted);
    const decision::GateChain chain({&policy_gate, &cap_gate});
    const auto& loan = *s.cat.offer("loan");
    GateVerdict v = chain.judge(loan, loan.creatives.back(), s.view);
    EXPECT_EQ(v.blocked, "frequency_cap \"c-loans\" exhausted: 4/4 per week at scope=category:loans");
    EXPECT_THAT(v.lifted,
                ElementsAre("allow_override: loan (lifts cooldown: last impression 10m ago < 1h at scope=category:loans)"));
    const decision::GateChain empty_chain(std::vector<const decision::PolicyGate*>{});
    EXPECT_EQ(empty_chain.judge(loan, loan.creatives.back(), s.view).blocked, std::nullopt);
}

TEST(ContactPolicyPipeline, MutualExclusionKeepsTheBestRankedMember) {
    Catalog c = base();
    c.policy("mx", "mutual_exclusion", {{"offerIds", {"gold", "plat"}}, {"withinDays", 0}});
    Scene s(c);
    decision::Outcome o = Decision{s}();
    EXPECT_THAT(ids(o), ElementsAre("gold", "silver", "loan", "misc"));
    EXPECT_THAT(removed(o, "ranking"), ElementsAre("plat: mutual_exclusion: gold ranks higher in this decision"));
    EXPECT_THAT(removed(o, "policies"), IsEmpty());
    EXPECT_EQ(stage(o, "ranking").in, 5u);
    EXPECT_EQ(stage(o, "ranking").out, 4u);

    // Without gold, plat is the best ranked member.
    o = Decision{s, {}, {{"excludeOffers", {"gold"}}}}();
    EXPECT_THAT(ids(o), ElementsAre("silver", "plat", "loan", "misc"));
    EXPECT_THAT(removed(o, "ranking"), IsEmpty());
}

TEST(ContactPolicyPipeline, MutualExclusionByCategoryAndSeveralGroups) {
    Catalog c = base();
    c.policy("mx-cards", "mutual_exclusion", {{"categoryIds", {"cards"}}});
    c.policy("mx-low", "mutual_exclusion", {{"offerIds", {"loan", "misc"}}});
    Scene s(c);
    decision::Outcome o = Decision{s}();
    EXPECT_THAT(ids(o), ElementsAre("gold", "loan"));
    EXPECT_THAT(removed(o, "ranking"), ElementsAre("silver: mutual_exclusion: gold ranks higher in this decision",
                                                   "plat: mutual_exclusion: gold ranks higher in this decision",
                                                   "misc: mutual_exclusion: loan ranks higher in this decision"));
}

TEST(ContactPolicyPipeline, MutualExclusionHoldsOnlyWhereItsScopeIs) {
    Catalog c = base();
    c.creative("plat-mail", "plat", "email", "inbox");
    c.add("flows", R"J({"id": "mail", "channelId": "email"})J");
    c.policy("mx", "mutual_exclusion", {{"offerIds", {"gold", "plat"}}}, at("channel", "email"));
    Scene s(c);
    s.view.consents = {{"email", true}};
    // On the web, the exclusion does not hold, though both offers also have e-mail creatives.
    decision::Outcome o = Decision{s}();
    EXPECT_THAT(ids(o), ElementsAre("gold", "silver", "plat", "loan", "misc"));
    EXPECT_THAT(removed(o, "ranking"), IsEmpty());
    // By e-mail it does.
    const History history;
    const Gate gate(s.cat, history, {}, s.context, kNow, s.clock);
    o = decision::run(s.cat, s.cat.flows.at("mail"), decision::parse_request({{"customerId", "c1"}, {"flow", "mail"}}),
                      s.view, &gate, kNow, true);
    EXPECT_THAT(ids(o), ElementsAre("gold"));
    EXPECT_THAT(removed(o, "ranking"), ElementsAre("plat: mutual_exclusion: gold ranks higher in this decision"));
}

TEST(ContactPolicyPipeline, AnOverriddenMemberStaysEvenBelowAnother) {
    Catalog c = base();
    c.policy("mx", "mutual_exclusion", {{"offerIds", {"gold", "plat", "misc"}}});
    c.policy("ao", "allow_override", {{"offerIds", {"plat"}}});
    Scene s(c);
    decision::Outcome o = Decision{s}();
    EXPECT_THAT(ids(o), ElementsAre("gold", "silver", "plat", "loan"));
    EXPECT_THAT(removed(o, "ranking"), ElementsAre("misc: mutual_exclusion: gold ranks higher in this decision"));

    // Overridden and first: it still keeps the others out.
    Catalog t = base();
    t.policy("mx", "mutual_exclusion", {{"offerIds", {"gold", "plat"}}});
    t.policy("ao", "allow_override", {{"offerIds", {"gold"}}});
    Scene u(t);
    o = Decision{u}();
    EXPECT_THAT(ids(o), ElementsAre("gold", "silver", "loan", "misc"));
    EXPECT_THAT(removed(o, "ranking"), ElementsAre("plat: mutual_exclusion: gold ranks higher in this decision"));

    // A mandatory member stays too; a non-bypassable exclusion holds for it.
    Catalog m = base();
    m.offer("must", {{"mandatory", true}, {"priority", 10}}).creative("must-web", "must", "web");
    m.policy("mx", "mutual_exclusion", {{"offerIds", {"gold", "must"}}});
    Scene w(m);
    o = Decision{w, {}, {{"limit", 10}}}();
    EXPECT_THAT(ids(o), ElementsAre("gold", "silver", "plat", "loan", "misc", "must"));
    EXPECT_THAT(removed(o, "ranking"), IsEmpty());
    m.policy("strict", "mutual_exclusion", {{"offerIds", {"silver", "must"}}}, {{"bypassable", false}});
    Scene x(m);
    o = Decision{x, {}, {{"limit", 10}}}();
    EXPECT_THAT(ids(o), ElementsAre("gold", "silver", "plat", "loan", "misc"));
    EXPECT_THAT(removed(o, "ranking"), ElementsAre("must: mutual_exclusion: silver ranks higher in this decision"));
}

TEST(ContactPolicyPipeline, MutualExclusionShownBeforeAndInTheDecision) {
    Catalog c = base();
    c.policy("mx", "mutual_exclusion", {{"offerIds", {"gold", "plat", "silver"}}, {"withinDays", 7}});
    Scene s(c);
    s.events = {shown("plat", kNow - 2 * kDay - kHour)};
    decision::Outcome o = Decision{s}();
    // gold and silver: plat was shown; plat: no other member was shown.
    EXPECT_THAT(removed(o, "policies"),
                ElementsAre("gold: mutual_exclusion: plat shown 2d ago", "silver: mutual_exclusion: plat shown 2d ago"));
    EXPECT_THAT(ids(o), ElementsAre("plat", "loan", "misc"));
    EXPECT_THAT(removed(o, "ranking"), IsEmpty());
}

// bucket_of counts as PostgreSQL's width_bucket(at, boundaries) did in the
// history query: the boundaries at or before `at`.
TEST(BucketOf, CountsTheBoundariesAtOrBefore) {
    const std::vector<int64_t> boundaries{-86400, 0, 1000, 1001, 5000};
    EXPECT_EQ(bucket_of(boundaries, -86401), 0);
    EXPECT_EQ(bucket_of(boundaries, -86400), 1);  // on a boundary: its bucket
    EXPECT_EQ(bucket_of(boundaries, -1), 1);
    EXPECT_EQ(bucket_of(boundaries, 0), 2);
    EXPECT_EQ(bucket_of(boundaries, 1000), 3);
    EXPECT_EQ(bucket_of(boundaries, 1001), 4);
    EXPECT_EQ(bucket_of(boundaries, 4999), 4);
    EXPECT_EQ(bucket_of(boundaries, 5000), 5);
    EXPECT_EQ(bucket_of(boundaries, INT64_MAX), 5);
    EXPECT_EQ(bucket_of({}, 42), 0);  // no windows: one bucket
}

TEST(BucketOf, SameAsCountingEveryBoundary) {
    std::mt19937_64 rng(11);
    for (int round = 0; round < 200; ++round) {
        std::vector<int64_t> boundaries;
        for (int i = 0; i < static_cast<int>(rng() % 12); ++i) boundaries.push_back(static_cast<int64_t>(rng() % 2000) - 1000);
        std::sort(boundaries.begin(), boundaries.end());
        boundaries.erase(std::unique(boundaries.begin(), boundaries.end()), boundaries.end());
        for (int64_t at = -1100; at <= 1100; at += 7) {
            const auto expected = std::count_if(boundaries.begin(), boundaries.end(), [&](int64_t b) { return b <= at; });
            ASSERT_EQ(bucket_of(boundaries, at), expected) << "at " << at;
        }
    }
}

}  // namespace
}  // namespace kaireon::policies
