// scoring_test.cpp - the built-in scorers of the models (src/core/scoring.h)
// and the Bayesian posteriors they read (src/core/bayes.h): the posterior
// math against hand-computed values of the header's formulas (tenant,
// category, offer and segment levels, minImpressions 0, failures clamped),
// params_of's defaults, the bayesian and gradient_boosted scorers through
// builtin_scorer (feature mapping: numbers, booleans, missing values and
// default directions, offer paths per offer), and the catalog's validation
// of gradient_boosted and bayesian definitions (src/core/catalog.cpp).
//
// Suites: Bayes* (bayes::Model, params_of), Scoring* (scorers, validation).
#include "core/scoring.h"

#include "core/bayes.h"
#include "core/catalog.h"
#include "core/catalog_compiled.h"
#include "core/decision.h"
#include "core/error.h"
#include "core/pipeline.h"

#include "catalog_rows.h"
#include "refusal.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kaireon::decision {
namespace {

using test_support::refusal;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr double kNow = 1767225600;  // 2026-01-01T00:00:00Z

Json json(std::string_view text) { return Json::parse(text); }

class Catalog : public test_support::CatalogRows<Catalog> {
public:
    Catalog& model(const Json& object) { return add_json("models", object); }
};

CustomerView customer(const Json& attributes = Json::object(), std::vector<std::string> segments = {}) {
    CustomerView view;
    view.customer.id = "c1";
    view.customer.attributes = attributes;
    view.customer.segments = std::move(segments);
    return view;
}

const catalog::CompiledOffer& offer_of(const catalog::CompiledCatalog& cat, std::string_view id) {
    const catalog::CompiledOffer* o = cat.offer(id);
    if (o == nullptr) throw std::logic_error("no offer " + std::string(id));
    return *o;
}

// ---- Bayesian posteriors (bayes.h) ----------------------------------------------------

// BayesFixture: offers a, b (category X), c (no category), d (category Y,
// no data), e (category X, no data). Stats a 5/20, b 1/10, c 3/30:
//   all P 9, I 60; alpha 2, beta 3 -> mean_t = 11/65
//   X: P 6, I 30; n 10 -> mean_X = (6 + 10 * 11/65) / 40 = 5/26
class BayesModel : public ::testing::Test {
protected:
    BayesModel() {
        Catalog c;
        c.add("categories", R"({"id": "X"})");
        c.add("categories", R"({"id": "Y"})");
        c.offer("a", {{"categoryId", "X"}});
        c.offer("b", {{"categoryId", "X"}});
        c.offer("c");
        c.offer("d", {{"categoryId", "Y"}});
        c.offer("e", {{"categoryId", "X"}});
        cat = c.build();
        stats.offers["a"] = {20, 5};
        stats.offers["b"] = {10, 1};
        stats.offers["c"] = {30, 3};
    }
    bayes::Posterior posterior(std::string_view offer, const bayes::Params& p, std::vector<std::string> segments = {}) const {
        bayes::Model m(cat, p, stats);
        return m.posterior(offer_of(cat, offer), segments);
    }
    static bayes::Params params(double alpha, double beta, double n, bool by_segment = false) {
        bayes::Params p;
        p.alpha = alpha;
        p.beta = beta;
        p.min_impressions = n;
        p.by_segment = by_segment;
        return p;
    }

