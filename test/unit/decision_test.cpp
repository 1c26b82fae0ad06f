// decision_test.cpp - the request of kaireon_recommend and the arithmetic of
// ranking (SPEC 6.2, src/core/decision.h): parse_request (every field, the
// defaults, explicit nulls, each error message), arbitration_score against
// hand-computed values, the top-n order of ranks_before and fill_groups.
#include "core/decision.h"

#include "core/error.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kaireon::decision {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

Json json(std::string_view text) { return Json::parse(text); }

// parse_error returns the message of the Error(BadRequest) parse_request
// throws for `request`, and checks its code and DETAIL path.
std::string parse_error(const Json& request, const std::string& expected_path) {
    try {
        parse_request(request);
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::BadRequest) << e.what();
        EXPECT_EQ(e.detail().value("path", std::string("<none>")), expected_path) << e.what();
        EXPECT_EQ(e.detail().value("error", std::string()), e.what());
        return e.what();
    } catch (const std::exception& e) {
        ADD_FAILURE() << "not an Error: " << e.what();
        return "";
    }
    ADD_FAILURE() << "no error for " << request.dump();
    return "";
}

// with returns the minimal valid request plus one field.
Json with(const char* key, const Json& value) {
    Json r = {{"customerId", "c1"}, {"flow", "f1"}};
    r[key] = value;
    return r;
}

// ---- parse_request: fields and defaults -------------------------------------------

TEST(DecisionParseRequest, MinimalRequestTakesEveryDefault) {
    Request r = parse_request(json(R"({"customerId": "cust-1", "flow": "home"})"));
    EXPECT_EQ(r.customer_id, "cust-1");
    EXPECT_EQ(r.flow, "home");
    EXPECT_FALSE(r.channel.has_value());
    EXPECT_FALSE(r.placement.has_value());
    EXPECT_FALSE(r.limit.has_value());
    EXPECT_EQ(r.context, Json::object());
    EXPECT_FALSE(r.segments.has_value());
    EXPECT_EQ(r.attributes, Json::object());
    EXPECT_THAT(r.exclude_offers, IsEmpty());
    EXPECT_FALSE(r.trace);
    EXPECT_FALSE(r.dry_run);
}

TEST(DecisionParseRequest, EveryFieldIsRead) {
    Request r = parse_request(json(R"({
        "customerId": "cust-1", "flow": "home", "channel": "web", "placement": "hero", "limit": 7,
        "context": {"device": "mobile", "cart": {"total": 12.5}},
        "segments": ["gold", "young"], "attributes": {"age": 31, "country": "FR"},
        "excludeOffers": ["o1", "o2"], "trace": true, "dryRun": true})"));
    EXPECT_EQ(r.customer_id, "cust-1");
    EXPECT_EQ(r.flow, "home");
    EXPECT_EQ(r.channel, std::optional<std::string>("web"));
    EXPECT_EQ(r.placement, std::optional<std::string>("hero"));
    EXPECT_EQ(r.limit, std::optional<int>(7));
    EXPECT_EQ(r.context, json(R"({"device": "mobile", "cart": {"total": 12.5}})"));
    ASSERT_TRUE(r.segments.has_value());
    EXPECT_THAT(*r.segments, ElementsAre("gold", "young"));
    EXPECT_EQ(r.attributes, json(R"({"age": 31, "country": "FR"})"));
    EXPECT_THAT(r.exclude_offers, ElementsAre("o1", "o2"));
    EXPECT_TRUE(r.trace);
    EXPECT_TRUE(r.dry_run);
}

TEST(DecisionParseRequest, FalseFlagsAndEmptyCollectionsAreKept) {
    Request r = parse_request(json(R"({"customerId": "c", "flow": "f", "trace": false, "dryRun": false,
        "segments": [], "excludeOffers": [], "context": {}, "attributes": {}})"));
    EXPECT_FALSE(r.trace);
    EXPECT_FALSE(r.dry_run);
    ASSERT_TRUE(r.segments.has_value());  // an empty list replaces the customer's segments
    EXPECT_THAT(*r.segments, IsEmpty());
    EXPECT_THAT(r.exclude_offers, IsEmpty());
}

