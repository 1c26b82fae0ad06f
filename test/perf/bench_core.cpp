// bench_core.cpp - micro-benchmarks of the hot paths of the pure core.
//
//   build/core/bench_core                          # full run
//   build/core/bench_core --benchmark_filter=Parse # one family
// ctest only runs it briefly (bench_core_smoke) to prove it still works; it
// never fails on speed.
#include "core/base64url.h"
#include "core/error.h"
#include "core/json.h"
#include "core/jwt.h"
#include "core/license.h"
#include "core/tenant.h"

#include <benchmark/benchmark.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

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

// --- licences ------------------------------------------------------------------

constexpr int64_t kLicenceNow = 1767225600;  // 2026-01-01T00:00:00Z

const kaireon::Json kLicencePayload = {
    {"iss", "kaireon"},          {"sub", "acme-retail_eu-west-01"}, {"tier", "enterprise"},
    {"iat", kLicenceNow - 86400}, {"nbf", kLicenceNow - 86400},       {"exp", kLicenceNow + 365 * 86400},
    {"jti", "acme-2026-1"},      {"limits", {{"decisions_per_month", 750000}}},
    {"features", {{"experiments.bandit", {{"enabled", true}}}}},
};

// What a backend keeps per tenant once the token's signature has been
// verified: the claims and what the database remembers about the licence.
struct CachedLicence {
    std::optional<kaireon::license::Claims> claims;
    kaireon::license::Stored stored;
};

// The per-call work of a licence check on a warm cache: find the tenant's
// entry, check the moment/issuer/revocation, evaluate the state. No
// signature, no JSON.
void BM_LicenseCheckCached(benchmark::State& state) {
    std::unordered_map<std::string, CachedLicence> cache;
    for (int i = 0; i < 200; ++i) {  // other tenants of the same backend
        kaireon::Json payload = kLicencePayload;
        payload["sub"] = "tenant-" + std::to_string(i);
        cache["tenant-" + std::to_string(i)] =
            CachedLicence{kaireon::license::read_claims(payload), kaireon::license::Stored{}};
    }
    cache["acme-retail_eu-west-01"] = CachedLicence{
        kaireon::license::read_claims(kLicencePayload),
        kaireon::license::Stored{kaireon::license::Tier::Enterprise, std::nullopt, kaireon::license::Tier::Enterprise,
                                 kLicenceNow + 365 * 86400}};
    const std::string tenant = "acme-retail_eu-west-01";
    int64_t now = kLicenceNow;
    for (auto _ : state) {
        benchmark::DoNotOptimize(tenant.data());
        auto it = cache.find(tenant);
        const CachedLicence& entry = it->second;
        kaireon::license::check_current(*entry.claims, now, "kaireon", /*jti_revoked=*/false);
        kaireon::license::Status status =
            kaireon::license::evaluate(true, entry.claims, std::nullopt, entry.stored, now);
        benchmark::DoNotOptimize(status);
        benchmark::DoNotOptimize(now);
    }
    if (kaireon::license::evaluate(true, cache[tenant].claims, std::nullopt, cache[tenant].stored, now).state !=
        kaireon::license::State::Valid) {
        state.SkipWithError("the cached licence is not valid");
    }
}
BENCHMARK(BM_LicenseCheckCached);

struct SignedLicence {
    std::string token;
    std::shared_ptr<const kaireon::jwt::PublicKey> key;
};

// signed_licence returns an RS256 licence signed by a key generated once, and
// that key as the verifier sees it.
const SignedLicence& signed_licence() {
    static const SignedLicence licence = [] {
        SignedLicence out;
        EVP_PKEY* pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048});
        BIO* bio = BIO_new(BIO_s_mem());
        PEM_write_bio_PUBKEY(bio, pkey);
        char* data = nullptr;
        long length = BIO_get_mem_data(bio, &data);
        out.key = std::make_shared<const kaireon::jwt::PublicKey>(kaireon::jwt::PublicKey::from_pem(
            std::string(data, static_cast<size_t>(length)), kaireon::jwt::Algorithm::RS256));
        BIO_free(bio);

        std::string input = kaireon::base64url_encode(kaireon::Json{{"alg", "RS256"}, {"typ", "JWT"}, {"kid", "k"}}.dump()) +
                            "." + kaireon::base64url_encode(kLicencePayload.dump());
        EVP_MD_CTX* ctx = EVP_MD_CTX_new();
        size_t size = 0;
        EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, pkey);
        EVP_DigestSign(ctx, nullptr, &size, reinterpret_cast<const unsigned char*>(input.data()), input.size());
        std::string signature(size, '\0');
        EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(signature.data()), &size,
                       reinterpret_cast<const unsigned char*>(input.data()), input.size());
        signature.resize(size);
        EVP_MD_CTX_free(ctx);
        EVP_PKEY_free(pkey);
        out.token = input + "." + kaireon::base64url_encode(signature);
        return out;
    }();
    return licence;
}

// The uncached path: parse, RSA-2048 signature verification, claims.
void BM_VerifyTokenRS256(benchmark::State& state) {
    const SignedLicence& licence = signed_licence();
    auto lookup = [key = licence.key](const std::string&) { return kaireon::jwt::KeyLookup{key, false}; };
    const std::function<kaireon::jwt::KeyLookup(const std::string&)> ring = lookup;
    try {
        kaireon::license::verify_token(licence.token, ring);
    } catch (const kaireon::Error& e) {
        state.SkipWithError(e.what());
        return;
    }
    for (auto _ : state) {
        kaireon::license::Claims claims = kaireon::license::verify_token(licence.token, ring);
        benchmark::DoNotOptimize(claims);
    }
}
BENCHMARK(BM_VerifyTokenRS256);

}  // namespace

BENCHMARK_MAIN();
