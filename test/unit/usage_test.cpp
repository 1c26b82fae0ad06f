// usage_test.cpp - metering arithmetic (SPEC section 4): rollups of usage
// events and their merging, the hard-limit rule of each aggregation, the
// timing and idempotency-key checks of one event, and usage thresholds.
#include "core/usage.h"

#include "core/entitlements.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <numeric>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace kaireon::usage {
namespace {

using entitlements::Aggregation;
using entitlements::FeatureDefinition;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr Aggregation kAllAggregations[] = {Aggregation::Sum,     Aggregation::Count, Aggregation::Max,
                                            Aggregation::Min,     Aggregation::Average, Aggregation::Latest};

// --- Rollup: the brute-force oracle -------------------------------------------

template <class Number>
struct Event {
    Number value;
    EventStamp at;
};

// expect_rollup_of checks `rollup` against SUM, COUNT, MAX, MIN and LATEST
// computed directly over `events` (whose stamps are distinct). Sums must be
// exact: callers choose values whose every partial sum is representable.
template <class Number>
void expect_rollup_of(const Rollup<Number>& rollup, const std::vector<Event<Number>>& events) {
    ASSERT_EQ(rollup.count, static_cast<int64_t>(events.size()));
    if (events.empty()) {
        EXPECT_EQ(rollup.sum, Number{});
        EXPECT_FALSE(rollup.max.has_value());
        EXPECT_FALSE(rollup.min.has_value());
        EXPECT_FALSE(rollup.latest.has_value());
        return;
    }
    Number sum{};
    Number max = events.front().value;
    Number min = events.front().value;
    const Event<Number>* latest = &events.front();
    for (const auto& event : events) {
        sum = sum + event.value;
        max = std::max(max, event.value);
        min = std::min(min, event.value);
        // LATEST: the greatest occurred_at; ties go to the greater id.
        if (event.at.occurred_at > latest->at.occurred_at ||
            (event.at.occurred_at == latest->at.occurred_at && event.at.id > latest->at.id)) {
            latest = &event;
        }
    }
    EXPECT_EQ(rollup.sum, sum);
    ASSERT_TRUE(rollup.max.has_value());
    ASSERT_TRUE(rollup.min.has_value());
    ASSERT_TRUE(rollup.latest.has_value());
    EXPECT_EQ(*rollup.max, max);
    EXPECT_EQ(*rollup.min, min);
    EXPECT_EQ(*rollup.latest, latest->value);
    EXPECT_EQ(rollup.latest_at.occurred_at, latest->at.occurred_at);
    EXPECT_EQ(rollup.latest_at.id, latest->at.id);
}

template <class Number>
Rollup<Number> rollup_of(const std::vector<Event<Number>>& events) {
    Rollup<Number> rollup;
    for (const auto& event : events) rollup.add(event.value, event.at);
    return rollup;
}

// random_events returns `n` events with values from `value` and stamps whose
// occurred_at come from a narrow range (many ties, negatives included) and
// whose ids are distinct but in no relation to the order of the events.
template <class Number, class ValueOf>
std::vector<Event<Number>> random_events(std::mt19937_64& rng, int n, ValueOf value) {
    std::vector<int64_t> ids(static_cast<size_t>(n));
    std::iota(ids.begin(), ids.end(), int64_t{0});
    std::shuffle(ids.begin(), ids.end(), rng);
    std::uniform_int_distribution<int64_t> occurred(-20, 40);
    std::vector<Event<Number>> events;
    events.reserve(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) {
        events.push_back({value(rng), EventStamp{occurred(rng), ids[static_cast<size_t>(i)] * 3 - 5000}});
    }
    return events;
}

// split deals `events` in their order into `chunks` rollups, each event to a
// random one (so some chunks may be empty), and returns the rollups and the
// events each received.
template <class Number>
void split(std::mt19937_64& rng, const std::vector<Event<Number>>& events, size_t chunks,
           std::vector<Rollup<Number>>& rollups, std::vector<std::vector<Event<Number>>>& parts) {
    rollups.assign(chunks, Rollup<Number>{});
    parts.assign(chunks, {});
    std::uniform_int_distribution<size_t> pick(0, chunks - 1);
    for (const auto& event : events) {
        const size_t c = pick(rng);
        rollups[c].add(event.value, event.at);
        parts[c].push_back(event);
    }
}

// check_merges merges random splits of `events` in three ways - a fold in a
// random order, a random merge tree (either side merged into the other), and
// a fold of all but one chunk followed by adding that chunk's events one by
// one - and checks each result, and every chunk, against the oracle.
template <class Number, class ValueOf>
void check_merges(uint64_t seed, int n, ValueOf value) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 rng(seed);
    const auto events = random_events<Number>(rng, n, value);
    expect_rollup_of(rollup_of(events), events);