TEST(DecisionParseRequest, ExplicitNullsAreTheSameAsAbsent) {
    Request r = parse_request(json(R"({"customerId": "c", "flow": "f", "channel": null, "placement": null,
        "limit": null, "context": null, "segments": null, "attributes": null, "excludeOffers": null,
        "trace": null, "dryRun": null})"));
    EXPECT_FALSE(r.channel.has_value());
    EXPECT_FALSE(r.placement.has_value());
    EXPECT_FALSE(r.limit.has_value());
    EXPECT_EQ(r.context, Json::object());
    EXPECT_FALSE(r.segments.has_value());
    EXPECT_EQ(r.attributes, Json::object());
    EXPECT_THAT(r.exclude_offers, IsEmpty());
    EXPECT_FALSE(r.trace);
    EXPECT_FALSE(r.dry_run);
    // A null required field is missing.
    EXPECT_EQ(parse_error(json(R"({"customerId": null, "flow": "f"})"), "customerId"), "customerId: is required");
    EXPECT_EQ(parse_error(json(R"({"customerId": "c", "flow": null})"), "flow"), "flow: is required");
}

TEST(DecisionParseRequest, LimitBounds) {
    EXPECT_EQ(parse_request(with("limit", 1)).limit, std::optional<int>(1));
    EXPECT_EQ(parse_request(with("limit", 50)).limit, std::optional<int>(50));
    EXPECT_EQ(parse_request(with("limit", 5.0)).limit, std::optional<int>(5));  // integral float
    EXPECT_EQ(kDefaultLimit, 5);
    EXPECT_EQ(kMaxLimit, 50);
}

// ---- parse_request: errors --------------------------------------------------------

TEST(DecisionParseRequest, LimitErrors) {
    EXPECT_EQ(parse_error(with("limit", 0), "limit"), "limit: must be at least 1");
    EXPECT_EQ(parse_error(with("limit", -3), "limit"), "limit: must be at least 1");
    EXPECT_EQ(parse_error(with("limit", 51), "limit"), "limit: must be at most 50");
    EXPECT_EQ(parse_error(with("limit", 1e20), "limit"), "limit: must be at most 50");
    EXPECT_EQ(parse_error(with("limit", 2.5), "limit"), "limit: must be an integer");
    EXPECT_EQ(parse_error(with("limit", "3"), "limit"), "limit: must be an integer, not string");
    EXPECT_EQ(parse_error(with("limit", true), "limit"), "limit: must be an integer, not boolean");
    EXPECT_EQ(parse_error(with("limit", json("[3]")), "limit"), "limit: must be an integer, not array");
}

TEST(DecisionParseRequest, UnknownFieldIsAnError) {
    const std::string expected =
        ": unknown field (expected customerId, flow, channel, placement, limit, context, segments, attributes, "
        "excludeOffers, trace, dryRun)";
    EXPECT_EQ(parse_error(with("offers", 3), "offers"), "offers" + expected);
    // Field names are case-sensitive.
    EXPECT_EQ(parse_error(with("CustomerId", "c"), "CustomerId"), "CustomerId" + expected);
    EXPECT_EQ(parse_error(with("dry_run", true), "dry_run"), "dry_run" + expected);
}

TEST(DecisionParseRequest, MissingRequiredFields) {
    EXPECT_EQ(parse_error(json(R"({"flow": "f"})"), "customerId"), "customerId: is required");
    EXPECT_EQ(parse_error(json(R"({"customerId": "c"})"), "flow"), "flow: is required");
    EXPECT_EQ(parse_error(json(R"({})"), "customerId"), "customerId: is required");
}

TEST(DecisionParseRequest, NotAnObject) {
    for (const char* text : {"[]", "\"x\"", "3", "null"}) {
        try {
            parse_request(json(text));
            ADD_FAILURE() << "no error for " << text;
        } catch (const Error& e) {
            EXPECT_EQ(e.code(), ErrorCode::BadRequest);
            EXPECT_STREQ(e.what(), "the request must be a JSON object");
            EXPECT_EQ(e.detail().value("path", std::string("<none>")), "");
        }
    }
}