    catalog::CompiledCatalog cat;
    bayes::Stats stats;
};

TEST_F(BayesModel, NoDataGivesThePriorMean) {
    stats = {};
    for (const char* id : {"a", "c", "d"}) {
        bayes::Posterior p = posterior(id, params(2, 3, 100));
        EXPECT_DOUBLE_EQ(p.mean(), 0.4) << id;
        // Beta(n mean, n (1 - mean)) with n 100.
        EXPECT_DOUBLE_EQ(p.alpha, 40) << id;
        EXPECT_DOUBLE_EQ(p.beta, 60) << id;
        EXPECT_EQ(p.level, "offer");
        EXPECT_EQ(p.own.impressions, 0);
    }
}

TEST_F(BayesModel, OfferBlendsWithItsCategory) {
    bayes::Posterior p = posterior("a", params(2, 3, 10));
    // Beta(5 + 10 * 5/26, 15 + 10 * 21/26); mean (5 + 50/26) / 30 = 3/13.
    EXPECT_NEAR(p.alpha, 5 + 50.0 / 26, 1e-12);
    EXPECT_NEAR(p.beta, 15 + 210.0 / 26, 1e-12);
    EXPECT_NEAR(p.mean(), 3.0 / 13, 1e-12);
    EXPECT_EQ(p.own.impressions, 20);
    EXPECT_EQ(p.own.positives, 5);
    EXPECT_EQ(p.level, "offer");
}

TEST_F(BayesModel, OfferWithoutDataTakesItsCategoryMean) {
    bayes::Posterior p = posterior("e", params(2, 3, 10));
    EXPECT_NEAR(p.mean(), 5.0 / 26, 1e-12);
    EXPECT_NEAR(p.alpha, 50.0 / 26, 1e-12);
    EXPECT_NEAR(p.beta, 210.0 / 26, 1e-12);
}

TEST_F(BayesModel, OfferWithoutCategoryBlendsWithTheTenantMean) {
    bayes::Posterior p = posterior("c", params(2, 3, 10));
    // Beta(3 + 10 * 11/65, 27 + 10 * 54/65); mean (3 + 110/65) / 40 = 61/520.
    EXPECT_NEAR(p.alpha, 3 + 110.0 / 65, 1e-12);
    EXPECT_NEAR(p.beta, 27 + 540.0 / 65, 1e-12);
    EXPECT_NEAR(p.mean(), 61.0 / 520, 1e-12);
}

TEST_F(BayesModel, CategoryWithoutDataFallsBackToTheTenantMean) {
    bayes::Posterior p = posterior("d", params(2, 3, 10));
    EXPECT_NEAR(p.mean(), 11.0 / 65, 1e-12);
}

TEST_F(BayesModel, OffersUnknownToTheCatalogCountTowardsTheTenantOnly) {
    stats.offers["ghost"] = {40, 40};  // an offer since removed from the catalog
    // all: P 49, I 100 -> mean_t = 51/105; X: (6 + 10 * 51/105) / 40.
    const double mean_t = 51.0 / 105;
    const double mean_x = (6 + 10 * mean_t) / 40;
    EXPECT_NEAR(posterior("c", params(2, 3, 10)).mean(), (3 + 10 * mean_t) / 40, 1e-12);
    EXPECT_NEAR(posterior("e", params(2, 3, 10)).mean(), mean_x, 1e-12);
}

TEST_F(BayesModel, LargeDataOutweighsTheCategory) {
    stats.offers["a"] = {100000, 90000};
    // The offer's own rate 0.9 dominates: (90000 + 10 mean_c) / 100010.
    EXPECT_NEAR(posterior("a", params(2, 3, 10)).mean(), 0.9, 1e-4);
}

TEST_F(BayesModel, MinImpressionsZeroIsThePlainPriorUpdate) {
    EXPECT_DOUBLE_EQ(posterior("a", params(2, 3, 0)).alpha, 7);   // 2 + 5
    EXPECT_DOUBLE_EQ(posterior("a", params(2, 3, 0)).beta, 18);   // 3 + 15
    EXPECT_DOUBLE_EQ(posterior("a", params(2, 3, 0)).mean(), 7.0 / 25);
    EXPECT_DOUBLE_EQ(posterior("c", params(2, 3, 0)).mean(), 5.0 / 35);  // Beta(2 + 3, 3 + 27)
    EXPECT_DOUBLE_EQ(posterior("e", params(2, 3, 0)).mean(), 0.4);       // no data: the prior
}

// Positives past the impressions (a conversion recorded without an
// impression) count as no more than the impressions, at every level: a
// rate stays a rate and every Beta parameter stays positive.
TEST_F(BayesModel, PositivesCountAtMostTheImpressions) {
    EXPECT_EQ((bayes::Counts{5, 8}.successes()), 5);
    EXPECT_EQ((bayes::Counts{5, 8}.failures()), 0);
    EXPECT_EQ((bayes::Counts{8, 5}.failures()), 3);
    stats.offers["c"] = {5, 8};
    bayes::Posterior p = posterior("c", params(2, 3, 0));
    EXPECT_DOUBLE_EQ(p.alpha, 7);  // 2 + min(8, 5)
    EXPECT_DOUBLE_EQ(p.beta, 3);   // 3 + 0
    // Blended: the helper's reproduction (a = 5/8 alone, default prior and
    // n = 100) gave means above 1 before.
    stats.offers.clear();
    stats.offers["a"] = {5, 8};
    stats.offers["c"] = {5, 8};
    for (const char* id : {"a", "b", "c", "e"}) {
        bayes::Posterior q = posterior(id, params(1, 1, 100));
        EXPECT_GT(q.alpha, 0) << id;
        EXPECT_GT(q.beta, 0) << id;
        EXPECT_LE(q.mean(), 1) << id;
    }
}

// Segment stats of offer a: s1 2/4, s2 1/6, s3 5/6, s4 0 impressions.
class BayesSegments : public BayesModel {
protected:
    BayesSegments() {
        stats.segments[{"a", "s1"}] = {4, 2};
        stats.segments[{"a", "s2"}] = {6, 1};
        stats.segments[{"a", "s3"}] = {6, 5};
        stats.segments[{"a", "s4"}] = {0, 0};
        stats.segments[{"b", "s9"}] = {50, 50};
    }
};

TEST_F(BayesSegments, PicksTheSegmentWithMostImpressionsTiesBySmallestId) {
    // s2 and s3 tie at 6 impressions: s2. Beta(1 + 10 * 3/13, 5 + 10 * 10/13).
    for (auto segments : {std::vector<std::string>{"s1", "s3", "s2"}, std::vector<std::string>{"s2", "s3", "s1"}}) {
        bayes::Posterior p = posterior("a", params(2, 3, 10, true), segments);
        EXPECT_EQ(p.level, "segment:s2");
        EXPECT_NEAR(p.alpha, 1 + 30.0 / 13, 1e-12);
        EXPECT_NEAR(p.beta, 5 + 100.0 / 13, 1e-12);
        EXPECT_NEAR(p.mean(), 43.0 / 208, 1e-12);
        EXPECT_EQ(p.own.impressions, 6);
        EXPECT_EQ(p.own.positives, 1);
    }
}

TEST_F(BayesSegments, MostImpressionsWinsOverSmallerId) {
    bayes::Posterior p = posterior("a", params(2, 3, 10, true), {"s1", "s3"});
    EXPECT_EQ(p.level, "segment:s3");
    EXPECT_NEAR(p.mean(), (5 + 30.0 / 13) / 16, 1e-12);
}

TEST_F(BayesSegments, FallsBackToTheOfferWhenNoSegmentHasData) {
    // s4 has a row without impressions, s9 data of another offer, s7 none.
    for (auto segments : {std::vector<std::string>{}, std::vector<std::string>{"s4", "s9", "s7"}}) {
        bayes::Posterior p = posterior("a", params(2, 3, 10, true), segments);
        EXPECT_EQ(p.level, "offer");
        EXPECT_NEAR(p.mean(), 3.0 / 13, 1e-12);
    }
}

TEST_F(BayesSegments, WithoutBySegmentTheSegmentsAreIgnored) {
    bayes::Posterior p = posterior("a", params(2, 3, 10, false), {"s1", "s2", "s3"});
    EXPECT_EQ(p.level, "offer");
    EXPECT_NEAR(p.mean(), 3.0 / 13, 1e-12);
}

TEST_F(BayesSegments, MinImpressionsZeroUpdatesThePriorWithTheSegmentCounts) {
    bayes::Posterior p = posterior("a", params(2, 3, 0, true), {"s3"});
    EXPECT_EQ(p.level, "segment:s3");
    EXPECT_DOUBLE_EQ(p.alpha, 7);  // 2 + 5
    EXPECT_DOUBLE_EQ(p.beta, 4);   // 3 + 1
}

TEST(BayesParams, Defaults) {
    bayes::Params p = bayes::params_of(Json::object());
    EXPECT_EQ(p.alpha, 1);
    EXPECT_EQ(p.beta, 1);
    EXPECT_EQ(p.min_impressions, 100);
    EXPECT_FALSE(p.by_segment);
}

TEST(BayesParams, ReadsTheDefinition) {
    bayes::Params p = bayes::params_of(json(R"({"prior": {"alpha": 2.5, "beta": 7}, "minImpressions": 0, "bySegment": true})"));
    EXPECT_EQ(p.alpha, 2.5);
    EXPECT_EQ(p.beta, 7);
    EXPECT_EQ(p.min_impressions, 0);
    EXPECT_TRUE(p.by_segment);
}

// ---- the bayesian scorer -----------------------------------------------------------------

TEST(ScoringBayesian, ScoreAndPropensityAreThePosteriorMean) {
    Catalog c;
    c.add("categories", R"({"id": "X"})");
    c.offer("a", {{"categoryId", "X"}});
    c.offer("b", {{"categoryId", "X"}});
    c.model(json(R"({"id": "m", "type": "bayesian", "definition": {"prior": {"alpha": 2, "beta": 3},
                    "minImpressions": 10, "bySegment": true}})"));
    auto cat = c.build();
    EXPECT_TRUE(cat.counts_offer_stats);
    EXPECT_TRUE(cat.offer_stats_by_segment);
    bayes::Stats stats;
    stats.offers["a"] = {20, 5};
    stats.offers["b"] = {10, 1};
    stats.segments[{"a", "gold"}] = {4, 3};
    const auto& model = cat.models.at("m");
    auto scorer = builtin_scorer(&model, "f", &cat, &stats);
    // all 6/30, alpha 2, beta 3: mean_t = 8/35; X holds both: mean_X = (6 + 80/35) / 40.
    const double mean_x = (6 + 80.0 / 35) / 40;
    const double mean_a = (5 + 10 * mean_x) / 30;
    Score s = scorer->score(offer_of(cat, "a"), customer(), Json::object(), kNow);
    EXPECT_NEAR(s.score, mean_a, 1e-12);
    EXPECT_EQ(s.propensity, std::optional<double>(s.score));
    bayes::Model m(cat, bayes::params_of(model.definition), stats);
    EXPECT_EQ(s.score, m.posterior(offer_of(cat, "a"), {}).mean());
    // The customer's segment: Beta(3 + 10 mean_a, 1 + 10 (1 - mean_a)).
    s = scorer->score(offer_of(cat, "a"), customer(Json::object(), {"gold"}), Json::object(), kNow);
    EXPECT_NEAR(s.score, (3 + 10 * mean_a) / 14, 1e-12);
    EXPECT_EQ(s.propensity, std::optional<double>(s.score));
}

