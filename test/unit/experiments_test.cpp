// experiments_test.cpp - A/B experiments (SPEC 6.5, src/core/experiments.h):
// unit_hash, assign (holdout, weights, flows, proportions, stability across
// catalog re-applies), the statistics (Wilson, Newcombe, the pooled
// two-proportion z-test), report's rows and nulls, and the catalog's
// refusal of a variant named "holdout".
//
// The statistics are also compared with python3-scipy over a grid of cases
// by test/experiments/experiments_oracle.py (ctest experiments_scipy_oracle).
#include "core/experiments.h"

#include "core/catalog.h"
#include "core/catalog_compiled.h"
#include "core/error.h"

#include "catalog_rows.h"
#include "refusal.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace kaireon::experiments {
namespace {

using test_support::refusal;

constexpr int kCustomers = 100000;

std::string customer(int i) { return "cust-" + std::to_string(i); }

// experiment returns an experiment "x" on flow "f" with `weights`, the
// first variant the control, variant ids "v0", "v1", ...
Experiment experiment(std::vector<double> weights, double holdout = 0) {
    Experiment e;
    e.id = "x";
    e.flow_id = "f";
    e.type = "ab";
    e.status = "active";
    e.holdout_percent = holdout;
    for (size_t i = 0; i < weights.size(); ++i) e.variants.push_back({"v" + std::to_string(i), weights[i], "", i == 0});
    return e;
}

// --- unit_hash ------------------------------------------------------------------------------------------------------

TEST(ExperimentsUnitHash, KnownValues) {
    // The top 53 bits of the first 8 bytes of SHA-256("t1\0exp-a\0cust-0")
    // etc., over 2^53, computed once with Python's hashlib:
    //   int.from_bytes(sha256(b"t1\0exp-a\0cust-0").digest()[:8], "big") >> 11
    EXPECT_EQ(unit_hash("t1", "exp-a", "cust-0"), 0x1a0d4ba3041e0aULL / 9007199254740992.0);  // 0.8141229804904822
    EXPECT_EQ(unit_hash("t1", "exp-a", "cust-1"), 0x35fa375219364ULL / 9007199254740992.0);   // 0.10542462231806526
    EXPECT_EQ(unit_hash("", "", ""), 0x12d452da449e50ULL / 9007199254740992.0);               // 0.5884184134528798
}

TEST(ExperimentsUnitHash, RangeAndDeterminism) {
    double low = 1, high = 0, sum = 0;
    for (int i = 0; i < kCustomers; ++i) {
        const double u = unit_hash("t1", "x", customer(i));
        ASSERT_GE(u, 0.0) << customer(i);
        ASSERT_LT(u, 1.0) << customer(i);
        ASSERT_EQ(u, unit_hash("t1", "x", customer(i))) << customer(i);
        low = std::min(low, u);
        high = std::max(high, u);
        sum += u;
    }
    // Spread over [0, 1): the extremes of 100,000 uniforms are within 1e-3
    // of the ends (failure probability e^-100), the mean within 5 sd of 1/2.
    EXPECT_LT(low, 1e-3);
    EXPECT_GT(high, 1 - 1e-3);
    EXPECT_NEAR(sum / kCustomers, 0.5, 5 * std::sqrt(1.0 / 12 / kCustomers));
}

TEST(ExperimentsUnitHash, SeparatesTenantExperimentAndCustomer) {
    // NUL-separated: moving a character across a boundary changes the hash.
    EXPECT_NE(unit_hash("ab", "c", "d"), unit_hash("a", "bc", "d"));
    EXPECT_EQ(unit_hash("ab", "c", "d"), 0x3d126fc6ab00eULL / 9007199254740992.0);  // hashlib, as above
    EXPECT_EQ(unit_hash("a", "bc", "d"), 0xe05f20c7062f8ULL / 9007199254740992.0);
    EXPECT_NE(unit_hash("a", "b", "cd"), unit_hash("a", "bc", "d"));
    EXPECT_NE(unit_hash("a", "", "bc"), unit_hash("a", "b", "c"));
    EXPECT_NE(unit_hash("", "ab", "c"), unit_hash("a", "b", "c"));
    // Each of the three matters.
    EXPECT_NE(unit_hash("t1", "x", "u"), unit_hash("t2", "x", "u"));
    EXPECT_NE(unit_hash("t1", "x", "u"), unit_hash("t1", "y", "u"));
    EXPECT_NE(unit_hash("t1", "x", "u"), unit_hash("t1", "x", "v"));
}

// --- assign ---------------------------------------------------------------------------------------------------------

TEST(ExperimentsAssign, HoldoutIsTheHashBelowHoldoutPercent) {
    const Experiment e = experiment({1, 1}, 10);
    int held = 0;
    for (int i = 0; i < 20000; ++i) {
        const double u = unit_hash("t1", "x", customer(i));
        const Assignment a = assign(e, "t1", customer(i));
        if (u < 0.10) {
            EXPECT_EQ(a.variant, kHoldout) << customer(i) << " u " << u;
            EXPECT_EQ(a.flow_id, "") << customer(i);
            ++held;
        } else {
            EXPECT_NE(a.variant, kHoldout) << customer(i) << " u " << u;
            EXPECT_EQ(a.flow_id, "f") << customer(i);
        }
    }
    EXPECT_GT(held, 0);
}

TEST(ExperimentsAssign, VariantsCutTheRestInOrderAndInProportion) {
    // Holdout 20 %, weights 1, 3: [0, .2) holdout, [.2, .4) v0, [.4, 1) v1.
    const Experiment e = experiment({1, 3}, 20);
    for (int i = 0; i < 20000; ++i) {
        const double u = unit_hash("t1", "x", customer(i));
        const std::string want = u < 0.2 ? "holdout" : (u - 0.2) / 0.8 * 4 < 1 ? "v0" : "v1";
        ASSERT_EQ(assign(e, "t1", customer(i)).variant, want) << customer(i) << " u " << u;
    }
}

TEST(ExperimentsAssign, WeightsFollowTheVariantsOrder) {
    // The same weights in the other order: the low hashes go to the first
    // listed variant, whatever its id.
    Experiment ab = experiment({1, 1});
    Experiment ba = ab;
    std::swap(ba.variants[0], ba.variants[1]);
    for (int i = 0; i < 5000; ++i) {
        const double u = unit_hash("t1", "x", customer(i));
        EXPECT_EQ(assign(ab, "t1", customer(i)).variant, u < 0.5 ? "v0" : "v1") << customer(i);
        EXPECT_EQ(assign(ba, "t1", customer(i)).variant, u < 0.5 ? "v1" : "v0") << customer(i);
    }
}

TEST(ExperimentsAssign, AVariantsFlowElseTheExperiments) {
    Experiment e = experiment({1, 1, 1});
    e.variants[1].flow_id = "f-green";
    std::map<std::string, std::string> flows;
    for (int i = 0; i < 1000; ++i) {
        const Assignment a = assign(e, "t1", customer(i));
        flows[a.variant] = a.flow_id;
    }
    EXPECT_EQ(flows, (std::map<std::string, std::string>{{"v0", "f"}, {"v1", "f-green"}, {"v2", "f"}}));
}

TEST(ExperimentsAssign, HoldoutZeroNeverHoldsOut) {
    const Experiment e = experiment({1, 1}, 0);
    for (int i = 0; i < kCustomers; ++i) ASSERT_NE(assign(e, "t1", customer(i)).variant, kHoldout) << customer(i);
}

TEST(ExperimentsAssign, ProportionsWithinFiveSigmaOfTheWeights) {
    struct Case {
        std::vector<double> weights;
        double holdout;
    };
    for (const Case& c : {Case{{50, 30, 20}, 10}, Case{{1, 1}, 0}, Case{{0.5, 2, 7.5}, 25}, Case{{1, 1, 1, 1, 1}, 1}}) {
        const Experiment e = experiment(c.weights, c.holdout);
        std::map<std::string, int> counts;
        for (int i = 0; i < kCustomers; ++i) ++counts[assign(e, "t1", customer(i)).variant];
        double total = 0;
        for (double w : c.weights) total += w;
        std::map<std::string, double> share;
        if (c.holdout > 0) share["holdout"] = c.holdout / 100;
        for (size_t i = 0; i < c.weights.size(); ++i)
            share["v" + std::to_string(i)] = (1 - c.holdout / 100) * c.weights[i] / total;
        EXPECT_EQ(counts.size(), share.size());
        for (const auto& [variant, p] : share) {
            const double sd = std::sqrt(kCustomers * p * (1 - p));
            EXPECT_NEAR(counts[variant], kCustomers * p, 5 * sd)
                << variant << " of weights " << ::testing::PrintToString(c.weights) << " holdout " << c.holdout;
        }
    }
}

TEST(ExperimentsAssign, ExperimentsAreIndependent) {
    // Two experiments on the same customers: a 1/1 split of one is a 1/1
    // split of each half of the other (within 5 sd).
    const Experiment x = experiment({1, 1});
    Experiment y = x;
    y.id = "y";
    int both = 0, first = 0;
    for (int i = 0; i < kCustomers; ++i) {
        const bool in_x = assign(x, "t1", customer(i)).variant == "v0";
        const bool in_y = assign(y, "t1", customer(i)).variant == "v0";
        first += in_x;
        both += in_x && in_y;
    }
    EXPECT_NEAR(both, first / 2.0, 5 * std::sqrt(first * 0.25));
}

// catalog builds the catalog of an experiment over flows f and f-green.
class Catalog : public test_support::CatalogRows<Catalog> {};

catalog::CompiledCatalog experiment_catalog(const char* document) {
    return Catalog()
        .add("flows", R"({"id": "f", "experimentId": "x"})")
        .add("flows", R"({"id": "f-green"})")
        .add("experiments", document)
        .build();
}

TEST(ExperimentsAssign, ACatalogReapplyAssignsTheSame) {
    const char* document = R"({"id": "x", "flowId": "f", "type": "ab", "status": "active", "holdoutPercent": 10,
                               "variants": [{"id": "blue", "weight": 1, "control": true},
                                            {"id": "green", "weight": 2, "flowId": "f-green"}]})";
    const catalog::CompiledCatalog first = experiment_catalog(document);
    // The same variants, re-applied (with another name and status too).
    const catalog::CompiledCatalog again = experiment_catalog(
        R"({"id": "x", "name": "Renamed", "flowId": "f", "type": "ab", "status": "paused", "holdoutPercent": 10,
            "variants": [{"id": "blue", "weight": 1, "control": true},
                         {"id": "green", "weight": 2, "flowId": "f-green"}]})");
    const Experiment& a = first.experiments.at("x");
    const Experiment& b = again.experiments.at("x");
    ASSERT_EQ(a.variants.size(), 2u);
    EXPECT_EQ(a.holdout_percent, 10);
    EXPECT_EQ(a.variants[1].flow_id, "f-green");
    std::map<std::string, int> counts;
    for (int i = 0; i < 20000; ++i) {
        const Assignment x = assign(a, "t1", customer(i)), y = assign(b, "t1", customer(i));
        ASSERT_EQ(x.variant, y.variant) << customer(i);
        ASSERT_EQ(x.flow_id, y.flow_id) << customer(i);
        ++counts[x.variant + "@" + x.flow_id];
    }
    EXPECT_EQ(counts.size(), 3u);  // holdout@, blue@f, green@f-green
    EXPECT_GT(counts["holdout@"], 0);
    EXPECT_GT(counts["blue@f"], 0);
    EXPECT_GT(counts["green@f-green"], 0);
}

