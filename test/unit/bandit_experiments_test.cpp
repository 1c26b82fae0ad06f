// bandit_experiments_test.cpp - bandit experiments (SPEC 6.5, issue 13):
// the core between the draws of bandits.h and the database. arm_of's
// clamping, choose_arm (Thompson: the clearly best arm, reproducible by
// seed; epsilon-greedy: exploiting the posterior mean with the settings'
// prior, uniform exploration, decay over the arms' trials), assign_bandit
// (the holdout of the A/B hash, the variants' flows, arms/variants
// mismatch, a bandit over offers), offer_bandit_scorer (score =
// propensity, Thompson over the offers' counts, the prior for offers
// without counts, exact posterior means, one explore coin per decision
// over the summed impressions), the simulation of issue 13 run through the
// scorer, and the catalog's compilation of the `bandit` object and the
// counting flags.
//
// Every random number comes from a fixed seed: each run is the same, the
// thresholds are checked on fixed numbers.
//
// Suites: BanditExperiments*.
#include "core/bandits.h"
#include "core/bayes.h"
#include "core/catalog.h"
#include "core/catalog_compiled.h"
#include "core/error.h"
#include "core/experiments.h"
#include "core/pipeline.h"
#include "core/scoring.h"

#include "catalog_rows.h"
#include "refusal.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace kaireon {
namespace {

using bandits::Arm;
using bandits::Rng;
using experiments::Assignment;
using experiments::BanditSettings;
using experiments::Experiment;
using test_support::refusal;

constexpr double kNow = 1767225600;  // 2026-01-01T00:00:00Z

std::string customer(int i) { return "cust-" + std::to_string(i); }

BanditSettings thompson_settings(double alpha = 1, double beta = 1) {
    BanditSettings s;
    s.thompson = true;
    s.prior = {alpha, beta};
    return s;
}

BanditSettings greedy_settings(double epsilon, double decay = 1, double alpha = 1, double beta = 1) {
    BanditSettings s;
    s.thompson = false;
    s.greedy = {epsilon, decay};
    s.prior = {alpha, beta};
    return s;
}

// bandit returns a bandit experiment "bx" on flow "f" with variants "v0",
// "v1", ... (variant i's flow `flows[i]`, "" for the experiment's own).
Experiment bandit(const std::vector<std::string>& flows, double holdout = 0,
                  const BanditSettings& settings = BanditSettings{}) {
    Experiment e;
    e.id = "bx";
    e.flow_id = "f";
    e.type = "bandit";
    e.status = "active";
    e.holdout_percent = holdout;
    e.bandit = settings;
    for (size_t i = 0; i < flows.size(); ++i) e.variants.push_back({"v" + std::to_string(i), 1, flows[i], false});
    return e;
}

// ---- arm_of ---------------------------------------------------------------------------------------------------------

TEST(BanditExperimentsArmOf, SuccessesArePositivesFailuresTheRest) {
    const Arm a = experiments::arm_of(100, 30);
    EXPECT_EQ(a.successes, 30);
    EXPECT_EQ(a.failures, 70);
    const Arm none = experiments::arm_of(0, 0);
    EXPECT_EQ(none.successes, 0);
    EXPECT_EQ(none.failures, 0);
    const Arm all = experiments::arm_of(12, 12);
    EXPECT_EQ(all.successes, 12);
    EXPECT_EQ(all.failures, 0);
}

TEST(BanditExperimentsArmOf, PositivesAreClampedToImpressionsAndNegativesToZero) {
    // More positives than impressions (several answers to one impression)
    // count as the impressions: no negative failures.
    const Arm over = experiments::arm_of(10, 15);
    EXPECT_EQ(over.successes, 10);
    EXPECT_EQ(over.failures, 0);
    // Negative positives count as none.
    const Arm negative = experiments::arm_of(10, -3);
    EXPECT_EQ(negative.successes, 0);
    EXPECT_EQ(negative.failures, 10);
    // Negative impressions count as none, whatever the positives.
    const Arm no_impressions = experiments::arm_of(-5, 2);
    EXPECT_EQ(no_impressions.successes, 0);
    EXPECT_EQ(no_impressions.failures, 0);
    const Arm positives_without_impressions = experiments::arm_of(0, 4);
    EXPECT_EQ(positives_without_impressions.successes, 0);
    EXPECT_EQ(positives_without_impressions.failures, 0);
}

// ---- choose_arm ----------------------------------------------------------------------------------------------------

TEST(BanditExperimentsChooseArm, ThompsonPicksAClearlyBestArmAlmostAlways) {
    // 50 % against 1 % and 2 % over 1,000 trials each, the best arm first,
    // in the middle and last: the draws of Beta(501, 501) and Beta(11, 991)
    // never cross in practice.
    for (size_t best = 0; best < 3; ++best) {
        std::vector<Arm> arms(3, Arm{10, 990});
        arms[(best + 1) % 3] = {20, 980};
        arms[best] = {500, 500};
        Rng rng(2024 + best);
        int wins = 0;
        for (int i = 0; i < 1000; ++i) wins += experiments::choose_arm(thompson_settings(), arms, rng) == best;
        EXPECT_GE(wins, 995) << "best arm " << best;
    }
}

TEST(BanditExperimentsChooseArm, ThompsonIsReproducibleForASeed) {
    // Arms of few trials: every choice is uncertain, so the choices follow
    // the seed.
    const std::vector<Arm> arms = {{1, 2}, {2, 2}, {0, 1}, {1, 1}};
    auto choices = [&](uint64_t seed) {
        Rng rng(seed);
        std::vector<size_t> out;
        for (int i = 0; i < 300; ++i) out.push_back(experiments::choose_arm(thompson_settings(), arms, rng));
        return out;
    };
    const std::vector<size_t> first = choices(99);
    EXPECT_EQ(first, choices(99));
    EXPECT_NE(first, choices(100));
    // Uncertain arms: each is chosen sometimes.
    std::set<size_t> seen(first.begin(), first.end());
    EXPECT_EQ(seen.size(), arms.size());
}

TEST(BanditExperimentsChooseArm, ThompsonDrawsWithTheSettingsPrior) {
    // arm 0: 3 of 3, arm 1: 60 of 100. Prior 1, 1: Beta(4, 1) (mean 0.8)
    // against Beta(61, 41) (mean 0.598), arm 0 about 85 % of the time.
    // Prior 1, 100: Beta(4, 100) (mean 0.038) against Beta(61, 140) (mean
    // 0.303), arm 1 always.
    const std::vector<Arm> arms = {{3, 0}, {60, 40}};
    const BanditSettings flat = thompson_settings(1, 1), pessimistic = thompson_settings(1, 100);
    Rng rng(15);
    int flat_first = 0, pessimistic_first = 0;
    for (int i = 0; i < 2000; ++i) {
        flat_first += experiments::choose_arm(flat, arms, rng) == 0;
        pessimistic_first += experiments::choose_arm(pessimistic, arms, rng) == 0;
    }
    EXPECT_GT(flat_first, 1500);
    EXPECT_LT(pessimistic_first, 10);
}

TEST(BanditExperimentsChooseArm, EpsilonZeroAlwaysExploitsTheBestPosteriorMean) {
    // Prior 1, 1: arm 0 (1/1, raw rate 1) has mean 2/3; arm 1 (90/100) has
    // mean 91/102 = 0.892: the posterior mean, not the raw rate, picks arm 1.
    const std::vector<Arm> arms = {{1, 0}, {90, 10}, {5, 95}};
    Rng rng(5);
    for (int i = 0; i < 500; ++i) ASSERT_EQ(experiments::choose_arm(greedy_settings(0), arms, rng), 1u) << i;
}

TEST(BanditExperimentsChooseArm, EpsilonGreedyUsesTheSettingsPrior) {
    // arm 0: 3 of 3, arm 1: 30 of 50. Prior 1, 1: 4/5 = 0.8 against
    // 31/52 = 0.596, arm 0. Prior 10, 10: 13/23 = 0.565 against
    // 40/70 = 0.571, arm 1.
    const std::vector<Arm> arms = {{3, 0}, {30, 20}};
    Rng rng(6);
    for (int i = 0; i < 100; ++i) {
        ASSERT_EQ(experiments::choose_arm(greedy_settings(0, 1, 1, 1), arms, rng), 0u) << i;
        ASSERT_EQ(experiments::choose_arm(greedy_settings(0, 1, 10, 10), arms, rng), 1u) << i;
    }
}

TEST(BanditExperimentsChooseArm, EpsilonOneSpreadsUniformly) {
    // Always exploring: a uniform choice among 4 arms whatever their counts
    // (arm 0 is far the best). Pearson's chi-square with 3 degrees of
    // freedom stays below 16.27 (p = 0.001) for the fixed seed.
    const std::vector<Arm> arms = {{900, 100}, {1, 999}, {2, 998}, {3, 997}};
    constexpr int kDraws = 20000;
    std::vector<int> counts(arms.size(), 0);
    Rng rng(77);
    for (int i = 0; i < kDraws; ++i) ++counts.at(experiments::choose_arm(greedy_settings(1), arms, rng));
    const double expected = static_cast<double>(kDraws) / arms.size();
    double chi2 = 0;
    for (int c : counts) chi2 += (c - expected) * (c - expected) / expected;
    EXPECT_LT(chi2, 16.27) << counts[0] << " " << counts[1] << " " << counts[2] << " " << counts[3];
    for (int c : counts) EXPECT_GT(c, 0);
}

TEST(BanditExperimentsChooseArm, DecayReducesExplorationAsTheArmsTrialsGrow) {
    // epsilon 1, decay 0.99: the chance to explore is 0.99^pulls with
    // pulls = every arm's successes + failures. Exploring picks one of the
    // 3 other arms 3/4 of the time, so the share of the other arms is
    // 0.75 x 0.99^pulls: 0.6782 at 10 trials, 0.0049 at 500.
    const BanditSettings settings = greedy_settings(1, 0.99);
    auto others_share = [&](const std::vector<Arm>& arms, uint64_t seed) {
        constexpr int kDraws = 20000;
        Rng rng(seed);
        int others = 0;
        for (int i = 0; i < kDraws; ++i) others += experiments::choose_arm(settings, arms, rng) != 0;
        return static_cast<double>(others) / kDraws;
    };
    const double few = others_share({{5, 0}, {0, 1}, {0, 2}, {0, 2}}, 8);              // 10 trials
    const double many = others_share({{250, 0}, {0, 50}, {0, 100}, {0, 100}}, 9);      // 500 trials
    EXPECT_NEAR(few, 0.75 * std::pow(0.99, 10), 0.015);   // sd 0.0033
    EXPECT_NEAR(many, 0.75 * std::pow(0.99, 500), 0.003);  // sd 0.0005
    EXPECT_LT(many, few / 20);
    // No decay: as much exploration at 500 trials as at none.
    Rng rng(10);
    int others = 0;
    for (int i = 0; i < 20000; ++i)
        others += experiments::choose_arm(greedy_settings(1, 1), {{250, 0}, {0, 50}, {0, 100}, {0, 100}}, rng) != 0;
    EXPECT_NEAR(others / 20000.0, 0.75, 0.015);
}

// ---- assign_bandit -------------------------------------------------------------------------------------------------

TEST(BanditExperimentsAssign, TheHoldoutIsTheHashRegardlessOfRngAndCounts) {
    const Experiment e = bandit({"", "f-green"}, 30);
    // Counts that favour either variant, and several seeds.
    const std::vector<std::vector<Arm>> counts = {{{0, 0}, {0, 0}}, {{1000, 0}, {0, 1000}}, {{0, 1000}, {1000, 0}}};
    int held = 0;
    constexpr int kCustomers = 4000;
    for (int i = 0; i < kCustomers; ++i) {
        const double u = experiments::unit_hash("t1", "bx", customer(i));
        const bool expect_held = u < 0.30;
        held += expect_held;
        // The same customers as the A/B assignment holds out.
        ASSERT_EQ(experiments::assign(e, "t1", customer(i)).variant == experiments::kHoldout, expect_held) << customer(i);
        for (size_t k = 0; k < counts.size(); ++k) {
            Rng rng(1000 * k + i);
            const Assignment a = experiments::assign_bandit(e, "t1", customer(i), counts[k], rng);
            if (expect_held) {
                ASSERT_EQ(a.variant, experiments::kHoldout) << customer(i);
                ASSERT_EQ(a.flow_id, "") << customer(i);
            } else {
                ASSERT_NE(a.variant, experiments::kHoldout) << customer(i);
                ASSERT_TRUE(a.variant == "v0" || a.variant == "v1") << a.variant;
            }
        }
    }
    // 30 % of 4,000 within 5 sd (29).
    EXPECT_NEAR(held, 0.30 * kCustomers, 5 * std::sqrt(kCustomers * 0.3 * 0.7));
    // Another tenant's customers are held out by their own hash.
    int differ = 0;
    for (int i = 0; i < 200; ++i) {
        Rng rng(i);
        const bool t1 = experiments::unit_hash("t1", "bx", customer(i)) < 0.3;
        const bool t2 = experiments::assign_bandit(e, "t2", customer(i), {{0, 0}, {0, 0}}, rng).variant == experiments::kHoldout;
        ASSERT_EQ(t2, experiments::unit_hash("t2", "bx", customer(i)) < 0.3);
        differ += t1 != t2;
    }
    EXPECT_GT(differ, 0);
}

TEST(BanditExperimentsAssign, NoHoldoutHoldsNobodyOut) {
    const Experiment e = bandit({"", ""}, 0);
    Rng rng(3);
    for (int i = 0; i < 2000; ++i)
        ASSERT_NE(experiments::assign_bandit(e, "t1", customer(i), {{0, 0}, {0, 0}}, rng).variant, experiments::kHoldout);
}

TEST(BanditExperimentsAssign, TheChosenVariantsFlowOrTheExperimentsFlow) {
    // Epsilon 0: the variant of the best posterior mean, every time.
    const Experiment e = bandit({"", "f-green", "f-red"}, 0, greedy_settings(0));
    Rng rng(4);
    const Assignment first = experiments::assign_bandit(e, "t1", "c", {{90, 10}, {1, 99}, {2, 98}}, rng);
    EXPECT_EQ(first.variant, "v0");
    EXPECT_EQ(first.flow_id, "f");  // no flowId of its own: the experiment's flow
    const Assignment second = experiments::assign_bandit(e, "t1", "c", {{1, 99}, {90, 10}, {2, 98}}, rng);
    EXPECT_EQ(second.variant, "v1");
    EXPECT_EQ(second.flow_id, "f-green");
    const Assignment third = experiments::assign_bandit(e, "t1", "c", {{1, 99}, {2, 98}, {90, 10}}, rng);
    EXPECT_EQ(third.variant, "v2");
    EXPECT_EQ(third.flow_id, "f-red");
}

TEST(BanditExperimentsAssign, ThompsonFollowsTheCountsOfTheVariants) {
    // The same customer, decision after decision: the variant is drawn, not
    // hashed, so it follows the counts.
    const Experiment e = bandit({"", "f-green"}, 0, thompson_settings());
    Rng rng(11);
    std::map<std::string, int> counts;
    for (int i = 0; i < 1000; ++i) ++counts[experiments::assign_bandit(e, "t1", "c", {{5, 995}, {500, 500}}, rng).variant];
    EXPECT_GE(counts["v1"], 995);
    counts.clear();
    for (int i = 0; i < 1000; ++i) ++counts[experiments::assign_bandit(e, "t1", "c", {{500, 500}, {5, 995}}, rng).variant];
    EXPECT_GE(counts["v0"], 995);
    // Even counts: both variants, near half each.
    counts.clear();
    for (int i = 0; i < 4000; ++i) ++counts[experiments::assign_bandit(e, "t1", "c", {{50, 50}, {50, 50}}, rng).variant];
    EXPECT_NEAR(counts["v0"], 2000, 5 * std::sqrt(1000.0));
    EXPECT_EQ(counts["v0"] + counts["v1"], 4000);
}

TEST(BanditExperimentsAssign, ThrowsWhenArmsAndVariantsDiffer) {
    const Experiment e = bandit({"", "f-green"}, 0);
    Rng rng(12);
    EXPECT_THROW(experiments::assign_bandit(e, "t1", "c", {{1, 1}}, rng), Error);
    EXPECT_THROW(experiments::assign_bandit(e, "t1", "c", {{1, 1}, {1, 1}, {1, 1}}, rng), Error);
    EXPECT_THROW(experiments::assign_bandit(e, "t1", "c", {}, rng), Error);
    try {
        experiments::assign_bandit(e, "t1", "c", {{1, 1}}, rng);
        ADD_FAILURE() << "no throw";
    } catch (const Error& error) {
        EXPECT_EQ(error.code(), ErrorCode::Internal);
        EXPECT_NE(std::string(error.what()).find("bx"), std::string::npos) << error.what();
    }
    EXPECT_NO_THROW(experiments::assign_bandit(e, "t1", "c", {{1, 1}, {1, 1}}, rng));
}

TEST(BanditExperimentsAssign, ABanditOverOffersPlacesEveryoneInItsFlow) {
    const Experiment e = bandit({}, 20, thompson_settings());
    ASSERT_TRUE(e.is_bandit());
    ASSERT_TRUE(e.bandit_over_offers());
    Rng rng(13);
    int held = 0;
    for (int i = 0; i < 2000; ++i) {
        const Assignment a = experiments::assign_bandit(e, "t1", customer(i), {}, rng);
        if (experiments::unit_hash("t1", "bx", customer(i)) < 0.2) {
            ++held;
            ASSERT_EQ(a.variant, experiments::kHoldout);
            ASSERT_EQ(a.flow_id, "");
        } else {
            ASSERT_EQ(a.variant, "");
            ASSERT_EQ(a.flow_id, "f");
        }
    }
    EXPECT_GT(held, 0);
    // Arms given or not, they are not read.
    EXPECT_EQ(experiments::assign_bandit(bandit({}, 0), "t1", "c", {{1, 1}, {2, 2}}, rng).flow_id, "f");
    // An A/B experiment is no bandit; a bandit with variants is not over offers.
    Experiment ab = bandit({"", ""});
    ab.type = "ab";
    EXPECT_FALSE(ab.is_bandit());
    EXPECT_FALSE(ab.bandit_over_offers());
    EXPECT_FALSE(bandit({"", ""}).bandit_over_offers());
}

// ---- offer_bandit_scorer -------------------------------------------------------------------------------------------

class Catalog : public test_support::CatalogRows<Catalog> {};

// The scorer keeps references to the settings as well as to the stats and
// the generator: each test names its settings so that they outlive it (a
// temporary BanditSettings would dangle).
class BanditExperimentsScorer : public ::testing::Test {
protected:
    BanditExperimentsScorer() : catalog_(Catalog().offer("a").offer("b").offer("c").offer("d").build()) {}