    std::uniform_int_distribution<size_t> chunk_count(1, 80);
    for (int round = 0; round < 4; ++round) {
        SCOPED_TRACE("round " + std::to_string(round));
        std::vector<Rollup<Number>> rollups;
        std::vector<std::vector<Event<Number>>> parts;
        split(rng, events, chunk_count(rng), rollups, parts);
        for (size_t c = 0; c < rollups.size(); ++c) expect_rollup_of(rollups[c], parts[c]);

        // A fold in a random order.
        {
            std::vector<size_t> order(rollups.size());
            std::iota(order.begin(), order.end(), size_t{0});
            std::shuffle(order.begin(), order.end(), rng);
            Rollup<Number> folded;
            for (size_t c : order) folded.merge(rollups[c]);
            expect_rollup_of(folded, events);
        }
        // A random merge tree.
        {
            std::vector<Rollup<Number>> pool = rollups;
            while (pool.size() > 1) {
                std::uniform_int_distribution<size_t> pick(0, pool.size() - 1);
                const size_t i = pick(rng);
                size_t j = pick(rng);
                while (j == i) j = pick(rng);
                if (rng() % 2 == 0) {
                    pool[i].merge(pool[j]);
                } else {
                    Rollup<Number> other = pool[j];
                    other.merge(pool[i]);
                    pool[i] = other;
                }
                pool.erase(pool.begin() + static_cast<std::ptrdiff_t>(j));
            }
            expect_rollup_of(pool.front(), events);
        }
        // Merges, then more events added one by one.
        {
            Rollup<Number> mixed;
            for (size_t c = 0; c + 1 < rollups.size(); ++c) mixed.merge(rollups[c]);
            for (const auto& event : parts.back()) mixed.add(event.value, event.at);
            expect_rollup_of(mixed, events);
        }
    }
}

// --- Rollup ---------------------------------------------------------------------

TEST(UsageRollup, EmptyRollupHasNothing) {
    const Rollup<double> r;
    EXPECT_EQ(r.count, 0);
    EXPECT_EQ(r.sum, 0.0);
    EXPECT_FALSE(r.max.has_value());
    EXPECT_FALSE(r.min.has_value());
    EXPECT_FALSE(r.latest.has_value());
}

TEST(UsageRollup, OneEventIsEverything) {
    Rollup<double> r;
    r.add(-7.5, EventStamp{-100, -3});  // a stamp below the default {0, 0}
    EXPECT_EQ(r.count, 1);
    EXPECT_EQ(r.sum, -7.5);
    EXPECT_EQ(r.max, -7.5);
    EXPECT_EQ(r.min, -7.5);
    EXPECT_EQ(r.latest, -7.5);
    EXPECT_EQ(r.latest_at, (EventStamp{-100, -3}));
}

TEST(UsageRollup, LatestIsGreatestOccurredAtThenGreatestId) {
    // Same occurred_at: the greater id wins, whatever the order of adding.
    Rollup<double> a;
    a.add(1, EventStamp{10, 9});
    a.add(2, EventStamp{10, 4});
    EXPECT_EQ(a.latest, 1.0);
    EXPECT_EQ(a.latest_at, (EventStamp{10, 9}));
    Rollup<double> b;
    b.add(2, EventStamp{10, 4});
    b.add(1, EventStamp{10, 9});
    EXPECT_EQ(b.latest, 1.0);
    // A later occurred_at beats any id.
    b.add(3, EventStamp{11, -1000});
    EXPECT_EQ(b.latest, 3.0);
    EXPECT_EQ(b.latest_at, (EventStamp{11, -1000}));
    b.add(4, EventStamp{10, 1000});
    EXPECT_EQ(b.latest, 3.0);

    // The same through merges, both ways.
    Rollup<double> early;
    early.add(5, EventStamp{20, 2});
    Rollup<double> tie_greater_id;
    tie_greater_id.add(6, EventStamp{20, 3});
    Rollup<double> x = early;
    x.merge(tie_greater_id);
    EXPECT_EQ(x.latest, 6.0);
    Rollup<double> y = tie_greater_id;
    y.merge(early);
    EXPECT_EQ(y.latest, 6.0);
    EXPECT_EQ(y.latest_at, (EventStamp{20, 3}));
}