// --- statistics ---------------------------------------------------------------------------------------------------

constexpr double kTol = 1e-12;

TEST(ExperimentsStatistics, WilsonAgainstScipy) {
    // Reference values from scipy 1.10:
    //   scipy.stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method='wilson')
    // 81/263 is Newcombe's (1998) example: 0.2553 to 0.3662.
    struct Case {
        double k, n, low, high;
    };
    for (const Case& c : {Case{81, 263, 0.2552885198782742, 0.36620957698280004}, Case{0, 10, 0.0, 0.27753279986288926},
                          Case{10, 10, 0.7224672001371109, 1.0}, Case{1, 1, 0.20654931437723745, 1.0},
                          Case{50, 100, 0.4038315303659956, 0.5961684696340044}}) {
        const Interval i = wilson(c.k, c.n);
        EXPECT_NEAR(i.low, c.low, kTol) << c.k << "/" << c.n;
        EXPECT_NEAR(i.high, c.high, kTol) << c.k << "/" << c.n;
        EXPECT_GE(i.low, 0.0);
        EXPECT_LE(i.high, 1.0);
    }
}

TEST(ExperimentsStatistics, WilsonOfNothingIsTheWholeRange) {
    // n = 0 (documented n > 0; the code returns [0, 1]).
    const Interval i = wilson(0, 0);
    EXPECT_EQ(i.low, 0);
    EXPECT_EQ(i.high, 1);
}