TEST(DecisionParseRequest, WrongTypes) {
    EXPECT_EQ(parse_error(json(R"({"customerId": 5, "flow": "f"})"), "customerId"),
              "customerId: must be a string, not number");
    EXPECT_EQ(parse_error(json(R"({"customerId": "", "flow": "f"})"), "customerId"), "customerId: must not be empty");
    EXPECT_EQ(parse_error(json(R"({"customerId": "c", "flow": ["f"]})"), "flow"), "flow: must be a string, not array");
    EXPECT_EQ(parse_error(json(R"({"customerId": "c", "flow": ""})"), "flow"), "flow: must not be empty");
    EXPECT_EQ(parse_error(with("channel", true), "channel"), "channel: must be a string, not boolean");
    EXPECT_EQ(parse_error(with("placement", json("{}")), "placement"), "placement: must be a string, not object");
    EXPECT_EQ(parse_error(with("context", json("[]")), "context"), "context: must be an object, not array");
    EXPECT_EQ(parse_error(with("context", "x"), "context"), "context: must be an object, not string");
    EXPECT_EQ(parse_error(with("attributes", 1), "attributes"), "attributes: must be an object, not number");
    EXPECT_EQ(parse_error(with("segments", "gold"), "segments"), "segments: must be an array of strings, not string");
    EXPECT_EQ(parse_error(with("segments", json(R"(["gold", 1])")), "segments[1]"),
              "segments[1]: must be a string, not number");
    EXPECT_EQ(parse_error(with("segments", json(R"(["gold", ""])")), "segments[1]"), "segments[1]: must not be empty");
    EXPECT_EQ(parse_error(with("excludeOffers", json("{}")), "excludeOffers"),
              "excludeOffers: must be an array of strings, not object");
    EXPECT_EQ(parse_error(with("excludeOffers", json(R"(["a", null])")), "excludeOffers[1]"),
              "excludeOffers[1]: must be a string, not null");
    EXPECT_EQ(parse_error(with("trace", "yes"), "trace"), "trace: must be true or false, not string");
    EXPECT_EQ(parse_error(with("dryRun", 1), "dryRun"), "dryRun: must be true or false, not number");
}

TEST(DecisionParseRequest, TextLengthLimit) {
    EXPECT_EQ(parse_request(with("channel", std::string(1000, 'w'))).channel->size(), 1000u);
    EXPECT_EQ(parse_error(with("channel", std::string(1001, 'w')), "channel"), "channel: must be at most 1000 bytes");
    EXPECT_EQ(parse_error(json("{\"customerId\": \"" + std::string(1001, 'c') + "\", \"flow\": \"f\"}"), "customerId"),
              "customerId: must be at most 1000 bytes");
}

TEST(DecisionParseRequest, ExcludeOffersAtMostAThousand) {
    EXPECT_EQ(kMaxExcludedOffers, 1000u);
    Json ids = Json::array();
    for (int i = 0; i < 1000; ++i) ids.push_back("o" + std::to_string(i));
    Request r = parse_request(with("excludeOffers", ids));
    ASSERT_EQ(r.exclude_offers.size(), 1000u);
    EXPECT_EQ(r.exclude_offers.front(), "o0");
    EXPECT_EQ(r.exclude_offers.back(), "o999");
    ids.push_back("o1000");
    EXPECT_EQ(parse_error(with("excludeOffers", ids), "excludeOffers"), "excludeOffers: must have at most 1000 elements");
}

// ---- arbitration_score --------------------------------------------------------------

TEST(DecisionArbitrationScore, DefaultWeights) {
    Weights w;
    EXPECT_EQ(w.propensity, 0.4);
    EXPECT_EQ(w.relevance, 0.2);
    EXPECT_EQ(w.impact, 0.3);
    EXPECT_EQ(w.emphasis, 0.1);
    Factors f;
    EXPECT_EQ(f.propensity, 0);
    EXPECT_EQ(f.relevance, 1);
    EXPECT_EQ(f.impact, 1);
    EXPECT_EQ(f.emphasis, 1);
    EXPECT_EQ(f.context_weight, 1);
}

