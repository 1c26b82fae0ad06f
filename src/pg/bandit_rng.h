// bandit_rng.h - the random numbers of a backend's bandit decisions (SPEC
// 6.5, docs/experiments.md): one generator per backend (bandits::Rng),
// seeded from pg_strong_random, or from kaireon.bandit_seed when it is set,
// so that a session's decisions can be replayed in tests.
#pragma once
#include "core/bandits.h"

namespace kaireon::pg {

// bandit_rng returns the backend's generator. Setting kaireon.bandit_seed
// (SET, SET LOCAL, RESET, or their end at commit or rollback) restarts it
// at the next bandit decision: from the seed, or (0) unseeded.
bandits::Rng& bandit_rng();

// bandit_rng_init defines kaireon.bandit_seed (from _PG_init).
void bandit_rng_init();

}  // namespace kaireon::pg