TEST(ExperimentsStatistics, NewcombeAgainstScipy) {
    // Reference values: d -/+ sqrt of the two Wilson intervals' distances
    // (Newcombe 1998, method 10), the intervals from scipy 1.10 as above.
    // 56/70 - 48/80 is Newcombe's example (a): 0.0524 to 0.3339.
    struct Case {
        double k1, n1, k2, n2, low, high;
    };
    for (const Case& c : {Case{56, 70, 48, 80, 0.05243147240236484, 0.3338726540369059},
                          Case{9, 10, 3, 10, 0.17052272393450296, 0.8090179735354881},
                          Case{0, 10, 0, 20, -0.16112515805281935, 0.27753279986288926},
                          Case{120, 1000, 100, 1000, -0.0074921675152110415, 0.047550667456339055}}) {
        const Interval i = newcombe(c.k1, c.n1, c.k2, c.n2);
        EXPECT_NEAR(i.low, c.low, kTol) << c.k1 << "/" << c.n1 << " - " << c.k2 << "/" << c.n2;
        EXPECT_NEAR(i.high, c.high, kTol) << c.k1 << "/" << c.n1 << " - " << c.k2 << "/" << c.n2;
    }
    // Swapping the sides mirrors the interval.
    const Interval ab = newcombe(56, 70, 48, 80), ba = newcombe(48, 80, 56, 70);
    EXPECT_NEAR(ab.low, -ba.high, kTol);
    EXPECT_NEAR(ab.high, -ba.low, kTol);
}

