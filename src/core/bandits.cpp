#include "core/bandits.h"

#include <cmath>

namespace kaireon::bandits {
namespace {

uint64_t splitmix64(uint64_t& x) {
    uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

Rng::Rng(uint64_t seed) {
    for (auto& word : s_) word = splitmix64(seed);
}

uint64_t Rng::next() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
}

double Rng::uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

double Rng::normal() {
    if (has_spare_) {
        has_spare_ = false;
        return spare_;
    }
    double u, v, s;
    do {
        u = 2 * uniform() - 1;
        v = 2 * uniform() - 1;
        s = u * u + v * v;
    } while (s >= 1 || s == 0);
    const double factor = std::sqrt(-2 * std::log(s) / s);
    spare_ = v * factor;
    has_spare_ = true;
    return u * factor;
}

double Rng::gamma(double shape) {
    if (shape < 1) {
        // Gamma(a) = Gamma(a + 1) x U^(1/a).
        const double u = uniform();
        return gamma(shape + 1) * std::pow(u > 0 ? u : 0x1.0p-53, 1 / shape);
    }
    const double d = shape - 1.0 / 3, c = 1 / std::sqrt(9 * d);
    for (;;) {
        double x, v;
        do {
            x = normal();
            v = 1 + c * x;
        } while (v <= 0);
        v = v * v * v;
        const double u = uniform();
        if (u < 1 - 0.0331 * x * x * x * x) return d * v;
        if (u > 0 && std::log(u) < 0.5 * x * x + d * (1 - v + std::log(v))) return d * v;
    }
}

double Rng::beta(double a, double b) {
    const double x = gamma(a), y = gamma(b);
    return x + y > 0 ? x / (x + y) : 0.5;
}

size_t thompson(const std::vector<Arm>& arms, const Prior& prior, Rng& rng) {
    size_t best = 0;
    double best_draw = -1;
    for (size_t i = 0; i < arms.size(); ++i) {
        const double draw = rng.beta(prior.alpha + arms[i].successes, prior.beta + arms[i].failures);
        if (draw > best_draw) {
            best_draw = draw;
            best = i;
        }
    }
    return best;
}

double epsilon_at(const EpsilonGreedy& policy, uint64_t pulls) {
    return policy.epsilon * std::pow(policy.decay, static_cast<double>(pulls));
}

size_t epsilon_greedy(const std::vector<Arm>& arms, const Prior& prior, const EpsilonGreedy& policy, uint64_t pulls,
                      Rng& rng) {
    if (rng.uniform() < epsilon_at(policy, pulls))
        return static_cast<size_t>(rng.uniform() * static_cast<double>(arms.size())) % arms.size();
    size_t best = 0;
    double best_mean = -1;
    for (size_t i = 0; i < arms.size(); ++i) {
        const double mean = (prior.alpha + arms[i].successes) /
                            (prior.alpha + prior.beta + arms[i].successes + arms[i].failures);
        if (mean > best_mean) {
            best_mean = mean;
            best = i;
        }
    }
    return best;
}

}  // namespace kaireon::bandits