TEST(UsageRollup, MergingAnEmptyRollupBothWays) {
    Rollup<double> filled;
    filled.add(4, EventStamp{-5, -9});
    filled.add(-2, EventStamp{-6, 100});
    const Rollup<double> before = filled;

    filled.merge(Rollup<double>{});  // filled <- empty: unchanged
    EXPECT_EQ(filled.count, 2);
    EXPECT_EQ(filled.sum, 2.0);
    EXPECT_EQ(filled.max, 4.0);
    EXPECT_EQ(filled.min, -2.0);
    EXPECT_EQ(filled.latest, 4.0);
    EXPECT_EQ(filled.latest_at, before.latest_at);

    Rollup<double> empty;  // empty <- filled: a copy, even with stamps below {0, 0}
    empty.merge(before);
    EXPECT_EQ(empty.count, 2);
    EXPECT_EQ(empty.sum, 2.0);
    EXPECT_EQ(empty.max, 4.0);
    EXPECT_EQ(empty.min, -2.0);
    EXPECT_EQ(empty.latest, 4.0);
    EXPECT_EQ(empty.latest_at, (EventStamp{-5, -9}));

    Rollup<double> nothing;  // empty <- empty: still empty
    nothing.merge(Rollup<double>{});
    EXPECT_EQ(nothing.count, 0);
    EXPECT_EQ(nothing.sum, 0.0);
    EXPECT_FALSE(nothing.max.has_value());
    EXPECT_FALSE(nothing.min.has_value());
    EXPECT_FALSE(nothing.latest.has_value());

    Rollup<int64_t> ints;
    ints.add(3, EventStamp{1, 1});
    Rollup<int64_t> into_empty;
    into_empty.merge(ints);
    ints.merge(Rollup<int64_t>{});
    for (const auto* r : {&ints, &into_empty}) {
        EXPECT_EQ(r->count, 1);
        EXPECT_EQ(r->sum, 3);
        EXPECT_EQ(r->max, 3);
        EXPECT_EQ(r->min, 3);
        EXPECT_EQ(r->latest, 3);
    }
}

TEST(UsageRollup, AddingAfterMergingIntoEmpty) {
    Rollup<int64_t> chunk;
    chunk.add(10, EventStamp{-3, 0});
    Rollup<int64_t> r;
    r.merge(chunk);
    r.add(-1, EventStamp{-3, -1});  // earlier by id: not the latest
    EXPECT_EQ(r.latest, 10);
    r.add(7, EventStamp{-2, -50});
    EXPECT_EQ(r.latest, 7);
    EXPECT_EQ(r.count, 3);
    EXPECT_EQ(r.sum, 16);
    EXPECT_EQ(r.max, 10);
    EXPECT_EQ(r.min, -1);
}

TEST(UsageRollup, Int64Extremes) {
    Rollup<int64_t> r;
    r.add(std::numeric_limits<int64_t>::min(), EventStamp{0, 1});
    r.add(std::numeric_limits<int64_t>::max(), EventStamp{0, 2});
    EXPECT_EQ(r.sum, -1);
    EXPECT_EQ(r.max, std::numeric_limits<int64_t>::max());
    EXPECT_EQ(r.min, std::numeric_limits<int64_t>::min());
    EXPECT_EQ(r.latest, std::numeric_limits<int64_t>::max());
}

TEST(UsageRollup, DoubleMergesMatchBruteForce) {
    // Multiples of 1/4 up to 250000: every partial sum of 5000 is exact, so
    // sums must agree exactly whatever the merge order.
    auto value = [](std::mt19937_64& rng) {
        return static_cast<double>(std::uniform_int_distribution<int64_t>(-1'000'000, 1'000'000)(rng)) / 4.0;
    };
    for (uint64_t seed : {1u, 2u, 3u, 20240601u, 987654321u}) check_merges<double>(seed, 5000, value);
}

TEST(UsageRollup, Int64MergesMatchBruteForce) {
    auto value = [](std::mt19937_64& rng) {
        return std::uniform_int_distribution<int64_t>(-1'000'000'000'000, 1'000'000'000'000)(rng);
    };
    for (uint64_t seed : {4u, 5u, 6u, 77u, 123456789u}) check_merges<int64_t>(seed, 5000, value);
}

TEST(UsageRollup, FewDistinctValuesMatchBruteForce) {
    // Many equal values and equal occurred_at: max, min and latest still agree.
    auto doubles = [](std::mt19937_64& rng) {
        return static_cast<double>(std::uniform_int_distribution<int>(-3, 3)(rng));
    };
    auto ints = [](std::mt19937_64& rng) { return std::uniform_int_distribution<int64_t>(0, 2)(rng); };
    for (uint64_t seed : {8u, 9u}) {
        check_merges<double>(seed, 3000, doubles);
        check_merges<int64_t>(seed, 3000, ints);
    }
}