TEST(DecisionArbitrationScore, HandComputedWithDefaultWeights) {
    // 0.5^0.4 x 1^0.2 x 0.8^0.3 x 0.6^0.1 = 0.757858283 x 1 x 0.935248... x 0.950223...
    EXPECT_NEAR(arbitration_score({0.5, 1, 0.8, 0.6, 1}, Weights{}), 0.6734884045425065, 1e-12);
    // With a context weight of 1.5 the score is multiplied by it.
    EXPECT_NEAR(arbitration_score({0.5, 1, 0.8, 0.6, 1.5}, Weights{}), 1.0102326068137597, 1e-12);
    // 0.9^0.4 x 0.5^0.2 (impact and emphasis 1).
    EXPECT_NEAR(arbitration_score({0.9, 0.5, 1, 1, 1}, Weights{}), 0.8346242608806185, 1e-12);
    // Every factor 1: 1.
    EXPECT_DOUBLE_EQ(arbitration_score({1, 1, 1, 1, 1}, Weights{}), 1.0);
}

TEST(DecisionArbitrationScore, UnitWeightsMultiplyTheFactors) {
    Weights unit{1, 1, 1, 1};
    EXPECT_DOUBLE_EQ(arbitration_score({0.5, 2, 0.5, 0.5, 2}, unit), 0.5);
    EXPECT_DOUBLE_EQ(arbitration_score({0.25, 1, 1, 1, 1}, Weights{2, 0, 0, 0}), 0.0625);
    EXPECT_DOUBLE_EQ(arbitration_score({0.3, 0.5, 0.4, 0.5, 1}, unit), 0.3 * 0.5 * 0.4 * 0.5);
}

TEST(DecisionArbitrationScore, ZeroFactorWithPositiveWeightGivesZero) {
    EXPECT_EQ(arbitration_score({0, 1, 1, 1, 1}, Weights{}), 0.0);
    EXPECT_EQ(arbitration_score({0.9, 0, 1, 1, 1}, Weights{}), 0.0);
    EXPECT_EQ(arbitration_score({0.9, 1, 0, 1, 1}, Weights{}), 0.0);
    EXPECT_EQ(arbitration_score({0.9, 1, 1, 0, 1}, Weights{}), 0.0);
    // Even a tiny weight: 0^0.001 = 0.
    EXPECT_EQ(arbitration_score({0, 1, 1, 1, 1}, Weights{0.001, 0.2, 0.3, 0.1}), 0.0);
    // A near-zero factor pulls the score towards zero.
    EXPECT_LT(arbitration_score({1e-12, 1, 1, 1, 1}, Weights{}), 1e-4);
}

TEST(DecisionArbitrationScore, ZeroWeightIgnoresItsFactor) {
    // Propensity 0 with weight 0 counts as 1: only impact^0.3 remains.
    EXPECT_DOUBLE_EQ(arbitration_score({0, 1, 0.5, 1, 1}, Weights{0, 0.2, 0.3, 0.1}), std::pow(0.5, 0.3));
    // Every weight 0: 1 whatever the factors (context weight still multiplies).
    EXPECT_DOUBLE_EQ(arbitration_score({0, -5, 0, 0, 1}, Weights{0, 0, 0, 0}), 1.0);
    EXPECT_DOUBLE_EQ(arbitration_score({0, 0, 0, 0, 3}, Weights{0, 0, 0, 0}), 3.0);
    // A negative factor with weight 0 is ignored too.
    EXPECT_DOUBLE_EQ(arbitration_score({0.25, -1, 1, 1, 1}, Weights{1, 0, 0, 0}), 0.25);
}

TEST(DecisionArbitrationScore, NegativeFactorsClampToZero) {
    EXPECT_EQ(arbitration_score({0.9, -0.5, 1, 1, 1}, Weights{}), 0.0);  // never a negative or NaN score
    EXPECT_EQ(arbitration_score({-0.9, 1, 1, 1, 1}, Weights{}), 0.0);
    EXPECT_EQ(arbitration_score({0.9, 1, -1, 1, 1}, Weights{}), 0.0);
    EXPECT_EQ(arbitration_score({0.9, 1, 1, -1, 1}, Weights{}), 0.0);
    // A negative context weight cannot flip the sign either.
    EXPECT_EQ(arbitration_score({1, 1, 1, 1, -2}, Weights{}), 0.0);
}

TEST(DecisionArbitrationScore, ContextWeightMultiplies) {
    Factors f{0.5, 1, 0.8, 0.6, 1};
    double base = arbitration_score(f, Weights{});
    f.context_weight = 2;
    EXPECT_DOUBLE_EQ(arbitration_score(f, Weights{}), 2 * base);
    f.context_weight = 0.25;
    EXPECT_DOUBLE_EQ(arbitration_score(f, Weights{}), 0.25 * base);
    f.context_weight = 0;
    EXPECT_EQ(arbitration_score(f, Weights{}), 0.0);
}