TEST(ScoringBayesian, WithoutStatsThePriorMean) {
    Catalog c;
    c.offer("a");
    c.model(json(R"({"id": "m", "type": "bayesian", "definition": {"prior": {"alpha": 1, "beta": 4}}})"));
    c.add("channels", R"({"id": "web", "type": "web"})");
    c.creative("a-web", "a", "web");
    c.add("flows", R"({"id": "f", "modelId": "m"})");
    auto cat = c.build();
    Score s = builtin_scorer(&cat.models.at("m"), "f", &cat)->score(offer_of(cat, "a"), customer(), Json::object(), kNow);
    EXPECT_DOUBLE_EQ(s.score, 0.2);
    EXPECT_EQ(s.propensity, std::optional<double>(0.2));
    // decision::run scores a bayesian flow with the prior alone.
    Outcome o = run(cat, cat.flows.at("f"), parse_request({{"customerId", "c1"}, {"flow", "f"}}), customer(), nullptr,
                    kNow, false);
    ASSERT_EQ(o.offers.size(), 1u);
    EXPECT_DOUBLE_EQ(o.offers[0].score, 0.2);
    EXPECT_EQ(o.offers[0].propensity, std::optional<double>(0.2));
}

TEST(ScoringBuiltin, CustomAndCataloglessBayesianAreBadRequests) {
    Catalog c;
    c.model(json(R"({"id": "cm", "type": "custom", "definition": {"function": "my_score"}})"));
    c.model(json(R"({"id": "bm", "type": "bayesian", "definition": {}})"));
    auto cat = c.build();
    auto refused = refusal([&] { builtin_scorer(&cat.models.at("cm"), "home", &cat); });
    ASSERT_TRUE(refused.has_value());
    EXPECT_STREQ(refused->what(), "flow \"home\": models of type custom cannot score here");
    EXPECT_EQ(refused->detail().value("modelId", std::string()), "cm");
    EXPECT_EQ(refused->detail().value("type", std::string()), "custom");
    refused = refusal([&] { builtin_scorer(&cat.models.at("bm"), "home"); });
    ASSERT_TRUE(refused.has_value());
    EXPECT_THAT(refused->what(), HasSubstr("bayesian"));
}