TEST(UsageRollup, InexactDoubleSumsAgreeClosely) {
    // Arbitrary doubles: max, min, latest and count are exact; the sum may
    // differ from the oracle's by rounding only.
    std::mt19937_64 rng(31337);
    auto value = [](std::mt19937_64& r) { return std::uniform_real_distribution<double>(-1e6, 1e6)(r); };
    const auto events = random_events<double>(rng, 4000, value);
    std::vector<Rollup<double>> rollups;
    std::vector<std::vector<Event<double>>> parts;
    split(rng, events, 37, rollups, parts);
    std::shuffle(rollups.begin(), rollups.end(), rng);
    Rollup<double> merged;
    for (const auto& r : rollups) merged.merge(r);

    const Rollup<double> direct = rollup_of(events);
    long double exact = 0;
    double magnitude = 0;
    for (const auto& e : events) {
        exact += e.value;
        magnitude += std::fabs(e.value);
    }
    EXPECT_NEAR(merged.sum, static_cast<double>(exact), magnitude * 1e-12);
    EXPECT_EQ(merged.count, direct.count);
    EXPECT_EQ(merged.max, direct.max);
    EXPECT_EQ(merged.min, direct.min);
    EXPECT_EQ(merged.latest, direct.latest);
    EXPECT_EQ(merged.latest_at, direct.latest_at);
}

// --- additive, contribution -----------------------------------------------------

TEST(UsageAdditive, OnlySumAndCount) {
    EXPECT_TRUE(additive(Aggregation::Sum));
    EXPECT_TRUE(additive(Aggregation::Count));
    EXPECT_FALSE(additive(Aggregation::Max));
    EXPECT_FALSE(additive(Aggregation::Min));
    EXPECT_FALSE(additive(Aggregation::Average));
    EXPECT_FALSE(additive(Aggregation::Latest));
}

TEST(UsageAdditive, ContributionIsTotalForSumAndEventsForCount) {
    EXPECT_EQ(contribution(Aggregation::Sum, 12.5, 3), 12.5);
    EXPECT_EQ(contribution(Aggregation::Sum, -4, 2), -4.0);
    EXPECT_EQ(contribution(Aggregation::Sum, 0, 0), 0.0);
    EXPECT_EQ(contribution(Aggregation::Count, 12.5, 3), 3.0);
    EXPECT_EQ(contribution(Aggregation::Count, 0, 7), 7.0);
    EXPECT_EQ(contribution(Aggregation::Count, 99, 0), 0.0);
}

TEST(UsageAdditive, LimitedUsageOfAdditiveIsCurrentPlusContribution) {
    std::mt19937_64 rng(42);
    std::uniform_int_distribution<int64_t> n(0, 1000);
    for (int i = 0; i < 500; ++i) {
        Current current;
        current.value = static_cast<double>(n(rng));
        const double total = static_cast<double>(n(rng)) / 8;
        const int64_t events = n(rng);
        for (Aggregation aggregation : {Aggregation::Sum, Aggregation::Count}) {
            EXPECT_EQ(limited_usage(aggregation, current, total, events, 1, 1, 1),
                      current.value + contribution(aggregation, total, events));
        }
    }
}

// --- limited_usage --------------------------------------------------------------

Current current_of(double value, double sum = 0, int64_t count = 0) {
    Current c;
    c.value = value;
    c.sum = sum;
    c.count = count;
    return c;
}

TEST(UsageLimitedUsage, Sum) {
    EXPECT_EQ(limited_usage(Aggregation::Sum, current_of(100), 25.5, 3, 20, 0.5, 5), 125.5);
    EXPECT_EQ(limited_usage(Aggregation::Sum, current_of(0), 0, 0, 0, 0, 0), 0.0);
    EXPECT_EQ(limited_usage(Aggregation::Sum, current_of(10), -4, 1, -4, -4, -4), 6.0);
}

TEST(UsageLimitedUsage, CountCountsEventsNotValues) {
    EXPECT_EQ(limited_usage(Aggregation::Count, current_of(100), 25.5, 3, 20, 0.5, 5), 103.0);
    EXPECT_EQ(limited_usage(Aggregation::Count, current_of(0), 1e9, 1, 1e9, 1e9, 1e9), 1.0);
}

TEST(UsageLimitedUsage, MaxIsTheStatementsLargestWhateverCameBefore) {
    EXPECT_EQ(limited_usage(Aggregation::Max, current_of(1000), 30, 3, 20, 1, 9), 20.0);
    EXPECT_EQ(limited_usage(Aggregation::Max, current_of(5), 30, 3, 20, 1, 9), 20.0);
    EXPECT_EQ(limited_usage(Aggregation::Max, current_of(0), -3, 1, -3, -3, -3), -3.0);
}

TEST(UsageLimitedUsage, LatestIsTheStatementsLatestWhateverCameBefore) {
    EXPECT_EQ(limited_usage(Aggregation::Latest, current_of(1000), 30, 3, 20, 1, 9), 9.0);
    EXPECT_EQ(limited_usage(Aggregation::Latest, current_of(1), 30, 3, 20, 1, 9), 9.0);
}