// ---- ranks_before -------------------------------------------------------------------

TEST(DecisionRanksBefore, ScoreDescendingFirst) {
    EXPECT_TRUE(ranks_before({"z", 0.5, 0}, {"a", 0.4, 100}));
    EXPECT_FALSE(ranks_before({"a", 0.4, 100}, {"z", 0.5, 0}));
}

TEST(DecisionRanksBefore, ThenPriorityDescending) {
    EXPECT_TRUE(ranks_before({"z", 0.5, 60}, {"a", 0.5, 40}));
    EXPECT_FALSE(ranks_before({"a", 0.5, 40}, {"z", 0.5, 60}));
}

TEST(DecisionRanksBefore, ThenOfferIdBytewiseAscending) {
    EXPECT_TRUE(ranks_before({"a", 0.5, 50}, {"b", 0.5, 50}));
    EXPECT_FALSE(ranks_before({"b", 0.5, 50}, {"a", 0.5, 50}));
    EXPECT_TRUE(ranks_before({"B", 0.5, 50}, {"a", 0.5, 50}));                  // 'B' (0x42) < 'a' (0x61)
    EXPECT_TRUE(ranks_before({"offer-10", 0.5, 50}, {"offer-9", 0.5, 50}));     // not numeric
    EXPECT_TRUE(ranks_before({"a", 0.5, 50}, {"aa", 0.5, 50}));                 // prefix first
    EXPECT_TRUE(ranks_before({"z", 0.5, 50}, {"\xc3\xa9", 0.5, 50}));           // bytes unsigned: 0xc3 > 'z'
    EXPECT_FALSE(ranks_before({"a", 0.5, 50}, {"a", 0.5, 50}));                 // irreflexive
}

TEST(DecisionRanksBefore, SortsAFullOrder) {
    std::vector<Ranked> v = {{"c", 0.2, 10}, {"b", 0.9, 10}, {"a", 0.2, 10}, {"d", 0.2, 90}, {"e", 0.9, 20}};
    std::sort(v.begin(), v.end(), ranks_before);
    std::vector<std::string> ids;
    for (const auto& r : v) ids.emplace_back(r.offer_id);
    EXPECT_THAT(ids, ElementsAre("e", "b", "d", "a", "c"));
}

// ---- fill_groups ----------------------------------------------------------------

std::vector<std::pair<size_t, std::string>> flat(const std::vector<Placed>& placed) {
    std::vector<std::pair<size_t, std::string>> out;
    for (const auto& p : placed) out.emplace_back(p.candidate, p.placement_id);
    return out;
}
using P = std::pair<size_t, std::string>;

TEST(DecisionFillGroups, TakesUpToSlotsInRankOrder) {
    auto all = [](size_t, const std::string&) { return true; };
    EXPECT_THAT(flat(fill_groups(4, {{"hero", 2, true}}, all)), ElementsAre(P{0, "hero"}, P{1, "hero"}));
    EXPECT_THAT(flat(fill_groups(1, {{"hero", 3, true}}, all)), ElementsAre(P{0, "hero"}));
    EXPECT_THAT(fill_groups(0, {{"hero", 3, true}}, all), IsEmpty());
    EXPECT_THAT(fill_groups(5, {}, all), IsEmpty());
}

TEST(DecisionFillGroups, ACandidateIsUsedOnce) {
    auto all = [](size_t, const std::string&) { return true; };
    EXPECT_THAT(flat(fill_groups(5, {{"hero", 2, true}, {"side", 2, true}}, all)),
                ElementsAre(P{0, "hero"}, P{1, "hero"}, P{2, "side"}, P{3, "side"}));
    EXPECT_THAT(flat(fill_groups(3, {{"hero", 2, true}, {"side", 2, true}}, all)),
                ElementsAre(P{0, "hero"}, P{1, "hero"}, P{2, "side"}));
}