// ---- gradient-boosted models ---------------------------------------------------------------

// digit_model is an XGBoost model (reg:squarederror, base score 0) of one
// tree per feature k, whose leaf adds d * 4^k:
//   value >= 0.5 (true) -> d 3; -0.5 <= value < 0.5 (0, false) -> d 2;
//   missing -> the default directions (left, left) -> d 1.
// The prediction's base-4 digits then tell how each feature was read.
Json digit_model(size_t features) {
    Json trees = Json::array();
    Json info = Json::array();
    for (size_t k = 0; k < features; ++k) {
        const double unit = std::pow(4.0, static_cast<double>(k));
        trees.push_back({{"tree_param", {{"num_nodes", "5"}, {"size_leaf_vector", "1"}}},
                         {"left_children", {1, 3, -1, -1, -1}},
                         {"right_children", {2, 4, -1, -1, -1}},
                         {"split_indices", {k, k, 0, 0, 0}},
                         {"split_conditions", {0.5, -0.5, 3 * unit, 1 * unit, 2 * unit}},
                         {"default_left", {1, 1, 0, 0, 0}},
                         {"split_type", {0, 0, 0, 0, 0}}});
        info.push_back(0);
    }
    return {{"learner",
             {{"learner_model_param", {{"base_score", "0E0"}, {"num_feature", std::to_string(features)}, {"num_class", "0"}}},
              {"objective", {{"name", "reg:squarederror"}}},
              {"gradient_booster", {{"name", "gbtree"}, {"model", {{"tree_info", info}, {"trees", trees}}}}}}},
            {"version", {2, 0, 3}}};
}