TEST(UsageLimitedUsage, MinIsTheResultingMinimum) {
    // Previous events: the smaller of the previous minimum and the statement's.
    EXPECT_EQ(limited_usage(Aggregation::Min, current_of(3, 10, 2), 30, 3, 20, 5, 9), 3.0);
    EXPECT_EQ(limited_usage(Aggregation::Min, current_of(7, 10, 2), 30, 3, 20, 5, 9), 5.0);
    EXPECT_EQ(limited_usage(Aggregation::Min, current_of(-1, -1, 1), 30, 3, 20, 5, 9), -1.0);
    // No previous events: the statement's smallest, not the zero of an empty
    // Current (whether smaller or larger).
    EXPECT_EQ(limited_usage(Aggregation::Min, current_of(0, 0, 0), 30, 3, 20, 5, 9), 5.0);
    EXPECT_EQ(limited_usage(Aggregation::Min, current_of(0, 0, 0), -30, 3, -5, -20, -9), -20.0);
    EXPECT_EQ(limited_usage(Aggregation::Min, Current{}, 12, 1, 12, 12, 12), 12.0);
}

TEST(UsageLimitedUsage, AverageIsTheResultingAverage) {
    // (sum + total) / (count + events); current.value plays no part.
    EXPECT_EQ(limited_usage(Aggregation::Average, current_of(999, 10, 2), 20, 3, 9, 1, 5), 6.0);
    EXPECT_EQ(limited_usage(Aggregation::Average, current_of(999, 10, 2), 0, 0, 0, 0, 0), 5.0);
    // No previous events: the statement's own average.
    EXPECT_EQ(limited_usage(Aggregation::Average, current_of(0, 0, 0), 9, 4, 4, 1, 2), 2.25);
    EXPECT_EQ(limited_usage(Aggregation::Average, Current{}, -9, 3, -1, -5, -3), -3.0);
    // No events at all: 0, not a division by zero.
    const double none = limited_usage(Aggregation::Average, Current{}, 0, 0, 0, 0, 0);
    EXPECT_FALSE(std::isnan(none));
    EXPECT_EQ(none, 0.0);
}

TEST(UsageLimitedUsage, EveryAggregationIsHandled) {
    // Distinct inputs so that each rule picks a distinct answer.
    const Current current = current_of(50, 60, 4);
    const double total = 40;
    const int64_t events = 6;
    const double largest = 17, smallest = 2, latest = 11;
    std::vector<double> answers;
    for (Aggregation aggregation : kAllAggregations) {
        answers.push_back(limited_usage(aggregation, current, total, events, largest, smallest, latest));
    }
    EXPECT_THAT(answers, ElementsAre(90.0, 56.0, 17.0, 2.0, 10.0, 11.0));
}

// --- occurred_at_problem --------------------------------------------------------

TEST(UsageOccurredAt, LatenessBoundary) {
    const double now = 1'700'000'000;
    for (int64_t lateness : {int64_t{0}, int64_t{1}, int64_t{3600}, int64_t{86400 * 35}}) {
        SCOPED_TRACE("lateness " + std::to_string(lateness));
        const double oldest = now - static_cast<double>(lateness);
        EXPECT_EQ(occurred_at_problem(oldest, now, lateness), "");
        EXPECT_EQ(occurred_at_problem(oldest + 0.5, now, lateness), "");
        EXPECT_EQ(occurred_at_problem(now, now, lateness), "");
        EXPECT_THAT(occurred_at_problem(oldest - 1, now, lateness), HasSubstr("older"));
        EXPECT_THAT(occurred_at_problem(oldest - 1, now, lateness),
                    HasSubstr("(" + std::to_string(lateness) + " s)"));
        EXPECT_NE(occurred_at_problem(oldest - 0.5, now, lateness), "");
        EXPECT_NE(occurred_at_problem(std::nextafter(oldest, -INFINITY), now, lateness), "");
    }
}

TEST(UsageOccurredAt, FutureSkewBoundary) {
    ASSERT_EQ(kMaxFutureSkew, 300);
    for (double now : {1'700'000'000.0, 1'700'000'000.25, 0.0}) {
        SCOPED_TRACE("now " + std::to_string(now));
        EXPECT_EQ(occurred_at_problem(now + 300, now, 3600), "");
        EXPECT_EQ(occurred_at_problem(now + 299.5, now, 3600), "");
        EXPECT_THAT(occurred_at_problem(now + 301, now, 3600), HasSubstr("300 seconds in the future"));
        EXPECT_NE(occurred_at_problem(now + 300.5, now, 3600), "");
        EXPECT_NE(occurred_at_problem(std::nextafter(now + 300, INFINITY), now, 3600), "");
    }
}

