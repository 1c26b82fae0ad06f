#include "core/xgboost.h"

#include "core/error.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>

namespace kaireon::xgboost {
namespace {

// XGBoost's largest valid category (common::OutOfRangeCat): 2^24, the
// integers a float holds exactly.
constexpr float kOutOfRangeCategory = 16777216.0f;

// fail refuses the model at `path` inside it ("" is the model itself).
[[noreturn]] void fail(const std::string& path, const std::string& message) {
    const std::string at = path.empty() ? "model" : "model." + path;
    throw_bad_request(at + ": " + message, {{"path", at}});
}

std::string child(const std::string& path, const char* key) { return path.empty() ? key : path + "." + key; }

const Json& member(const Json& object, const char* key, const std::string& path) {
    if (!object.is_object()) fail(path, "must be an object");
    auto it = object.find(key);
    if (it == object.end()) fail(child(path, key), "is missing");
    return *it;
}

// number reads what XGBoost writes as a number or as a string ("5E-1",
// "[5E-1]" in 2.x, "4"); `missing_ok` lets null (a NaN) through as NaN.
double number(const Json& value, const std::string& path, bool missing_ok = false) {
    if (value.is_number()) return value.get<double>();
    if (value.is_boolean()) return value.get<bool>() ? 1 : 0;
    if (value.is_null() && missing_ok) return std::numeric_limits<double>::quiet_NaN();
    if (value.is_string()) {
        std::string text = value.get<std::string>();
        if (text.size() >= 2 && text.front() == '[' && text.back() == ']') text = text.substr(1, text.size() - 2);
        char* end = nullptr;
        double out = std::strtod(text.c_str(), &end);
        if (!text.empty() && end == text.c_str() + text.size()) return out;
    }
    fail(path, "must be a number, not " + std::string(type_name(value)) + (value.is_string() ? " \"" + value.get<std::string>().substr(0, 40) + "\"" : ""));
}

int64_t whole(const Json& value, const std::string& path, int64_t min, int64_t max) {
    double v = number(value, path);
    if (!(v == std::floor(v)) || v < static_cast<double>(min) || v > static_cast<double>(max))
        fail(path, "must be a whole number from " + std::to_string(min) + " to " + std::to_string(max));
    return static_cast<int64_t>(v);
}

const Json& array_of(const Json& tree, const char* key, size_t size, const std::string& path) {
    const Json& a = member(tree, key, path);
    if (!a.is_array()) fail(path + "." + key, "must be an array");
    if (a.size() != size)
        fail(path + "." + key, "has " + std::to_string(a.size()) + " entries for " + std::to_string(size) + " nodes");
    return a;
}

std::string optional_text(const Json& object, const char* key) {
    auto it = object.find(key);
    return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

struct ObjectiveRule {
    std::string_view name;
    Transform transform;
    enum class Base { Identity, Logit, Log } base;
};

const std::vector<ObjectiveRule>& objective_rules() {
    using B = ObjectiveRule::Base;
    static const std::vector<ObjectiveRule> rules = {
        {"binary:logistic", Transform::Sigmoid, B::Logit},       {"reg:logistic", Transform::Sigmoid, B::Logit},
        {"binary:logitraw", Transform::Identity, B::Identity},      {"binary:hinge", Transform::Hinge, B::Identity},
        {"reg:squarederror", Transform::Identity, B::Identity},  {"reg:squaredlogerror", Transform::Identity, B::Identity},
        {"reg:pseudohubererror", Transform::Identity, B::Identity}, {"reg:absoluteerror", Transform::Identity, B::Identity},
        {"count:poisson", Transform::Exp, B::Log},                {"reg:gamma", Transform::Exp, B::Log},
        {"reg:tweedie", Transform::Exp, B::Log},
    };
    return rules;
}

// XGBoost's sigmoid (common::Sigmoid), in float.
float sigmoid(float margin) {
    const float x = std::min(-margin, 88.7f);
    const float denom = std::exp(x) + 1.0f + 1e-16f;
    return 1.0f / denom;
}

// Loader builds one tree after another into the forest.
class Loader {
public:
    Loader(Forest& forest, const Limits& limits) : forest_(forest), limits_(limits) {}

    void tree(const Json& tree, const std::string& path) {
        const Json& left = member(tree, "left_children", path);
        if (!left.is_array() || left.empty()) fail(path + ".left_children", "must be a non-empty array");
        const size_t n = left.size();
        if (forest_.nodes.size() + n > limits_.max_nodes)
            fail(path, "the model has more than " + std::to_string(limits_.max_nodes) + " nodes");
        const Json& right = array_of(tree, "right_children", n, path);
        const Json& features = array_of(tree, "split_indices", n, path);
        const Json& conditions = array_of(tree, "split_conditions", n, path);
        const Json& default_left = array_of(tree, "default_left", n, path);
        const Json* split_type = tree.contains("split_type") ? &array_of(tree, "split_type", n, path) : nullptr;

        const uint32_t offset = static_cast<uint32_t>(forest_.nodes.size());
        std::vector<Node> nodes(n);
        for (size_t i = 0; i < n; ++i) {
            const std::string at = "[" + std::to_string(i) + "]";
            Node& node = nodes[i];
            const int64_t l = whole(left[i], path + ".left_children" + at, -1, static_cast<int64_t>(n) - 1);
            const int64_t r = whole(right[i], path + ".right_children" + at, -1, static_cast<int64_t>(n) - 1);
            if ((l < 0) != (r < 0)) fail(path + ".right_children" + at, "a node has both children or none");
            const bool leaf = l < 0;
            node.left = leaf ? -1 : static_cast<int32_t>(offset + l);
            node.right = leaf ? -1 : static_cast<int32_t>(offset + r);
            if (!leaf) {
                node.feature = static_cast<uint32_t>(whole(features[i], path + ".split_indices" + at, 0,
                                                           static_cast<int64_t>(forest_.num_features) - 1));
                node.default_left = whole(default_left[i], path + ".default_left" + at, 0, 1) == 1;
                if (split_type != nullptr)
                    node.categorical = whole((*split_type)[i], path + ".split_type" + at, 0, 1) == 1;
            }
            const double value = number(conditions[i], path + ".split_conditions" + at, node.categorical);
            node.value = static_cast<float>(value);  // finite as a float: 4E39 is not
            if (!node.categorical && !std::isfinite(node.value))
                fail(path + ".split_conditions" + at, "must be a finite number");
        }
        categories(tree, nodes, path);
        check_shape(nodes, offset, path);
        forest_.roots.push_back(offset);
        forest_.nodes.insert(forest_.nodes.end(), nodes.begin(), nodes.end());
    }

private:
    // categories reads a tree's categorical splits: node k's set is
    // categories[segments[k] .. + sizes[k]].
    void categories(const Json& tree, std::vector<Node>& nodes, const std::string& path) {
        bool any = std::any_of(nodes.begin(), nodes.end(), [](const Node& n) { return n.categorical; });
        if (!any) return;
        const Json& list = member(tree, "categories", path);
        const Json& at_nodes = member(tree, "categories_nodes", path);
        const Json& segments = array_of(tree, "categories_segments", at_nodes.size(), path);
        const Json& sizes = array_of(tree, "categories_sizes", at_nodes.size(), path);
        if (!list.is_array() || !at_nodes.is_array()) fail(path + ".categories", "must be arrays");
        std::vector<bool> seen(nodes.size(), false);
        for (size_t k = 0; k < at_nodes.size(); ++k) {
            const std::string at = "[" + std::to_string(k) + "]";
            const auto node = static_cast<size_t>(
                whole(at_nodes[k], path + ".categories_nodes" + at, 0, static_cast<int64_t>(nodes.size()) - 1));
            if (!nodes[node].categorical || seen[node])
                fail(path + ".categories_nodes" + at, "node " + std::to_string(node) + " is not a categorical split or is listed twice");
            seen[node] = true;
            const auto begin = static_cast<size_t>(
                whole(segments[k], path + ".categories_segments" + at, 0, static_cast<int64_t>(list.size())));
            const auto size = static_cast<size_t>(
                whole(sizes[k], path + ".categories_sizes" + at, 0, static_cast<int64_t>(list.size() - begin)));
            // Nodes may share a stretch of the list: the limit is on what is stored.
            if (forest_.categories.size() + size > limits_.max_categories)
                fail(path + ".categories", "the model has more than " + std::to_string(limits_.max_categories) + " categories");
            std::vector<int32_t> set;
            for (size_t c = begin; c < begin + size; ++c)
                set.push_back(static_cast<int32_t>(
                    whole(list[c], path + ".categories[" + std::to_string(c) + "]", 0, 16777215)));
            std::sort(set.begin(), set.end());
            nodes[node].categories_begin = static_cast<uint32_t>(forest_.categories.size());
            forest_.categories.insert(forest_.categories.end(), set.begin(), set.end());
            nodes[node].categories_end = static_cast<uint32_t>(forest_.categories.size());
        }
        for (size_t i = 0; i < nodes.size(); ++i)
            if (nodes[i].categorical && nodes[i].left >= 0 && !seen[i])
                fail(path + ".categories_nodes", "categorical split " + std::to_string(i) + " has no categories");
    }

    // check_shape walks the tree from its root: every reached node once,
    // within the depth limit, so that evaluation always ends at a leaf.
    void check_shape(const std::vector<Node>& nodes, uint32_t offset, const std::string& path) const {
        std::vector<bool> reached(nodes.size(), false);
        std::vector<std::pair<size_t, int>> stack = {{0, 0}};
        while (!stack.empty()) {
            auto [i, depth] = stack.back();
            stack.pop_back();
            if (reached[i]) fail(path + ".left_children", "node " + std::to_string(i) + " is reached twice (not a tree)");
            reached[i] = true;
            if (nodes[i].left < 0) continue;
            if (depth >= limits_.max_depth)
                fail(path, "deeper than " + std::to_string(limits_.max_depth) + " levels");
            stack.push_back({static_cast<size_t>(nodes[i].left - offset), depth + 1});
            stack.push_back({static_cast<size_t>(nodes[i].right - offset), depth + 1});
        }
    }

    Forest& forest_;
    const Limits& limits_;
};

}  // namespace

const std::vector<std::string_view>& supported_objectives() {
    static const std::vector<std::string_view> names = [] {
        std::vector<std::string_view> out;
        for (const auto& rule : objective_rules()) out.push_back(rule.name);
        return out;
    }();
    return names;
}

Forest load(const Json& model, const Limits& limits) {
    Forest forest;
    const Json& learner = member(model, "learner", "");
    const std::string lp = "learner";
    const Json& params = member(learner, "learner_model_param", lp);
    const std::string pp = lp + ".learner_model_param";
    if (params.contains("num_class") && whole(params["num_class"], pp + ".num_class", 0, 1 << 30) > 1)
        fail(pp + ".num_class", "multi-class models are not supported: a propensity is one number");
    if (params.contains("num_target") && whole(params["num_target"], pp + ".num_target", 0, 1 << 30) > 1)
        fail(pp + ".num_target", "multi-target models are not supported: a propensity is one number");
    forest.num_features = static_cast<size_t>(
        whole(member(params, "num_feature", pp), pp + ".num_feature", 1, static_cast<int64_t>(limits.max_features)));
    const double base_score = number(member(params, "base_score", pp), pp + ".base_score");

    const Json& objective = member(learner, "objective", lp);
    forest.objective = optional_text(objective, "name");
    auto rule = std::find_if(objective_rules().begin(), objective_rules().end(),
                             [&](const ObjectiveRule& r) { return r.name == forest.objective; });
    if (rule == objective_rules().end()) {
        std::string list;
        for (auto name : supported_objectives()) list += (list.empty() ? "" : ", ") + std::string(name);
        fail(lp + ".objective.name", "objective \"" + forest.objective + "\" is not supported (supported: " + list + ")");
    }
    forest.transform = rule->transform;
    const auto base = static_cast<float>(base_score);
    switch (rule->base) {
        case ObjectiveRule::Base::Identity:
            forest.base_margin = base;
            break;
        case ObjectiveRule::Base::Logit:  // LogisticRegression::ProbToMargin
            if (!(base > 0.0f && base < 1.0f)) fail(pp + ".base_score", "must be between 0 and 1 for " + forest.objective);
            forest.base_margin = -std::log(1.0f / base - 1.0f);
            break;
        case ObjectiveRule::Base::Log:  // PoissonRegression::ProbToMargin and its kin
            if (!(base > 0.0f)) fail(pp + ".base_score", "must be above 0 for " + forest.objective);
            forest.base_margin = std::log(base);
            break;
    }
    if (!std::isfinite(forest.base_margin)) fail(pp + ".base_score", "gives no finite base margin");

    const Json& booster = member(learner, "gradient_booster", lp);
    const std::string bp = lp + ".gradient_booster";
    const std::string name = optional_text(booster, "name");
    if (name != "gbtree")
        fail(bp + ".name", "booster \"" + name + "\" is not supported (gbtree only: dart and gblinear are not)");
    const Json& trees_model = member(booster, "model", bp);
    const std::string mp = bp + ".model";
    const Json& trees = member(trees_model, "trees", mp);
    if (!trees.is_array() || trees.empty()) fail(mp + ".trees", "must be a non-empty array");
    if (trees.size() > limits.max_trees)
        fail(mp + ".trees", "has " + std::to_string(trees.size()) + " trees; at most " + std::to_string(limits.max_trees));
    if (trees_model.contains("tree_info")) {
        const Json& info = trees_model["tree_info"];
        if (!info.is_array() || info.size() != trees.size()) fail(mp + ".tree_info", "must list one group per tree");
        for (size_t i = 0; i < info.size(); ++i)
            if (whole(info[i], mp + ".tree_info[" + std::to_string(i) + "]", 0, 1 << 30) != 0)
                fail(mp + ".tree_info[" + std::to_string(i) + "]", "multi-output models are not supported");
    }
    Loader loader(forest, limits);
    for (size_t t = 0; t < trees.size(); ++t) {
        const std::string tp = mp + ".trees[" + std::to_string(t) + "]";
        if (trees[t].contains("tree_param")) {
            const Json& tree_param = trees[t]["tree_param"];
            if (tree_param.contains("size_leaf_vector") &&
                whole(tree_param["size_leaf_vector"], tp + ".tree_param.size_leaf_vector", 0, 1 << 30) > 1)
                fail(tp + ".tree_param.size_leaf_vector", "vector leaves are not supported");
        }
        loader.tree(trees[t], tp);
    }
    return forest;
}

Forest load_text(std::string_view text, const Limits& limits) {
    // NaN, Infinity and -Infinity outside strings become null.
    std::string clean;
    clean.reserve(text.size());
    bool in_string = false;
    for (size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (in_string) {
            clean.push_back(c);
            if (c == '\\' && i + 1 < text.size()) clean.push_back(text[++i]);
            else if (c == '"') in_string = false;
            continue;
        }
        if (c == '"') in_string = true;
        bool replaced = false;
        for (std::string_view word : {"-Infinity", "Infinity", "NaN"}) {
            if (text.substr(i, word.size()) == word) {
                clean += "null";
                i += word.size() - 1;
                replaced = true;
                break;
            }
        }
        if (!replaced) clean.push_back(c);
    }
    return load(parse_json(clean, "model", kCatalogJsonLimits), limits);
}

float Forest::margin(const float* features) const {
    float sum = base_margin;
    const Node* all = nodes.data();
    for (uint32_t root : roots) {
        const Node* node = all + root;
        while (node->left >= 0) {
            const float v = features[node->feature];
            bool left;
            if (std::isnan(v)) {
                left = node->default_left;
            } else if (node->categorical) {
                // In the node's set: right; anything else (unknown,
                // negative, too large): left.
                bool in_set = v >= 0.0f && v < kOutOfRangeCategory &&
                              std::binary_search(categories.begin() + node->categories_begin,
                                                 categories.begin() + node->categories_end, static_cast<int32_t>(v));
                left = !in_set;
            } else {
                left = v < node->value;
            }
            node = all + (left ? node->left : node->right);
        }
        sum += node->value;
    }
    return sum;
}

float Forest::predict(const float* features) const {
    const float m = margin(features);
    switch (transform) {
        case Transform::Sigmoid: return sigmoid(m);
        case Transform::Exp: return std::exp(m);
        case Transform::Hinge: return m > 0.0f ? 1.0f : 0.0f;
        case Transform::Identity: break;
    }
    return m;
}

}  // namespace kaireon::xgboost
