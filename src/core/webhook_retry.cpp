#include "core/webhook_retry.h"

#include <algorithm>
#include <cmath>

namespace kaireon::webhooks {

int64_t backoff_step_ms(int attempt, int64_t base_ms, int64_t cap_ms) {
    base_ms = std::max<int64_t>(base_ms, 0);
    cap_ms = std::max<int64_t>(cap_ms, 0);
    int64_t step = std::min(base_ms, cap_ms);
    // Doubling stops at the cap, so it cannot overflow.
    for (int n = 1; n < attempt && step < cap_ms; ++n) step = std::min(step * 2, cap_ms);
    return step;
}

int64_t retry_delay_ms(int attempt, int64_t base_ms, int64_t cap_ms, double unit) {
    if (!(unit >= 0.0)) unit = 0.0;  // NaN too
    unit = std::min(unit, 1.0);
    const int64_t step = backoff_step_ms(attempt, base_ms, cap_ms);
    const int64_t half = step / 2;
    return half + static_cast<int64_t>(std::llround(unit * static_cast<double>(step - half)));
}

}  // namespace kaireon::webhooks