TEST(UsageOccurredAt, NonFiniteRefused) {
    const double now = 1'700'000'000;
    for (double bad : {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity(),
                       -std::numeric_limits<double>::infinity()}) {
        SCOPED_TRACE(bad);
        EXPECT_THAT(occurred_at_problem(bad, now, 3600), HasSubstr("finite"));
        // Even with a lateness that would otherwise accept anything old.
        EXPECT_THAT(occurred_at_problem(bad, now, std::numeric_limits<int64_t>::max()), HasSubstr("finite"));
    }
}

// --- threshold_percents ---------------------------------------------------------

FeatureDefinition feature_with_thresholds(std::vector<int> thresholds) {
    FeatureDefinition feature;
    feature.key = "api-calls";
    feature.type = entitlements::FeatureType::Numeric;
    feature.thresholds = std::move(thresholds);
    return feature;
}

TEST(UsageThresholdPercents, DefaultsWhenNeitherTenantNorFeatureHasAList) {
    EXPECT_THAT(threshold_percents(std::nullopt, feature_with_thresholds({})), ElementsAre(75, 90, 95, 100));
    EXPECT_EQ(threshold_percents(std::nullopt, feature_with_thresholds({})), entitlements::kDefaultThresholds);
}

TEST(UsageThresholdPercents, FeatureListOverDefaults) {
    EXPECT_THAT(threshold_percents(std::nullopt, feature_with_thresholds({90, 95, 100})), ElementsAre(90, 95, 100));
    EXPECT_THAT(threshold_percents(std::nullopt, feature_with_thresholds({100, 20, 50, 20, 100})),
                ElementsAre(20, 50, 100));
}

TEST(UsageThresholdPercents, TenantListOverFeatureListAndDefaults) {
    const std::optional<std::vector<int>> tenant = std::vector<int>{80, 50, 100};
    EXPECT_THAT(threshold_percents(tenant, feature_with_thresholds({90, 95, 100})), ElementsAre(50, 80, 100));
    EXPECT_THAT(threshold_percents(tenant, feature_with_thresholds({})), ElementsAre(50, 80, 100));
    const std::optional<std::vector<int>> duplicates = std::vector<int>{1000, 5, 1000, 5, 60, 5};
    EXPECT_THAT(threshold_percents(duplicates, feature_with_thresholds({75})), ElementsAre(5, 60, 1000));
    const std::optional<std::vector<int>> single = std::vector<int>{42};
    EXPECT_THAT(threshold_percents(single, feature_with_thresholds({})), ElementsAre(42));
}

TEST(UsageThresholdPercents, ResultIsSortedAndDistinct) {
    std::mt19937_64 rng(7);
    std::uniform_int_distribution<int> percent(1, 1000);
    std::uniform_int_distribution<int> length(1, 12);
    for (int i = 0; i < 300; ++i) {
        std::vector<int> list(static_cast<size_t>(length(rng)));
        for (int& p : list) p = rng() % 3 == 0 ? 100 : percent(rng);
        std::vector<int> expected = list;
        std::sort(expected.begin(), expected.end());
        expected.erase(std::unique(expected.begin(), expected.end()), expected.end());
        EXPECT_EQ(threshold_percents(list, feature_with_thresholds({1, 2, 3})), expected);
        EXPECT_EQ(threshold_percents(std::nullopt, feature_with_thresholds(list)), expected);
    }
}

// --- reached_thresholds ---------------------------------------------------------

const std::vector<int> kDefaults{75, 90, 95, 100};

TEST(UsageReachedThresholds, ExactlyAtAPercentReachesIt) {
    EXPECT_THAT(reached_thresholds(kDefaults, 75, 100), ElementsAre(75));
    EXPECT_THAT(reached_thresholds(kDefaults, 74.99, 100), IsEmpty());
    EXPECT_THAT(reached_thresholds(kDefaults, std::nextafter(75.0, 0.0), 100), IsEmpty());
    EXPECT_THAT(reached_thresholds(kDefaults, 90, 100), ElementsAre(75, 90));
    EXPECT_THAT(reached_thresholds(kDefaults, 94.999, 100), ElementsAre(75, 90));
    EXPECT_THAT(reached_thresholds(kDefaults, 95, 100), ElementsAre(75, 90, 95));
    EXPECT_THAT(reached_thresholds(kDefaults, 100, 100), ElementsAre(75, 90, 95, 100));
    EXPECT_THAT(reached_thresholds(kDefaults, 250, 100), ElementsAre(75, 90, 95, 100));
    EXPECT_THAT(reached_thresholds(kDefaults, 0, 100), IsEmpty());
    EXPECT_THAT(reached_thresholds(kDefaults, -5, 100), IsEmpty());
    // Limits for which limit * p / 100 is not a double: 3 * 0.75 = 2.25 is,
    // but e.g. 7 * 0.95 = 6.65 is not; integer usages are still exact.
    EXPECT_THAT(reached_thresholds(kDefaults, 2.25, 3), ElementsAre(75));
    EXPECT_THAT(reached_thresholds(kDefaults, 2, 3), IsEmpty());
    EXPECT_THAT(reached_thresholds(kDefaults, 7, 7), ElementsAre(75, 90, 95, 100));
    EXPECT_THAT(reached_thresholds(kDefaults, 6, 7), ElementsAre(75));  // 85.7 %
    EXPECT_THAT(reached_thresholds({150, 200, 1000}, 150, 100), ElementsAre(150));
    EXPECT_THAT(reached_thresholds({150, 200, 1000}, 1000, 100), ElementsAre(150, 200, 1000));
    EXPECT_THAT(reached_thresholds({}, 1000, 100), IsEmpty());
}

