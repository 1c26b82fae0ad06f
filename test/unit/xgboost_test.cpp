// xgboost_test.cpp - the XGBoost model loader and evaluator
// (src/core/xgboost.h) on small hand-written models: the split rules
// (numerical, missing, categorical), base scores and transforms, float32
// accumulation, load_text's NaN/Infinity handling, and every refusal of a
// malformed, unsupported or oversized model (KR400 naming its path).
//
// test/models/xgboost_oracle.py compares the evaluator with XGBoost itself
// on trained models; these tests pin the rules one at a time.
#include "core/xgboost.h"

#include "core/error.h"

#include "refusal.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace kaireon::xgboost {
namespace {

using test_support::refusal;
using ::testing::HasSubstr;

const std::string kParams = "model.learner.learner_model_param";
const std::string kTrees = "model.learner.gradient_booster.model.trees";
const float kNaN = std::numeric_limits<float>::quiet_NaN();
const float kInf = std::numeric_limits<float>::infinity();

// --- building models -----------------------------------------------------------

// tree returns one tree as XGBoost 1.7 saves it; `conditions` holds the
// split conditions and the leaf values (null: NaN).
Json tree(std::vector<int> left, std::vector<int> right, std::vector<int> features, Json conditions,
          std::vector<int> default_left) {
    const size_t n = left.size();
    Json t = Json::object();
    t["base_weights"] = std::vector<double>(n, 0.0);
    t["categories"] = Json::array();
    t["categories_nodes"] = Json::array();
    t["categories_segments"] = Json::array();
    t["categories_sizes"] = Json::array();
    t["default_left"] = std::move(default_left);
    t["id"] = 0;
    t["left_children"] = std::move(left);
    t["right_children"] = std::move(right);
    t["split_conditions"] = std::move(conditions);
    t["split_indices"] = std::move(features);
    t["split_type"] = std::vector<int>(n, 0);
    t["tree_param"] = {{"num_deleted", "0"}, {"num_feature", "2"}, {"num_nodes", std::to_string(n)},
                       {"size_leaf_vector", "0"}};
    return t;
}

// stump: feature < threshold goes to the leaf `left_value`, else to `right_value`.
Json stump(double threshold, double left_value, double right_value, int feature = 0, bool default_left = true) {
    return tree({1, -1, -1}, {2, -1, -1}, {feature, 0, 0}, Json::array({threshold, left_value, right_value}),
                {default_left ? 1 : 0, 0, 0});
}

// leaf: a tree of one leaf (a constant).
Json leaf(double value) { return tree({-1}, {-1}, {0}, Json::array({value}), {0}); }

// categorical_stump: feature 0's category in `set` goes right.
Json categorical_stump(std::vector<int> set, double left_value, double right_value, bool default_left = true) {
    Json t = tree({1, -1, -1}, {2, -1, -1}, {0, 0, 0}, Json::array({nullptr, left_value, right_value}),
                  {default_left ? 1 : 0, 0, 0});
    t["split_type"] = {1, 0, 0};
    t["categories_sizes"] = {set.size()};
    t["categories"] = std::move(set);
    t["categories_nodes"] = {0};
    t["categories_segments"] = {0};
    return t;
}

// model wraps trees into the document XGBoost 1.7 saves.
Json model(std::vector<Json> trees, const std::string& objective = "reg:squarederror", Json base_score = "5E-1",
           int num_feature = 2) {
    Json info = Json::array();
    for (size_t i = 0; i < trees.size(); ++i) info.push_back(0);
    Json m = Json::object();
    m["learner"] = Json::object();
    Json& learner = m["learner"];
    learner["attributes"] = Json::object();
    learner["feature_names"] = Json::array();
    learner["feature_types"] = Json::array();
    learner["gradient_booster"] = {
        {"model",
         {{"gbtree_model_param", {{"num_parallel_tree", "1"}, {"num_trees", std::to_string(trees.size())}}},
          {"tree_info", info},
          {"trees", trees}}},
        {"name", "gbtree"}};
    learner["learner_model_param"] = {{"base_score", std::move(base_score)}, {"boost_from_average", "1"},
                                      {"num_class", "0"}, {"num_feature", std::to_string(num_feature)},
                                      {"num_target", "1"}};
    learner["objective"] = {{"name", objective}, {"reg_loss_param", {{"scale_pos_weight", "1"}}}};
    m["version"] = {1, 7, 4};
    return m;
}

Json& trees_of(Json& m) { return m["learner"]["gradient_booster"]["model"]["trees"]; }
Json& params_of(Json& m) { return m["learner"]["learner_model_param"]; }

float margin_of(const Forest& f, std::vector<float> x) { return f.margin(x.data()); }
float predict_of(const Forest& f, std::vector<float> x) { return f.predict(x.data()); }

// XGBoost's common::Sigmoid, the reference for the transform.
float xgboost_sigmoid(float x) { return 1.0f / (std::exp(std::min(-x, 88.7f)) + 1.0f + 1e-16f); }

// --- numerical splits and missing values --------------------------------------

TEST(XgboostEval, NumericalSplitLessGoesLeftEqualGoesRight) {
    Forest f = load(model({stump(1.0, 10.0, 20.0)}, "reg:squarederror", "0"));
    EXPECT_EQ(margin_of(f, {0.5f, 0}), 10.0f);
    EXPECT_EQ(margin_of(f, {std::nextafter(1.0f, 0.0f), 0}), 10.0f);
    EXPECT_EQ(margin_of(f, {1.0f, 0}), 20.0f);  // equal: right
    EXPECT_EQ(margin_of(f, {1.5f, 0}), 20.0f);
    EXPECT_EQ(margin_of(f, {-kInf, 0}), 10.0f);
    EXPECT_EQ(margin_of(f, {kInf, 0}), 20.0f);
}

TEST(XgboostEval, ConditionIsRoundedToFloatBeforeComparing) {
    // 0.7f is below the double 0.7; the condition is the float 0.7f (as in
    // XGBoost), so the feature 0.7f is equal (right), not below.
    Forest f = load(model({stump(0.7, 10.0, 20.0)}, "reg:squarederror", "0"));
    ASSERT_LT(static_cast<double>(0.7f), 0.7);
    EXPECT_EQ(margin_of(f, {0.7f, 0}), 20.0f);
    EXPECT_EQ(margin_of(f, {std::nextafter(0.7f, 0.0f), 0}), 10.0f);
}

TEST(XgboostEval, NegativeZeroEqualsZero) {
    Forest f = load(model({stump(0.0, 10.0, 20.0)}, "reg:squarederror", "0"));
    EXPECT_EQ(margin_of(f, {-0.0f, 0}), 20.0f);
    EXPECT_EQ(margin_of(f, {-1e-30f, 0}), 10.0f);
}

TEST(XgboostEval, SplitReadsItsOwnFeature) {
    Forest f = load(model({stump(0.0, 10.0, 20.0, 1)}, "reg:squarederror", "0"));
    EXPECT_EQ(margin_of(f, {-5.0f, 5.0f}), 20.0f);
    EXPECT_EQ(margin_of(f, {5.0f, -5.0f}), 10.0f);
    EXPECT_EQ(margin_of(f, {5.0f, kNaN}), 10.0f);  // feature 1 missing: default left
}

TEST(XgboostEval, MissingTakesTheDefaultDirection) {
    Forest left = load(model({stump(1.0, 10.0, 20.0, 0, true)}, "reg:squarederror", "0"));
    Forest right = load(model({stump(1.0, 10.0, 20.0, 0, false)}, "reg:squarederror", "0"));
    EXPECT_EQ(margin_of(left, {kNaN, 0}), 10.0f);
    EXPECT_EQ(margin_of(right, {kNaN, 0}), 20.0f);
    // A present value ignores the default direction.
    EXPECT_EQ(margin_of(left, {2.0f, 0}), 20.0f);
    EXPECT_EQ(margin_of(right, {0.0f, 0}), 10.0f);
}

TEST(XgboostEval, DefaultLeftAsBooleans) {
    Json m = model({stump(1.0, 10.0, 20.0)}, "reg:squarederror", "0");
    trees_of(m)[0]["default_left"] = {false, false, false};
    EXPECT_EQ(margin_of(load(m), {kNaN, 0}), 20.0f);
    trees_of(m)[0]["default_left"] = {true, false, false};
    EXPECT_EQ(margin_of(load(m), {kNaN, 0}), 10.0f);
}

TEST(XgboostEval, DeeperTreeEveryPath) {
    // 0: f0 < 0 ? 1 : 2;  1: f1 < 0 ? 3 : 4;  2: f1 < 5 ? 5 : 6 (missing right)
    Json t = tree({1, 3, 5, -1, -1, -1, -1}, {2, 4, 6, -1, -1, -1, -1}, {0, 1, 1, 0, 0, 0, 0},
                  Json::array({0.0, 0.0, 5.0, 1.0, 2.0, 4.0, 8.0}), {1, 1, 0, 0, 0, 0, 0});
    Forest f = load(model({t}, "reg:squarederror", "0"));
    EXPECT_EQ(margin_of(f, {-1, -1}), 1.0f);
    EXPECT_EQ(margin_of(f, {-1, 1}), 2.0f);
    EXPECT_EQ(margin_of(f, {1, 4}), 4.0f);
    EXPECT_EQ(margin_of(f, {1, 5}), 8.0f);
    EXPECT_EQ(margin_of(f, {kNaN, kNaN}), 1.0f);
    EXPECT_EQ(margin_of(f, {1, kNaN}), 8.0f);
}

TEST(XgboostEval, ChildrenMayBeInAnyOrder) {
    // The root is node 0; its children are stored in reverse order.
    Json t = tree({2, -1, -1}, {1, -1, -1}, {0, 0, 0}, Json::array({0.0, 7.0, 3.0}), {1, 0, 0});
    Forest f = load(model({t}, "reg:squarederror", "0"));
    EXPECT_EQ(margin_of(f, {-1, 0}), 3.0f);
    EXPECT_EQ(margin_of(f, {1, 0}), 7.0f);
}

TEST(XgboostEval, UnreachableNodesAreIgnored) {
    // XGBoost's pruner leaves deleted nodes (leaves, split index 2^31-1) in
    // the saved tree; nodes 3 and 4 are such leftovers.
    Json t = tree({1, -1, -1, -1, -1}, {2, -1, -1, -1, -1}, {0, 0, 0, 2147483647, 2147483647},
                  Json::array({0.0, 1.0, 2.0, 100.0, 200.0}), {0, 0, 0, 0, 0});
    Forest f = load(model({t}, "reg:squarederror", "0"));
    EXPECT_EQ(margin_of(f, {-1, 0}), 1.0f);
    EXPECT_EQ(margin_of(f, {1, 0}), 2.0f);
    EXPECT_EQ(f.nodes.size(), 5u);
}

TEST(XgboostEval, TreesAreStoredWithAbsoluteChildIndices) {
    Forest f = load(model({stump(0.0, 1.0, 2.0), stump(0.0, 10.0, 20.0, 1), leaf(100.0)}, "reg:squarederror", "0"));
    EXPECT_EQ(f.trees(), 3u);
    ASSERT_EQ(f.roots, (std::vector<uint32_t>{0, 3, 6}));
    EXPECT_EQ(f.nodes[3].left, 4);
    EXPECT_EQ(f.nodes[3].right, 5);
    EXPECT_EQ(f.nodes[6].left, -1);
    EXPECT_EQ(margin_of(f, {-1, 1}), 121.0f);
    EXPECT_EQ(margin_of(f, {1, -1}), 112.0f);
    EXPECT_EQ(f.num_features, 2u);
    EXPECT_EQ(f.objective, "reg:squarederror");
}

// --- categorical splits -----------------------------------------------------------

TEST(XgboostEval, CategoryInTheSetGoesRight) {
    Forest f = load(model({categorical_stump({1, 3, 7}, 10.0, 20.0)}, "reg:squarederror", "0"));
    for (float in : {1.0f, 3.0f, 7.0f}) EXPECT_EQ(margin_of(f, {in, 0}), 20.0f) << in;
    for (float out : {0.0f, 2.0f, 4.0f, 8.0f, 100.0f}) EXPECT_EQ(margin_of(f, {out, 0}), 10.0f) << out;
}

TEST(XgboostEval, InvalidCategoriesGoLeftNotDefault) {
    // Default right: only a missing value goes right; negative, too large
    // and infinite categories go left.
    Forest f = load(model({categorical_stump({0, 5, 16777215}, 10.0, 20.0, false)}, "reg:squarederror", "0"));
    EXPECT_EQ(margin_of(f, {kNaN, 0}), 20.0f);
    EXPECT_EQ(margin_of(f, {0.0f, 0}), 20.0f);
    EXPECT_EQ(margin_of(f, {16777215.0f, 0}), 20.0f);
    for (float invalid : {-1.0f, -0.5f, -5.0f, 16777216.0f, 16777217.0f, 1e9f, 3e38f, kInf, -kInf})
        EXPECT_EQ(margin_of(f, {invalid, 0}), 10.0f) << invalid;
}

TEST(XgboostEval, NonIntegerCategoriesTruncate) {
    Forest f = load(model({categorical_stump({3}, 10.0, 20.0)}, "reg:squarederror", "0"));
    EXPECT_EQ(margin_of(f, {3.0f, 0}), 20.0f);
    EXPECT_EQ(margin_of(f, {3.7f, 0}), 20.0f);
    EXPECT_EQ(margin_of(f, {3.999f, 0}), 20.0f);
    EXPECT_EQ(margin_of(f, {2.999f, 0}), 10.0f);
    EXPECT_EQ(margin_of(f, {4.0f, 0}), 10.0f);
}

TEST(XgboostEval, CategorySetsNeedNotBeSortedAndMayShareTheList) {
    // Two categorical nodes: node 0 (set {7, 1}: unsorted) and node 2 (set
    // {1, 4}, overlapping node 0's segment in the list [7, 1, 4]).
    Json t = tree({1, -1, 3, -1, -1}, {2, -1, 4, -1, -1}, {0, 0, 1, 0, 0},
                  Json::array({nullptr, 1.0, nullptr, 2.0, 3.0}), {1, 0, 1, 0, 0});
    t["split_type"] = {1, 0, 1, 0, 0};
    t["categories"] = {7, 1, 4};
    t["categories_nodes"] = {0, 2};
    t["categories_segments"] = {0, 1};
    t["categories_sizes"] = {2, 2};
    Forest f = load(model({t}, "reg:squarederror", "0"));
    EXPECT_EQ(margin_of(f, {0, 1}), 1.0f);
    EXPECT_EQ(margin_of(f, {4, 1}), 1.0f);
    EXPECT_EQ(margin_of(f, {7, 0}), 2.0f);
    EXPECT_EQ(margin_of(f, {1, 7}), 2.0f);
    EXPECT_EQ(margin_of(f, {1, 1}), 3.0f);
    EXPECT_EQ(margin_of(f, {7, 4}), 3.0f);
    EXPECT_EQ(margin_of(f, {7, kNaN}), 2.0f);
}

// --- base scores and transforms ---------------------------------------------------

TEST(XgboostEval, BinaryLogisticBaseScoreIsALogit) {
    Forest half = load(model({leaf(0.0)}, "binary:logistic", "5E-1"));
    EXPECT_EQ(half.base_margin, 0.0f);
    EXPECT_EQ(predict_of(half, {0, 0}), 0.5f);
    Forest f = load(model({leaf(0.0)}, "reg:logistic", "3E-1"));
    EXPECT_EQ(f.base_margin, -std::log(1.0f / 0.3f - 1.0f));
    EXPECT_NEAR(f.base_margin, std::log(0.3 / 0.7), 1e-6);
    EXPECT_EQ(f.transform, Transform::Sigmoid);
    EXPECT_NEAR(predict_of(f, {0, 0}), 0.3f, 1e-7);
}

TEST(XgboostEval, LogitrawBaseScoreIsTheMarginAsItIs) {
    // XGBoost's LogisticRaw::ProbToMargin is the identity (its predictions
    // with base_score 0.5 are 0.5 + the leaves), and any base_score is valid.
    Forest f = load(model({leaf(1.0)}, "binary:logitraw", "5E-1"));
    EXPECT_EQ(f.base_margin, 0.5f);
    EXPECT_EQ(predict_of(f, {0, 0}), 1.5f);
    Forest two = load(model({leaf(1.0)}, "binary:logitraw", "2E0"));
    EXPECT_EQ(margin_of(two, {0, 0}), 3.0f);
}

TEST(XgboostEval, ExpObjectivesTakeTheLogOfTheBaseScore) {
    for (const char* objective : {"count:poisson", "reg:gamma", "reg:tweedie"}) {
        SCOPED_TRACE(objective);
        Forest f = load(model({leaf(0.25)}, objective, "2E0"));
        EXPECT_EQ(f.transform, Transform::Exp);
        EXPECT_EQ(f.base_margin, std::log(2.0f));
        const float m = std::log(2.0f) + 0.25f;
        EXPECT_EQ(margin_of(f, {0, 0}), m);
        EXPECT_EQ(predict_of(f, {0, 0}), std::exp(m));
    }
}

TEST(XgboostEval, IdentityObjectivesAddTheBaseScore) {
    for (const char* objective :
         {"reg:squarederror", "reg:squaredlogerror", "reg:pseudohubererror", "reg:absoluteerror"}) {
        SCOPED_TRACE(objective);
        Forest f = load(model({leaf(0.25)}, objective, "1.5E0"));
        EXPECT_EQ(f.transform, Transform::Identity);
        EXPECT_EQ(margin_of(f, {0, 0}), 1.75f);
        EXPECT_EQ(predict_of(f, {0, 0}), 1.75f);
    }
}

TEST(XgboostEval, SigmoidIsXGBoostsIncludingItsClamp) {
    for (double value : {-3.0, -0.7, 0.0, 0.3, 2.5, 20.0, -87.0, -100.0, 100.0}) {
        SCOPED_TRACE(value);
        Forest f = load(model({leaf(value)}, "binary:logistic", "5E-1"));
        const float m = static_cast<float>(value);
        EXPECT_EQ(margin_of(f, {0, 0}), m);
        EXPECT_EQ(predict_of(f, {0, 0}), xgboost_sigmoid(m));
    }
    // Below -88.7 the exponent is clamped: a tiny positive number, not 0.
    Forest f = load(model({leaf(-100.0)}, "binary:logistic", "5E-1"));
    EXPECT_GT(predict_of(f, {0, 0}), 0.0f);
    EXPECT_EQ(predict_of(f, {0, 0}), 1.0f / (std::exp(88.7f) + 1.0f));
}

TEST(XgboostEval, HingeIsOneAboveZero) {
    Json m = model({stump(0.0, -0.5, 0.25), stump(0.0, 0.5, 0.0, 1)}, "binary:hinge", "0");
    Forest f = load(m);
    EXPECT_EQ(f.transform, Transform::Hinge);
    EXPECT_EQ(predict_of(f, {1, 1}), 1.0f);    // margin 0.25
    EXPECT_EQ(predict_of(f, {-1, 1}), 0.0f);   // margin -0.5
    EXPECT_EQ(predict_of(f, {-1, -1}), 0.0f);  // margin exactly 0: 0
    EXPECT_EQ(margin_of(f, {-1, -1}), 0.0f);
}

TEST(XgboostEval, MarginIsSummedInFloatInTreeOrder) {
    // In float, 1e8 + 1 == 1e8: the order of the trees decides the result.
    Forest a = load(model({leaf(1e8), leaf(-1e8), leaf(1.0)}, "reg:squarederror", "0"));
    Forest b = load(model({leaf(1e8), leaf(1.0), leaf(-1e8)}, "reg:squarederror", "0"));
    EXPECT_EQ(margin_of(a, {0, 0}), 1.0f);
    EXPECT_EQ(margin_of(b, {0, 0}), 0.0f);
    // The base margin comes first.
    Forest c = load(model({leaf(1.0), leaf(-1e8)}, "reg:squarederror", "1E8"));
    EXPECT_EQ(margin_of(c, {0, 0}), 0.0f);
    // Ten trees of 0.1: the float sum, not the double one.
    std::vector<Json> tenths(10, leaf(0.1));
    float sum = 0.0f;
    for (int i = 0; i < 10; ++i) sum += 0.1f;
    Forest d = load(model(tenths, "reg:squarederror", "0"));
    EXPECT_EQ(margin_of(d, {0, 0}), sum);
    EXPECT_NE(static_cast<double>(sum), 1.0);
}

TEST(XgboostLoad, BaseScoreAsNumberOrString) {
    for (Json base : {Json("5E-1"), Json("[5E-1]"), Json(0.5), Json("0.5")}) {
        SCOPED_TRACE(base.dump());
        EXPECT_EQ(load(model({leaf(0.0)}, "reg:squarederror", base)).base_margin, 0.5f);
        EXPECT_EQ(load(model({leaf(0.0)}, "binary:logistic", base)).base_margin, 0.0f);
    }
    EXPECT_EQ(load(model({leaf(0.0)}, "reg:squarederror", "[-2.5E0]")).base_margin, -2.5f);
}

TEST(XgboostLoad, CountsAsStringsAndNumbers) {
    Json m = model({stump(0.0, 1.0, 2.0, 2)}, "reg:squarederror", "0", 3);
    params_of(m)["num_feature"] = 3;
    params_of(m)["num_class"] = 1;
    trees_of(m)[0]["tree_param"]["size_leaf_vector"] = "1";
    Forest f = load(m);
    EXPECT_EQ(f.num_features, 3u);
    EXPECT_EQ(margin_of(f, {0, 0, 5}), 2.0f);
}

// --- load_text ----------------------------------------------------------------------

TEST(XgboostLoadText, NaNOutsideStringsReadsAsNull) {
    // XGBoost writes a categorical split's condition as NaN: not JSON.
    Json m = model({categorical_stump({2}, 10.0, 20.0)}, "reg:squarederror", "0");
    std::string text = m.dump();
    const std::string null_condition = R"("split_conditions":[null,)";
    ASSERT_NE(text.find(null_condition), std::string::npos);
    text.replace(text.find(null_condition), null_condition.size(), R"("split_conditions":[NaN,)");
    EXPECT_THROW(parse_json(text), Error);
    Forest f = load_text(text);
    EXPECT_EQ(margin_of(f, {2, 0}), 20.0f);
    EXPECT_EQ(margin_of(f, {1, 0}), 10.0f);
}

TEST(XgboostLoadText, InfinityOutsideStringsReadsAsNull) {
    for (const char* word : {"Infinity", "-Infinity"}) {
        SCOPED_TRACE(word);
        std::string text = model({stump(0.0, 1.0, 2.0)}, "reg:squarederror", "0").dump();
        const std::string leaf_value = R"([0.0,1.0,2.0])";
        ASSERT_NE(text.find(leaf_value), std::string::npos);
        text.replace(text.find(leaf_value), leaf_value.size(), std::string("[0.0,") + word + ",2.0]");
        EXPECT_REFUSED(load_text(text), kTrees + "[0].split_conditions[1]", "must be a number, not null");
    }
}

TEST(XgboostLoadText, WordsInsideStringsAreLeftAlone) {
    // A base_score string "NaN" stays a string (strtod reads it as NaN: no
    // finite base margin); turned into "null" it would not be a number.
    std::string text = model({leaf(0.0)}, "reg:squarederror", "NaN").dump();
    EXPECT_REFUSED(load_text(text), kParams + ".base_score", "gives no finite base margin");
    // An escaped quote does not end the string.
    text = model({leaf(0.0)}, "reg:squarederror", "x\"NaN").dump();
    ASSERT_NE(text.find(R"("x\"NaN")"), std::string::npos);
    EXPECT_REFUSED(load_text(text), kParams + ".base_score", "must be a number, not string \"x\"NaN\"");
    // Other strings with the words load as they are.
    Json m = model({leaf(3.0)}, "reg:squarederror", "0");
    m["learner"]["feature_names"] = {"NaN", "Infinity\\", "-Infinity"};
    Forest f = load_text(m.dump());
    EXPECT_EQ(margin_of(f, {0, 0}), 3.0f);
}

TEST(XgboostLoadText, MalformedTextIsABadRequest) {
    for (std::string text : {std::string(""), std::string("garbage"), std::string("{\"learner\":"),
                             model({leaf(0.0)}).dump().substr(0, 100)}) {
        SCOPED_TRACE(text);
        auto refused = refusal([&] { (void)load_text(text); });
        if (refused) {
            EXPECT_THAT(refused->what(), HasSubstr("malformed JSON in model"));
        }
    }
}

// --- refusals: the document ---------------------------------------------------------

TEST(XgboostRefuse, TopLevelPathsHaveOneDot) {
    EXPECT_REFUSED(load(Json::object()), "model.learner", "is missing");
    EXPECT_REFUSED(load(Json::array()), "model", "must be an object");
}

TEST(XgboostRefuse, MissingKeysNameTheirPath) {
    Json m = model({leaf(0.0)});
    params_of(m).erase("num_feature");
    EXPECT_REFUSED(load(m), kParams + ".num_feature", "is missing");

    m = model({leaf(0.0)});
    params_of(m).erase("base_score");
    EXPECT_REFUSED(load(m), kParams + ".base_score", "is missing");

    m = model({leaf(0.0)});
    m["learner"]["gradient_booster"]["model"].erase("trees");
    EXPECT_REFUSED(load(m), "model.learner.gradient_booster.model.trees", "is missing");

    for (const char* key : {"left_children", "right_children", "split_indices", "split_conditions", "default_left"}) {
        SCOPED_TRACE(key);
        m = model({leaf(0.0), stump(0.0, 1.0, 2.0)});
        trees_of(m)[1].erase(key);
        EXPECT_REFUSED(load(m), kTrees + "[1]." + key, "is missing");
    }
}

TEST(XgboostRefuse, TreesMustBeANonEmptyArray) {
    Json m = model({leaf(0.0)});
    trees_of(m) = Json::array();
    EXPECT_REFUSED(load(m), kTrees, "must be a non-empty array");
    trees_of(m) = Json::object();
    EXPECT_REFUSED(load(m), kTrees, "must be a non-empty array");
    m = model({leaf(0.0)});
    trees_of(m)[0] = 5;
    EXPECT_REFUSED(load(m), kTrees + "[0]", "must be an object");
    m = model({leaf(0.0)});
    trees_of(m)[0]["left_children"] = Json::array();
    EXPECT_REFUSED(load(m), kTrees + "[0].left_children", "must be a non-empty array");
}

TEST(XgboostRefuse, ArrayLengthMismatch) {
    Json m = model({stump(0.0, 1.0, 2.0)});
    trees_of(m)[0]["split_conditions"] = {0.0, 1.0};
    EXPECT_REFUSED(load(m), kTrees + "[0].split_conditions", "has 2 entries for 3 nodes");
    m = model({stump(0.0, 1.0, 2.0)});
    trees_of(m)[0]["right_children"] = {2, -1, -1, -1};
    EXPECT_REFUSED(load(m), kTrees + "[0].right_children", "has 4 entries for 3 nodes");
    m = model({stump(0.0, 1.0, 2.0)});
    trees_of(m)[0]["split_type"] = {0, 0};
    EXPECT_REFUSED(load(m), kTrees + "[0].split_type", "has 2 entries for 3 nodes");
    m = model({stump(0.0, 1.0, 2.0)});
    trees_of(m)[0]["default_left"] = "101";
    EXPECT_REFUSED(load(m), kTrees + "[0].default_left", "must be an array");
}

TEST(XgboostRefuse, ChildIndexOutOfRange) {
    Json m = model({stump(0.0, 1.0, 2.0)});
    trees_of(m)[0]["right_children"][0] = 3;
    EXPECT_REFUSED(load(m), kTrees + "[0].right_children[0]", "must be a whole number from -1 to 2");
    m = model({stump(0.0, 1.0, 2.0)});
    trees_of(m)[0]["left_children"][0] = -2;
    EXPECT_REFUSED(load(m), kTrees + "[0].left_children[0]", "must be a whole number from -1 to 2");
    m = model({stump(0.0, 1.0, 2.0)});
    trees_of(m)[0]["left_children"][0] = 1.5;
    EXPECT_REFUSED(load(m), kTrees + "[0].left_children[0]", "must be a whole number from -1 to 2");
}

TEST(XgboostRefuse, CycleThroughTheRoot) {
    // Node 1 points back at the root.
    Json t = tree({1, 0, -1, -1}, {2, 3, -1, -1}, {0, 1, 0, 0}, Json::array({0.0, 0.0, 1.0, 2.0}), {0, 0, 0, 0});
    EXPECT_REFUSED(load(model({leaf(0.0), t})), kTrees + "[1].left_children", "node 0 is reached twice (not a tree)");
}

TEST(XgboostRefuse, NodeItsOwnChild) {
    Json t = tree({1, 1, -1, -1}, {2, 3, -1, -1}, {0, 1, 0, 0}, Json::array({0.0, 0.0, 1.0, 2.0}), {0, 0, 0, 0});
    EXPECT_REFUSED(load(model({t})), kTrees + "[0].left_children", "node 1 is reached twice (not a tree)");
}

TEST(XgboostRefuse, NodeReachedTwice) {
    // Both children of the root are node 1; and a node shared by two parents.
    Json same = tree({1, -1}, {1, -1}, {0, 0}, Json::array({0.0, 1.0}), {0, 0});
    EXPECT_REFUSED(load(model({same})), kTrees + "[0].left_children", "node 1 is reached twice (not a tree)");
    Json shared = tree({1, 3, -1, -1}, {2, 2, -1, -1}, {0, 1, 0, 0}, Json::array({0.0, 0.0, 1.0, 2.0}),
                       {0, 0, 0, 0});
    EXPECT_REFUSED(load(model({shared})), kTrees + "[0].left_children", "node 2 is reached twice (not a tree)");
}

TEST(XgboostRefuse, OnlyOneChild) {
    Json m = model({stump(0.0, 1.0, 2.0)});
    trees_of(m)[0]["right_children"][0] = -1;
    EXPECT_REFUSED(load(m), kTrees + "[0].right_children[0]", "a node has both children or none");
    m = model({stump(0.0, 1.0, 2.0)});
    trees_of(m)[0]["right_children"][1] = 2;
    EXPECT_REFUSED(load(m), kTrees + "[0].right_children[1]", "a node has both children or none");
}

TEST(XgboostRefuse, SplitIndexPastNumFeature) {
    EXPECT_REFUSED(load(model({stump(0.0, 1.0, 2.0, 2)})), kTrees + "[0].split_indices[0]",
                   "must be a whole number from 0 to 1");
    EXPECT_REFUSED(load(model({stump(0.0, 1.0, 2.0, -1)})), kTrees + "[0].split_indices[0]",
                   "must be a whole number from 0 to 1");
}

TEST(XgboostRefuse, NonFiniteNumericalCondition) {
    Json m = model({stump(0.0, 1.0, 2.0)});
    trees_of(m)[0]["split_conditions"][0] = nullptr;
    EXPECT_REFUSED(load(m), kTrees + "[0].split_conditions[0]", "must be a number, not null");
    trees_of(m)[0]["split_conditions"][0] = "inf";
    EXPECT_REFUSED(load(m), kTrees + "[0].split_conditions[0]", "must be a finite number");
    trees_of(m)[0]["split_conditions"][0] = "abc";
    EXPECT_REFUSED(load(m), kTrees + "[0].split_conditions[0]", "must be a number, not string \"abc\"");
    // A leaf value must be finite too.
    m = model({stump(0.0, 1.0, 2.0)});
    trees_of(m)[0]["split_conditions"][2] = "-inf";
    EXPECT_REFUSED(load(m), kTrees + "[0].split_conditions[2]", "must be a finite number");
}

TEST(XgboostRefuse, ValuesPastFloatRangeAreNotFinite) {
    // 1e39 is a finite double but an infinite float: as a condition it would
    // send every finite value left; as a leaf it makes the margin infinite.
    Json m = model({stump(0.0, 1.0, 2.0)});
    trees_of(m)[0]["split_conditions"][0] = 1e39;
    EXPECT_REFUSED_AT(load(m), kTrees + "[0].split_conditions[0]");
    m = model({stump(0.0, 1.0, 2.0)});
    trees_of(m)[0]["split_conditions"][1] = -1e39;
    EXPECT_REFUSED_AT(load(m), kTrees + "[0].split_conditions[1]");
}

// --- refusals: unsupported models ---------------------------------------------------

TEST(XgboostRefuse, UnknownObjectiveListsTheSupportedOnes) {
    for (const char* objective : {"rank:pairwise", "multi:softprob", "survival:cox", ""}) {
        SCOPED_TRACE(objective);
        auto refused = refusal([&] { (void)load(model({leaf(0.0)}, objective)); });
        if (!refused) continue;
        EXPECT_EQ(refused->detail().value("path", ""), "model.learner.objective.name");
        EXPECT_THAT(refused->what(), HasSubstr(std::string("objective \"") + objective + "\" is not supported"));
        for (auto name : supported_objectives()) EXPECT_THAT(refused->what(), HasSubstr(std::string(name)));
    }
    EXPECT_EQ(supported_objectives().size(), 11u);
}

TEST(XgboostRefuse, DartAndGblinear) {
    for (const char* booster : {"dart", "gblinear"}) {
        Json m = model({leaf(0.0)});
        m["learner"]["gradient_booster"]["name"] = booster;
        EXPECT_REFUSED(load(m), "model.learner.gradient_booster.name",
                       std::string("booster \"") + booster + "\" is not supported (gbtree only: dart and gblinear are not)");
    }
}

TEST(XgboostRefuse, MultiClassAndMultiTarget) {
    Json m = model({leaf(0.0)});
    params_of(m)["num_class"] = "3";
    EXPECT_REFUSED(load(m), kParams + ".num_class", "multi-class models are not supported: a propensity is one number");
    m = model({leaf(0.0)});
    params_of(m)["num_target"] = "2";
    EXPECT_REFUSED(load(m), kParams + ".num_target", "multi-target models are not supported: a propensity is one number");
}

TEST(XgboostRefuse, TreeInfoGroupOne) {
    Json m = model({leaf(0.0), leaf(1.0)});
    m["learner"]["gradient_booster"]["model"]["tree_info"] = {0, 1};
    EXPECT_REFUSED(load(m), "model.learner.gradient_booster.model.tree_info[1]", "multi-output models are not supported");
    m["learner"]["gradient_booster"]["model"]["tree_info"] = {0};
    EXPECT_REFUSED(load(m), "model.learner.gradient_booster.model.tree_info", "must list one group per tree");
}

TEST(XgboostRefuse, VectorLeaves) {
    Json m = model({leaf(0.0), stump(0.0, 1.0, 2.0)});
    trees_of(m)[1]["tree_param"]["size_leaf_vector"] = "2";
    EXPECT_REFUSED(load(m), kTrees + "[1].tree_param.size_leaf_vector", "vector leaves are not supported");
}

TEST(XgboostRefuse, BaseScoreOutsideTheObjectivesDomain) {
    for (const char* base : {"0", "1", "1.5E0", "-1"})
        EXPECT_REFUSED(load(model({leaf(0.0)}, "binary:logistic", base)), kParams + ".base_score",
                       "must be between 0 and 1 for binary:logistic");
    for (const char* base : {"0", "-2"})
        EXPECT_REFUSED(load(model({leaf(0.0)}, "count:poisson", base)), kParams + ".base_score",
                       "must be above 0 for count:poisson");
    EXPECT_REFUSED(load(model({leaf(0.0)}, "reg:squarederror", "1E39")), kParams + ".base_score",
                   "gives no finite base margin");
    EXPECT_REFUSED(load(model({leaf(0.0)}, "reg:squarederror", "[]")), kParams + ".base_score",
                   "must be a number, not string \"[]\"");
}

// --- refusals: limits ---------------------------------------------------------------

TEST(XgboostLimits, MaxTrees) {
    Limits limits;
    limits.max_trees = 2;
    EXPECT_EQ(load(model({leaf(1.0), leaf(2.0)}), limits).trees(), 2u);
    EXPECT_REFUSED(load(model({leaf(1.0), leaf(2.0), leaf(3.0)}), limits), kTrees, "has 3 trees; at most 2");
}

TEST(XgboostLimits, MaxNodesOverAllTrees) {
    Limits limits;
    limits.max_nodes = 6;
    EXPECT_EQ(load(model({stump(0.0, 1.0, 2.0), stump(0.0, 1.0, 2.0)}), limits).nodes.size(), 6u);
    EXPECT_REFUSED(load(model({stump(0.0, 1.0, 2.0), stump(0.0, 1.0, 2.0), leaf(1.0)}), limits), kTrees + "[2]",
                   "the model has more than 6 nodes");
}

TEST(XgboostLimits, MaxDepth) {
    Json deep = tree({1, 3, -1, -1, -1}, {2, 4, -1, -1, -1}, {0, 1, 0, 0, 0}, Json::array({0.0, 0.0, 1.0, 2.0, 3.0}),
                     {0, 0, 0, 0, 0});
    Limits limits;
    limits.max_depth = 2;
    EXPECT_EQ(margin_of(load(model({deep}, "reg:squarederror", "0"), limits), {-1, 1}), 3.0f);
    limits.max_depth = 1;
    EXPECT_EQ(load(model({stump(0.0, 1.0, 2.0)}), limits).trees(), 1u);
    EXPECT_REFUSED(load(model({stump(0.0, 1.0, 2.0), deep}), limits), kTrees + "[1]", "deeper than 1 levels");
}

TEST(XgboostLimits, MaxFeatures) {
    Limits limits;
    limits.max_features = 2;
    EXPECT_EQ(load(model({leaf(0.0)}, "reg:squarederror", "0", 2), limits).num_features, 2u);
    EXPECT_REFUSED(load(model({leaf(0.0)}, "reg:squarederror", "0", 3), limits), kParams + ".num_feature",
                   "must be a whole number from 1 to 2");
    EXPECT_REFUSED(load(model({leaf(0.0)}, "reg:squarederror", "0", 0)), kParams + ".num_feature",
                   "must be a whole number from 1 to 10000");
}

TEST(XgboostLimits, MaxCategories) {
    Limits limits;
    limits.max_categories = 3;
    EXPECT_EQ(load(model({categorical_stump({1, 2, 3}, 0.0, 1.0)}), limits).categories.size(), 3u);
    EXPECT_REFUSED(load(model({categorical_stump({1, 2}, 0.0, 1.0), categorical_stump({1, 2}, 0.0, 1.0)}), limits),
                   kTrees + "[1].categories", "the model has more than 3 categories");
}

TEST(XgboostLimits, MaxCategoriesCountsEverySetNotTheList) {
    // Two nodes whose sets are the same segment of a 3-category list hold 6
    // categories: the limit is over all categorical nodes (xgboost.h), so
    // overlapping segments must not multiply past it.
    Json t = tree({1, 3, -1, -1, -1}, {2, 4, -1, -1, -1}, {0, 0, 0, 0, 0},
                  Json::array({nullptr, nullptr, 1.0, 2.0, 3.0}), {0, 0, 0, 0, 0});
    t["split_type"] = {1, 1, 0, 0, 0};
    t["categories"] = {1, 2, 3};
    t["categories_nodes"] = {0, 1};
    t["categories_segments"] = {0, 0};
    t["categories_sizes"] = {3, 3};
    Limits limits;
    limits.max_categories = 4;
    try {
        Forest f = load(model({t}), limits);
        EXPECT_LE(f.categories.size(), limits.max_categories) << "the limit was passed";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::BadRequest);
        EXPECT_THAT(e.what(), HasSubstr(kTrees + "[0]"));
    }
}

// --- refusals: categorical splits ---------------------------------------------------

TEST(XgboostRefuse, CategoricalNodeWithoutCategories) {
    Json m = model({categorical_stump({1}, 0.0, 1.0)});
    trees_of(m)[0]["categories"] = Json::array();
    trees_of(m)[0]["categories_nodes"] = Json::array();
    trees_of(m)[0]["categories_segments"] = Json::array();
    trees_of(m)[0]["categories_sizes"] = Json::array();
    EXPECT_REFUSED(load(m), kTrees + "[0].categories_nodes", "categorical split 0 has no categories");
    trees_of(m)[0].erase("categories");
    EXPECT_REFUSED(load(m), kTrees + "[0].categories", "is missing");
}

TEST(XgboostRefuse, CategoriesNodesPointingAtANumericalNode) {
    // Node 0 is categorical; node 1 is a numerical split listed as categorical.
    Json t = tree({1, 3, -1, -1, -1}, {2, 4, -1, -1, -1}, {0, 1, 0, 0, 0},
                  Json::array({nullptr, 0.5, 1.0, 2.0, 3.0}), {0, 0, 0, 0, 0});
    t["split_type"] = {1, 0, 0, 0, 0};
    t["categories"] = {1, 2};
    t["categories_nodes"] = {0, 1};
    t["categories_segments"] = {0, 1};
    t["categories_sizes"] = {1, 1};
    EXPECT_REFUSED(load(model({t})), kTrees + "[0].categories_nodes[1]",
                   "node 1 is not a categorical split or is listed twice");
    t["categories_nodes"] = {0, 0};
    EXPECT_REFUSED(load(model({t})), kTrees + "[0].categories_nodes[1]",
                   "node 0 is not a categorical split or is listed twice");
    t["categories_nodes"] = {0, 5};
    EXPECT_REFUSED(load(model({t})), kTrees + "[0].categories_nodes[1]", "must be a whole number from 0 to 4");
}

TEST(XgboostRefuse, CategoryValuesAndSegments) {
    for (int bad : {-1, 16777216}) {
        Json m = model({categorical_stump({1, bad}, 0.0, 1.0)});
        EXPECT_REFUSED(load(m), kTrees + "[0].categories[1]", "must be a whole number from 0 to 16777215");
    }
    Json m = model({categorical_stump({1, 2}, 0.0, 1.0)});
    trees_of(m)[0]["categories_sizes"] = {3};
    EXPECT_REFUSED(load(m), kTrees + "[0].categories_sizes[0]", "must be a whole number from 0 to 2");
    m = model({categorical_stump({1, 2}, 0.0, 1.0)});
    trees_of(m)[0]["categories_segments"] = {3};
    EXPECT_REFUSED(load(m), kTrees + "[0].categories_segments[0]", "must be a whole number from 0 to 2");
    m = model({categorical_stump({1, 2}, 0.0, 1.0)});
    trees_of(m)[0]["categories_sizes"] = {1, 1};
    EXPECT_REFUSED(load(m), kTrees + "[0].categories_sizes", "has 2 entries for 1 nodes");
}

}  // namespace
}  // namespace kaireon::xgboost