TEST(ExperimentsStatistics, TwoProportionPValueAgainstScipy) {
    // Reference values: 2 * scipy.stats.norm.sf(|z|), z the pooled z
    // statistic (scipy 1.10; equal to chi2_contingency(correction=False)'s).
    struct Case {
        double k1, n1, k2, n2, p;
    };
    for (const Case& c : {Case{56, 70, 48, 80, 0.00804508136819656}, Case{120, 1000, 100, 1000, 0.1529177818639462},
                          Case{30, 100, 30, 100, 1.0}, Case{5, 100, 0, 100, 0.023540058261177936}}) {
        const std::optional<double> p = two_proportion_p_value(c.k1, c.n1, c.k2, c.n2);
        ASSERT_TRUE(p.has_value()) << c.k1 << "/" << c.n1 << " vs " << c.k2 << "/" << c.n2;
        EXPECT_NEAR(*p, c.p, 1e-12 * std::max(1.0, c.p)) << c.k1 << "/" << c.n1 << " vs " << c.k2 << "/" << c.n2;
        // Symmetric.
        EXPECT_NEAR(*two_proportion_p_value(c.k2, c.n2, c.k1, c.n1), *p, 1e-15);
    }
}

TEST(ExperimentsStatistics, PValueUndefinedWithoutDataOrVariance) {
    EXPECT_EQ(two_proportion_p_value(0, 0, 5, 10), std::nullopt);  // an empty side
    EXPECT_EQ(two_proportion_p_value(5, 10, 0, 0), std::nullopt);
    EXPECT_EQ(two_proportion_p_value(0, 0, 0, 0), std::nullopt);
    EXPECT_EQ(two_proportion_p_value(0, 10, 0, 20), std::nullopt);    // no positives at all
    EXPECT_EQ(two_proportion_p_value(10, 10, 20, 20), std::nullopt);  // all positive
    EXPECT_NE(two_proportion_p_value(0, 10, 10, 10), std::nullopt);   // 0 % vs 100 %: pooled 1/2
}

