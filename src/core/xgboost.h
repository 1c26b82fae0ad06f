// xgboost.h - gradient-boosted tree models saved by XGBoost
// (`Booster.save_model("m.json")`), loaded once and evaluated in float32
// the way XGBoost's CPU predictor does: the margin starts at the base
// margin, each tree's leaf value is added in tree order in float, and the
// objective's transform (the logistic sigmoid, exp, ...) applies last. The
// predictions then match XGBoost's own `predict` to float rounding.
//
// A feature value is a float; NaN is missing and takes the node's default
// direction. Numerical splits go left when value < condition; categorical
// splits go right when the value's category is in the node's set (XGBoost's
// rule), left otherwise (an unknown, negative or huge category included).
#pragma once
#include "core/pure.h"

#include "core/json.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kaireon::xgboost {

// Limits a model must stay within (KR400 past them): a 60-tree depth-6
// model is up to 7,600 nodes, 180 to 440 KB of XGBoost's JSON.
struct Limits {
    size_t max_trees = 10000;
    size_t max_nodes = 2000000;  // over all trees
    int max_depth = 64;
    size_t max_features = 10000;
    size_t max_categories = 1000000;  // over all categorical nodes
};

enum class Transform { Identity, Sigmoid, Exp, Hinge };

struct Node {
    int32_t left = -1, right = -1;  // -1: a leaf
    uint32_t feature = 0;
    float value = 0;                // a split's condition, a leaf's value
    bool default_left = false;
    bool categorical = false;
    uint32_t categories_begin = 0, categories_end = 0;  // in Forest::categories, sorted
};

struct Forest {
    std::string objective;
    float base_margin = 0;  // the base score on the margin scale
    Transform transform = Transform::Identity;
    size_t num_features = 0;
    std::vector<uint32_t> roots;  // index of each tree's root in `nodes`, in tree order
    std::vector<Node> nodes;      // all trees; child indices are absolute
    std::vector<int32_t> categories;

    // margin is the base margin plus every tree's leaf value, summed in
    // float in tree order; predict applies the objective's transform.
    // `features` has num_features values (NaN: missing).
    float margin(const float* features) const;
    float predict(const float* features) const;
    size_t trees() const { return roots.size(); }
};

// supported_objectives lists the objectives load accepts, for messages and
// docs: binary:logistic, binary:logitraw, binary:hinge, reg:logistic,
// reg:squarederror, reg:squaredlogerror, reg:pseudohubererror,
// reg:absoluteerror, count:poisson, reg:gamma, reg:tweedie.
const std::vector<std::string_view>& supported_objectives();

// load reads XGBoost's JSON model (format of XGBoost 1.x and 2.x, booster
// gbtree, one output). Throws Error(BadRequest) naming what is wrong
// ("model.learner.gradient_booster.model.trees[3].left_children: node 7
// is reached twice") for a malformed model, an unsupported booster or
// objective (dart, gblinear, multi:softmax, ...), or one past `limits`.
Forest load(const Json& model, const Limits& limits = Limits{});

// load_text is load for the saved file's text as it is: XGBoost writes NaN
// (categorical splits' conditions) and Infinity, which JSON and jsonb do
// not allow; here they read as null.
Forest load_text(std::string_view text, const Limits& limits = Limits{});

}  // namespace kaireon::xgboost
