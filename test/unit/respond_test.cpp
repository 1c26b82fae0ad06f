// Unit tests of kaireon_respond's request (src/core/respond.cpp) and of the
// frequency caps' rules (src/core/caps.cpp).
#include "core/caps.h"
#include "core/respond.h"

#include "refusal.h"

#include <gtest/gtest.h>

namespace kaireon {
namespace {

using test_support::refusal;

Json doc(std::string_view text) { return Json::parse(text); }

TEST(RespondParseRequest, CustomerAndOffer) {
    respond::Request r = respond::parse_request(doc(
        R"({"customerId": "c1", "offerId": "gold", "outcome": "click", "idempotencyKey": "k-1", "value": 12.5,
            "creativeId": "gold-web", "channel": "web", "placement": "hero", "occurredAt": "2026-03-01T12:00:00Z"})"));
    EXPECT_FALSE(r.decision_id);
    EXPECT_EQ(r.customer_id, "c1");
    EXPECT_EQ(r.offer_id, "gold");
    EXPECT_EQ(r.outcome, "click");
    EXPECT_EQ(r.idempotency_key, "k-1");
    EXPECT_EQ(r.value, 12.5);
    EXPECT_EQ(r.creative_id, "gold-web");
    EXPECT_EQ(r.channel, "web");
    EXPECT_EQ(r.placement, "hero");
    ASSERT_TRUE(r.occurred_at);
    EXPECT_DOUBLE_EQ(*r.occurred_at, 1772366400.0);
}

TEST(RespondParseRequest, DecisionIdAloneIsEnoughAndIsLowerCased) {
    respond::Request r = respond::parse_request(
        doc(R"({"decisionId": "6F1C0B6E-1111-4A2B-9C3D-00000000ABCD", "outcome": "impression", "idempotencyKey": "k"})"));
    ASSERT_TRUE(r.decision_id);
    EXPECT_EQ(*r.decision_id, "6f1c0b6e-1111-4a2b-9c3d-00000000abcd");
    EXPECT_TRUE(r.customer_id.empty());
    EXPECT_TRUE(r.offer_id.empty());
}

TEST(RespondParseRequest, ExplicitNullsAreAbsent) {
    respond::Request r = respond::parse_request(doc(
        R"({"customerId": "c1", "offerId": "o", "outcome": "x", "idempotencyKey": "k", "value": null, "decisionId": null})"));
    EXPECT_FALSE(r.value);
    EXPECT_FALSE(r.decision_id);
}

TEST(RespondParseRequest, RequiredFields) {
    EXPECT_REFUSED(respond::parse_request(doc(R"({"customerId": "c", "offerId": "o", "outcome": "x"})")),
                   "idempotencyKey", "required: every response carries a key, so that a retry is recorded once");
    EXPECT_REFUSED(respond::parse_request(doc(R"({"customerId": "c", "offerId": "o", "idempotencyKey": "k"})")),
                   "outcome", "required (a registered outcome type)");
    EXPECT_REFUSED(respond::parse_request(doc(R"({"offerId": "o", "outcome": "x", "idempotencyKey": "k"})")),
                   "customerId", "required without a decisionId");
    EXPECT_REFUSED(respond::parse_request(doc(R"({"customerId": "c", "outcome": "x", "idempotencyKey": "k"})")),
                   "offerId", "required without a decisionId");
}

TEST(RespondParseRequest, WrongValuesNameTheirField) {
    const char* base = R"("customerId": "c", "offerId": "o", "outcome": "x", "idempotencyKey": "k")";
    auto with = [&](const std::string& extra) { return doc("{" + std::string(base) + ", " + extra + "}"); };
    EXPECT_REFUSED(respond::parse_request(with(R"("value": "12")")), "value", "must be a number, not string");
    EXPECT_REFUSED(respond::parse_request(with(R"("occurredAt": "tomorrow")")), "occurredAt",
                   "must be an ISO-8601 timestamp (2026-03-01T12:00:00Z)");
    EXPECT_REFUSED(respond::parse_request(with(R"("decisionId": "1234")")), "decisionId", "must be a decision id (a UUID)");
    EXPECT_REFUSED(respond::parse_request(with(R"("decisionId": "6f1c0b6e-1111-4a2b-9c3d-00000000abcg")")),
                   "decisionId", "must be a decision id (a UUID)");
    EXPECT_REFUSED(respond::parse_request(with(R"("channel": "we b")")), "channel",
                   "must be an identifier: 1 to 128 bytes of letters, digits and _ - . : @");
    EXPECT_REFUSED(respond::parse_request(with(R"("shown": true)")), "shown",
                   "unknown field (expected decisionId, customerId, offerId, creativeId, channel, placement, outcome, "
                   "value, occurredAt, idempotencyKey)");
    EXPECT_REFUSED(respond::parse_request(doc(R"({"customerId": "c", "offerId": "o", "outcome": "x", "idempotencyKey": ""})")),
                   "idempotencyKey", "must not be empty");
    EXPECT_REFUSED(respond::parse_request(doc(R"({"customerId": "c", "offerId": "o", "outcome": "x", "idempotencyKey": "a\u0001"})")),
                   "idempotencyKey", "must not contain control characters");
    Json long_key = doc(R"({"customerId": "c", "offerId": "o", "outcome": "x"})");
    long_key["idempotencyKey"] = std::string(256, 'k');
    EXPECT_REFUSED(respond::parse_request(long_key), "idempotencyKey", "must be at most 255 characters");
    long_key["idempotencyKey"] = std::string(255, 'k');
    EXPECT_NO_THROW(respond::parse_request(long_key));
}

TEST(RespondParseRequest, NotAnObject) {
    auto refused = refusal([] { respond::parse_request(Json::array()); });
    ASSERT_TRUE(refused);
    EXPECT_STREQ(refused->what(), "the request must be a JSON object");
}

catalog::CompiledCap cap(std::string scope, std::string scope_id, std::string period, int64_t max = 2,
                         bool enabled = true) {
    return {"c-" + scope_id, "Cap " + scope_id, std::move(scope), std::move(scope_id), max, std::move(period), enabled};
}

TEST(Caps, MatchOfferCategoryOrChannel) {
    EXPECT_TRUE(caps::matches(cap("offer", "gold", "daily"), "gold", "cards", "web"));
    EXPECT_FALSE(caps::matches(cap("offer", "gold", "daily"), "silver", "cards", "web"));
    EXPECT_TRUE(caps::matches(cap("category", "cards", "daily"), "silver", "cards", "web"));
    EXPECT_FALSE(caps::matches(cap("category", "cards", "daily"), "loan", "", "web"));
    EXPECT_TRUE(caps::matches(cap("channel", "web", "daily"), "loan", "", "web"));
    EXPECT_FALSE(caps::matches(cap("channel", "web", "daily"), "loan", "", ""));
    EXPECT_FALSE(caps::matches(cap("channel", "web", "daily"), "loan", "", "app"));
}

TEST(Caps, PeriodsAreUtcDaysIsoWeeksAndMonths) {
    const int64_t wed_noon = 1781092800;  // 2026-06-10T12:00:00Z, a Wednesday
    EXPECT_EQ(caps::period_start(cap("offer", "o", "daily"), wed_noon), 1781049600);   // 2026-06-10T00:00:00Z
    EXPECT_EQ(caps::reset_at(cap("offer", "o", "daily"), wed_noon), 1781136000);       // 2026-06-11T00:00:00Z
    EXPECT_EQ(caps::period_start(cap("offer", "o", "weekly"), wed_noon), 1780876800);  // Monday 2026-06-08
    EXPECT_EQ(caps::reset_at(cap("offer", "o", "weekly"), wed_noon), 1781481600);      // Monday 2026-06-15
    EXPECT_EQ(caps::period_start(cap("offer", "o", "monthly"), wed_noon), 1780272000); // 2026-06-01
    EXPECT_EQ(caps::reset_at(cap("offer", "o", "monthly"), wed_noon), 1782864000);     // 2026-07-01
    // The last second of a period still belongs to it; its reset_at is the next one's first.
    EXPECT_EQ(caps::period_start(cap("offer", "o", "daily"), 1781135999), 1781049600);
    EXPECT_EQ(caps::period_start(cap("offer", "o", "daily"), 1781136000), 1781136000);
}

TEST(Caps, CounterNameChangesWithTheScopeOnly) {
    catalog::CompiledCap a = cap("offer", "gold", "daily");
    catalog::CompiledCap b = a;
    b.max_volume = 99;
    b.enabled = false;
    b.name = "renamed";
    EXPECT_EQ(caps::counter_name(a), caps::counter_name(b));
    b.scope_id = "silver";
    EXPECT_NE(caps::counter_name(a), caps::counter_name(b));
    // Ids and scopes cannot run into each other.
    catalog::CompiledCap c = a, d = a;
    c.id = "x";
    c.scope = "offer";
    c.scope_id = "y";
    d.id = std::string("x\0offer", 7);
    d.scope = "";
    d.scope_id = "y";
    EXPECT_NE(caps::counter_name(c), caps::counter_name(d));
}

TEST(Caps, ExhaustedOnlyWhenEnabledAndAtTheMaximum) {
    EXPECT_FALSE(caps::exhausted(cap("offer", "o", "daily", 2), 1));
    EXPECT_TRUE(caps::exhausted(cap("offer", "o", "daily", 2), 2));
    EXPECT_TRUE(caps::exhausted(cap("offer", "o", "daily", 2), 7));
    EXPECT_FALSE(caps::exhausted(cap("offer", "o", "daily", 2, false), 7));
}

TEST(Caps, GateLeavesOutMatchingOffersWithTheReason) {
    catalog::CompiledCap by_category = cap("category", "cards", "weekly", 4);
    catalog::CompiledCap by_channel = cap("channel", "app", "monthly", 100);
    caps::Gate gate({{&by_category, 4}, {&by_channel, 100}});
    catalog::CompiledOffer gold;
    gold.id = "gold";
    gold.category_id = "cards";
    catalog::CompiledOffer loan;
    loan.id = "loan";
    decision::CustomerView customer;
    EXPECT_EQ(gate.judge(gold, {"gold-web", "web", ""}, customer).blocked,
              "frequency_cap \"c-cards\" exhausted: 4/4 per week at scope=category:cards");
    EXPECT_EQ(gate.judge(loan, {"loan-app", "app", ""}, customer).blocked,
              "frequency_cap \"c-app\" exhausted: 100/100 per month at scope=channel:app");
    EXPECT_EQ(gate.judge(loan, {"loan-web", "web", ""}, customer).blocked, std::nullopt);
    EXPECT_FALSE(gate.empty());
    EXPECT_TRUE(caps::Gate({}).empty());
}

TEST(Caps, AnswerShape) {
    Json answer = caps::cap_json(cap("offer", "gold", "daily", 2), 3, 1781092800);
    EXPECT_EQ(answer.dump(),
              R"({"capId":"c-gold","name":"Cap gold","currentCount":3,"maxVolume":2,"exhausted":true,)"
              R"("resetAt":"2026-06-11T00:00:00Z"})");
}

}  // namespace
}  // namespace kaireon
