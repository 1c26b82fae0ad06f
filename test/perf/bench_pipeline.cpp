// bench_pipeline.cpp - micro-benchmarks of the decision pipeline
// (src/core/pipeline.h, SPEC 6.2): decision::run for one customer over a
// compiled catalog of 100 and of 10,000 offers, untraced and traced, ranked
// top_n and by arbitration. The catalog is built once, outside the timed
// loop: offers across 10 categories with simple eligibility expressions, one
// web creative each, a 5-rule scorecard, limit 3.
// Targets (performance issue, one thread): 100 offers < 30 us, 10,000
// offers < 3 ms.
//
//   build/core/bench_pipeline
//   build/core/bench_pipeline --benchmark_filter='/10000/' --benchmark_repetitions=5
// Before the benchmarks, main() checks that every configuration decides
// (three offers, the expected stages when traced) and fails otherwise, so
// the ctest smoke run (bench_pipeline_smoke) catches a broken pipeline; it
// never fails on speed.
#include "core/catalog.h"
#include "core/catalog_compiled.h"
#include "core/decision.h"
#include "core/pipeline.h"

#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace {

namespace catalog = kaireon::catalog;
namespace decision = kaireon::decision;
using kaireon::Json;

constexpr double kNow = 1767225600;  // 2026-01-01T00:00:00Z

const char* const kEligibility[] = {
    "customer.age >= 18 and has_segment('gold')",
    "customer.age >= 25 and offer.value > 100",
    "has_segment('gold') or context.device = 'mobile'",
    "customer.age between 18 and 65 and not has_segment('minor')",
};

Json validated(const char* key, const Json& object, size_t index) {
    const catalog::Entity* entity = catalog::find_entity(key);
    if (entity == nullptr) throw std::logic_error(std::string("no entity ") + key);
    return catalog::validate(*entity, object, std::string(key) + "[" + std::to_string(index) + "]").row;
}

// build returns the compiled catalog of `offers` offers, with the flows
// "top" (top_n, n 3) and "arbitration" (arbitration, n 3).
catalog::CompiledCatalog build(int offers) {
    catalog::RowsByKey rows;
    rows["channels"].push_back(validated("channels", Json::parse(R"({"id": "web", "type": "web"})"), 0));
    rows["models"].push_back(validated("models", Json::parse(R"J({"id": "m", "type": "scorecard", "definition": {
        "base": 0.1, "factor": 1, "scale": "linear", "rules": [
            {"when": "customer.age >= 30", "points": 0.2},
            {"when": "has_segment('gold')", "points": 0.15},
            {"when": "offer.value > 500", "points": 0.1},
            {"when": "context.device = 'mobile'", "points": 0.05},
            {"when": "offer.priority >= 50", "points": 0.1}]}})J"), 0));
    rows["flows"].push_back(validated(
        "flows", Json::parse(R"({"id": "top", "channelId": "web", "modelId": "m", "ranking": {"method": "top_n", "n": 3}})"), 0));
    rows["flows"].push_back(validated("flows", Json::parse(R"J({"id": "arbitration", "channelId": "web", "modelId": "m",
        "ranking": {"method": "arbitration", "n": 3, "relevance": "coalesce(offer.affinity, 0.5)",
                    "contextWeights": {"cat-1": 1.2, "cat-3": 0.8}}})J"), 1));
    auto& offer_rows = rows["offers"];
    auto& creative_rows = rows["creatives"];
    offer_rows.reserve(static_cast<size_t>(offers));
    creative_rows.reserve(static_cast<size_t>(offers));
    for (int i = 0; i < offers; ++i) {
        char id[32];
        std::snprintf(id, sizeof id, "offer-%05d", i);
        Json offer = {{"id", id},
                      {"name", std::string("Offer ") + id},
                      {"categoryId", "cat-" + std::to_string(i % 10)},
                      {"priority", (i * 7) % 101},
                      {"value", (i * 37) % 1000},
                      {"lever", 0.5 + (i % 6) / 10.0},
                      {"eligibility", kEligibility[i % 4]},
                      {"attributes", {{"affinity", (i % 10) / 10.0}}}};
        offer_rows.push_back(validated("offers", offer, static_cast<size_t>(i)));
        Json creative = {{"id", std::string(id) + "-web"}, {"offerId", id}, {"channelId", "web"}};
        creative_rows.push_back(validated("creatives", creative, static_cast<size_t>(i)));
    }
    return catalog::compile_catalog(rows);
}

// catalog_of returns the catalog of `offers` offers, built on first use.
const catalog::CompiledCatalog& catalog_of(int offers) {
    static std::map<int, std::unique_ptr<catalog::CompiledCatalog>> cache;
    auto& slot = cache[offers];
    if (!slot) slot = std::make_unique<catalog::CompiledCatalog>(build(offers));
    return *slot;
}

decision::Request request(const std::string& flow) {
    return decision::parse_request(
        Json{{"customerId", "cust-1"}, {"flow", flow}, {"context", {{"device", "mobile"}, {"hour", 14}}}});
}

decision::CustomerView customer() {
    decision::CustomerView view;
    view.customer.id = "cust-1";
    view.customer.attributes = {{"age", 35}, {"country", "FR"}};
    view.customer.segments = {"gold", "young"};
    return view;
}

// BM_Run: args offers, arbitration (0 top_n, 1 arbitration), traced (0, 1).
void BM_Run(benchmark::State& state) {
    const int offers = static_cast<int>(state.range(0));
    const std::string flow_id = state.range(1) != 0 ? "arbitration" : "top";
    const bool traced = state.range(2) != 0;
    const catalog::CompiledCatalog& cat = catalog_of(offers);
    const catalog::CompiledFlow& flow = cat.flows.at(flow_id);
    const decision::Request req = request(flow_id);
    const decision::CustomerView view = customer();
    size_t chosen = 0;
    for (auto _ : state) {
        decision::Outcome outcome = decision::run(cat, flow, req, view, nullptr, kNow, traced);
        chosen += outcome.offers.size();
        benchmark::DoNotOptimize(outcome);
    }
    state.SetItemsProcessed(state.iterations() * offers);  // offers considered per second
    state.counters["chosen"] = benchmark::Counter(static_cast<double>(chosen), benchmark::Counter::kAvgIterations);
}
BENCHMARK(BM_Run)
    ->ArgNames({"offers", "arbitration", "traced"})
    ->ArgsProduct({{100, 10000}, {0, 1}, {0, 1}})
    ->Unit(benchmark::kMicrosecond);

// decides checks every configuration once: three offers, and seven stages
// when traced.
bool decides() {
    bool ok = true;
    for (int offers : {100, 10000})
        for (const char* flow_id : {"top", "arbitration"})
            for (bool traced : {false, true}) {
                const catalog::CompiledCatalog& cat = catalog_of(offers);
                decision::Outcome o =
                    decision::run(cat, cat.flows.at(flow_id), request(flow_id), customer(), nullptr, kNow, traced);
                const size_t stages = traced ? 7 : 0;
                if (o.offers.size() != 3 || o.stages.size() != stages ||
                    (traced && o.stages[0].in != static_cast<size_t>(offers))) {
                    std::fprintf(stderr, "bench_pipeline: %d offers, flow %s, traced %d: %zu offers, %zu stages\n", offers,
                                 flow_id, traced ? 1 : 0, o.offers.size(), o.stages.size());
                    ok = false;
                }
            }
    return ok;
}

}  // namespace

int main(int argc, char** argv) {
    if (!decides()) return 1;
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