// digits decodes a digit_model prediction: feature k's digit.
std::vector<int> digits(double prediction, size_t features) {
    std::vector<int> out;
    auto n = static_cast<long>(std::lround(prediction));
    for (size_t k = 0; k < features; ++k) {
        out.push_back(static_cast<int>(n % 4));
        n /= 4;
    }
    return out;
}

Json gb_model_row(const std::string& id, const Json& model, const std::vector<std::string>& features) {
    return {{"id", id}, {"type", "gradient_boosted"}, {"definition", {{"format", "xgboost-json"}, {"model", model}, {"features", features}}}};
}

TEST(ScoringGradientBoosted, FeatureValue) {
    EXPECT_EQ(feature_value(expr::Value(2.5)), 2.5f);
    EXPECT_EQ(feature_value(expr::Value(true)), 1.0f);
    EXPECT_EQ(feature_value(expr::Value(false)), 0.0f);
    EXPECT_TRUE(std::isnan(feature_value(expr::Value())));
    EXPECT_TRUE(std::isnan(feature_value(expr::Value(std::string("7")))));
    EXPECT_TRUE(std::isnan(feature_value(expr::Value::list({expr::Value(1.0)}))));
}

TEST(ScoringGradientBoosted, NumbersBooleansAndMissingValues) {
    const std::vector<std::string> paths = {"customer.age",  "customer.zero", "customer.vip",  "customer.churned",
                                            "customer.name", "customer.none", "customer.tags", "customer.absent"};
    Catalog c;
    c.offer("o");
    c.model(gb_model_row("g", digit_model(paths.size()), paths));
    auto cat = c.build();
    const auto& model = cat.models.at("g");
    ASSERT_TRUE(model.forest);
    EXPECT_EQ(model.forest->trees(), paths.size());
    EXPECT_EQ(model.features, paths);
    auto view = customer(json(R"({"age": 35, "zero": 0, "vip": true, "churned": false, "name": "Ann", "none": null,
                                  "tags": [1, 2]})"));
    Score s = builtin_scorer(&model, "f")->score(offer_of(cat, "o"), view, Json::object(), kNow);
    // number >= 0.5, 0, true, false, then text, null, a list and an absent
    // path: missing, down the default (left) branches.
    EXPECT_THAT(digits(s.score, paths.size()), ::testing::ElementsAre(3, 2, 3, 2, 1, 1, 1, 1));
    EXPECT_EQ(s.propensity, std::optional<double>(s.score));
}