// --- report ---------------------------------------------------------------------------------------------------------

const Json* row_of(const Json& body, const std::string& id) {
    for (const Json& row : body["variants"])
        if (row["id"] == id) return &row;
    return nullptr;
}

TEST(ExperimentsReport, RowsInOrderWithControlInterval) {
    const Json body = report("exp", {{"b", false, 70, 56}, {"ctl", true, 80, 48}});
    EXPECT_EQ(body["experiment"], "exp");
    ASSERT_EQ(body["variants"].size(), 2u);
    EXPECT_EQ(body["variants"][0]["id"], "b");  // the given order, the control not first
    EXPECT_EQ(body["variants"][1]["id"], "ctl");
    const Json& ctl = body["variants"][1];
    EXPECT_EQ(ctl["control"], true);
    EXPECT_EQ(ctl["impressions"], 80);
    EXPECT_EQ(ctl["positives"], 48);
    EXPECT_DOUBLE_EQ(ctl["rate"].get<double>(), 0.6);
    EXPECT_EQ(ctl["uplift"], 0);
    EXPECT_TRUE(ctl["pValue"].is_null());
    const Interval w = wilson(48, 80);
    EXPECT_EQ(ctl["interval"]["low"].get<double>(), w.low);
    EXPECT_EQ(ctl["interval"]["high"].get<double>(), w.high);

    const Json& b = body["variants"][0];
    EXPECT_EQ(b["control"], false);
    EXPECT_DOUBLE_EQ(b["rate"].get<double>(), 0.8);
    EXPECT_NEAR(b["uplift"].get<double>(), 0.2, 1e-15);
    EXPECT_NEAR(b["interval"]["low"].get<double>(), 0.05243147240236484, kTol);  // Newcombe's example (a)
    EXPECT_NEAR(b["interval"]["high"].get<double>(), 0.3338726540369059, kTol);
    EXPECT_NEAR(b["pValue"].get<double>(), 0.00804508136819656, 1e-12);
}

TEST(ExperimentsReport, NullsWithoutImpressions) {
    const Json body = report("exp", {{"ctl", true, 100, 10}, {"empty", false, 0, 0}, {"b", false, 100, 20}});
    const Json& empty = *row_of(body, "empty");
    EXPECT_EQ(empty["impressions"], 0);
    for (const char* field : {"rate", "uplift", "interval", "pValue"}) EXPECT_TRUE(empty[field].is_null()) << field;
    EXPECT_FALSE(row_of(body, "b")->at("pValue").is_null());

    // A control without impressions: no rate, and nothing against it.
    const Json none = report("exp", {{"ctl", true, 0, 0}, {"b", false, 100, 20}});
    for (const char* field : {"rate", "uplift", "interval", "pValue"})
        EXPECT_TRUE(row_of(none, "ctl")->at(field).is_null()) << field;
    EXPECT_DOUBLE_EQ(row_of(none, "b")->at("rate").get<double>(), 0.2);
    for (const char* field : {"uplift", "interval", "pValue"})
        EXPECT_TRUE(row_of(none, "b")->at(field).is_null()) << field;

    // No control at all: rates only.
    const Json orphan = report("exp", {{"a", false, 100, 5}, {"b", false, 100, 6}});
    for (const Json& row : orphan["variants"]) {
        EXPECT_FALSE(row["rate"].is_null());
        for (const char* field : {"uplift", "interval", "pValue"}) EXPECT_TRUE(row[field].is_null()) << field;
    }
    // No variants: an empty list.
    const Json nothing = report("exp", {});
    EXPECT_EQ(nothing["variants"], Json::array());
}

