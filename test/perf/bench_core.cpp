// bench_core.cpp - micro-benchmarks of the hot paths of the pure core.
//
//   build/core/bench_core                          # full run
//   build/core/bench_core --benchmark_filter=Parse # one family
// ctest only runs it briefly (bench_core_smoke) to prove it still works; it
// never fails on speed.
#include "core/error.h"
#include "core/json.h"
#include "core/tenant.h"

#include <benchmark/benchmark.h>

#include <string>

namespace {

// A typical recommend request (SPEC 6.2), about 1 KB.
const std::string kRecommendRequest = R"({
  "customerId": "cust-0004711",
  "flow": "homepage-hero",
  "channel": "web",
  "placement": "hero",
  "limit": 5,
  "context": {
    "device": "mobile",
    "locale": "en-GB",
    "page": "/checkout/basket",
    "referrer": "https://example.com/campaign?utm_source=newsletter&utm_medium=email",
    "basket": [
      {"sku": "SKU-10001", "qty": 2, "price": 19.99},
      {"sku": "SKU-10002", "qty": 1, "price": 149.0},
      {"sku": "SKU-10003", "qty": 3, "price": 4.5}
    ],
    "sessionSeconds": 412,
    "returning": true
  },
  "segments": ["gold", "newsletter", "mobile-first", "high-value"],
  "attributes": {
    "age": 37,
    "tenureMonths": 52,
    "lifetimeValue": 4821.75,
    "churnRisk": 0.12,
    "city": "Manchester",
    "optIn": {"email": true, "sms": false, "push": true},
    "lastPurchase": "2024-11-02T18:44:10Z"
  },
  "excludeOffers": ["offer-credit-card-2023", "offer-loan-summer"],
  "trace": false,
  "dryRun": false
})";

void BM_ParseRecommendRequest(benchmark::State& state) {
    if (kRecommendRequest.size() < 900 || kRecommendRequest.size() > 1200) {
        state.SkipWithError("the sample request is no longer about 1 KB");
        return;
    }
    for (auto _ : state) {
        kaireon::Json doc = kaireon::parse_json_object(kRecommendRequest);
        benchmark::DoNotOptimize(doc);
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(kRecommendRequest.size()));
}
BENCHMARK(BM_ParseRecommendRequest);

void BM_ParseMalformedRequest(benchmark::State& state) {
    // The refusal path: a truncated document, thrown and caught.
    const std::string truncated = kRecommendRequest.substr(0, kRecommendRequest.size() / 2);
    for (auto _ : state) {
        try {
            benchmark::DoNotOptimize(kaireon::parse_json_object(truncated));
        } catch (const kaireon::Error& e) {
            benchmark::DoNotOptimize(e.what());
        }
    }
}
BENCHMARK(BM_ParseMalformedRequest);

void BM_ValidateTenantId(benchmark::State& state) {
    const std::string id = "acme-retail_eu-west-01";
    for (auto _ : state) {
        benchmark::DoNotOptimize(id.data());
        kaireon::validate_tenant_id(id);
        benchmark::ClobberMemory();
    }
}
BENCHMARK(BM_ValidateTenantId);

void BM_TenantIdProblemMaxLength(benchmark::State& state) {
    const std::string id(kaireon::kMaxTenantIdLength, 'a');
    for (auto _ : state) {
        std::string problem = kaireon::tenant_id_problem(id);
        benchmark::DoNotOptimize(problem);
    }
}
BENCHMARK(BM_TenantIdProblemMaxLength);

void BM_ErrorDetailText(benchmark::State& state) {
    for (auto _ : state) {
        kaireon::Error error(kaireon::ErrorCode::QuotaExceeded, "decision quota exhausted for tenant acme",
                             kaireon::Json{{"quota", {{"limit", 100000}, {"used", 100000}, {"remaining", 0}}},
                                           {"period", "2024-11"},
                                           {"resetsAt", "2024-12-01T00:00:00Z"}});
        std::string text = error.detail_text();
        benchmark::DoNotOptimize(text);
    }
}
BENCHMARK(BM_ErrorDetailText);

}  // namespace

BENCHMARK_MAIN();