TEST(ScoringGradientBoosted, DefaultDirectionRightIsTaken) {
    Json model = digit_model(1);
    auto& tree = model["learner"]["gradient_booster"]["model"]["trees"][0];
    tree["default_left"] = {0, 0, 0, 0, 0};  // missing: right at the root -> d 3
    Catalog c;
    c.offer("o");
    c.model(gb_model_row("g", model, {"customer.name"}));
    auto cat = c.build();
    Score s = builtin_scorer(&cat.models.at("g"), "f")->score(offer_of(cat, "o"), customer(json(R"({"name": "x"})")),
                                                             Json::object(), kNow);
    EXPECT_EQ(s.score, 3);
}

TEST(ScoringGradientBoosted, OfferPathsPerOfferCustomerAndContextOnce) {
    const std::vector<std::string> paths = {"offer.flag", "customer.vip", "context.mobile", "offer.value"};
    Catalog c;
    c.offer("a", {{"value", 0}, {"attributes", {{"flag", true}}}});
    c.offer("b", {{"value", 900}, {"attributes", {{"flag", false}}}});
    c.offer("z", {{"value", 900}});
    c.model(gb_model_row("g", digit_model(paths.size()), paths));
    auto cat = c.build();
    auto scorer = builtin_scorer(&cat.models.at("g"), "f");
    const auto view = customer(json(R"({"vip": false})"));
    const Json context = json(R"({"mobile": true})");
    EXPECT_THAT(digits(scorer->score(offer_of(cat, "a"), view, context, kNow).score, 4), ::testing::ElementsAre(3, 2, 3, 2));
    EXPECT_THAT(digits(scorer->score(offer_of(cat, "b"), view, context, kNow).score, 4), ::testing::ElementsAre(2, 2, 3, 3));
    EXPECT_THAT(digits(scorer->score(offer_of(cat, "z"), view, context, kNow).score, 4), ::testing::ElementsAre(1, 2, 3, 3));
    // After a later offer, the first one scores as before.
    EXPECT_THAT(digits(scorer->score(offer_of(cat, "a"), view, context, kNow).score, 4), ::testing::ElementsAre(3, 2, 3, 2));
}

