// xgboost_fuzz.cpp - libFuzzer target for kaireon::xgboost::load_text and
// the evaluation of what it loads.
//
// Contract under test: for any bytes, load_text either returns a Forest or
// throws kaireon::Error(BadRequest) whose detail_text() works; anything else
// (another exception, a crash, a sanitizer report) aborts. A loaded forest
// must be well formed (every root and child in range, every split's feature
// below num_features, category sets sorted and inside the forest's list), and
// evaluating it must end at a leaf in every tree, for any features (NaN,
// +/-inf, negative and huge categories included), and give the margin a
// plain walk of the trees gives.
//
// Built with clang++-14 (see CMakeLists.txt, kaireon_add_fuzzer), or by hand:
//   clang++-14 -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -Isrc src/core/*.cpp \
//       test/fuzz/xgboost_fuzz.cpp -lssl -lcrypto -o /tmp/xgboost_fuzz
//   /tmp/xgboost_fuzz -max_total_time=60 /tmp/corpus test/fuzz/corpus/xgboost
#include "core/error.h"
#include "core/xgboost.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace {

using kaireon::xgboost::Forest;
using kaireon::xgboost::Node;

[[noreturn]] void fail(const char* what, const char* detail) {
    std::fprintf(stderr, "xgboost_fuzz: %s: %s\n", what, detail);
    std::abort();
}

void check_refused(const kaireon::Error& e) {
    if (e.code() != kaireon::ErrorCode::BadRequest) fail("unexpected error code", e.what());
    std::string detail = e.detail_text();
    if (detail.rfind(R"({"error":)", 0) != 0) fail("detail does not start with error", detail.c_str());
    if (e.detail().at("code") != "BAD_REQUEST") fail("detail code is not BAD_REQUEST", detail.c_str());
}

// Small limits keep each input cheap; the checks are the same.
kaireon::xgboost::Limits fuzz_limits() {
    kaireon::xgboost::Limits limits;
    limits.max_trees = 500;
    limits.max_nodes = 20000;
    limits.max_depth = 32;
    limits.max_features = 64;
    limits.max_categories = 20000;
    return limits;
}

void check_shape(const Forest& forest, const kaireon::xgboost::Limits& limits) {
    const size_t n = forest.nodes.size();
    if (forest.roots.empty()) fail("loaded forest", "has no tree");
    if (forest.trees() > limits.max_trees) fail("loaded forest", "has more trees than the limit");
    if (n > limits.max_nodes) fail("loaded forest", "has more nodes than the limit");
    if (forest.num_features == 0 || forest.num_features > limits.max_features)
        fail("loaded forest", "num_features out of range");
    if (!std::isfinite(forest.base_margin)) fail("loaded forest", "base margin is not finite");
    for (uint32_t root : forest.roots)
        if (root >= n) fail("loaded forest", "root out of range");
    for (const Node& node : forest.nodes) {
        if ((node.left < 0) != (node.right < 0)) fail("loaded forest", "a node with one child");
        if (node.left < 0) {
            if (!std::isfinite(node.value)) fail("loaded forest", "a leaf value is not finite");
            continue;
        }
        if (static_cast<size_t>(node.left) >= n || static_cast<size_t>(node.right) >= n)
            fail("loaded forest", "child out of range");
        if (node.feature >= forest.num_features) fail("loaded forest", "split feature out of range");
        if (!node.categorical) {
            if (std::isnan(node.value)) fail("loaded forest", "a numerical condition is NaN");
            continue;
        }
        if (node.categories_begin > node.categories_end || node.categories_end > forest.categories.size())
            fail("loaded forest", "category range out of the list");
        auto begin = forest.categories.begin() + node.categories_begin;
        auto end = forest.categories.begin() + node.categories_end;
        if (!std::is_sorted(begin, end)) fail("loaded forest", "category set not sorted");
        for (auto it = begin; it != end; ++it)
            if (*it < 0 || *it > 16777215) fail("loaded forest", "category out of range");
    }
}

// reference_margin walks each tree with a step bound (a loop would fail it)
// by the documented rules.
float reference_margin(const Forest& forest, const float* x) {
    float sum = forest.base_margin;
    for (uint32_t root : forest.roots) {
        const Node* node = &forest.nodes[root];
        size_t steps = 0;
        while (node->left >= 0) {
            if (++steps > forest.nodes.size()) fail("evaluation", "a tree walk does not end at a leaf");
            const float v = x[node->feature];
            bool left;
            if (std::isnan(v)) {
                left = node->default_left;
            } else if (node->categorical) {
                bool in_set = false;
                if (v >= 0.0f && v < 16777216.0f) {
                    const auto cat = static_cast<int32_t>(v);
                    for (uint32_t i = node->categories_begin; i < node->categories_end; ++i)
                        in_set = in_set || forest.categories[i] == cat;
                }
                left = !in_set;
            } else {
                left = v < node->value;
            }
            node = &forest.nodes[static_cast<size_t>(left ? node->left : node->right)];
        }
        sum += node->value;
    }
    return sum;
}

bool same(float a, float b) { return (std::isnan(a) && std::isnan(b)) || a == b; }

void check_evaluation(const Forest& forest, const uint8_t* data, size_t size) {
    const size_t p = forest.num_features;
    const float nan = std::numeric_limits<float>::quiet_NaN();
    const float inf = std::numeric_limits<float>::infinity();
    const float fixed[] = {nan, 0.0f, 1.0f, -1.0f, 2.5f, inf, -inf, 16777216.0f, 3e38f};
    std::vector<std::vector<float>> rows;
    for (float v : fixed) rows.emplace_back(p, v);
    // Rows mixing the values above, and one from the input's bytes.
    std::vector<float> mixed(p), from_input(p);
    for (size_t j = 0; j < p; ++j) {
        mixed[j] = fixed[j % (sizeof fixed / sizeof fixed[0])];
        from_input[j] = size > 0 ? static_cast<float>(static_cast<int>(data[j % size]) - 64) / 4.0f : 0.0f;
    }
    rows.push_back(mixed);
    rows.push_back(from_input);
    for (const auto& row : rows) {
        const float margin = forest.margin(row.data());
        const float predicted = forest.predict(row.data());
        const float reference = reference_margin(forest, row.data());
        if (!same(margin, reference)) fail("evaluation", "margin differs from the reference walk");
        if (forest.transform == kaireon::xgboost::Transform::Identity && !same(predicted, margin))
            fail("evaluation", "identity transform changed the margin");
        if (forest.transform == kaireon::xgboost::Transform::Hinge && predicted != 0.0f && predicted != 1.0f)
            fail("evaluation", "hinge prediction is neither 0 nor 1");
        if (forest.transform == kaireon::xgboost::Transform::Sigmoid && !std::isnan(margin) &&
            !(predicted >= 0.0f && predicted <= 1.0f))
            fail("evaluation", "sigmoid prediction outside [0, 1]");
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    const kaireon::xgboost::Limits limits = fuzz_limits();
    Forest forest;
    try {
        forest = kaireon::xgboost::load_text(text, limits);
    } catch (const kaireon::Error& e) {
        try {
            check_refused(e);
        } catch (const std::exception& inner) {
            fail("refusal's detail is broken", inner.what());
        }
        return 0;
    } catch (const std::exception& e) {
        fail("exception other than kaireon::Error", e.what());
    } catch (...) {
        fail("non-std exception", "?");
    }
    check_shape(forest, limits);
    check_evaluation(forest, data, size);
    return 0;
}
