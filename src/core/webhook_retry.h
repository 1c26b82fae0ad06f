// webhook_retry.h - when a failed webhook delivery is tried again
// (docs/webhooks.md "Retries").
//
// After the n-th failed attempt (n >= 1) the step is
//
//   step(n) = min(base * 2^(n-1), cap)
//
// and the next attempt is due after a delay drawn uniformly from
// [step/2, step] ("equal jitter": retries of many deliveries that failed
// together spread out, and no delay is below half the step). The caller
// supplies the uniform draw, so this stays pure and testable.
#pragma once
#include "core/pure.h"

#include <cstdint>

namespace kaireon::webhooks {

// backoff_step_ms returns step(attempt) in milliseconds: base_ms doubled
// attempt-1 times, capped at cap_ms (and never below 0). attempt < 1 counts
// as 1.
int64_t backoff_step_ms(int attempt, int64_t base_ms, int64_t cap_ms);

// retry_delay_ms returns the delay before the next attempt after failed
// attempt `attempt`: step/2 + unit * step/2, where unit is a uniform draw in
// [0, 1] (clamped into it).
int64_t retry_delay_ms(int attempt, int64_t base_ms, int64_t cap_ms, double unit);

}  // namespace kaireon::webhooks