TEST(UsageReachedThresholds, MatchesIntegerArithmeticExactly) {
    // For integer usage u, limit L and percent p, reached iff 100 u >= L p.
    const std::vector<int> percents{1, 33, 50, 66, 75, 90, 95, 99, 100, 101, 150, 1000};
    for (int64_t limit = 1; limit <= 400; ++limit) {
        for (int64_t u = 0; u <= limit * 10 + 1; u += (u < limit * 2 ? 1 : 7)) {
            std::vector<int> expected;
            for (int p : percents) {
                if (100 * u >= limit * p) expected.push_back(p);
            }
            ASSERT_EQ(reached_thresholds(percents, static_cast<double>(u), static_cast<double>(limit)), expected)
                << "usage " << u << " of limit " << limit;
        }
    }
}

TEST(UsageReachedThresholds, NoneWithoutAPositiveLimit) {
    for (double limit : {0.0, -0.0, -1.0, -100.0, -std::numeric_limits<double>::infinity(),
                         std::numeric_limits<double>::quiet_NaN()}) {
        SCOPED_TRACE(limit);
        EXPECT_THAT(reached_thresholds(kDefaults, 100, limit), IsEmpty());
        EXPECT_THAT(reached_thresholds(kDefaults, 0, limit), IsEmpty());
        EXPECT_THAT(reached_thresholds(kDefaults, 1e300, limit), IsEmpty());
    }
}

TEST(UsageReachedThresholds, NoneForNonFiniteUsage) {
    for (double usage : {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity(),
                         -std::numeric_limits<double>::infinity()}) {
        SCOPED_TRACE(usage);
        EXPECT_THAT(reached_thresholds(kDefaults, usage, 100), IsEmpty());
    }
}

TEST(UsageReachedThresholds, LargeAndTinyValues) {
    // Exactly 3/4 of 2^990, and the double just below it.
    EXPECT_THAT(reached_thresholds(kDefaults, std::ldexp(3.0, 988), std::ldexp(1.0, 990)), ElementsAre(75));
    EXPECT_THAT(reached_thresholds(kDefaults, std::nextafter(std::ldexp(3.0, 988), 0.0), std::ldexp(1.0, 990)),
                IsEmpty());
    EXPECT_THAT(reached_thresholds(kDefaults, 0.7499e300, 1e300), IsEmpty());
    EXPECT_THAT(reached_thresholds(kDefaults, 1e300, 1e300), ElementsAre(75, 90, 95, 100));
    EXPECT_THAT(reached_thresholds(kDefaults, 7.5e15, 1e16), ElementsAre(75));
    EXPECT_THAT(reached_thresholds(kDefaults, 7.5e15 - 1, 1e16), IsEmpty());
    EXPECT_THAT(reached_thresholds(kDefaults, 9e15, 1e16), ElementsAre(75, 90));
    // Subnormals: limit 2^-1070, usage exactly 3/4 of it, and the double below.
    const double limit = std::ldexp(1.0, -1070);
    const double three_quarters = std::ldexp(3.0, -1072);
    EXPECT_THAT(reached_thresholds(kDefaults, three_quarters, limit), ElementsAre(75));
    EXPECT_THAT(reached_thresholds(kDefaults, std::nextafter(three_quarters, 0.0), limit), IsEmpty());
    EXPECT_THAT(reached_thresholds(kDefaults, limit, limit), ElementsAre(75, 90, 95, 100));
    // Any usage against the smallest positive limit.
    EXPECT_THAT(reached_thresholds(kDefaults, 1, std::numeric_limits<double>::denorm_min()),
                ElementsAre(75, 90, 95, 100));
}