TEST(DecisionFillGroups, FitsIsRespectedAndOrderWithinAGroupIsRank) {
    // Candidate i fits hero when i is odd, side when i is even.
    std::vector<P> asked;
    auto fits = [&](size_t i, const std::string& p) {
        asked.emplace_back(i, p);
        return p == "hero" ? i % 2 == 1 : i % 2 == 0;
    };
    EXPECT_THAT(flat(fill_groups(6, {{"hero", 2, true}, {"side", 5, true}}, fits)),
                ElementsAre(P{1, "hero"}, P{3, "hero"}, P{0, "side"}, P{2, "side"}, P{4, "side"}));
    // hero stops asking once its two slots are chosen (i = 0..3).
    EXPECT_THAT(std::vector<P>(asked.begin(), asked.begin() + 4),
                ElementsAre(P{0, "hero"}, P{1, "hero"}, P{2, "hero"}, P{3, "hero"}));
}

TEST(DecisionFillGroups, NoPartialGroupTakesNothingAndLeavesItsCandidates) {
    // Only candidates 1 and 2 fit hero: a hero group of 3 without partial fill takes nothing,
    // and the side group (everything fits) gets candidates 0, 1, 2 in rank order.
    auto fits = [](size_t i, const std::string& p) { return p == "side" || i == 1 || i == 2; };
    EXPECT_THAT(flat(fill_groups(4, {{"hero", 3, false}, {"side", 3, true}}, fits)),
                ElementsAre(P{0, "side"}, P{1, "side"}, P{2, "side"}));
    // The same group with partial fill allowed takes what it can.
    EXPECT_THAT(flat(fill_groups(4, {{"hero", 3, true}, {"side", 3, true}}, fits)),
                ElementsAre(P{1, "hero"}, P{2, "hero"}, P{0, "side"}, P{3, "side"}));
    // A no-partial group that can fill takes its slots.
    EXPECT_THAT(flat(fill_groups(4, {{"hero", 2, false}, {"side", 3, true}}, fits)),
                ElementsAre(P{1, "hero"}, P{2, "hero"}, P{0, "side"}, P{3, "side"}));
}

TEST(DecisionFillGroups, NoPartialGroupCountsOnlyCandidatesNotTakenYet) {
    // The first group takes 0 and 1; the second (3 slots, no partial) sees only 2 left: nothing.
    auto all = [](size_t, const std::string&) { return true; };
    EXPECT_THAT(flat(fill_groups(3, {{"hero", 2, true}, {"side", 3, false}, {"foot", 1, true}}, all)),
                ElementsAre(P{0, "hero"}, P{1, "hero"}, P{2, "foot"}));
}

TEST(DecisionFillGroups, TheLimitBoundsWhatTheGroupsTake) {
    auto all = [](size_t, const std::string&) { return true; };
    // hero takes 2 of the limit 3, side (partial) the 1 left.
    EXPECT_THAT(flat(fill_groups(6, {{"hero", 2, true}, {"side", 2, true}}, all, 3)),
                ElementsAre(P{0, "hero"}, P{1, "hero"}, P{2, "side"}));
    // side without partial fill cannot have its 2 slots within the limit: nothing, and a
    // later group gets the room left.
    EXPECT_THAT(flat(fill_groups(6, {{"hero", 2, true}, {"side", 2, false}, {"foot", 1, true}}, all, 3)),
                ElementsAre(P{0, "hero"}, P{1, "hero"}, P{2, "foot"}));
    // A no-partial group that fits exactly within the limit takes its slots.
    EXPECT_THAT(flat(fill_groups(6, {{"hero", 1, true}, {"side", 2, false}}, all, 3)),
                ElementsAre(P{0, "hero"}, P{1, "side"}, P{2, "side"}));
    EXPECT_THAT(fill_groups(6, {{"hero", 2, true}}, all, 0), IsEmpty());
    // The default limit is no limit.
    EXPECT_EQ(fill_groups(60, {{"hero", 50, true}, {"side", 50, true}}, all).size(), 60u);
}

TEST(DecisionFillGroups, ZeroOrNegativeSlotsTakeNothing) {
    auto all = [](size_t, const std::string&) { return true; };
    EXPECT_THAT(flat(fill_groups(3, {{"hero", 0, false}, {"side", -2, true}, {"foot", 1, true}}, all)),
                ElementsAre(P{0, "foot"}));
}

}  // namespace
}  // namespace kaireon::decision
