// bench_expr.cpp - micro-benchmarks of the expression language
// (src/core/expr.h): compiling catalog expressions (once per catalog write or
// cache miss) and evaluating them (once per candidate offer per decision, so
// it must stay in the tens of nanoseconds and never allocate).
//
//   build/core/bench_expr
//   build/core/bench_expr --benchmark_filter=Evaluate
// Before the benchmarks, main() checks that evaluating the common cases does
// not allocate (counting global operator new) and fails otherwise, so the
// ctest smoke run (bench_expr_smoke) catches an allocation creeping in; it
// never fails on speed. The allocs/op counter shows what each case allocates.
#include "core/expr.h"

#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// ---- allocation counting --------------------------------------------------------

namespace {
std::atomic<uint64_t> g_allocations{0};

void* counted_allocate(std::size_t size) {
    g_allocations.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
    throw std::bad_alloc();
}
}  // namespace

void* operator new(std::size_t size) { return counted_allocate(size); }
void* operator new[](std::size_t size) { return counted_allocate(size); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
    g_allocations.fetch_add(1, std::memory_order_relaxed);
    return std::malloc(size == 0 ? 1 : size);
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
    g_allocations.fetch_add(1, std::memory_order_relaxed);
    return std::malloc(size == 0 ? 1 : size);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

namespace {

using kaireon::expr::Bindings;
using kaireon::expr::compile;
using kaireon::expr::Program;
using kaireon::expr::ResultType;
using kaireon::expr::Value;

constexpr int64_t kNow = 1767225600;  // 2026-01-01T00:00:00Z

// The eligibility condition of the brief, and a relevance expression.
const std::string kEligibility =
    "customer.age >= 18 and has_segment('gold') and offer.value between 10 and 500 "
    "and not (context.channel in ['sms', 'push'])";
const std::string kRelevance =
    "coalesce(metric('clicks_30d'), 0) / 10 + max(customer.score, 0.1) * offer.priority / 100";
// A larger, realistic offer condition (about 400 bytes).
const std::string kComplex =
    "customer.age between 25 and 65 and customer.country in ('GB', 'IE', 'FR', 'DE', 'ES', 'IT', 'NL', 'BE') "
    "and (has_segment('gold') or has_segment('platinum') or customer.lifetimeValue > 5000) "
    "and not has_segment('do-not-contact') and coalesce(metric('purchases_90d'), 0) >= 2 "
    "and days_since(customer.lastPurchase) <= 30 and lower(context.channel) != 'call_center' "
    "and offer.priority * offer.lever > 20 and context.cart.total is not null";

// The pipeline's kind of bindings: the values in slot order, resolved once
// per customer and per offer; segments and metrics in small vectors.
class SlotBindings final : public Bindings {
public:
    SlotBindings(const Program& program, const std::vector<std::pair<std::string, Value>>& values) {
        for (const std::string& path : program.paths()) {
            Value v;
            for (const auto& [name, value] : values) {
                if (name == path) v = value;
            }
            slots_.push_back(v);
        }
    }
    const Value& path(size_t slot) const override { return slots_[slot]; }
    std::optional<double> metric(std::string_view name) const override {
        for (const auto& [key, value] : metrics_) {
            if (key == name) return value;
        }
        return std::nullopt;
    }
    int64_t now() const override { return kNow; }
    bool has_segment(std::string_view segment) const override {
        for (const auto& s : segments_) {
            if (s == segment) return true;
        }
        return false;
    }

private:
    std::vector<Value> slots_;
    std::vector<std::pair<std::string, double>> metrics_{{"clicks_30d", 12}, {"purchases_90d", 3}};
    std::vector<std::string> segments_{"newsletter", "gold", "mobile-first"};
};

const std::vector<std::pair<std::string, Value>> kValues = {
    {"customer.age", 37},
    {"customer.score", 0.42},
    {"customer.country", "GB"},
    {"customer.lifetimeValue", 4821.75},
    {"customer.lastPurchase", "2025-12-20T18:44:10Z"},
    {"offer.value", 120},
    {"offer.priority", 60},
    {"offer.lever", 0.8},
    {"context.channel", "web"},
    {"context.cart.total", 181.49},
};

// ---- compile ----------------------------------------------------------------------

void BM_CompileEligibility(benchmark::State& state) {
    for (auto _ : state) {
        Program p = compile(kEligibility, ResultType::Bool);
        benchmark::DoNotOptimize(p);
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(kEligibility.size()));
}
BENCHMARK(BM_CompileEligibility);

void BM_CompileRelevance(benchmark::State& state) {
    for (auto _ : state) {
        Program p = compile(kRelevance, ResultType::Number);
        benchmark::DoNotOptimize(p);
    }
}
BENCHMARK(BM_CompileRelevance);

void BM_CompileComplex(benchmark::State& state) {
    for (auto _ : state) {
        Program p = compile(kComplex, ResultType::Bool);
        benchmark::DoNotOptimize(p);
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(kComplex.size()));
}
BENCHMARK(BM_CompileComplex);

void BM_CompileError(benchmark::State& state) {
    // The refusal path: a type error near the end, thrown and caught.
    const std::string bad = kEligibility + " and customer.age + 'x' > 1";
    for (auto _ : state) {
        try {
            Program p = compile(bad, ResultType::Bool);
            benchmark::DoNotOptimize(p);
        } catch (const std::exception& e) {
            benchmark::DoNotOptimize(e.what());
        }
    }
}
BENCHMARK(BM_CompileError);

// ---- evaluate ---------------------------------------------------------------------

template <typename Run>
void evaluate_loop(benchmark::State& state, Run run) {
    const uint64_t before = g_allocations.load(std::memory_order_relaxed);
    for (auto _ : state) benchmark::DoNotOptimize(run());
    const uint64_t after = g_allocations.load(std::memory_order_relaxed);
    state.counters["allocs/op"] =
        benchmark::Counter(static_cast<double>(after - before), benchmark::Counter::kAvgIterations);
}

void BM_EvaluateEligibility(benchmark::State& state) {
    const Program p = compile(kEligibility, ResultType::Bool);
    const SlotBindings b(p, kValues);
    if (!p.test(b)) state.SkipWithError("the sample customer should be eligible");
    evaluate_loop(state, [&] { return p.test(b); });
}
BENCHMARK(BM_EvaluateEligibility);

void BM_EvaluateEligibilityFailsEarly(benchmark::State& state) {
    // The first condition is false: and stops there.
    const Program p = compile(kEligibility, ResultType::Bool);
    std::vector<std::pair<std::string, Value>> minor = kValues;
    minor[0].second = 16;
    const SlotBindings b(p, minor);
    evaluate_loop(state, [&] { return p.test(b); });
}
BENCHMARK(BM_EvaluateEligibilityFailsEarly);

void BM_EvaluateRelevance(benchmark::State& state) {
    const Program p = compile(kRelevance, ResultType::Number);
    const SlotBindings b(p, kValues);
    evaluate_loop(state, [&] { return p.number(b); });
}
BENCHMARK(BM_EvaluateRelevance);

void BM_EvaluateComplex(benchmark::State& state) {
    // Includes days_since (an ISO-8601 parse) and lower() (which allocates).
    const Program p = compile(kComplex, ResultType::Bool);
    const SlotBindings b(p, kValues);
    if (!p.test(b)) state.SkipWithError("the sample customer should be eligible");
    evaluate_loop(state, [&] { return p.test(b); });
}
BENCHMARK(BM_EvaluateComplex);

void BM_EvaluateInList(benchmark::State& state) {
    // Membership in a constant list of n strings, the value last.
    std::string source = "context.channel in [";
    for (int64_t i = 0; i < state.range(0); ++i) source += "'channel-" + std::to_string(i) + "', ";
    source += "'web']";
    const Program p = compile(source, ResultType::Bool);
    const SlotBindings b(p, kValues);
    evaluate_loop(state, [&] { return p.test(b); });
}
BENCHMARK(BM_EvaluateInList)->Arg(2)->Arg(10)->Arg(100);

void BM_EvaluateValue(benchmark::State& state) {
    // evaluate() of a string read from the bindings: a reference count, no copy.
    const Program p = compile("coalesce(customer.nothing, context.channel)", ResultType::Any);
    const SlotBindings b(p, kValues);
    evaluate_loop(state, [&] { return p.evaluate(b); });
}
BENCHMARK(BM_EvaluateValue);

// ---- the allocation check ------------------------------------------------------------

// allocation_free tells whether evaluating the common cases allocates nothing.
bool allocation_free() {
    struct Case {
        const std::string& source;
        ResultType type;
    };
    const std::string in_path = "'gold' in customer.segments and customer.country not in ('FR', customer.x)";
    const std::string constant = "1 + 2 > 2";
    bool ok = true;
    for (const Case& c : {Case{kEligibility, ResultType::Bool}, Case{kRelevance, ResultType::Number},
                          Case{in_path, ResultType::Bool}, Case{constant, ResultType::Bool}}) {
        const Program p = compile(c.source, c.type);
        std::vector<std::pair<std::string, Value>> values = kValues;
        values.emplace_back("customer.segments", Value::list({"silver", "gold"}));
        const SlotBindings b(p, values);
        const uint64_t before = g_allocations.load();
        bool result = p.test(b);
        std::optional<double> number = p.number(b);
        Value value = p.evaluate(b);
        const uint64_t allocations = g_allocations.load() - before;
        benchmark::DoNotOptimize(result);
        benchmark::DoNotOptimize(number);
        benchmark::DoNotOptimize(value);
        if (allocations != 0) {
            std::fprintf(stderr, "bench_expr: evaluating %s allocated %llu times\n", c.source.c_str(),
                         static_cast<unsigned long long>(allocations));
            ok = false;
        }
    }
    return ok;
}

}  // namespace

int main(int argc, char** argv) {
    if (!allocation_free()) return 1;
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
