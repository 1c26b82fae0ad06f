// webhook_retry_test.cpp - the retry schedule of webhook deliveries
// (src/core/webhook_retry.h): doubling from the base, the cap, and the
// jitter's range [step/2, step].
#include "core/webhook_retry.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace kaireon::webhooks {
namespace {

constexpr int64_t kBase = 10'000;    // 10 s
constexpr int64_t kCap = 3'600'000;  // 1 h

TEST(WebhookRetry, StepDoublesFromTheBase) {
    EXPECT_EQ(backoff_step_ms(1, kBase, kCap), 10'000);
    EXPECT_EQ(backoff_step_ms(2, kBase, kCap), 20'000);
    EXPECT_EQ(backoff_step_ms(3, kBase, kCap), 40'000);
    EXPECT_EQ(backoff_step_ms(7, kBase, kCap), 640'000);
    EXPECT_EQ(backoff_step_ms(9, kBase, kCap), 2'560'000);
}

TEST(WebhookRetry, StepIsCapped) {
    EXPECT_EQ(backoff_step_ms(10, kBase, kCap), kCap);  // 5,120 s > 1 h
    EXPECT_EQ(backoff_step_ms(1000, kBase, kCap), kCap);
    EXPECT_EQ(backoff_step_ms(std::numeric_limits<int>::max(), kBase, kCap), kCap);
    EXPECT_EQ(backoff_step_ms(1, 5'000'000, kCap), kCap);  // a base above the cap
}

TEST(WebhookRetry, DegenerateArguments) {
    EXPECT_EQ(backoff_step_ms(0, kBase, kCap), kBase);
    EXPECT_EQ(backoff_step_ms(-5, kBase, kCap), kBase);
    EXPECT_EQ(backoff_step_ms(3, 0, kCap), 0);
    EXPECT_EQ(backoff_step_ms(3, -10, kCap), 0);
    EXPECT_EQ(retry_delay_ms(3, 0, kCap, 0.7), 0);
}

TEST(WebhookRetry, JitterSpansHalfToAllOfTheStep) {
    for (int attempt = 1; attempt <= 12; ++attempt) {
        const int64_t step = backoff_step_ms(attempt, kBase, kCap);
        EXPECT_EQ(retry_delay_ms(attempt, kBase, kCap, 0.0), step / 2) << attempt;
        EXPECT_EQ(retry_delay_ms(attempt, kBase, kCap, 1.0), step) << attempt;
        for (double u = 0.0; u <= 1.0; u += 0.01) {
            const int64_t d = retry_delay_ms(attempt, kBase, kCap, u);
            EXPECT_GE(d, step / 2) << attempt << " " << u;
            EXPECT_LE(d, step) << attempt << " " << u;
        }
    }
    EXPECT_EQ(retry_delay_ms(1, kBase, kCap, 0.5), 7'500);
}

TEST(WebhookRetry, DrawOutsideTheUnitIntervalIsClamped) {
    EXPECT_EQ(retry_delay_ms(1, kBase, kCap, -3.0), 5'000);
    EXPECT_EQ(retry_delay_ms(1, kBase, kCap, 7.0), 10'000);
    EXPECT_EQ(retry_delay_ms(1, kBase, kCap, std::nan("")), 5'000);
}

}  // namespace
}  // namespace kaireon::webhooks
