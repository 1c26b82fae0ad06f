#include "pg/bandit_rng.h"

#include "pg/guard.h"

#include <optional>

extern "C" {
#include "port.h"
#include "utils/guc.h"
}

namespace kaireon::pg {
namespace {

int g_seed = 0;
bool g_restart = true;

void seed_assigned(int, void*) { g_restart = true; }

std::optional<bandits::Rng>& generator() {
    static std::optional<bandits::Rng> rng;
    return rng;
}

}  // namespace

bandits::Rng& bandit_rng() {
    auto& rng = generator();
    if (g_restart || !rng) {
        uint64_t seed = static_cast<uint64_t>(static_cast<uint32_t>(g_seed));
        if (g_seed == 0 && !pg_strong_random(&seed, sizeof seed))
            throw Error(ErrorCode::Internal, "could not seed the bandits' random number generator");
        rng.emplace(seed);
        g_restart = false;
    }
    return *rng;
}

void bandit_rng_init() {
    DefineCustomIntVariable("kaireon.bandit_seed", "Seed of this session's bandit decisions (0: unseeded).",
                            "Setting it restarts the session's generator at the next bandit decision, so that the "
                            "same decisions over the same counts choose the same arms.",
                            &g_seed, 0, 0, INT_MAX, PGC_USERSET, 0, nullptr, seed_assigned, nullptr);
}

}  // namespace kaireon::pg