TEST(UsageReachedThresholds, HugeValuesNearTheTopOfTheDoubleRange) {
    // usage * 100 and limit * percent overflow to infinity here; the answer
    // must still be the mathematical one.
    const double max = std::numeric_limits<double>::max();
    // 1 % of the limit is far below 75 %.
    EXPECT_THAT(reached_thresholds(kDefaults, max / 100, max), IsEmpty());
    EXPECT_THAT(reached_thresholds(kDefaults, 1e307, max), IsEmpty());
    // Usage equal to the limit reaches 100 %, but not 150 % or 1000 %.
    EXPECT_THAT(reached_thresholds({100, 150, 1000}, 1e307, 1e307), ElementsAre(100));
    EXPECT_THAT(reached_thresholds({75, 100, 150}, max, max), ElementsAre(75, 100));
    // 0.75 * max rounds in double; 3/4 of a power of two is exact.
    const double big = std::ldexp(1.0, 1023);
    EXPECT_THAT(reached_thresholds(kDefaults, 0.75 * big, big), ElementsAre(75));
    EXPECT_THAT(reached_thresholds(kDefaults, std::nextafter(0.75 * big, 0.0), big), IsEmpty());
    EXPECT_THAT(reached_thresholds(kDefaults, 0.7 * max, max), IsEmpty());
}

// --- idempotency_key_problem ----------------------------------------------------

TEST(UsageIdempotencyKey, EmptyRefused) {
    EXPECT_THAT(idempotency_key_problem(""), HasSubstr("empty"));
}

TEST(UsageIdempotencyKey, LengthInCharacters) {
    EXPECT_EQ(idempotency_key_problem("k"), "");
    EXPECT_EQ(idempotency_key_problem(std::string(255, 'a')), "");
    EXPECT_THAT(idempotency_key_problem(std::string(256, 'a')), HasSubstr("255 characters"));
    EXPECT_NE(idempotency_key_problem(std::string(10000, 'a')), "");
    // Characters, not bytes: 255 three-byte characters (765 bytes) pass; 256 do not.
    std::string euros;
    for (int i = 0; i < 255; ++i) euros += "\u20ac";
    ASSERT_EQ(euros.size(), 765u);
    EXPECT_EQ(idempotency_key_problem(euros), "");
    EXPECT_NE(idempotency_key_problem(euros + "\u20ac"), "");
    // 254 ASCII characters plus a two-byte one: 255 characters (256 bytes) pass.
    EXPECT_EQ(idempotency_key_problem(std::string(254, 'a') + "\u00e9"), "");
    EXPECT_NE(idempotency_key_problem(std::string(255, 'a') + "\u00e9"), "");
    // Four-byte characters count once.
    std::string emoji;
    for (int i = 0; i < 255; ++i) emoji += "\U0001F600";
    EXPECT_EQ(idempotency_key_problem(emoji), "");
    EXPECT_NE(idempotency_key_problem(emoji + "x"), "");
}

TEST(UsageIdempotencyKey, ControlCharactersRefused) {
    for (int c = 0; c < 0x20; ++c) {
        SCOPED_TRACE(c);
        for (const std::string& key : {std::string(1, static_cast<char>(c)), "ab" + std::string(1, static_cast<char>(c)),
                                       std::string(1, static_cast<char>(c)) + "ab",
                                       "a" + std::string(1, static_cast<char>(c)) + "b"}) {
            EXPECT_THAT(idempotency_key_problem(key), HasSubstr("control"));
        }
    }
    EXPECT_THAT(idempotency_key_problem("a\x7f"), HasSubstr("control"));
    EXPECT_THAT(idempotency_key_problem(std::string("a\0b", 3)), HasSubstr("control"));
    EXPECT_THAT(idempotency_key_problem("line\nbreak"), HasSubstr("control"));
    EXPECT_THAT(idempotency_key_problem("tab\there"), HasSubstr("control"));
    // Too long and a control character: refused.
    EXPECT_NE(idempotency_key_problem(std::string(300, 'a') + "\n"), "");
}

TEST(UsageIdempotencyKey, PrintableAsciiAndUtf8Accepted) {
    std::string printable;
    for (int c = 0x20; c < 0x7f; ++c) printable += static_cast<char>(c);
    EXPECT_EQ(idempotency_key_problem(printable), "");
    EXPECT_EQ(idempotency_key_problem(" "), "");
    EXPECT_EQ(idempotency_key_problem("order-2024-06-01/42:retry#3"), "");
    EXPECT_EQ(idempotency_key_problem("550e8400-e29b-41d4-a716-446655440000"), "");
    EXPECT_EQ(idempotency_key_problem("cl\u00e9-\u043a\u043b\u044e\u0447-\u952e-\U0001F511"), "");
    EXPECT_EQ(idempotency_key_problem("\u00ff\u0100\u07ff\u0800\uffff\U00010000\U0010FFFF"), "");
}

}  // namespace
}  // namespace kaireon::usage