    const catalog::CompiledOffer& offer(std::string_view id) const {
        const catalog::CompiledOffer* o = catalog_.offer(id);
        if (o == nullptr) throw std::logic_error("no offer " + std::string(id));
        return *o;
    }
    decision::Score score(const decision::Scorer& scorer, std::string_view id) const {
        return scorer.score(offer(id), view_, Json::object(), kNow);
    }

    catalog::CompiledCatalog catalog_;
    decision::CustomerView view_;
};

TEST_F(BanditExperimentsScorer, ScoreIsThePropensityInTheUnitInterval) {
    bayes::Stats stats;
    stats.offers["a"] = {100, 30};
    stats.offers["b"] = {10, 15};  // clamped: 10 of 10
    stats.offers["c"] = {5, 0};
    // d: no counts
    const std::vector<BanditSettings> all = {thompson_settings(), thompson_settings(0.5, 0.5), greedy_settings(0),
                                             greedy_settings(1), greedy_settings(0.3, 1, 2, 5)};
    Rng rng(21);
    for (const BanditSettings& settings : all) {
        for (int decision = 0; decision < 200; ++decision) {
            const auto scorer = decision::offer_bandit_scorer(settings, stats, rng);
            for (const char* id : {"a", "b", "c", "d"}) {
                const decision::Score s = score(*scorer, id);
                ASSERT_TRUE(s.propensity.has_value()) << id;
                ASSERT_EQ(s.score, *s.propensity) << id;
                ASSERT_GE(s.score, 0.0) << id;
                ASSERT_LE(s.score, 1.0) << id;
            }
        }
    }
}

TEST_F(BanditExperimentsScorer, ThompsonFavoursTheOfferOfMoreSuccesses) {
    // a: 50 of 100 (Beta(51, 51)), b: 1 of 100 (Beta(2, 100)).
    bayes::Stats stats;
    stats.offers["a"] = {100, 50};
    stats.offers["b"] = {100, 1};
    Rng rng(22);
    int a_wins = 0;
    double sum_a = 0, sum_b = 0;
    for (int decision = 0; decision < 1000; ++decision) {
        const BanditSettings settings = thompson_settings();
        const auto scorer = decision::offer_bandit_scorer(settings, stats, rng);
        const double a = score(*scorer, "a").score, b = score(*scorer, "b").score;
        a_wins += a > b;
        sum_a += a;
        sum_b += b;
    }
    EXPECT_GE(a_wins, 990);
    // The draws' means are the posteriors': 1/2 and 2/102 (sd 0.05 and
    // 0.014 per draw, over 1,000 draws).
    EXPECT_NEAR(sum_a / 1000, 0.5, 0.01);
    EXPECT_NEAR(sum_b / 1000, 2.0 / 102, 0.003);
}

TEST_F(BanditExperimentsScorer, ThompsonDrawsVaryAndFollowTheSeed) {
    bayes::Stats stats;
    stats.offers["a"] = {20, 5};
    auto draws = [&](uint64_t seed) {
        Rng rng(seed);
        std::vector<double> out;
        for (int decision = 0; decision < 50; ++decision) {
            const BanditSettings settings = thompson_settings();
            const auto scorer = decision::offer_bandit_scorer(settings, stats, rng);
            out.push_back(score(*scorer, "a").score);
            out.push_back(score(*scorer, "a").score);  // a second draw within the decision
        }
        return out;
    };
    const std::vector<double> first = draws(31);
    EXPECT_EQ(first, draws(31));
    EXPECT_NE(first, draws(32));
    EXPECT_EQ(std::set<double>(first.begin(), first.end()).size(), first.size());
}

TEST_F(BanditExperimentsScorer, OffersWithoutStatsDrawFromThePrior) {
    // Prior Beta(2, 8): mean 0.2, variance 2 x 8 / (10^2 x 11) = 0.014545.
    bayes::Stats stats;
    stats.offers["a"] = {1000, 900};  // another offer's counts change nothing for d
    Rng rng(23);
    constexpr int kDraws = 20000;
    double sum = 0, squares = 0;
    for (int decision = 0; decision < kDraws; ++decision) {
        const BanditSettings settings = thompson_settings(2, 8);
        const auto scorer = decision::offer_bandit_scorer(settings, stats, rng);
        const double x = score(*scorer, "d").score;
        sum += x;
        squares += x * x;
    }
    const double mean = sum / kDraws, variance = squares / kDraws - mean * mean;
    EXPECT_NEAR(mean, 0.2, 0.004);  // se 0.00085
    EXPECT_NEAR(variance, 2.0 * 8 / (100 * 11), 0.0015);
    // Epsilon-greedy exploiting: the prior mean exactly.
    const bayes::Stats empty;
    const BanditSettings settings = greedy_settings(0, 1, 2, 8);
    const auto scorer = decision::offer_bandit_scorer(settings, empty, rng);
    EXPECT_DOUBLE_EQ(score(*scorer, "d").score, 0.2);
}

TEST_F(BanditExperimentsScorer, EpsilonZeroGivesTheExactPosteriorMeans) {
    // Prior 3, 7: (alpha + s) / (alpha + beta + s + f).
    bayes::Stats stats;
    stats.offers["a"] = {100, 20};  // 23 / 110
    stats.offers["b"] = {10, 15};   // clamped to 10 of 10: 13 / 20
    stats.offers["c"] = {40, 0};    // 3 / 50
    Rng rng(24);
    for (int decision = 0; decision < 100; ++decision) {
        const BanditSettings settings = greedy_settings(0, 1, 3, 7);
        const auto scorer = decision::offer_bandit_scorer(settings, stats, rng);
        ASSERT_DOUBLE_EQ(score(*scorer, "a").score, 23.0 / 110);
        ASSERT_DOUBLE_EQ(score(*scorer, "b").score, 13.0 / 20);
        ASSERT_DOUBLE_EQ(score(*scorer, "c").score, 3.0 / 50);
        ASSERT_DOUBLE_EQ(score(*scorer, "d").score, 3.0 / 10);  // no counts: the prior mean
        ASSERT_DOUBLE_EQ(*score(*scorer, "a").propensity, 23.0 / 110);
    }
}

TEST_F(BanditExperimentsScorer, ExploringGivesUniformValuesThatVary) {
    bayes::Stats stats;
    stats.offers["a"] = {100, 20};
    stats.offers["b"] = {100, 80};
    Rng rng(25);
    std::set<double> values;
    double sum = 0;
    int b_first = 0;
    constexpr int kDecisions = 2000;
    for (int decision = 0; decision < kDecisions; ++decision) {
        const BanditSettings settings = greedy_settings(1);
        const auto scorer = decision::offer_bandit_scorer(settings, stats, rng);
        const double a = score(*scorer, "a").score, b = score(*scorer, "b").score;
        ASSERT_NE(a, 21.0 / 102);
        ASSERT_NE(b, 81.0 / 102);
        values.insert(a);
        values.insert(b);
        sum += a + b;
        b_first += b > a;
    }
    EXPECT_EQ(values.size(), 2u * kDecisions);
    EXPECT_NEAR(sum / (2 * kDecisions), 0.5, 0.02);  // se 0.0046
    // Random order: the better offer first about half the time.
    EXPECT_NEAR(b_first, kDecisions / 2, 5 * std::sqrt(kDecisions / 4.0));
}

TEST_F(BanditExperimentsScorer, OneExploreCoinPerDecisionOverTheSummedImpressions) {
    // epsilon 1, decay 0.99, impressions 60 + 40 = 100: a decision explores
    // with 0.99^100 = 0.366 (not 0.99^40 = 0.669 of the positives, nor
    // 0.99^60 of one offer), and then every offer's value is uniform; else
    // every offer has its posterior mean.
    bayes::Stats stats;
    stats.offers["a"] = {60, 30};
    stats.offers["b"] = {40, 10};
    const double mean_a = 31.0 / 62, mean_b = 11.0 / 42, mean_d = 0.5;
    Rng rng(26);
    constexpr int kDecisions = 10000;
    int exploring = 0;
    for (int decision = 0; decision < kDecisions; ++decision) {
        const BanditSettings settings = greedy_settings(1, 0.99);
        const auto scorer = decision::offer_bandit_scorer(settings, stats, rng);
        const bool a = score(*scorer, "a").score == mean_a;
        const bool b = score(*scorer, "b").score == mean_b;
        const bool d = score(*scorer, "d").score == mean_d;
        ASSERT_EQ(a, b) << decision;
        ASSERT_EQ(a, d) << decision;
        exploring += !a;
    }
    EXPECT_NEAR(static_cast<double>(exploring) / kDecisions, std::pow(0.99, 100), 0.025);  // sd 0.0048
}

TEST_F(BanditExperimentsScorer, ManyImpressionsWithDecayStopExploring) {
    bayes::Stats stats;
    stats.offers["a"] = {3000, 300};
    stats.offers["b"] = {2000, 100};
    Rng rng(27);
    for (int decision = 0; decision < 1000; ++decision) {
        const BanditSettings settings = greedy_settings(1, 0.99);
        const auto scorer = decision::offer_bandit_scorer(settings, stats, rng);
        ASSERT_DOUBLE_EQ(score(*scorer, "a").score, 301.0 / 3002);
        ASSERT_DOUBLE_EQ(score(*scorer, "b").score, 101.0 / 2002);
    }
}

// ---- the simulation of issue 13, through the scorer ----------------------------------------------------------------

// Three offers of true rates 0.05, 0.04 and 0.02; at each decision the
// offer of the highest score is shown and its impressions (and, with its
// rate, its positives) are fed back into the stats.
struct SimulationRun {
    double regret = 0;
    int best_in_last = 0;
};

constexpr int kPulls = 10000, kLastPulls = 2000;

SimulationRun simulate(const catalog::CompiledCatalog& cat, const BanditSettings& settings, uint64_t seed) {
    const std::vector<std::string> ids = {"a", "b", "c"};
    const std::vector<double> rates = {0.05, 0.04, 0.02};
    bayes::Stats stats;
    Rng rng(seed), world(seed ^ 0x9e3779b97f4a7c15ULL);
    decision::CustomerView view;
    SimulationRun run;
    for (int t = 0; t < kPulls; ++t) {
        const auto scorer = decision::offer_bandit_scorer(settings, stats, rng);
        size_t best = 0;
        double best_score = -1;
        for (size_t i = 0; i < ids.size(); ++i) {
            const double s = scorer->score(*cat.offer(ids[i]), view, Json::object(), kNow).score;
            if (s > best_score) {
                best_score = s;
                best = i;
            }
        }
        run.regret += rates[0] - rates[best];
        if (t >= kPulls - kLastPulls && best == 0) ++run.best_in_last;
        bayes::Counts& counts = stats.offers[ids[best]];
        counts.impressions += 1;
        if (world.uniform() < rates[best]) counts.positives += 1;
    }
    return run;
}

TEST(BanditExperimentsSimulation, ThompsonOverOffersFindsTheBestOffer) {
    const catalog::CompiledCatalog cat = Catalog().offer("a").offer("b").offer("c").build();
    constexpr int kSeeds = 5;
    double share = 0, regret = 0;
    for (int seed = 1; seed <= kSeeds; ++seed) {
        const SimulationRun run = simulate(cat, thompson_settings(), static_cast<uint64_t>(seed));
        share += static_cast<double>(run.best_in_last) / kLastPulls / kSeeds;
        regret += run.regret / kSeeds;
        // Each run: the best offer has most of the last pulls.
        EXPECT_GE(run.best_in_last, kLastPulls / 2) << "seed " << seed;
    }
    // Uniform random would be 10,000 x (0.05 - 0.11 / 3) = 133.3.
    EXPECT_GE(share, 0.70) << "best offer's share of the last 2,000 pulls";
    EXPECT_LE(regret, 0.35 * 133.3) << "mean regret";
    // Seeded: the same again.
    const SimulationRun again = simulate(cat, thompson_settings(), 1);
    EXPECT_EQ(again.best_in_last, simulate(cat, thompson_settings(), 1).best_in_last);
}

TEST(BanditExperimentsSimulation, EpsilonGreedyOverOffersBeatsUniform) {
    const catalog::CompiledCatalog cat = Catalog().offer("a").offer("b").offer("c").build();
    constexpr int kSeeds = 5;
    double regret = 0;
    for (int seed = 1; seed <= kSeeds; ++seed)
        regret += simulate(cat, greedy_settings(0.2, 0.9995), static_cast<uint64_t>(seed)).regret / kSeeds;
    EXPECT_LT(regret, 0.6 * 133.3) << "mean regret";
}

// ---- the catalog ---------------------------------------------------------------------------------------------------

catalog::CompiledCatalog bandit_catalog(const std::vector<const char*>& experiments) {
    Catalog c;
    c.offer("a").offer("b");
    c.add("flows", R"({"id": "f", "experimentId": "bx"})");
    c.add("flows", R"({"id": "f-green"})");
    for (const char* document : experiments) c.add("experiments", document);
    return c.build();
}

TEST(BanditExperimentsCatalog, ABanditOverOffersCompilesItsSettingsAndCountsOfferStats) {
    const catalog::CompiledCatalog cat = bandit_catalog({R"({"id": "bx", "flowId": "f", "type": "bandit",
        "status": "active", "holdoutPercent": 5,
        "bandit": {"algorithm": "epsilon_greedy", "epsilon": 0.25, "decay": 0.999, "prior": {"alpha": 2, "beta": 30}}})"});
    const Experiment& e = cat.experiments.at("bx");
    EXPECT_TRUE(e.is_bandit());
    EXPECT_TRUE(e.bandit_over_offers());
    EXPECT_FALSE(e.bandit.thompson);
    EXPECT_EQ(e.bandit.greedy.epsilon, 0.25);
    EXPECT_EQ(e.bandit.greedy.decay, 0.999);
    EXPECT_EQ(e.bandit.prior.alpha, 2);
    EXPECT_EQ(e.bandit.prior.beta, 30);
    EXPECT_EQ(e.holdout_percent, 5);
    EXPECT_EQ(e.status, "active");
    EXPECT_TRUE(cat.counts_offer_stats);
    EXPECT_FALSE(cat.counts_bandit_arms);
    EXPECT_FALSE(cat.offer_stats_by_segment);
}

TEST(BanditExperimentsCatalog, ABanditWithVariantsTakesTheDefaultsAndCountsArms) {
    const catalog::CompiledCatalog cat = bandit_catalog({R"({"id": "bx", "flowId": "f", "type": "bandit",
        "bandit": {"algorithm": "thompson"},
        "variants": [{"id": "blue", "weight": 1}, {"id": "green", "weight": 1, "flowId": "f-green"}]})"});
    const Experiment& e = cat.experiments.at("bx");
    EXPECT_TRUE(e.is_bandit());
    EXPECT_FALSE(e.bandit_over_offers());
    EXPECT_TRUE(e.bandit.thompson);
    EXPECT_EQ(e.bandit.greedy.epsilon, 0.1);
    EXPECT_EQ(e.bandit.greedy.decay, 1);
    EXPECT_EQ(e.bandit.prior.alpha, 1);
    EXPECT_EQ(e.bandit.prior.beta, 1);
    EXPECT_EQ(e.status, "draft");  // counted whatever its status
    EXPECT_TRUE(cat.counts_bandit_arms);
    EXPECT_FALSE(cat.counts_offer_stats);
    // The compiled experiment assigns: green (flow f-green) when its counts
    // are far better.
    ASSERT_EQ(e.variants.size(), 2u);
    Rng rng(41);
    const Assignment a = experiments::assign_bandit(e, "t1", "c", {{1, 999}, {900, 100}}, rng);
    EXPECT_EQ(a.variant, "green");
    EXPECT_EQ(a.flow_id, "f-green");
    const Assignment b = experiments::assign_bandit(e, "t1", "c", {{900, 100}, {1, 999}}, rng);
    EXPECT_EQ(b.variant, "blue");
    EXPECT_EQ(b.flow_id, "f");
}

TEST(BanditExperimentsCatalog, EpsilonGreedyWithVariantsAndAPausedBandit) {
    // A paused bandit's arms are still counted (answers may come late).
    const catalog::CompiledCatalog cat = bandit_catalog({R"({"id": "bx", "flowId": "f", "type": "bandit",
        "status": "paused", "bandit": {"algorithm": "epsilon_greedy", "epsilon": 0},
        "variants": [{"id": "blue", "weight": 1}, {"id": "green", "weight": 1}]})"});
    const Experiment& e = cat.experiments.at("bx");
    EXPECT_FALSE(e.bandit.thompson);
    EXPECT_EQ(e.bandit.greedy.epsilon, 0);
    EXPECT_EQ(e.bandit.greedy.decay, 1);
    EXPECT_TRUE(cat.counts_bandit_arms);
    EXPECT_FALSE(cat.counts_offer_stats);
}

TEST(BanditExperimentsCatalog, BothKindsOfBanditSetBothFlags) {
    const catalog::CompiledCatalog cat = bandit_catalog(
        {R"({"id": "bx", "flowId": "f", "type": "bandit", "bandit": {"algorithm": "thompson", "prior": {"alpha": 3, "beta": 4}}})",
         R"({"id": "by", "flowId": "f-green", "type": "bandit", "bandit": {"algorithm": "thompson"},
             "variants": [{"id": "p", "weight": 1}, {"id": "q", "weight": 2}]})"});
    EXPECT_TRUE(cat.counts_offer_stats);
    EXPECT_TRUE(cat.counts_bandit_arms);
    EXPECT_EQ(cat.experiments.at("bx").bandit.prior.alpha, 3);
    EXPECT_EQ(cat.experiments.at("bx").bandit.prior.beta, 4);
    EXPECT_TRUE(cat.experiments.at("bx").bandit.thompson);
    EXPECT_TRUE(cat.experiments.at("bx").bandit_over_offers());
    EXPECT_FALSE(cat.experiments.at("by").bandit_over_offers());
}

TEST(BanditExperimentsCatalog, AnABExperimentCountsNothing) {
    const catalog::CompiledCatalog cat = bandit_catalog({R"({"id": "bx", "flowId": "f", "type": "ab",
        "variants": [{"id": "blue", "weight": 1, "control": true}, {"id": "green", "weight": 1, "flowId": "f-green"}]})"});
    const Experiment& e = cat.experiments.at("bx");
    EXPECT_FALSE(e.is_bandit());
    EXPECT_FALSE(e.bandit_over_offers());
    EXPECT_FALSE(cat.counts_offer_stats);
    EXPECT_FALSE(cat.counts_bandit_arms);
    // No catalog at all counts nothing either.
    const catalog::CompiledCatalog none = Catalog().offer("a").build();
    EXPECT_FALSE(none.counts_offer_stats);
    EXPECT_FALSE(none.counts_bandit_arms);
}

TEST(BanditExperimentsCatalog, TheBanditObjectIsValidated) {
    const catalog::Entity* entity = catalog::find_entity("experiments");
    ASSERT_NE(entity, nullptr);
    auto check = [&](const char* text) { return catalog::validate(*entity, Json::parse(text), "experiments[0]"); };
    // A bandit needs its bandit object; an A/B experiment takes none.
    EXPECT_REFUSED_AT(check(R"({"id": "x", "flowId": "f", "type": "bandit"})"), "experiments[0].bandit");
    EXPECT_REFUSED_AT(check(R"({"id": "x", "flowId": "f", "type": "ab", "bandit": {"algorithm": "thompson"},
                                "variants": [{"id": "a", "weight": 1, "control": true}, {"id": "b", "weight": 1}]})"),
                      "experiments[0].bandit");
    // Unknown algorithm, epsilon or decay out of [0, 1], a prior not positive.
    EXPECT_REFUSED_AT(check(R"({"id": "x", "flowId": "f", "type": "bandit", "bandit": {"algorithm": "ucb"}})"),
                      "experiments[0].bandit.algorithm");
    EXPECT_REFUSED_AT(check(R"({"id": "x", "flowId": "f", "type": "bandit",
                                "bandit": {"algorithm": "epsilon_greedy", "epsilon": 1.5}})"),
                      "experiments[0].bandit.epsilon");
    EXPECT_REFUSED_AT(check(R"({"id": "x", "flowId": "f", "type": "bandit",
                                "bandit": {"algorithm": "epsilon_greedy", "decay": 2}})"),
                      "experiments[0].bandit.decay");
    EXPECT_REFUSED_AT(check(R"({"id": "x", "flowId": "f", "type": "bandit",
                                "bandit": {"algorithm": "thompson", "prior": {"alpha": 0, "beta": 1}}})"),
                      "experiments[0].bandit.prior.alpha");
    EXPECT_NO_THROW(check(R"({"id": "x", "flowId": "f", "type": "bandit",
                              "bandit": {"algorithm": "epsilon_greedy", "epsilon": 1, "decay": 0,
                                         "prior": {"alpha": 0.5, "beta": 0.5}}})"));
}

}  // namespace
}  // namespace kaireon