TEST(ScoringGradientBoosted, LogisticPredictionThroughDecisionRun) {
    // One stump on customer.age < 40: left leaf -1, right leaf +1; base 0.5.
    Json model = json(R"({"learner": {"learner_model_param": {"base_score": "5E-1", "num_feature": "1", "num_class": "0"},
        "objective": {"name": "binary:logistic"},
        "gradient_booster": {"name": "gbtree", "model": {"tree_info": [0], "trees": [{
            "left_children": [1, -1, -1], "right_children": [2, -1, -1], "split_indices": [0, 0, 0],
            "split_conditions": [40, -1, 1], "default_left": [1, 0, 0], "split_type": [0, 0, 0]}]}}}})");
    Catalog c;
    c.add("channels", R"({"id": "web", "type": "web"})");
    c.offer("o");
    c.creative("o-web", "o", "web");
    c.model(gb_model_row("g", model, {"customer.age"}));
    c.add("flows", R"({"id": "f", "modelId": "g"})");
    auto cat = c.build();
    auto decide = [&](const Json& attributes) {
        Outcome o = run(cat, cat.flows.at("f"), parse_request({{"customerId", "c1"}, {"flow", "f"}}), customer(attributes),
                        nullptr, kNow, false);
        if (o.offers.size() != 1) throw std::logic_error("no offer");
        return o.offers[0];
    };
    const double sig1 = 1 / (1 + std::exp(-1.0));
    EXPECT_NEAR(decide(json(R"({"age": 50})")).score, sig1, 1e-6);
    EXPECT_NEAR(*decide(json(R"({"age": 50})")).propensity, sig1, 1e-6);
    EXPECT_NEAR(decide(json(R"({"age": 20})")).score, 1 - sig1, 1e-6);
    EXPECT_NEAR(decide(json("{}")).score, 1 - sig1, 1e-6);  // missing: default left
}

// ---- validation of model definitions (catalog.cpp) ---------------------------------------------

Json stump_model(int num_feature = 2) {
    Json m = digit_model(1);
    m["learner"]["learner_model_param"]["num_feature"] = std::to_string(num_feature);
    return m;
}

catalog::Validated validate_model(const Json& row) {
    const catalog::Entity* e = catalog::find_entity("models");
    if (e == nullptr) throw std::logic_error("no entity models");
    return catalog::validate(*e, row, "models[3]");
}

TEST(ScoringCatalog, AValidGradientBoostedModelPasses) {
    catalog::Validated v = validate_model(gb_model_row("g", stump_model(2), {"customer.age", "offer.value"}));
    EXPECT_EQ(v.row["definition"]["features"], json(R"(["customer.age", "offer.value"])"));
    EXPECT_TRUE(v.row["definition"]["model"].is_object());
}

TEST(ScoringCatalog, AMalformedModelNamesItsPathUnderDefinition) {
    Json model = stump_model();
    model["learner"].erase("learner_model_param");
    EXPECT_REFUSED(validate_model(gb_model_row("g", model, {"customer.a", "customer.b"})),
                   "models[3].definition.model.learner.learner_model_param", "is missing");
    model = stump_model();
    model["learner"]["objective"]["name"] = "multi:softmax";
    auto refused = refusal([&] { validate_model(gb_model_row("g", model, {"customer.a", "customer.b"})); });
    ASSERT_TRUE(refused.has_value());
    EXPECT_THAT(refused->what(), StartsWith("models[3].definition.model.learner.objective.name: objective \"multi:softmax\" "
                                            "is not supported"));
    model = stump_model();
    model["learner"]["gradient_booster"]["model"]["trees"][0]["right_children"] = {2, 4, -1};
    EXPECT_REFUSED(validate_model(gb_model_row("g", model, {"customer.a", "customer.b"})),
                   "models[3].definition.model.learner.gradient_booster.model.trees[0].right_children",
                   "has 3 entries for 5 nodes");
}

TEST(ScoringCatalog, FeatureCountMustMatchTheModel) {
    EXPECT_REFUSED(validate_model(gb_model_row("g", stump_model(2), {"customer.a", "offer.b", "context.c"})),
                   "models[3].definition.features",
                   "names 3 features; the model reads 2 (learner_model_param.num_feature)");
    EXPECT_REFUSED(validate_model(gb_model_row("g", stump_model(2), {"customer.a"})), "models[3].definition.features",
                   "names 1 features; the model reads 2 (learner_model_param.num_feature)");
}