TEST(ExperimentsReport, NoVarianceNoPValue) {
    const Json zero = report("exp", {{"ctl", true, 500, 0}, {"b", false, 300, 0}});
    const Json& b = *row_of(zero, "b");
    EXPECT_EQ(b["uplift"].get<double>(), 0.0);
    EXPECT_FALSE(b["interval"].is_null());
    EXPECT_TRUE(b["pValue"].is_null());
    // The Wilson interval of 0/500 starts at 0 (scipy returns exactly 0.0 for
    // k = 0; the core's centre - half leaves a rounding residue of ~4e-19).
    EXPECT_NEAR(row_of(zero, "ctl")->at("interval")["low"].get<double>(), 0.0, 1e-15);

    const Json all = report("exp", {{"ctl", true, 40, 40}, {"b", false, 60, 60}});
    EXPECT_TRUE(row_of(all, "b")->at("pValue").is_null());
    EXPECT_EQ(row_of(all, "ctl")->at("interval")["high"].get<double>(), 1.0);

    // Equal rates with variance: uplift 0, p-value 1.
    const Json equal = report("exp", {{"ctl", true, 200, 50}, {"b", false, 400, 100}});
    EXPECT_EQ(row_of(equal, "b")->at("uplift").get<double>(), 0.0);
    EXPECT_DOUBLE_EQ(row_of(equal, "b")->at("pValue").get<double>(), 1.0);
}

TEST(ExperimentsReport, PositivesBeyondImpressionsAreClamped) {
    // 150 positives of 100 impressions count as 100: rate 1, and the
    // statistics those of 100/100.
    const Json body = report("exp", {{"ctl", true, 100, 150}, {"b", false, 100, 20}});
    const Json& ctl = *row_of(body, "ctl");
    const Json& b = *row_of(body, "b");
    EXPECT_EQ(ctl["rate"].get<double>(), 1.0);
    EXPECT_EQ(ctl["interval"]["high"].get<double>(), 1.0);
    EXPECT_EQ(ctl["interval"]["low"].get<double>(), wilson(100, 100).low);
    EXPECT_NEAR(b["uplift"].get<double>(), -0.8, 1e-15);
    const Interval n = newcombe(20, 100, 100, 100);
    EXPECT_EQ(b["interval"]["low"].get<double>(), n.low);
    EXPECT_EQ(b["interval"]["high"].get<double>(), n.high);
    EXPECT_EQ(b["pValue"].get<double>(), *two_proportion_p_value(20, 100, 100, 100));

    const Json variant = report("exp", {{"ctl", true, 100, 30}, {"b", false, 10, 12}});
    EXPECT_EQ(row_of(variant, "b")->at("rate").get<double>(), 1.0);
    EXPECT_NEAR(row_of(variant, "b")->at("uplift").get<double>(), 0.7, 1e-15);
    EXPECT_EQ(row_of(variant, "b")->at("pValue").get<double>(), *two_proportion_p_value(10, 10, 30, 100));
}

// --- the catalog --------------------------------------------------------------------------------------------------

TEST(ExperimentsCatalog, AVariantNamedHoldoutIsRefused) {
    const catalog::Entity* entity = catalog::find_entity("experiments");
    ASSERT_NE(entity, nullptr);
    auto check = [&](const char* text) { return catalog::validate(*entity, Json::parse(text), "experiments[0]"); };
    EXPECT_REFUSED(check(R"({"id": "x", "flowId": "f", "type": "ab", "variants": [
                              {"id": "a", "weight": 1, "control": true}, {"id": "holdout", "weight": 1}]})"),
                   "experiments[0].variants[1].id", "\"holdout\" names the customers held out; choose another id");
    EXPECT_REFUSED_AT(check(R"({"id": "x", "flowId": "f", "type": "ab", "variants": [
                                 {"id": "holdout", "weight": 1, "control": true}, {"id": "b", "weight": 1}]})"),
                      "experiments[0].variants[0].id");
    EXPECT_REFUSED_AT(check(R"({"id": "x", "flowId": "f", "type": "bandit", "bandit": {"algorithm": "thompson"},
                                 "variants": [{"id": "a", "weight": 1}, {"id": "holdout", "weight": 2}]})"),
                      "experiments[0].variants[1].id");
    // Another id is fine.
    EXPECT_NO_THROW(check(R"({"id": "x", "flowId": "f", "type": "ab", "variants": [
                               {"id": "a", "weight": 1, "control": true}, {"id": "holdout2", "weight": 1}]})"));
}

}  // namespace
}  // namespace kaireon::experiments
