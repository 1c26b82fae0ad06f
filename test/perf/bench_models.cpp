// bench_models.cpp - micro-benchmarks of the scoring models (SPEC 6.2,
// src/core/scoring.h): what a gradient-boosted model and a Bayesian model
// cost per offer scored.
//
//   BM_GradientBoostedScore  builtin_scorer + score() of 100 offers with a
//                            100-tree depth-6 model (8 features: customer.*,
//                            offer.*, context.*), as step 5 of a decision
//   BM_GradientBoostedRun    decision::run of a flow using that model, 100
//                            offers (the whole pipeline, top_n 3)
//   BM_ForestPredict         Forest::predict of one row, 100 trees depth 6
//   BM_BayesianScore         builtin_scorer + score() of 100 offers from the
//                            stats of 100 offers and 5 segments each, by
//                            offer (bySegment false) and by segment (true)
//   BM_LoadForest            xgboost::load of the 100-tree model (the JSON
//                            object); BM_LoadForestText from the file's text
//   BM_CompileCatalog        compile_catalog of 100 offers and the model
//
// items/s is offers scored per second (predictions for BM_ForestPredict,
// trees loaded for the loads): 1 / items/s is the cost of one.
//
// The model is generated: full binary trees of depth 6 (63 splits, 64
// leaves each) in XGBoost's JSON layout, random splits over the 8 features
// (fixed seed), as an XGBoost 2.x binary:logistic model would be saved.
//
//   build/core/bench_models
//   build/core/bench_models --benchmark_filter=GradientBoosted
// Before the benchmarks, main() checks that the models score (propensities
// in (0, 1), not all equal; the flow decides; the bayesian posteriors
// differ by segment) and fails otherwise, so the ctest smoke run
// (bench_models_smoke) catches a broken path; it never fails on speed.
#include "core/bayes.h"
#include "core/catalog.h"
#include "core/catalog_compiled.h"
#include "core/decision.h"
#include "core/pipeline.h"
#include "core/scoring.h"
#include "core/xgboost.h"

#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdio>
#include <memory>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

namespace catalog = kaireon::catalog;
namespace decision = kaireon::decision;
namespace bayes = kaireon::bayes;
namespace xgboost = kaireon::xgboost;
using kaireon::Json;

constexpr double kNow = 1767225600;  // 2026-01-01T00:00:00Z
constexpr int kOffers = 100;
constexpr int kTrees = 100;
constexpr int kDepth = 6;

// The model's features, with the range its random splits are drawn from.
struct Feature {
    const char* path;
    double low, high;
};
const Feature kFeatures[] = {
    {"customer.age", 18, 80},      {"customer.income", 10000, 200000}, {"customer.vip", 0, 1},
    {"offer.value", 0, 1000},      {"offer.priority", 0, 100},         {"offer.affinity", 0, 1},
    {"context.hour", 0, 24},       {"context.basket", 0, 500},
};
constexpr size_t kNumFeatures = sizeof kFeatures / sizeof kFeatures[0];

