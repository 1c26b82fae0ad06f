// The bandits of src/core/bandits.h: the generator's draws (moments of the
// uniform, normal, gamma and beta), reproducibility by seed, and the
// simulation of issue 13: three arms with true rates 0.05, 0.04 and 0.02,
// 10,000 pulls, 20 seeds. Seeds make every run the same, so the thresholds
// are checked on fixed numbers, never flaky.
#include "core/bandits.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <utility>
#include <vector>

namespace kaireon::bandits {
namespace {

struct Moments {
    double mean = 0, variance = 0;
};

Moments moments(int n, const std::function<double()>& draw) {
    double sum = 0, squares = 0;
    for (int i = 0; i < n; ++i) {
        const double x = draw();
        sum += x;
        squares += x * x;
    }
    const double mean = sum / n;
    return {mean, squares / n - mean * mean};
}

TEST(BanditsRng, SameSeedSameNumbersOtherSeedOthers) {
    Rng a(42), b(42), c(43);
    int same_as_other_seed = 0;
    for (int i = 0; i < 1000; ++i) {
        const uint64_t x = a.next();
        EXPECT_EQ(x, b.next());
        if (x == c.next()) ++same_as_other_seed;
    }
    EXPECT_EQ(same_as_other_seed, 0);
}

TEST(BanditsRng, UniformIsInTheUnitIntervalWithItsMoments) {
    Rng rng(1);
    double low = 1, high = 0;
    Moments m = moments(200000, [&] {
        const double u = rng.uniform();
        low = std::min(low, u);
        high = std::max(high, u);
        return u;
    });
    EXPECT_GE(low, 0.0);
    EXPECT_LT(high, 1.0);
    EXPECT_NEAR(m.mean, 0.5, 0.005);
    EXPECT_NEAR(m.variance, 1.0 / 12, 0.002);
}

TEST(BanditsRng, NormalHasMeanZeroVarianceOne) {
    Rng rng(2);
    Moments m = moments(200000, [&] { return rng.normal(); });
    EXPECT_NEAR(m.mean, 0, 0.01);
    EXPECT_NEAR(m.variance, 1, 0.02);
}

// Gamma(k, 1): mean k, variance k; below 1 through the boost.
TEST(BanditsRng, GammaHasItsMoments) {
    for (double shape : {0.3, 1.0, 2.5, 40.0}) {
        Rng rng(3);
        Moments m = moments(200000, [&] { return rng.gamma(shape); });
        EXPECT_NEAR(m.mean, shape, 0.02 * shape + 0.005) << shape;
        EXPECT_NEAR(m.variance, shape, 0.05 * shape + 0.01) << shape;
    }
}

// Beta(a, b): mean a / (a + b), variance ab / ((a + b)^2 (a + b + 1)).
TEST(BanditsRng, BetaHasItsMoments) {
    for (auto [a, b] : std::vector<std::pair<double, double>>{{1, 1}, {2, 30}, {0.5, 0.5}, {500, 9500}}) {
        Rng rng(4);
        Moments m = moments(200000, [&] { return rng.beta(a, b); });
        const double mean = a / (a + b), variance = a * b / ((a + b) * (a + b) * (a + b + 1));
        EXPECT_NEAR(m.mean, mean, 0.01 * mean + 0.001) << a << "," << b;
        EXPECT_NEAR(m.variance, variance, 0.05 * variance) << a << "," << b;
    }
}

TEST(BanditsThompson, PicksTheClearWinnerAndExploresTheUnknown) {
    Rng rng(5);
    std::vector<Arm> arms = {{10, 990}, {500, 500}, {20, 980}};
    int second = 0;
    for (int i = 0; i < 1000; ++i)
        if (thompson(arms, {}, rng) == 1) ++second;
    EXPECT_EQ(second, 1000);
    // No data: each arm about a third of the time.
    std::vector<Arm> fresh(3);
    std::vector<int> counts(3, 0);
    for (int i = 0; i < 30000; ++i) ++counts[thompson(fresh, {}, rng)];
    for (int c : counts) EXPECT_NEAR(c, 10000, 450);
}

TEST(BanditsEpsilonGreedy, EpsilonDecaysAndExploitationTakesTheBestMean) {
    EXPECT_DOUBLE_EQ(epsilon_at({0.2, 1}, 1000), 0.2);
    EXPECT_DOUBLE_EQ(epsilon_at({0.2, 0.5}, 2), 0.05);
    EXPECT_DOUBLE_EQ(epsilon_at({0.2, 0}, 1), 0);
    Rng rng(6);
    std::vector<Arm> arms = {{1, 9}, {3, 7}, {2, 8}};
    // epsilon 0: always arm 1 (mean (1 + 3) / (2 + 10)).
    for (int i = 0; i < 100; ++i) EXPECT_EQ(epsilon_greedy(arms, {}, {0, 1}, 0, rng), 1u);
    // epsilon 1: uniform over the arms.
    std::vector<int> counts(3, 0);
    for (int i = 0; i < 30000; ++i) ++counts[epsilon_greedy(arms, {}, {1, 1}, 0, rng)];
    for (int c : counts) EXPECT_NEAR(c, 10000, 450);
}

// The simulation of issue 13.
constexpr double kRates[] = {0.05, 0.04, 0.02};
constexpr int kPulls = 10000, kSeeds = 20, kLastPulls = 2000;

struct Run {
    double regret = 0;       // sum over pulls of (0.05 - the pulled arm's true rate)
    int best_in_last = 0;    // pulls of the best arm among the last kLastPulls
};

Run simulate(uint64_t seed, const std::function<size_t(const std::vector<Arm>&, uint64_t, Rng&)>& choose) {
    Rng policy_rng(seed), world(seed ^ 0x5bd1e995ULL);
    std::vector<Arm> arms(3);
    Run run;
    for (int t = 0; t < kPulls; ++t) {
        const size_t arm = choose(arms, static_cast<uint64_t>(t), policy_rng);
        run.regret += kRates[0] - kRates[arm];
        if (t >= kPulls - kLastPulls && arm == 0) ++run.best_in_last;
        if (world.uniform() < kRates[arm]) {
            arms[arm].successes += 1;
        } else {
            arms[arm].failures += 1;
        }
    }
    return run;
}

struct Summary {
    double mean_regret = 0, mean_best_share = 0;
};

Summary over_seeds(const std::function<size_t(const std::vector<Arm>&, uint64_t, Rng&)>& choose) {
    Summary s;
    for (int seed = 1; seed <= kSeeds; ++seed) {
        Run run = simulate(static_cast<uint64_t>(seed), choose);
        s.mean_regret += run.regret / kSeeds;
        s.mean_best_share += static_cast<double>(run.best_in_last) / kLastPulls / kSeeds;
    }
    return s;
}

TEST(BanditsSimulation, ThompsonRegretIsAtMost35PercentOfUniformAndTheBestArmWins) {
    const Summary uniform = over_seeds([](const std::vector<Arm>& arms, uint64_t, Rng& rng) {
        return static_cast<size_t>(rng.uniform() * static_cast<double>(arms.size()));
    });
    const Summary ts = over_seeds([](const std::vector<Arm>& arms, uint64_t, Rng& rng) { return thompson(arms, {}, rng); });
    // Uniform random: 10,000 x (0.05 - 0.11 / 3) = 133.3 expected.
    EXPECT_NEAR(uniform.mean_regret, 133.3, 10);
    EXPECT_LE(ts.mean_regret, 0.35 * uniform.mean_regret)
        << "Thompson " << ts.mean_regret << " vs uniform " << uniform.mean_regret;
    EXPECT_GE(ts.mean_best_share, 0.70) << "best arm's share of the last 2,000 pulls";
    // Seeded: the same again.
    const Summary again = over_seeds([](const std::vector<Arm>& arms, uint64_t, Rng& rng) { return thompson(arms, {}, rng); });
    EXPECT_DOUBLE_EQ(again.mean_regret, ts.mean_regret);
}

TEST(BanditsSimulation, EpsilonGreedyWithDecayBeatsUniform) {
    const Summary uniform = over_seeds([](const std::vector<Arm>& arms, uint64_t, Rng& rng) {
        return static_cast<size_t>(rng.uniform() * static_cast<double>(arms.size()));
    });
    const Summary eg = over_seeds([](const std::vector<Arm>& arms, uint64_t pulls, Rng& rng) {
        return epsilon_greedy(arms, {}, {0.2, 0.9995}, pulls, rng);
    });
    EXPECT_LT(eg.mean_regret, 0.6 * uniform.mean_regret) << "epsilon-greedy " << eg.mean_regret;
}

}  // namespace
}  // namespace kaireon::bandits
