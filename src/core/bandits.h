// bandits.h - multi-armed bandits (SPEC 6.5, enterprise): Thompson sampling
// on Beta posteriors and epsilon-greedy with decay, over arms that count
// successes and failures. The random numbers come from a seedable
// generator of our own (xoshiro256** with splitmix64 seeding; the normal,
// gamma and beta draws are written here too), so a seed gives the same
// choices on every platform and compiler, unlike <random>'s distributions.
// The database side (which arms, where their counts live, the seed per
// decision) is issue 13's next step.
#pragma once
#include "core/pure.h"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace kaireon::bandits {

class Rng {
public:
    explicit Rng(uint64_t seed);
    uint64_t next();
    double uniform();                   // [0, 1), 53 bits
    double normal();                    // standard normal (Marsaglia's polar method)
    double gamma(double shape);         // Gamma(shape, 1), shape > 0 (Marsaglia and Tsang)
    double beta(double a, double b);    // Beta(a, b) from two gammas

private:
    uint64_t s_[4];
    bool has_spare_ = false;
    double spare_ = 0;
};

struct Arm {
    double successes = 0, failures = 0;
};

struct Prior {
    double alpha = 1, beta = 1;
};

// thompson draws each arm's rate from Beta(alpha + successes, beta +
// failures) and returns the arm with the largest draw (ties: the first).
// `arms` must not be empty.
size_t thompson(const std::vector<Arm>& arms, const Prior& prior, Rng& rng);

struct EpsilonGreedy {
    double epsilon = 0.1;  // the chance to explore at the first pull
    double decay = 1;      // epsilon is multiplied by it at every pull (1: constant)
};

// epsilon_at is the chance to explore after `pulls` pulls: epsilon x decay^pulls.
double epsilon_at(const EpsilonGreedy& policy, uint64_t pulls);

// epsilon_greedy explores (a uniformly random arm) with epsilon_at(pulls),
// else exploits: the arm with the largest posterior mean (alpha +
// successes) / (alpha + beta + successes + failures), ties: the first.
size_t epsilon_greedy(const std::vector<Arm>& arms, const Prior& prior, const EpsilonGreedy& policy, uint64_t pulls,
                      Rng& rng);

}  // namespace kaireon::bandits