// generated_model returns an XGBoost JSON model of `trees` full binary
// trees of depth `depth`, nodes in XGBoost's breadth-first order (node i's
// children 2i + 1 and 2i + 2).
Json generated_model(int trees, int depth, unsigned seed) {
    std::mt19937 rng(seed);
    std::uniform_int_distribution<size_t> feature_of(0, kNumFeatures - 1);
    std::uniform_real_distribution<double> unit(0, 1);
    const int splits = (1 << depth) - 1, nodes = (1 << (depth + 1)) - 1;
    Json list = Json::array(), info = Json::array();
    for (int t = 0; t < trees; ++t) {
        Json left = Json::array(), right = Json::array(), indices = Json::array(), conditions = Json::array(),
             default_left = Json::array(), split_type = Json::array();
        for (int i = 0; i < nodes; ++i) {
            if (i < splits) {
                const size_t f = feature_of(rng);
                left.push_back(2 * i + 1);
                right.push_back(2 * i + 2);
                indices.push_back(f);
                conditions.push_back(kFeatures[f].low + unit(rng) * (kFeatures[f].high - kFeatures[f].low));
                default_left.push_back(unit(rng) < 0.5 ? 1 : 0);
            } else {
                left.push_back(-1);
                right.push_back(-1);
                indices.push_back(0);
                conditions.push_back((unit(rng) - 0.5) * 0.2);  // leaf values in [-0.1, 0.1)
                default_left.push_back(0);
            }
            split_type.push_back(0);
        }
        list.push_back({{"tree_param", {{"num_deleted", "0"}, {"num_feature", std::to_string(kNumFeatures)},
                                        {"num_nodes", std::to_string(nodes)}, {"size_leaf_vector", "1"}}},
                        {"id", t},
                        {"left_children", left},
                        {"right_children", right},
                        {"split_indices", indices},
                        {"split_conditions", conditions},
                        {"default_left", default_left},
                        {"split_type", split_type},
                        {"categories", Json::array()},
                        {"categories_nodes", Json::array()},
                        {"categories_segments", Json::array()},
                        {"categories_sizes", Json::array()}});
        info.push_back(0);
    }
    return {{"learner",
             {{"attributes", Json::object()},
              {"feature_names", Json::array()},
              {"feature_types", Json::array()},
              {"learner_model_param",
               {{"base_score", "5E-1"}, {"num_feature", std::to_string(kNumFeatures)}, {"num_class", "0"}}},
              {"objective", {{"name", "binary:logistic"}, {"reg_loss_param", {{"scale_pos_weight", "1"}}}}},
              {"gradient_booster",
               {{"name", "gbtree"},
                {"model",
                 {{"gbtree_model_param", {{"num_trees", std::to_string(trees)}, {"num_parallel_tree", "1"}}},
                  {"tree_info", info},
                  {"trees", list}}}}}}},
            {"version", {2, 0, 3}}};
}

const Json& model_json() {
    static const Json model = generated_model(kTrees, kDepth, 20260101);
    return model;
}

Json validated(const char* key, const Json& object, size_t index) {
    const catalog::Entity* entity = catalog::find_entity(key);
    if (entity == nullptr) throw std::logic_error(std::string("no entity ") + key);
    return catalog::validate(*entity, object, std::string(key) + "[" + std::to_string(index) + "]").row;
}

