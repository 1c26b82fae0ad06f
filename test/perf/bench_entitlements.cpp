// bench_entitlements.cpp - micro-benchmarks of entitlement resolution and
// evaluation, which the decision engine runs on every decision (quota and
// feature gates), so they must stay far below a microsecond.
//
//   build/core/bench_entitlements
//   build/core/bench_entitlements --benchmark_filter=Numeric
// ctest only runs it briefly (bench_entitlements_smoke) to prove it still
// works; it never fails on speed.
#include "core/entitlements.h"

#include <benchmark/benchmark.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace {

namespace ent = kaireon::entitlements;

// builtin returns the seed's row for `key`.
const ent::BuiltinFeature* builtin(std::string_view key) {
    for (const auto& feature : ent::builtin_features()) {
        if (feature.definition.key == key) return &feature;
    }
    return nullptr;
}

constexpr int64_t kNow = 1767225600;  // 2026-01-01T00:00:00Z

// The usual case: no override, no licence claim, the professional plan value.
void BM_ResolveEvaluateNumeric(benchmark::State& state) {
    const ent::BuiltinFeature* feature = builtin("decisions_per_month");
    if (!feature) {
        state.SkipWithError("decisions_per_month is not built in");
        return;
    }
    ent::Candidates candidates;
    candidates.plan_value = feature->tiers[1];
    double usage = 67433;
    for (auto _ : state) {
        benchmark::DoNotOptimize(usage);
        ent::Resolved resolved = ent::resolve(candidates, kNow);
        ent::Evaluation evaluation = ent::evaluate(feature->definition, resolved.value, resolved.source, usage, 1);
        benchmark::DoNotOptimize(evaluation.status);
        benchmark::DoNotOptimize(evaluation.percentage_used);
    }
}
BENCHMARK(BM_ResolveEvaluateNumeric);

// An unexpired trial override in front of the plan value.
void BM_ResolveEvaluateNumericOverride(benchmark::State& state) {
    const ent::BuiltinFeature* feature = builtin("decisions_per_month");
    if (!feature) {
        state.SkipWithError("decisions_per_month is not built in");
        return;
    }
    ent::Candidates candidates;
    ent::Value trial;
    trial.enabled = true;
    trial.limit = 1000000;
    candidates.override_value = trial;
    candidates.override_expires_at = kNow + 86400;
    candidates.plan_value = feature->tiers[0];
    double usage = 9999;
    for (auto _ : state) {
        benchmark::DoNotOptimize(usage);
        ent::Resolved resolved = ent::resolve(candidates, kNow);
        ent::Evaluation evaluation = ent::evaluate(feature->definition, resolved.value, resolved.source, usage, 1);
        benchmark::DoNotOptimize(evaluation.status);
    }
}
BENCHMARK(BM_ResolveEvaluateNumericOverride);

void BM_ResolveEvaluateBoolean(benchmark::State& state) {
    const ent::BuiltinFeature* feature = builtin("scoring.bayesian");
    if (!feature) {
        state.SkipWithError("scoring.bayesian is not built in");
        return;
    }
    ent::Candidates candidates;
    candidates.plan_value = feature->tiers[1];
    for (auto _ : state) {
        ent::Resolved resolved = ent::resolve(candidates, kNow);
        ent::Evaluation evaluation = ent::evaluate(feature->definition, resolved.value, resolved.source, 0);
        benchmark::DoNotOptimize(evaluation.status);
    }
}
BENCHMARK(BM_ResolveEvaluateBoolean);

// The full answer of entitlement(): evaluation plus its JSON text.
void BM_EvaluationJsonNumeric(benchmark::State& state) {
    const ent::BuiltinFeature* feature = builtin("decisions_per_month");
    if (!feature) {
        state.SkipWithError("decisions_per_month is not built in");
        return;
    }
    ent::Evaluation evaluation = ent::evaluate(feature->definition, feature->tiers[1], ent::Source::Plan, 67433);
    for (auto _ : state) {
        std::string text = ent::evaluation_json(evaluation).dump();
        benchmark::DoNotOptimize(text);
    }
}
BENCHMARK(BM_EvaluationJsonNumeric);

// A config value checked against its schema (set_plan_entitlement, licence
// claims): not per decision, but per licence check.
void BM_ParseConfigValue(benchmark::State& state) {
    const ent::BuiltinFeature* feature = builtin("autoscaling");
    if (!feature) {
        state.SkipWithError("autoscaling is not built in");
        return;
    }
    const kaireon::Json value = {
        {"config", {{"minReplicas", 2}, {"maxReplicas", 20}, {"targetDecisionsPerSecond", 500}}}};
    for (auto _ : state) {
        ent::Value parsed = ent::parse_value(feature->definition, value);
        benchmark::DoNotOptimize(parsed.enabled);
    }
}
BENCHMARK(BM_ParseConfigValue);

}  // namespace

BENCHMARK_MAIN();