TEST(ScoringCatalog, FeaturePathsMustStartWithCustomerOfferOrContext) {
    for (const char* bad : {"segment.gold", "customer", "age", "Customer.age", ""}) {
        SCOPED_TRACE(bad);
        EXPECT_REFUSED(validate_model(gb_model_row("g", stump_model(2), {"offer.value", bad})),
                       "models[3].definition.features[1]",
                       "must be a path starting with customer., offer. or context. (SPEC 6.1)");
    }
}

TEST(ScoringCatalog, ModelAsTheSavedFileTextWithNaNLoads) {
    // XGBoost writes a categorical split's condition as NaN: node 0 goes
    // right for categories 2 and 5, left otherwise.
    const std::string text = R"({"learner": {"learner_model_param": {"base_score": "0E0", "num_feature": "1",
        "num_class": "0"}, "feature_names": ["NaN"], "objective": {"name": "reg:squarederror"},
        "gradient_booster": {"name": "gbtree", "model": {"tree_info": [0], "trees": [{
            "left_children": [1, -1, -1], "right_children": [2, -1, -1], "split_indices": [0, 0, 0],
            "split_conditions": [NaN, 0.25, 0.75], "default_left": [1, 0, 0], "split_type": [1, 0, 0],
            "categories": [5, 2], "categories_nodes": [0], "categories_segments": [0], "categories_sizes": [2]}]}}}})";
    catalog::Validated v = validate_model(gb_model_row("g", text, {"offer.kind"}));
    EXPECT_EQ(v.row["definition"]["model"], Json(text));
    Catalog c;
    c.offer("in", {{"attributes", {{"kind", 5}}}});
    c.offer("out", {{"attributes", {{"kind", 3}}}});
    c.model(gb_model_row("g", text, {"offer.kind"}));
    auto cat = c.build();
    auto scorer = builtin_scorer(&cat.models.at("g"), "f");
    EXPECT_EQ(scorer->score(offer_of(cat, "in"), customer(), Json::object(), kNow).score, 0.75f);
    EXPECT_EQ(scorer->score(offer_of(cat, "out"), customer(), Json::object(), kNow).score, 0.25f);
}

TEST(ScoringCatalog, MalformedModelTextIsRefusedAtDefinitionModel) {
    auto refused = refusal([&] { validate_model(gb_model_row("g", "{\"learner\": ", {"customer.a"})); });
    ASSERT_TRUE(refused.has_value());
    EXPECT_THAT(refused->what(), StartsWith("models[3].definition.model: "));
    EXPECT_THAT(refused->what(), HasSubstr("malformed JSON"));
}

TEST(ScoringCatalog, AModelNeitherObjectNorStringIsRefused) {
    for (const Json& bad : {Json(42), json("[1, 2]"), Json(true)}) {
        SCOPED_TRACE(bad.dump());
        EXPECT_REFUSED(validate_model(gb_model_row("g", bad, {"customer.a"})), "models[3].definition.model",
                       "must be XGBoost's saved JSON: an object, or the file's text as a string");
    }
}

TEST(ScoringCatalog, BayesianDefinitionBounds) {
    EXPECT_REFUSED(validate_model(json(R"({"id": "b", "type": "bayesian", "definition": {"prior": {"alpha": -1, "beta": 1}}})")),
                   "models[3].definition.prior.alpha", "must be greater than 0");
    EXPECT_REFUSED(validate_model(json(R"({"id": "b", "type": "bayesian", "definition": {"prior": {"alpha": 1, "beta": 0}}})")),
                   "models[3].definition.prior.beta", "must be greater than 0");
    EXPECT_REFUSED(validate_model(json(R"({"id": "b", "type": "bayesian", "definition": {"minImpressions": -5}})")),
                   "models[3].definition.minImpressions", "must be at least 0");
    EXPECT_NO_THROW(validate_model(
        json(R"({"id": "b", "type": "bayesian", "definition": {"prior": {"alpha": 0.5, "beta": 20}, "minImpressions": 0}})")));
}

}  // namespace
}  // namespace kaireon::decision