// rows returns the validated rows of 100 offers (10 categories, a web
// creative each), the models "gbm" (the generated model) and "bayes",
// "bayes-seg" (bySegment), and a flow per model.
catalog::RowsByKey rows() {
    catalog::RowsByKey r;
    r["channels"].push_back(validated("channels", Json::parse(R"({"id": "web", "type": "web"})"), 0));
    for (int c = 0; c < 10; ++c)
        r["categories"].push_back(validated("categories", Json{{"id", "cat-" + std::to_string(c)}}, static_cast<size_t>(c)));
    Json features = Json::array();
    for (const auto& f : kFeatures) features.push_back(f.path);
    r["models"].push_back(validated("models",
                                    Json{{"id", "gbm"},
                                         {"type", "gradient_boosted"},
                                         {"definition", {{"format", "xgboost-json"}, {"model", model_json()}, {"features", features}}}},
                                    0));
    r["models"].push_back(validated("models", Json::parse(R"({"id": "bayes", "type": "bayesian",
        "definition": {"prior": {"alpha": 1, "beta": 9}, "minImpressions": 100}})"), 1));
    r["models"].push_back(validated("models", Json::parse(R"({"id": "bayes-seg", "type": "bayesian",
        "definition": {"prior": {"alpha": 1, "beta": 9}, "minImpressions": 100, "bySegment": true}})"), 2));
    size_t flows = 0;
    for (const char* model : {"gbm", "bayes", "bayes-seg"})
        r["flows"].push_back(validated(
            "flows", Json{{"id", std::string("f-") + model}, {"channelId", "web"}, {"modelId", model}, {"ranking", {{"n", 3}}}},
            flows++));
    for (int i = 0; i < kOffers; ++i) {
        char id[32];
        std::snprintf(id, sizeof id, "offer-%03d", i);
        Json offer = {{"id", id},
                      {"name", std::string("Offer ") + id},
                      {"categoryId", "cat-" + std::to_string(i % 10)},
                      {"priority", (i * 7) % 101},
                      {"value", (i * 37) % 1000},
                      {"attributes", {{"affinity", (i % 10) / 10.0}}}};
        if (i % 9 == 0) offer["attributes"] = Json::object();  // offer.affinity missing: default directions
        r["offers"].push_back(validated("offers", offer, static_cast<size_t>(i)));
        r["creatives"].push_back(validated(
            "creatives", Json{{"id", std::string(id) + "-web"}, {"offerId", id}, {"channelId", "web"}}, static_cast<size_t>(i)));
    }
    return r;
}

const catalog::RowsByKey& catalog_rows() {
    static const catalog::RowsByKey r = rows();
    return r;
}

const catalog::CompiledCatalog& compiled() {
    static const catalog::CompiledCatalog c = catalog::compile_catalog(catalog_rows());
    return c;
}

// stats: every offer shown 200 to 5,200 times, and in 5 of 8 segments.
const bayes::Stats& stats() {
    static const bayes::Stats s = [] {
        bayes::Stats out;
        std::mt19937 rng(7);
        std::uniform_real_distribution<double> unit(0, 1);
        for (const auto& offer : compiled().offers) {
            const double shown = 200 + std::floor(unit(rng) * 5000);
            out.offers[offer.id] = {shown, std::floor(shown * unit(rng) * 0.2)};
            for (int k = 0; k < 5; ++k) {
                const std::string segment = "seg-" + std::to_string((k * 3 + offer.id.back()) % 8);
                const double seen = std::floor(shown * unit(rng) * 0.3);
                out.segments[{offer.id, segment}] = {seen, std::floor(seen * unit(rng) * 0.3)};
            }
        }
        return out;
    }();
    return s;
}

decision::CustomerView customer() {
    decision::CustomerView view;
    view.customer.id = "cust-1";
    view.customer.attributes = {{"age", 35}, {"income", 54000}, {"vip", true}};
    view.customer.segments = {"seg-1", "seg-4", "seg-6"};
    return view;
}

const Json& context() {
    static const Json c = {{"hour", 14}, {"basket", 120.5}};
    return c;
}

// score_all scores every offer with a fresh scorer (as one decision does)
// and returns the sum of the scores.
double score_all(const catalog::CompiledModel& model, const bayes::Stats* s, const decision::CustomerView& view) {
    const auto& cat = compiled();
    auto scorer = decision::builtin_scorer(&model, "bench", &cat, s);
    double sum = 0;
    for (const auto& offer : cat.offers) sum += scorer->score(offer, view, context(), kNow).score;
    return sum;
}

void BM_GradientBoostedScore(benchmark::State& state) {
    const auto& model = compiled().models.at("gbm");
    const auto view = customer();
    for (auto _ : state) benchmark::DoNotOptimize(score_all(model, nullptr, view));
    state.SetItemsProcessed(state.iterations() * kOffers);
}
BENCHMARK(BM_GradientBoostedScore)->Unit(benchmark::kMicrosecond);

void BM_GradientBoostedRun(benchmark::State& state) {
    const auto& cat = compiled();
    const auto& flow = cat.flows.at("f-gbm");
    const auto req = decision::parse_request(Json{{"customerId", "cust-1"}, {"flow", "f-gbm"}, {"context", context()}});
    const auto view = customer();
    for (auto _ : state) {
        decision::Outcome outcome = decision::run(cat, flow, req, view, nullptr, kNow, false);
        benchmark::DoNotOptimize(outcome);
    }
    state.SetItemsProcessed(state.iterations() * kOffers);
}
BENCHMARK(BM_GradientBoostedRun)->Unit(benchmark::kMicrosecond);

void BM_ForestPredict(benchmark::State& state) {
    const xgboost::Forest& forest = *compiled().models.at("gbm").forest;
    const float row[kNumFeatures] = {35, 54000, 1, 370, 49, 0.3f, 14, 120.5f};
    for (auto _ : state) {
        float p = forest.predict(row);
        benchmark::DoNotOptimize(p);
    }
    state.SetItemsProcessed(state.iterations());
    state.counters["trees"] = static_cast<double>(forest.trees());
}
BENCHMARK(BM_ForestPredict)->Unit(benchmark::kNanosecond);

void BM_BayesianScore(benchmark::State& state) {
    const bool by_segment = state.range(0) != 0;
    const auto& model = compiled().models.at(by_segment ? "bayes-seg" : "bayes");
    const auto view = customer();
    for (auto _ : state) benchmark::DoNotOptimize(score_all(model, &stats(), view));
    state.SetItemsProcessed(state.iterations() * kOffers);
}
BENCHMARK(BM_BayesianScore)->ArgName("bySegment")->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

void BM_LoadForest(benchmark::State& state) {
    const Json& model = model_json();
    for (auto _ : state) {
        xgboost::Forest forest = xgboost::load(model);
        benchmark::DoNotOptimize(forest);
    }
    state.SetItemsProcessed(state.iterations() * kTrees);
}
BENCHMARK(BM_LoadForest)->Unit(benchmark::kMillisecond);

void BM_LoadForestText(benchmark::State& state) {
    const std::string text = model_json().dump();
    for (auto _ : state) {
        xgboost::Forest forest = xgboost::load_text(text);
        benchmark::DoNotOptimize(forest);
    }
    state.SetItemsProcessed(state.iterations() * kTrees);
    state.counters["bytes"] = static_cast<double>(text.size());
}
BENCHMARK(BM_LoadForestText)->Unit(benchmark::kMillisecond);

void BM_CompileCatalog(benchmark::State& state) {
    const auto& r = catalog_rows();
    for (auto _ : state) {
        catalog::CompiledCatalog c = catalog::compile_catalog(r);
        benchmark::DoNotOptimize(c);
    }
}
BENCHMARK(BM_CompileCatalog)->Unit(benchmark::kMillisecond);

// scores checks the paths once before timing them.
bool scores() {
    bool ok = true;
    auto fail = [&](const std::string& what) {
        std::fprintf(stderr, "bench_models: %s\n", what.c_str());
        ok = false;
    };
    const auto& cat = compiled();
    const auto& gbm = cat.models.at("gbm");
    if (!gbm.forest || gbm.forest->trees() != static_cast<size_t>(kTrees) ||
        gbm.forest->nodes.size() != static_cast<size_t>(kTrees * ((1 << (kDepth + 1)) - 1)))
        fail("the generated model did not load as 100 trees of depth 6");
    const auto view = customer();
    auto scorer = decision::builtin_scorer(&gbm, "bench", &cat);
    std::set<double> distinct;
    for (const auto& offer : cat.offers) {
        decision::Score s = scorer->score(offer, view, context(), kNow);
        if (!(s.score > 0 && s.score < 1) || s.propensity != s.score) fail("gradient_boosted score out of (0, 1): " + offer.id);
        distinct.insert(s.score);
    }
    if (distinct.size() < 10) fail("gradient_boosted scores barely depend on the offer");
    decision::Outcome o = decision::run(cat, cat.flows.at("f-gbm"),
                                        decision::parse_request(Json{{"customerId", "cust-1"}, {"flow", "f-gbm"}, {"context", context()}}),
                                        view, nullptr, kNow, false);
    if (o.offers.size() != 3 || !o.offers[0].propensity) fail("the gradient_boosted flow did not decide 3 offers");
    for (const char* id : {"bayes", "bayes-seg"}) {
        auto b = decision::builtin_scorer(&cat.models.at(id), "bench", &cat, &stats());
        for (const auto& offer : cat.offers) {
            decision::Score s = b->score(offer, view, context(), kNow);
            if (!(s.score > 0 && s.score < 1)) fail(std::string(id) + " score out of (0, 1): " + offer.id);
        }
    }
    if (score_all(cat.models.at("bayes"), &stats(), view) == score_all(cat.models.at("bayes-seg"), &stats(), view))
        fail("bySegment changes no bayesian score");
    return ok;
}

}  // namespace

int main(int argc, char** argv) {
    if (!scores()) return 1;
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
