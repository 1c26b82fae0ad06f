// pipeline_test.cpp - the decision pipeline of kaireon_recommend end to end
// (SPEC 6.2, src/core/pipeline.h) over small catalogs validated with
// catalog::validate and compiled with compile_catalog: candidates,
// qualification, consent, the PolicyGate seam, scoring (priority, linear and
// logistic scorecards, unsupported model types), top_n and arbitration
// ranking, groups/placements, the limit, stage traces (with a fake clock) and
// determinism.
#include "core/pipeline.h"
#include "core/scoring.h"

#include "core/catalog.h"
#include "core/catalog_compiled.h"
#include "core/decision.h"
#include "core/error.h"

#include "catalog_rows.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kaireon::decision {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr double kNow = 1767225600;  // 2026-01-01T00:00:00Z

Json json(std::string_view text) { return Json::parse(text); }

// ---- building catalogs -------------------------------------------------------------

// Catalog collects validated rows by document key and compiles them; it
// starts with the channels and placements the tests use.
class Catalog : public kaireon::test_support::CatalogRows<Catalog> {
public:
    Catalog() {
        add("channels", R"J({"id": "web", "type": "web"})J");
        add("channels", R"J({"id": "email", "type": "email"})J");
        add("channels", R"J({"id": "sms", "type": "sms"})J");
        add("channels", R"J({"id": "push", "type": "push"})J");
        add("channels", R"J({"id": "app", "type": "mobile"})J");
        add("channels", R"J({"id": "mail", "type": "direct_mail"})J");
        add("channels", R"J({"id": "call", "type": "call_center"})J");
        add("placements", R"J({"id": "hero", "channelId": "web"})J");
        add("placements", R"J({"id": "side", "channelId": "web", "slots": 3})J");
        add("placements", R"J({"id": "inbox", "channelId": "email"})J");
    }

    // web_offer adds an offer with one creative "<id>-web" on channel web.
    Catalog& web_offer(const std::string& id, Json fields = Json::object()) {
        offer(id, std::move(fields));
        return creative(id + "-web", id, "web");
    }
    Catalog& flow_json(const Json& object) { return add_json("flows", object); }
    Catalog& flow(std::string_view text) { return add("flows", text); }
    Catalog& model(std::string_view text) { return add("models", text); }

};

// ---- running the pipeline -------------------------------------------------------------

Request request(const std::string& flow, const Json& extra = Json::object()) {
    Json r = {{"customerId", "c1"}, {"flow", flow}};
    for (const auto& [k, v] : extra.items()) r[k] = v;
    return parse_request(r);
}

CustomerView customer(const Json& attributes = Json::object(), std::vector<std::string> segments = {},
                      std::map<std::string, bool, std::less<>> consents = {}) {
    CustomerView view;
    view.customer.id = "c1";
    view.customer.attributes = attributes;
    view.customer.segments = std::move(segments);
    view.consents = std::move(consents);
    return view;
}

// Decide is one call of decision::run with defaults for everything not given.
struct Decide {
    const catalog::CompiledCatalog& catalog;
    std::string flow_id = "f";
    Json extra = Json::object();  // request fields
    CustomerView view = customer();
    const PolicyGate* gate = nullptr;
    double now = kNow;
    bool traced = true;
    Clock clock = nullptr;

    Outcome operator()() const {
        auto it = catalog.flows.find(flow_id);
        if (it == catalog.flows.end()) throw std::logic_error("no flow " + flow_id);
        return run(catalog, it->second, request(flow_id, extra), view, gate, now, traced, clock);
    }
};

std::vector<std::string> ids(const Outcome& o) {
    std::vector<std::string> out;
    for (const auto& c : o.offers) out.push_back(c.offer_id);
    return out;
}

const StageTrace& stage(const Outcome& o, std::string_view name) {
    for (const auto& s : o.stages)
        if (s.stage == name) return s;
    throw std::logic_error("no stage " + std::string(name));
}

// removed returns the removals of a stage as "offer: reason".
std::vector<std::string> removed(const Outcome& o, std::string_view name) {
    std::vector<std::string> out;
    for (const auto& [id, reason] : stage(o, name).removed) out.push_back(id + ": " + reason);
    return out;
}

const Chosen& chosen(const Outcome& o, std::string_view id) {
    for (const auto& c : o.offers)
        if (c.offer_id == id) return c;
    throw std::logic_error("offer not chosen: " + std::string(id));
}

// dump renders everything of an outcome, for comparisons.
std::string dump(const Outcome& o) {
    std::ostringstream s;
    s.precision(17);
    s << "limit " << o.limit << "\n";
    for (const auto& c : o.offers)
        s << c.rank << " " << c.offer_id << " " << c.creative_id << " " << c.placement << " " << c.category << " "
          << c.score << " " << (c.propensity ? std::to_string(*c.propensity) : "null") << " " << c.value << "\n";
    for (const auto& st : o.stages) {
        s << st.stage << " " << st.in << " " << st.out << " " << st.nanos << "\n";
        for (const auto& [id, reason] : st.removed) s << "  " << id << ": " << reason << "\n";
    }
    return s.str();
}

// The fake clock: call k returns 1000 x (k/2 + 1), plus 10 x (k/2 + 1)^2 for
// odd k, so stage i (begin, end) lasts 10 x (i + 1)^2 ns: 10, 40, 90, ...
int g_clock_calls = 0;
int64_t fake_clock() {
    int64_t k = g_clock_calls++;
    int64_t i = k / 2;
    return 1000 * (i + 1) + (k % 2 == 1 ? 10 * (i + 1) * (i + 1) : 0);
}

// ---- 1. candidates --------------------------------------------------------------------

TEST(PipelineCandidates, OnlyActiveOffers) {
    Catalog c;
    c.web_offer("a").web_offer("d", {{"status", "draft"}}).web_offer("p", {{"status", "paused"}});
    c.web_offer("r", {{"status", "retired"}}).web_offer("x", {{"status", "active"}});
    c.flow(R"J({"id": "f", "channelId": "web"})J");
    auto cat = c.build();
    Outcome o = Decide{cat}();
    EXPECT_THAT(ids(o), ElementsAre("a", "x"));
    EXPECT_THAT(removed(o, "candidates"),
                ElementsAre("d: status is draft", "p: status is paused", "r: status is retired"));
    EXPECT_EQ(stage(o, "candidates").in, 5u);
    EXPECT_EQ(stage(o, "candidates").out, 2u);
}

TEST(PipelineCandidates, DateWindowStartInclusiveEndExclusive) {
    Catalog c;
    c.web_offer("early", {{"startAt", "2026-01-01T00:00:01Z"}});
    c.web_offer("starting", {{"startAt", "2026-01-01T00:00:00Z"}});
    c.web_offer("ending", {{"startAt", "2025-12-01T00:00:00Z"}, {"endAt", "2026-01-01T00:00:00Z"}});
    c.web_offer("open", {{"startAt", "2025-12-01T00:00:00Z"}, {"endAt", "2026-01-01T00:00:01Z"}});
    c.web_offer("past", {{"startAt", "2025-01-01T00:00:00Z"}, {"endAt", "2025-06-01T12:30:00Z"}});
    c.web_offer("zoned", {{"startAt", "2026-01-01T01:00:00+01:00"}});  // = kNow, so inside
    c.flow(R"J({"id": "f", "channelId": "web"})J");
    auto cat = c.build();
    Outcome o = Decide{cat}();
    EXPECT_THAT(ids(o), ElementsAre("open", "starting", "zoned"));
    EXPECT_THAT(removed(o, "candidates"),
                ElementsAre("early: starts at " + catalog::format_timestamp(kNow + 1),
                            "ending: ended at " + catalog::format_timestamp(kNow),
                            "past: ended at " + catalog::format_timestamp(kNow - 214 * 86400 + 12.5 * 3600)));
    // The reasons read as the document writes timestamps.
    EXPECT_EQ(stage(o, "candidates").removed.at(0).second, "starts at 2026-01-01T00:00:01Z");
    EXPECT_EQ(stage(o, "candidates").removed.at(2).second, "ended at 2025-06-01T12:30:00Z");

    // One second later "early" starts and "open" has ended.
    Outcome later = Decide{cat, "f", Json::object(), customer(), nullptr, kNow + 1}();
    EXPECT_THAT(ids(later), ElementsAre("early", "starting", "zoned"));
}

TEST(PipelineCandidates, DateWindowWithFractionsOfSeconds) {
    Catalog c;
    c.web_offer("half", {{"startAt", "2026-01-01T00:00:00.5Z"}, {"endAt", "2026-01-01T00:00:01.25Z"}});
    c.flow(R"J({"id": "f", "channelId": "web"})J");
    auto cat = c.build();
    auto at = [&](double now) { return Decide{cat, "f", Json::object(), customer(), nullptr, now}(); };
    EXPECT_THAT(removed(at(kNow + 0.25), "candidates"), ElementsAre("half: starts at 2026-01-01T00:00:00.5Z"));
    EXPECT_THAT(ids(at(kNow + 0.5)), ElementsAre("half"));
    EXPECT_THAT(ids(at(kNow + 1.24)), ElementsAre("half"));
    EXPECT_THAT(removed(at(kNow + 1.25), "candidates"), ElementsAre("half: ended at 2026-01-01T00:00:01.25Z"));
}

TEST(PipelineCandidates, ExcludedByTheRequest) {
    Catalog c;
    c.web_offer("a").web_offer("b").web_offer("c").web_offer("d", {{"status", "paused"}});
    c.flow(R"J({"id": "f", "channelId": "web"})J");
    auto cat = c.build();
    Outcome o = Decide{cat, "f", {{"excludeOffers", {"b", "d", "unknown"}}}}();
    EXPECT_THAT(ids(o), ElementsAre("a", "c"));
    // Status is checked first: the paused offer says so.
    EXPECT_THAT(removed(o, "candidates"), ElementsAre("b: excluded by the request", "d: status is paused"));
}

TEST(PipelineCandidates, CreativeForTheFlowsChannelOrTheRequests) {
    Catalog c;
    c.web_offer("w");
    c.offer("e").creative("e-mail", "e", "email");
    c.offer("n");  // no creative at all
    c.flow(R"J({"id": "f", "channelId": "web"})J");
    c.flow(R"J({"id": "any"})J");
    auto cat = c.build();
    CustomerView view = customer({}, {}, {{"email", true}});

    Outcome o = Decide{cat, "f", Json::object(), view}();
    EXPECT_THAT(ids(o), ElementsAre("w"));
    EXPECT_EQ(o.offers.at(0).creative_id, "w-web");
    EXPECT_THAT(removed(o, "candidates"), ElementsAre("e: no creative for channel web", "n: no creative for channel web"));

    // The request's channel replaces the flow's.
    o = Decide{cat, "f", {{"channel", "email"}}, view}();
    EXPECT_THAT(ids(o), ElementsAre("e"));
    EXPECT_EQ(o.offers.at(0).creative_id, "e-mail");
    EXPECT_THAT(removed(o, "candidates"),
                ElementsAre("n: no creative for channel email", "w: no creative for channel email"));

    // Neither names a channel: any creative will do.
    o = Decide{cat, "any", Json::object(), view}();
    EXPECT_THAT(ids(o), ElementsAre("e", "w"));
    EXPECT_THAT(removed(o, "candidates"), ElementsAre("n: no creative for any channel"));
}

TEST(PipelineCandidates, CreativeForThePlacement) {
    Catalog c;
    c.offer("h").creative("h-1", "h", "web", "hero");
    c.offer("s").creative("s-1", "s", "web", "side");
    c.offer("x").creative("x-1", "x", "web");
    c.flow(R"J({"id": "f", "channelId": "web", "placementId": "hero"})J");
    c.flow(R"J({"id": "p", "placementId": "hero"})J");
    c.flow(R"J({"id": "w", "channelId": "web"})J");
    auto cat = c.build();

    Outcome o = Decide{cat, "f"}();
    EXPECT_THAT(ids(o), ElementsAre("h"));
    EXPECT_EQ(o.offers.at(0).placement, "hero");
    EXPECT_EQ(o.offers.at(0).creative_id, "h-1");
    EXPECT_THAT(removed(o, "candidates"), ElementsAre("s: no creative for channel web and placement hero",
                                                      "x: no creative for channel web and placement hero"));
    // The request's placement replaces the flow's.
    o = Decide{cat, "f", {{"placement", "side"}}}();
    EXPECT_THAT(ids(o), ElementsAre("s"));
    EXPECT_EQ(o.offers.at(0).placement, "side");
    // A placement without a channel.
    o = Decide{cat, "p"}();
    EXPECT_THAT(removed(o, "candidates"),
                ElementsAre("s: no creative for placement hero", "x: no creative for placement hero"));
    // No placement: creatives with or without one fit; the answer's placement is the creative's.
    o = Decide{cat, "w"}();
    EXPECT_THAT(ids(o), ElementsAre("h", "s", "x"));
    EXPECT_EQ(chosen(o, "h").placement, "hero");
    EXPECT_EQ(chosen(o, "x").placement, "");
}

// The candidates stage reads the creatives' places (numbers), not their
// strings: the numbers stand for the same ids, and decide the same.
TEST(PipelineCandidates, CreativePlacesNumberTheIds) {
    Catalog c;
    c.offer("a").creative("a-1", "a", "email").creative("a-2", "a", "web", "side").creative("a-3", "a", "web", "hero");
    c.offer("b").creative("b-1", "b", "web");
    c.offer("n");  // no creative
    c.flow(R"J({"id": "f", "channelId": "web", "placementId": "hero"})J");
    c.flow(R"J({"id": "i", "channelId": "email", "placementId": "inbox"})J");
    auto cat = c.build();

    ASSERT_EQ(cat.creative_places.size(), 4u);
    EXPECT_EQ(cat.place_number(""), 0u);
    EXPECT_EQ(cat.place_number("inbox"), catalog::CompiledCatalog::kUnplaced);  // no creative names it
    EXPECT_NE(cat.place_number("web"), cat.place_number("email"));
    for (const auto& offer : cat.offers) {
        auto places = cat.places(offer);
        ASSERT_EQ(places.size(), offer.creatives.size()) << offer.id;
        for (size_t i = 0; i < places.size(); ++i) {
            EXPECT_EQ(places[i].channel, cat.place_number(offer.creatives[i].channel_id)) << offer.creatives[i].id;
            EXPECT_EQ(places[i].placement, cat.place_number(offer.creatives[i].placement_id)) << offer.creatives[i].id;
        }
    }
    // Only the catalog's own offers have places there.
    const catalog::CompiledOffer copy = *cat.offer("a");
    EXPECT_TRUE(cat.places(copy).empty());

    // a's first creative fitting web and hero is its third.
    Outcome o = Decide{cat, "f"}();
    EXPECT_THAT(ids(o), ElementsAre("a"));
    EXPECT_EQ(o.offers.at(0).creative_id, "a-3");
    // A placement no creative names fits none.
    o = Decide{cat, "i"}();
    EXPECT_THAT(ids(o), IsEmpty());
    EXPECT_THAT(removed(o, "candidates"), ElementsAre("a: no creative for channel email and placement inbox",
                                                      "b: no creative for channel email and placement inbox",
                                                      "n: no creative for channel email and placement inbox"));
    // The request's channel: one only some creatives name, then one none does.
    o = Decide{cat, "f", {{"channel", "email"}, {"placement", "side"}}}();
    EXPECT_THAT(ids(o), IsEmpty());
    o = Decide{cat, "i", {{"channel", "web"}, {"placement", "side"}}}();
    EXPECT_THAT(ids(o), ElementsAre("a"));
    EXPECT_EQ(o.offers.at(0).creative_id, "a-2");
    o = Decide{cat, "i", {{"channel", "sms"}}}();
    EXPECT_THAT(ids(o), IsEmpty());
}

TEST(PipelineCandidates, TheFirstFittingCreativeById) {
    Catalog c;
    c.offer("o");
    c.creative("o-2", "o", "web").creative("o-1", "o", "web").creative("o-0", "o", "email");
    c.flow(R"J({"id": "f", "channelId": "web"})J");
    auto cat = c.build();
    Outcome o = Decide{cat}();
    ASSERT_THAT(ids(o), ElementsAre("o"));
    EXPECT_EQ(o.offers.at(0).creative_id, "o-1");
}

TEST(PipelineCandidates, ChosenCarriesTheOffersFields) {
    Catalog c;
    c.add("categories", R"J({"id": "cards"})J");
    c.offer("gold", {{"categoryId", "cards"}, {"priority", 80}, {"value", 120.5}});
    c.creative("gold-hero", "gold", "web", "hero");
    c.web_offer("plain");
    c.flow(R"J({"id": "f", "channelId": "web"})J");
    auto cat = c.build();
    Outcome o = Decide{cat}();
    ASSERT_EQ(o.offers.size(), 2u);
    const Chosen& g = o.offers.at(0);
    EXPECT_EQ(g.rank, 1);
    EXPECT_EQ(g.offer_id, "gold");
    EXPECT_EQ(g.creative_id, "gold-hero");
    EXPECT_EQ(g.placement, "hero");
    EXPECT_EQ(g.category, "cards");
    EXPECT_DOUBLE_EQ(g.score, 0.8);
    EXPECT_FALSE(g.propensity.has_value());
    EXPECT_EQ(g.value, 120.5);
    const Chosen& p = o.offers.at(1);
    EXPECT_EQ(p.rank, 2);
    EXPECT_EQ(p.category, "");
    EXPECT_EQ(p.value, 0);
    EXPECT_DOUBLE_EQ(p.score, 0.5);  // default priority 50
}

// ---- 2. qualification -------------------------------------------------------------------

TEST(PipelineQualification, FalseFlowEligibilityRemovesEveryCandidate) {
    Catalog c;
    c.web_offer("a").web_offer("b").web_offer("d", {{"status", "draft"}});
    c.flow(R"J({"id": "f", "channelId": "web", "eligibility": "context.hour < 12 and customer.age >= 18"})J");
    auto cat = c.build();
    CustomerView adult = customer({{"age", 30}});

    Outcome o = Decide{cat, "f", {{"context", {{"hour", 15}}}}, adult}();
    EXPECT_THAT(ids(o), IsEmpty());
    EXPECT_THAT(removed(o, "qualification"),
                ElementsAre("a: flow eligibility is false: context.hour < 12 and customer.age >= 18",
                            "b: flow eligibility is false: context.hour < 12 and customer.age >= 18"));
    EXPECT_EQ(stage(o, "qualification").in, 2u);
    EXPECT_EQ(stage(o, "qualification").out, 0u);
    EXPECT_EQ(stage(o, "placement").in, 0u);

    o = Decide{cat, "f", {{"context", {{"hour", 9}}}}, adult}();
    EXPECT_THAT(ids(o), ElementsAre("a", "b"));
    EXPECT_THAT(removed(o, "qualification"), IsEmpty());

    // A missing attribute is null and the comparison false.
    o = Decide{cat, "f", {{"context", {{"hour", 9}}}}, customer()}();
    EXPECT_THAT(ids(o), IsEmpty());
}

TEST(PipelineQualification, OfferEligibility) {
    Catalog c;
    c.web_offer("adult", {{"eligibility", "customer.age >= 18"}});
    c.web_offer("gold", {{"eligibility", "has_segment('gold')"}});
    c.web_offer("mobile", {{"eligibility", "context.device = 'mobile'"}});
    c.web_offer("rich", {{"value", 150}, {"eligibility", "offer.value > 100"}});
    c.web_offer("cheap", {{"value", 50}, {"eligibility", "offer.value > 100"}});
    c.web_offer("tiered", {{"attributes", {{"tier", "premium"}}}, {"eligibility", "offer.tier = 'premium'"}});
    c.web_offer("me", {{"eligibility", "customer.id = 'c1'"}});
    c.web_offer("plain");
    c.flow(R"J({"id": "f", "channelId": "web"})J");
    auto cat = c.build();

    Outcome o = Decide{cat, "f", {{"context", {{"device", "desktop"}}}}, customer({{"age", 20}}, {"silver"})}();
    EXPECT_THAT(ids(o), ElementsAre("adult", "me", "plain", "rich", "tiered"));
    EXPECT_THAT(removed(o, "qualification"),
                ElementsAre("cheap: eligibility is false: offer.value > 100",
                            "gold: eligibility is false: has_segment('gold')",
                            "mobile: eligibility is false: context.device = 'mobile'"));

    o = Decide{cat, "f", {{"context", {{"device", "mobile"}}}, {"limit", 10}}, customer({{"age", 17}}, {"gold"})}();
    EXPECT_THAT(ids(o), ElementsAre("gold", "me", "mobile", "plain", "rich", "tiered"));
    EXPECT_THAT(removed(o, "qualification"),
                ElementsAre("adult: eligibility is false: customer.age >= 18",
                            "cheap: eligibility is false: offer.value > 100"));
}

// ---- 3. consent ------------------------------------------------------------------------

TEST(PipelineConsent, WhichChannelTypesNeedAnOptIn) {
    EXPECT_TRUE(consent_required("email"));
    EXPECT_TRUE(consent_required("sms"));
    EXPECT_TRUE(consent_required("push"));
    EXPECT_FALSE(consent_required("web"));
    EXPECT_FALSE(consent_required("mobile"));
    EXPECT_FALSE(consent_required("direct_mail"));
    EXPECT_FALSE(consent_required("call_center"));
    EXPECT_FALSE(consent_required(""));
}

Catalog consent_catalog() {
    Catalog c;
    for (const char* ch : {"web", "email", "sms", "push", "app", "mail", "call"}) {
        std::string id = std::string("o-") + ch;
        c.offer(id).creative(id + "-c", id, ch);
    }
    c.flow(R"J({"id": "f"})J");
    return c;
}

TEST(PipelineConsent, EmailSmsPushNeedAGrant) {
    auto cat = consent_catalog().build();
    Outcome o = Decide{cat, "f", Json::object(), customer()}();
    EXPECT_THAT(ids(o), ElementsAre("o-app", "o-call", "o-mail", "o-web"));
    EXPECT_THAT(removed(o, "consent"), ElementsAre("o-email: no consent for channel email (email needs an opt-in)",
                                                   "o-push: no consent for channel push (push needs an opt-in)",
                                                   "o-sms: no consent for channel sms (sms needs an opt-in)"));
    EXPECT_EQ(stage(o, "consent").in, 7u);
    EXPECT_EQ(stage(o, "consent").out, 4u);
}

TEST(PipelineConsent, GrantsAndRefusals) {
    auto cat = consent_catalog().build();
    Outcome o = Decide{cat, "f", Json::object(),
                    customer({}, {}, {{"email", true}, {"sms", false}, {"web", false}, {"push", true}})}();
    EXPECT_THAT(ids(o), ElementsAre("o-app", "o-call", "o-email", "o-mail", "o-push"));
    EXPECT_THAT(removed(o, "consent"),
                ElementsAre("o-sms: consent refused for channel sms", "o-web: consent refused for channel web"));
}

TEST(PipelineConsent, AChannelWithoutAKnownTypeOnlyNeedsNoRefusal) {
    Catalog c;
    c.offer("o").creative("o-c", "o", "kiosk");  // a channel the catalog does not list
    c.flow(R"J({"id": "f"})J");
    auto cat = c.build();
    EXPECT_THAT(ids(Decide{cat}()), ElementsAre("o"));
    Outcome o = Decide{cat, "f", Json::object(), customer({}, {}, {{"kiosk", false}})}();
    EXPECT_THAT(removed(o, "consent"), ElementsAre("o: consent refused for channel kiosk"));
}

// ---- 4. the PolicyGate seam -----------------------------------------------------------------

class FakeGate final : public PolicyGate {
public:
    std::map<std::string, std::string> blocked;  // offer id -> reason
    mutable std::vector<std::string> calls;      // "offer/creative/customer"

    GateVerdict judge(const catalog::CompiledOffer& offer, const catalog::CompiledCreative& creative,
                      const CustomerView& view) const override {
        calls.push_back(offer.id + "/" + creative.id + "/" + view.customer.id);
        auto it = blocked.find(offer.id);
        if (it == blocked.end()) return {};
        return {it->second, {}};
    }
};

TEST(PipelinePolicyGate, AGateBlocksAnOfferWithItsReason) {
    Catalog c;
    c.web_offer("a").web_offer("b").web_offer("c", {{"priority", 90}});
    c.offer("e").creative("e-mail", "e", "email");  // no consent: never reaches the gate
    c.web_offer("q", {{"eligibility", "false"}});     // never reaches the gate
    c.flow(R"J({"id": "f"})J");
    auto cat = c.build();
    FakeGate gate;
    gate.blocked["b"] = "frequency_cap exceeded: 3/day at scope=global";
    Outcome o = Decide{cat, "f", Json::object(), customer(), &gate}();
    EXPECT_THAT(ids(o), ElementsAre("c", "a"));
    EXPECT_THAT(removed(o, "policies"), ElementsAre("b: frequency_cap exceeded: 3/day at scope=global"));
    EXPECT_EQ(stage(o, "policies").in, 3u);
    EXPECT_EQ(stage(o, "policies").out, 2u);
    EXPECT_THAT(gate.calls, ElementsAre("a/a-web/c1", "b/b-web/c1", "c/c-web/c1"));
}

TEST(PipelinePolicyGate, WithoutAGateNothingIsBlocked) {
    Catalog c;
    c.web_offer("a").web_offer("b");
    c.flow(R"J({"id": "f"})J");
    auto cat = c.build();
    Outcome o = Decide{cat}();
    EXPECT_THAT(ids(o), ElementsAre("a", "b"));
    EXPECT_EQ(stage(o, "policies").in, 2u);
    EXPECT_EQ(stage(o, "policies").out, 2u);
    EXPECT_THAT(removed(o, "policies"), IsEmpty());
}

// ---- 5. scoring ------------------------------------------------------------------------

TEST(PipelineScoring, WithoutAModelScoreIsPriorityOverAHundred) {
    Catalog c;
    c.web_offer("low", {{"priority", 37}}).web_offer("high", {{"priority", 80}}).web_offer("mid");
    c.web_offer("zero", {{"priority", 0}}).web_offer("top", {{"priority", 100}});
    c.flow(R"J({"id": "f"})J");
    auto cat = c.build();
    Outcome o = Decide{cat}();
    EXPECT_THAT(ids(o), ElementsAre("top", "high", "mid", "low", "zero"));
    EXPECT_DOUBLE_EQ(chosen(o, "top").score, 1.0);
    EXPECT_DOUBLE_EQ(chosen(o, "high").score, 0.8);
    EXPECT_DOUBLE_EQ(chosen(o, "mid").score, 0.5);
    EXPECT_DOUBLE_EQ(chosen(o, "low").score, 0.37);
    EXPECT_EQ(chosen(o, "zero").score, 0.0);
    for (const auto& ch : o.offers) EXPECT_FALSE(ch.propensity.has_value()) << ch.offer_id;
}

TEST(PipelineScoring, LinearScorecard) {
    Catalog c;
    c.model(R"J({"id": "m", "type": "scorecard", "definition": {"base": 0.1, "factor": 2, "rules": [
        {"when": "customer.age >= 30", "points": 0.2},
        {"when": "offer.value > 100", "points": 0.15},
        {"when": "context.device = 'mobile'", "points": 0.05},
        {"when": "has_segment('gold')", "points": -0.3}]}})J");
    c.web_offer("big", {{"value", 200}}).web_offer("small", {{"value", 10}});
    c.flow(R"J({"id": "f", "modelId": "m"})J");
    auto cat = c.build();

    Outcome o = Decide{cat, "f", {{"context", {{"device", "desktop"}}}}, customer({{"age", 40}})}();
    EXPECT_THAT(ids(o), ElementsAre("big", "small"));
    EXPECT_NEAR(chosen(o, "big").score, 0.9, 1e-12);  // 2 x (0.1 + 0.2 + 0.15)
    EXPECT_NEAR(*chosen(o, "big").propensity, 0.9, 1e-12);
    EXPECT_NEAR(chosen(o, "small").score, 0.6, 1e-12);  // 2 x (0.1 + 0.2)
    EXPECT_NEAR(*chosen(o, "small").propensity, 0.6, 1e-12);

    // Every rule: 2 x (0.1 + 0.2 + 0.15 + 0.05 - 0.3) = 0.4 for big; 2 x (0.1 + 0.2 + 0.05 - 0.3) = 0.1.
    o = Decide{cat, "f", {{"context", {{"device", "mobile"}}}}, customer({{"age", 40}}, {"gold"})}();
    EXPECT_NEAR(chosen(o, "big").score, 0.4, 1e-12);
    EXPECT_NEAR(chosen(o, "small").score, 0.1, 1e-12);
}

// A rule about the customer is judged once per decision, but its points are
// added in the rules' order among the offer rules': (0.1 + 0.2) + 3 is 3.3,
// (0.1 + 3) + 0.2 is 3.3000000000000003 in doubles.
TEST(PipelineScoring, ScorecardAddsPointsInTheRulesOrder) {
    Catalog c;
    c.model(R"J({"id": "m", "type": "scorecard", "definition": {"base": 0.1, "rules": [
        {"when": "offer.value > 100", "points": 0.2},
        {"when": "customer.age >= 30", "points": 3},
        {"when": "customer.age >= 99", "points": 1000}]}})J");
    c.web_offer("big", {{"value", 200}}).web_offer("small", {{"value", 10}});
    c.flow(R"J({"id": "f", "modelId": "m"})J");
    auto cat = c.build();
    Outcome o = Decide{cat, "f", {}, customer({{"age", 40}})}();
    EXPECT_EQ(chosen(o, "big").score, (0.1 + 0.2) + 3.0);
    EXPECT_NE(chosen(o, "big").score, (0.1 + 3.0) + 0.2);
    EXPECT_EQ(chosen(o, "small").score, 0.1 + 3.0);
    o = Decide{cat, "f", {}, customer({{"age", 20}})}();
    EXPECT_EQ(chosen(o, "big").score, 0.1 + 0.2);
    EXPECT_EQ(chosen(o, "small").score, 0.1);
}

TEST(PipelineScoring, LinearPropensityIsClampedToZeroOne) {
    Catalog c;
    c.model(R"J({"id": "m", "type": "scorecard", "definition": {"base": 0.5, "factor": 3, "rules": [
        {"when": "offer.id = 'neg'", "points": -1}]}})J");
    c.web_offer("pos").web_offer("neg");
    c.flow(R"J({"id": "f", "modelId": "m"})J");
    auto cat = c.build();
    Outcome o = Decide{cat}();
    EXPECT_THAT(ids(o), ElementsAre("pos", "neg"));
    EXPECT_DOUBLE_EQ(chosen(o, "pos").score, 1.5);  // the score is not clamped
    EXPECT_EQ(*chosen(o, "pos").propensity, 1.0);
    EXPECT_DOUBLE_EQ(chosen(o, "neg").score, -1.5);
    EXPECT_EQ(*chosen(o, "neg").propensity, 0.0);
}

TEST(PipelineScoring, ScorecardDefaults) {
    Catalog c;
    c.model(R"J({"id": "m", "type": "scorecard", "definition": {}})J");
    c.model(R"J({"id": "r", "type": "scorecard", "definition": {"rules": [{"when": "true", "points": 0.25}]}})J");
    c.web_offer("a");
    c.flow(R"J({"id": "f", "modelId": "m"})J");
    c.flow(R"J({"id": "g", "modelId": "r"})J");
    auto cat = c.build();
    Outcome o = Decide{cat, "f"}();
    EXPECT_EQ(o.offers.at(0).score, 0.0);  // base 0, factor 1
    EXPECT_EQ(o.offers.at(0).propensity, std::optional<double>(0.0));
    o = Decide{cat, "g"}();
    EXPECT_DOUBLE_EQ(o.offers.at(0).score, 0.25);
    EXPECT_EQ(o.offers.at(0).propensity, std::optional<double>(0.25));
}

TEST(PipelineScoring, LogisticScorecard) {
    Catalog c;
    c.model(R"J({"id": "m", "type": "scorecard", "definition": {"base": 1, "factor": 0.5, "scale": "logistic",
        "rules": [{"when": "offer.value >= 10", "points": 1}, {"when": "offer.value < 10", "points": -3}]}})J");
    c.web_offer("up", {{"value", 10}}).web_offer("down", {{"value", 5}});
    c.flow(R"J({"id": "f", "modelId": "m"})J");
    auto cat = c.build();
    Outcome o = Decide{cat}();
    EXPECT_THAT(ids(o), ElementsAre("up", "down"));
    // raw 2: 1 / (1 + e^-1); raw -2: 1 / (1 + e^1).
    EXPECT_NEAR(chosen(o, "up").score, 0.7310585786300049, 1e-15);
    EXPECT_NEAR(*chosen(o, "up").propensity, 0.7310585786300049, 1e-15);
    EXPECT_NEAR(chosen(o, "down").score, 0.2689414213699951, 1e-15);
    EXPECT_NEAR(*chosen(o, "down").propensity, 0.2689414213699951, 1e-15);
}

// The core scores bayesian models (no statistics: the prior mean) and
// refuses custom ones, which the database scores (src/pg/custom_scorer.cpp).
TEST(PipelineScoring, CustomAndUnknownModelsAreBadRequestsInTheCore) {
    Catalog c;
    c.model(R"J({"id": "bayes", "type": "bayesian", "definition": {"prior": {"alpha": 1, "beta": 2}}})J");
    c.model(R"J({"id": "custom", "type": "custom", "definition": {"function": "my_score"}})J");
    c.web_offer("a");
    c.flow(R"J({"id": "f", "modelId": "bayes"})J");
    c.flow(R"J({"id": "g", "modelId": "custom"})J");
    c.flow(R"J({"id": "u", "modelId": "ghost"})J");
    auto cat = c.build();
    Outcome bayes = Decide{cat, "f"}();
    ASSERT_EQ(bayes.offers.size(), 1u);
    EXPECT_DOUBLE_EQ(bayes.offers[0].score, 1.0 / 3.0);  // Beta(1, 2), no data
    ASSERT_TRUE(bayes.offers[0].propensity.has_value());
    EXPECT_DOUBLE_EQ(*bayes.offers[0].propensity, 1.0 / 3.0);
    try {
        Decide{cat, "g"}();
        ADD_FAILURE() << "no error for a custom model";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::BadRequest);
        EXPECT_STREQ(e.what(), "flow \"g\": models of type custom cannot score here");
        EXPECT_EQ(e.detail().value("type", std::string()), "custom");
        EXPECT_EQ(e.detail().value("modelId", std::string()), "custom");
    }
    try {
        Decide{cat, "u"}();
        ADD_FAILURE() << "no error for an unknown model";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::BadRequest);
        EXPECT_STREQ(e.what(), "flow \"u\" names the unknown model \"ghost\"");
    }
}

// FakeScorer scores by the offer's attribute "s" (null: 0) with propensity "p".
class FakeScorer final : public Scorer {
public:
    mutable std::vector<std::string> calls;
    Score score(const catalog::CompiledOffer& offer, const CustomerView& view, const Json& context,
                double now) const override {
        calls.push_back(offer.id + "/" + view.customer.id + "/" + context.dump() + "/" + std::to_string(static_cast<int64_t>(now)));
        const Json& a = offer.row["attributes"];
        Score s;
        s.score = a.contains("s") ? a["s"].get<double>() : 0;
        if (a.contains("inf")) s.score = std::numeric_limits<double>::infinity();
        if (a.contains("p")) s.propensity = a["p"].get<double>();
        if (a.contains("nanp")) s.propensity = std::numeric_limits<double>::quiet_NaN();
        return s;
    }
};

TEST(PipelineScoring, AnInjectedScorerReplacesTheFlowsModel) {
    Catalog c;
    c.model(R"J({"id": "bayes", "type": "bayesian", "definition": {}})J");
    c.web_offer("a", {{"attributes", {{"s", 0.2}, {"p", 0.7}}}});
    c.web_offer("b", {{"attributes", {{"s", 0.9}}}});
    c.web_offer("c", {{"attributes", {{"inf", true}}}});  // a score that is not finite counts as 0
    c.web_offer("q", {{"eligibility", "false"}});
    c.flow(R"J({"id": "f", "modelId": "bayes"})J");
    auto cat = c.build();
    FakeScorer scorer;
    const auto& flow = cat.flows.at("f");
    Outcome o = run(cat, flow, request("f", {{"context", {{"k", 1}}}}), customer(), nullptr, kNow, false, nullptr, &scorer);
    EXPECT_THAT(ids(o), ElementsAre("b", "a", "c"));
    EXPECT_DOUBLE_EQ(chosen(o, "b").score, 0.9);
    EXPECT_FALSE(chosen(o, "b").propensity.has_value());
    EXPECT_EQ(chosen(o, "a").propensity, std::optional<double>(0.7));
    EXPECT_EQ(chosen(o, "c").score, 0.0);
    // Only candidates are scored, with the customer, the context and now.
    EXPECT_THAT(scorer.calls, ElementsAre("a/c1/{\"k\":1}/1767225600", "b/c1/{\"k\":1}/1767225600",
                                          "c/c1/{\"k\":1}/1767225600"));
}

TEST(PipelineScoring, BuiltinScorer) {
    Catalog c;
    c.model(R"J({"id": "m", "type": "scorecard", "definition": {"base": 0.25, "factor": 2}})J");
    c.model(R"J({"id": "g", "type": "custom", "definition": {"function": "s.f"}})J");
    c.offer("o", {{"priority", 30}});
    auto cat = c.build();
    const auto& offer = cat.offers.at(0);
    Score s = builtin_scorer(nullptr, "f")->score(offer, customer(), Json::object(), kNow);
    EXPECT_DOUBLE_EQ(s.score, 0.3);
    EXPECT_FALSE(s.propensity.has_value());
    s = builtin_scorer(&cat.models.at("m"), "f")->score(offer, customer(), Json::object(), kNow);
    EXPECT_DOUBLE_EQ(s.score, 0.5);
    EXPECT_EQ(s.propensity, std::optional<double>(0.5));
    try {
        builtin_scorer(&cat.models.at("g"), "home");
        ADD_FAILURE() << "no error for a custom model";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::BadRequest);
        EXPECT_STREQ(e.what(), "flow \"home\": models of type custom cannot score here");
        EXPECT_EQ(e.detail().value("flow", std::string()), "home");
        EXPECT_EQ(e.detail().value("modelId", std::string()), "g");
    }
}

// ---- 6. ranking -------------------------------------------------------------------------

TEST(PipelineRanking, TopNTiesByPriorityThenOfferId) {
    Catalog c;
    c.model(R"J({"id": "m", "type": "scorecard", "definition": {"base": 0.5, "rules": [
        {"when": "offer.id = 'd'", "points": 0.1}]}})J");
    c.web_offer("b").web_offer("a").web_offer("c", {{"priority", 70}}).web_offer("B").web_offer("d", {{"priority", 0}});
    c.flow(R"J({"id": "f", "modelId": "m"})J");
    auto cat = c.build();
    Outcome o = Decide{cat}();
    // d scores 0.6; the others tie at 0.5: c by priority, then B, a, b by id (bytewise: 'B' < 'a').
    EXPECT_THAT(ids(o), ElementsAre("d", "c", "B", "a", "b"));
    EXPECT_DOUBLE_EQ(chosen(o, "d").score, 0.6);
    EXPECT_DOUBLE_EQ(chosen(o, "b").score, 0.5);
}

TEST(PipelineRanking, TopNTakesTheBestN) {
    Catalog c;
    for (int i = 0; i < 8; ++i) c.web_offer("o" + std::to_string(i), {{"priority", 10 * ((i * 3) % 8)}});
    c.flow(R"J({"id": "f", "ranking": {"method": "top_n", "n": 3}})J");
    auto cat = c.build();
    Outcome o = Decide{cat}();
    // priorities: o0 0, o1 30, o2 60, o3 10, o4 40, o5 70, o6 20, o7 50
    EXPECT_THAT(ids(o), ElementsAre("o5", "o2", "o7"));
    EXPECT_EQ(o.offers.at(0).rank, 1);
    EXPECT_EQ(o.offers.at(2).rank, 3);
}

// Untraced and without a gate, ranking orders only the first `limit`
// candidates: the answer is the one a traced decision (which orders them all)
// gives, at every limit, with ties on score and on priority.
TEST(PipelineRanking, UntracedTopNIsTheFullOrdersHead) {
    Catalog c;
    c.model(R"J({"id": "m", "type": "scorecard", "definition": {"base": 0.1, "rules": [
        {"when": "offer.tier = 1", "points": 0.2}, {"when": "offer.tier = 2", "points": 0.4}]}})J");
    for (int i = 0; i < 40; ++i)
        c.web_offer("o" + std::to_string((i * 17) % 40),
                    {{"priority", 10 * (i % 3)}, {"attributes", {{"tier", i % 4}}}});
    c.flow(R"J({"id": "f", "modelId": "m"})J");
    auto cat = c.build();
    auto offers_only = [](Outcome o) {
        o.stages.clear();
        return dump(o);
    };
    for (int limit : {1, 2, 3, 5, 9, 13, 40, 50}) {
        const Json extra = {{"limit", limit}};
        const Outcome untraced = Decide{cat, "f", extra, customer(), nullptr, kNow, false}();
        const Outcome traced = Decide{cat, "f", extra, customer(), nullptr, kNow, true}();
        EXPECT_EQ(untraced.offers.size(), static_cast<size_t>(std::min(limit, 40))) << limit;
        EXPECT_EQ(offers_only(untraced), offers_only(traced)) << limit;
    }
}

// ---- arbitration ---------------------------------------------------------------------------

// An arbitration catalog: model m gives every offer propensity 0.5 (plus
// 0.4 for offers with attribute boost = true).
Catalog arbitration_catalog(const std::string& ranking) {
    Catalog c;
    c.model(R"J({"id": "m", "type": "scorecard", "definition": {"base": 0.5, "rules": [
        {"when": "offer.boost = true", "points": 0.4}]}})J");
    c.flow_json(json(R"J({"id": "f", "modelId": "m", "ranking": )J" + ranking + "}"));
    return c;
}

TEST(PipelineArbitration, ImpactIsValueOverTheLargestValueAmongCandidates) {
    Catalog c = arbitration_catalog(
        R"J({"method": "arbitration", "weights": {"propensity": 0, "relevance": 0, "impact": 1, "emphasis": 0}})J");
    c.web_offer("v200", {{"value", 200}}).web_offer("v50", {{"value", 50}}).web_offer("v0", {{"value", 0}});
    c.web_offer("v400", {{"value", 400}, {"eligibility", "context.all = true"}});
    auto cat = c.build();
    // v400 does not qualify: the largest value among the candidates is 200.
    Outcome o = Decide{cat}();
    EXPECT_THAT(ids(o), ElementsAre("v200", "v50", "v0"));
    EXPECT_DOUBLE_EQ(chosen(o, "v200").score, 1.0);
    EXPECT_DOUBLE_EQ(chosen(o, "v50").score, 0.25);
    EXPECT_EQ(chosen(o, "v0").score, 0.0);
    // The model's propensity is kept; the score is the arbitration's.
    EXPECT_EQ(chosen(o, "v50").propensity, std::optional<double>(0.5));
    // With v400 in, everything halves.
    o = Decide{cat, "f", {{"context", {{"all", true}}}}}();
    EXPECT_THAT(ids(o), ElementsAre("v400", "v200", "v50", "v0"));
    EXPECT_DOUBLE_EQ(chosen(o, "v200").score, 0.5);
    EXPECT_DOUBLE_EQ(chosen(o, "v50").score, 0.125);
}

TEST(PipelineArbitration, ImpactIsOneWhenEveryValueIsZero) {
    Catalog c = arbitration_catalog(
        R"J({"method": "arbitration", "weights": {"propensity": 0, "relevance": 0, "impact": 1, "emphasis": 0}})J");
    c.web_offer("b").web_offer("a").web_offer("c", {{"priority", 60}});
    auto cat = c.build();
    Outcome o = Decide{cat}();
    EXPECT_THAT(ids(o), ElementsAre("c", "a", "b"));  // equal scores: priority, then id
    for (const auto& ch : o.offers) EXPECT_EQ(ch.score, 1.0) << ch.offer_id;
}

TEST(PipelineArbitration, RelevanceExpressionPerOfferNullIsOne) {
    Catalog c = arbitration_catalog(
        R"J({"method": "arbitration", "relevance": "offer.rel * context.k",
            "weights": {"propensity": 0, "relevance": 1, "impact": 0, "emphasis": 0}})J");
    c.web_offer("r3", {{"attributes", {{"rel", 0.3}}}}).web_offer("r7", {{"attributes", {{"rel", 0.7}}}});
    c.web_offer("none").web_offer("text", {{"attributes", {{"rel", "high"}}}});
    c.web_offer("neg", {{"attributes", {{"rel", -1}}}});
    auto cat = c.build();
    Outcome o = Decide{cat, "f", {{"context", {{"k", 2}}}}}();
    EXPECT_THAT(ids(o), ElementsAre("r7", "none", "text", "r3", "neg"));
    EXPECT_DOUBLE_EQ(chosen(o, "r7").score, 1.4);
    EXPECT_DOUBLE_EQ(chosen(o, "r3").score, 0.6);
    EXPECT_EQ(chosen(o, "none").score, 1.0);  // null relevance: 1
    EXPECT_EQ(chosen(o, "text").score, 1.0);  // 'high' * 2 is null
    EXPECT_EQ(chosen(o, "neg").score, 0.0);   // negative clamps to 0
    // Without the context value every relevance is null: 1.
    o = Decide{cat}();
    for (const auto& ch : o.offers) EXPECT_EQ(ch.score, 1.0) << ch.offer_id;
}

TEST(PipelineArbitration, EmphasisIsTheLever) {
    Catalog c = arbitration_catalog(
        R"J({"method": "arbitration", "weights": {"propensity": 0, "relevance": 0, "impact": 0, "emphasis": 1}})J");
    c.web_offer("l2", {{"lever", 0.2}}).web_offer("l9", {{"lever", 0.9}}).web_offer("ld");
    auto cat = c.build();
    Outcome o = Decide{cat}();
    EXPECT_THAT(ids(o), ElementsAre("ld", "l9", "l2"));
    EXPECT_EQ(chosen(o, "ld").score, 1.0);
    EXPECT_DOUBLE_EQ(chosen(o, "l9").score, 0.9);
    EXPECT_DOUBLE_EQ(chosen(o, "l2").score, 0.2);
}

TEST(PipelineArbitration, ContextWeightsByCategory) {
    Catalog c = arbitration_catalog(
        R"J({"method": "arbitration", "weights": {"propensity": 1, "relevance": 0, "impact": 0, "emphasis": 0},
            "contextWeights": {"cards": 2, "loans": 0.5}})J");
    c.add("categories", R"J({"id": "cards"})J").add("categories", R"J({"id": "loans"})J").add("categories", R"J({"id": "misc"})J");
    c.web_offer("card", {{"categoryId", "cards"}}).web_offer("loan", {{"categoryId", "loans"}});
    c.web_offer("misc", {{"categoryId", "misc"}}).web_offer("nocat");
    auto cat = c.build();
    Outcome o = Decide{cat}();
    EXPECT_THAT(ids(o), ElementsAre("card", "misc", "nocat", "loan"));
    EXPECT_DOUBLE_EQ(chosen(o, "card").score, 1.0);   // 0.5 x 2
    EXPECT_DOUBLE_EQ(chosen(o, "misc").score, 0.5);   // no weight: 1
    EXPECT_DOUBLE_EQ(chosen(o, "nocat").score, 0.5);
    EXPECT_DOUBLE_EQ(chosen(o, "loan").score, 0.25);  // 0.5 x 0.5
}

TEST(PipelineArbitration, DefaultWeightsHandComputed) {
    Catalog c = arbitration_catalog(R"J({"method": "arbitration", "contextWeights": {"cards": 1.5}})J");
    c.add("categories", R"J({"id": "cards"})J");
    // propensity 0.5, relevance 1, impact 80/100, lever 0.6.
    c.web_offer("a", {{"value", 80}, {"lever", 0.6}});
    c.web_offer("b", {{"value", 80}, {"lever", 0.6}, {"categoryId", "cards"}});
    c.web_offer("max", {{"value", 100}, {"attributes", {{"boost", true}}}});  // propensity 0.9, all else 1
    auto cat = c.build();
    Outcome o = Decide{cat}();
    EXPECT_THAT(ids(o), ElementsAre("b", "max", "a"));
    EXPECT_NEAR(chosen(o, "a").score, 0.6734884045425065, 1e-12);  // 0.5^0.4 x 0.8^0.3 x 0.6^0.1
    EXPECT_NEAR(chosen(o, "b").score, 1.0102326068137597, 1e-12);  // the same x 1.5
    EXPECT_NEAR(chosen(o, "max").score, 0.9587315155141833, 1e-12);  // 0.9^0.4
    EXPECT_NEAR(*chosen(o, "max").propensity, 0.9, 1e-12);
}

TEST(PipelineArbitration, ZeroPropensityPullsTheScoreToZero) {
    Catalog c;
    c.model(R"J({"id": "m", "type": "scorecard", "definition": {"base": 0, "rules": [
        {"when": "offer.id = 'a'", "points": 0.5}]}})J");
    c.flow(R"J({"id": "f", "modelId": "m", "ranking": {"method": "arbitration"}})J");
    c.web_offer("a", {{"value", 1}}).web_offer("b", {{"value", 1}, {"priority", 100}});
    auto cat = c.build();
    Outcome o = Decide{cat}();
    EXPECT_THAT(ids(o), ElementsAre("a", "b"));
    EXPECT_NEAR(chosen(o, "a").score, std::pow(0.5, 0.4), 1e-12);
    EXPECT_EQ(chosen(o, "b").score, 0.0);
}

// ---- 7. groups and placements ---------------------------------------------------------------

// Offers by priority o1 > o2 > ... with creatives for hero and/or side.
Catalog groups_catalog(const std::string& groups) {
    Catalog c;
    c.offer("o1", {{"priority", 90}}).creative("o1-h", "o1", "web", "hero").creative("o1-s", "o1", "web", "side");
    c.offer("o2", {{"priority", 80}}).creative("o2-s", "o2", "web", "side");
    c.offer("o3", {{"priority", 70}}).creative("o3-h", "o3", "web", "hero");
    c.offer("o4", {{"priority", 60}}).creative("o4-s", "o4", "web", "side");
    c.offer("o5", {{"priority", 50}}).creative("o5-s", "o5", "web", "side");
    c.offer("o6", {{"priority", 40}}).creative("o6-w", "o6", "web");  // no placement: fits no group
    c.flow_json(json(R"J({"id": "f", "channelId": "web", "groups": )J" + groups + "}"));
    return c;
}

TEST(PipelineGroups, FillEachPlacementInScoreOrder) {
    auto cat = groups_catalog(R"J([{"placementId": "hero", "slots": 1}, {"placementId": "side", "slots": 2}])J").build();
    Outcome o = Decide{cat}();
    ASSERT_THAT(ids(o), ElementsAre("o1", "o2", "o4"));
    EXPECT_EQ(o.offers.at(0).placement, "hero");
    EXPECT_EQ(o.offers.at(0).creative_id, "o1-h");
    EXPECT_EQ(o.offers.at(1).placement, "side");
    EXPECT_EQ(o.offers.at(1).creative_id, "o2-s");
    EXPECT_EQ(o.offers.at(2).placement, "side");
    EXPECT_EQ(o.offers.at(2).creative_id, "o4-s");
    EXPECT_EQ(o.offers.at(2).rank, 3);
    EXPECT_THAT(removed(o, "candidates"), ElementsAre("o6: no creative for channel web and placements hero, side"));
    EXPECT_THAT(removed(o, "placement"),
                ElementsAre("o3: no slot left in the flow's groups", "o5: no slot left in the flow's groups"));
    EXPECT_EQ(stage(o, "placement").in, 5u);
    EXPECT_EQ(stage(o, "placement").out, 3u);
}

TEST(PipelineGroups, AGroupWithoutPartialFillTakesNothingUnlessItFills) {
    // Only o1 and o3 fit hero: a hero group of 3 takes nothing, and o1 goes to side.
    auto cat =
        groups_catalog(R"J([{"placementId": "hero", "slots": 3, "allowPartial": false}, {"placementId": "side", "slots": 2}])J")
            .build();
    Outcome o = Decide{cat}();
    ASSERT_THAT(ids(o), ElementsAre("o1", "o2"));
    EXPECT_EQ(o.offers.at(0).placement, "side");
    EXPECT_EQ(o.offers.at(0).creative_id, "o1-s");
    EXPECT_EQ(o.offers.at(1).placement, "side");

    // Two slots fill.
    cat = groups_catalog(R"J([{"placementId": "hero", "slots": 2, "allowPartial": false}, {"placementId": "side", "slots": 2}])J")
              .build();
    o = Decide{cat}();
    ASSERT_THAT(ids(o), ElementsAre("o1", "o3", "o2", "o4"));
    EXPECT_EQ(o.offers.at(1).placement, "hero");
    EXPECT_EQ(o.offers.at(1).creative_id, "o3-h");

    // With partial fill allowed, hero takes what it can.
    cat = groups_catalog(R"J([{"placementId": "hero", "slots": 3, "allowPartial": true}, {"placementId": "side", "slots": 1}])J")
              .build();
    o = Decide{cat}();
    EXPECT_THAT(ids(o), ElementsAre("o1", "o3", "o2"));
}

TEST(PipelineGroups, TheLimitNeverSplitsAGroupWithoutPartialFill) {
    // SPEC 6.2 step 7: a group with allowPartial = false returns nothing unless all its slots fill;
    // with the limit 3, hero takes 2 and side (2 slots, no partial) cannot fill within the 1 left.
    Catalog c;
    for (int i = 1; i <= 4; ++i) {
        std::string id = "o" + std::to_string(i);
        c.offer(id, {{"priority", 100 - i}}).creative(id + "-h", id, "web", "hero").creative(id + "-s", id, "web", "side");
    }
    c.flow(R"J({"id": "strict", "channelId": "web", "groups": [{"placementId": "hero", "slots": 2},
        {"placementId": "side", "slots": 2, "allowPartial": false}]})J");
    c.flow(R"J({"id": "loose", "channelId": "web", "groups": [{"placementId": "hero", "slots": 2},
        {"placementId": "side", "slots": 2}]})J");
    auto cat = c.build();
    Outcome o = Decide{cat, "strict", {{"limit", 3}}}();
    EXPECT_EQ(o.limit, 3);
    ASSERT_THAT(ids(o), ElementsAre("o1", "o2"));
    EXPECT_EQ(o.offers.at(0).placement, "hero");
    EXPECT_EQ(o.offers.at(1).placement, "hero");
    EXPECT_THAT(removed(o, "placement"),
                ElementsAre("o3: no slot left in the flow's groups", "o4: no slot left in the flow's groups"));
    // With partial fill, side takes what the limit leaves and the rest is below the limit.
    o = Decide{cat, "loose", {{"limit", 3}}}();
    ASSERT_THAT(ids(o), ElementsAre("o1", "o2", "o3"));
    EXPECT_EQ(o.offers.at(2).placement, "side");
    EXPECT_EQ(o.offers.at(2).creative_id, "o3-s");
    EXPECT_THAT(removed(o, "placement"), ElementsAre("o4: below the limit of 3"));
    // Without a limit in the way, both groups fill.
    o = Decide{cat, "strict"}();
    EXPECT_THAT(ids(o), ElementsAre("o1", "o2", "o3", "o4"));
}

TEST(PipelineGroups, NoCreativeForAnyGroupPlacement) {
    Catalog c;
    c.offer("o").creative("o-w", "o", "web");
    c.flow(R"J({"id": "f", "groups": [{"placementId": "hero", "slots": 1}, {"placementId": "inbox", "slots": 1}]})J");
    auto cat = c.build();
    Outcome o = Decide{cat}();
    EXPECT_THAT(ids(o), IsEmpty());
    EXPECT_THAT(removed(o, "candidates"), ElementsAre("o: no creative for any channel and placements hero, inbox"));
}

// ---- the limit ------------------------------------------------------------------------------

Catalog seven_offers(const std::string& flow) {
    Catalog c;
    for (int i = 1; i <= 7; ++i) c.web_offer("o" + std::to_string(i), {{"priority", 100 - i}});
    c.flow_json(json(flow));
    return c;
}

TEST(PipelineLimit, DefaultIsFive) {
    auto cat = seven_offers(R"J({"id": "f"})J").build();
    Outcome o = Decide{cat}();
    EXPECT_EQ(o.limit, 5);
    EXPECT_THAT(ids(o), ElementsAre("o1", "o2", "o3", "o4", "o5"));
    EXPECT_THAT(removed(o, "placement"), ElementsAre("o6: below the limit of 5", "o7: below the limit of 5"));
}

TEST(PipelineLimit, FlowRankingN) {
    auto cat = seven_offers(R"J({"id": "f", "ranking": {"n": 3}})J").build();
    Outcome o = Decide{cat}();
    EXPECT_EQ(o.limit, 3);
    EXPECT_THAT(ids(o), ElementsAre("o1", "o2", "o3"));
    EXPECT_EQ(removed(o, "placement").size(), 4u);
    EXPECT_EQ(removed(o, "placement").at(0), "o4: below the limit of 3");
}

TEST(PipelineLimit, RequestLimitWins) {
    auto cat = seven_offers(R"J({"id": "f", "ranking": {"n": 3}})J").build();
    Outcome o = Decide{cat, "f", {{"limit", 2}}}();
    EXPECT_EQ(o.limit, 2);
    EXPECT_THAT(ids(o), ElementsAre("o1", "o2"));
    o = Decide{cat, "f", {{"limit", 6}}}();
    EXPECT_EQ(o.limit, 6);
    EXPECT_THAT(ids(o), ElementsAre("o1", "o2", "o3", "o4", "o5", "o6"));
    o = Decide{cat, "f", {{"limit", 50}}}();
    EXPECT_EQ(o.offers.size(), 7u);
    EXPECT_THAT(removed(o, "placement"), IsEmpty());
}

TEST(PipelineLimit, APlacementHoldsAtMostItsSlots) {
    Catalog c;
    for (int i = 1; i <= 4; ++i) {
        std::string id = "o" + std::to_string(i);
        c.offer(id, {{"priority", 100 - i}}).creative(id + "-h", id, "web", "hero").creative(id + "-s", id, "web", "side");
    }
    c.flow(R"J({"id": "f", "channelId": "web", "placementId": "hero"})J");  // hero: 1 slot
    c.flow(R"J({"id": "w", "channelId": "web"})J");
    auto cat = c.build();
    Outcome o = Decide{cat, "f"}();
    EXPECT_EQ(o.limit, 1);
    EXPECT_THAT(ids(o), ElementsAre("o1"));
    EXPECT_EQ(removed(o, "placement").at(0), "o2: below the limit of 1");
    // side has 3 slots: the limit is the smaller of the request's (or default) and the slots.
    o = Decide{cat, "w", {{"placement", "side"}}}();
    EXPECT_EQ(o.limit, 3);
    EXPECT_THAT(ids(o), ElementsAre("o1", "o2", "o3"));
    o = Decide{cat, "w", {{"placement", "side"}, {"limit", 2}}}();
    EXPECT_EQ(o.limit, 2);
    EXPECT_THAT(ids(o), ElementsAre("o1", "o2"));
    o = Decide{cat, "w"}();
    EXPECT_EQ(o.limit, 5);
    EXPECT_EQ(o.offers.size(), 4u);
}

TEST(PipelineCandidates, UnknownRequestChannelOrPlacementIsABadRequest) {
    Catalog c;
    c.web_offer("a");
    c.flow(R"J({"id": "f"})J");
    auto cat = c.build();
    try {
        Decide{cat, "f", {{"channel", "tv"}}}();
        ADD_FAILURE() << "no error for an unknown channel";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::BadRequest);
        EXPECT_STREQ(e.what(), "unknown channel \"tv\"");
        EXPECT_EQ(e.detail().value("path", std::string()), "channel");
    }
    try {
        Decide{cat, "f", {{"placement", "footer"}}}();
        ADD_FAILURE() << "no error for an unknown placement";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::BadRequest);
        EXPECT_STREQ(e.what(), "unknown placement \"footer\"");
        EXPECT_EQ(e.detail().value("path", std::string()), "placement");
    }
}

// ---- traces ---------------------------------------------------------------------------------

// A catalog where every stage removes something: limit 1.
Catalog trace_catalog() {
    Catalog c;
    c.web_offer("a", {{"priority", 90}});
    c.web_offer("b", {{"priority", 50}});
    c.web_offer("c", {{"priority", 40}});
    c.web_offer("d", {{"status", "draft"}});
    c.offer("e", {{"priority", 99}}).creative("e-mail", "e", "email");
    c.web_offer("g", {{"priority", 95}});
    c.web_offer("q", {{"eligibility", "has_segment('vip')"}});
    c.flow(R"J({"id": "f", "ranking": {"n": 1}})J");
    return c;
}

TEST(PipelineTrace, UntracedRecordsNothingAndReadsNoClock) {
    auto cat = trace_catalog().build();
    g_clock_calls = 0;
    Outcome o = Decide{cat, "f", Json::object(), customer(), nullptr, kNow, false, fake_clock}();
    EXPECT_THAT(o.stages, IsEmpty());
    EXPECT_EQ(g_clock_calls, 0);
    EXPECT_THAT(ids(o), ElementsAre("g"));
}

TEST(PipelineTrace, StagesInOrderWithCountsReasonsAndDurations) {
    auto cat = trace_catalog().build();
    FakeGate gate;
    gate.blocked["g"] = "cooldown: last impression 5h ago < 24h at scope=offer:g";
    g_clock_calls = 0;
    Outcome o = Decide{cat, "f", Json::object(), customer(), &gate, kNow, true, fake_clock}();
    EXPECT_THAT(ids(o), ElementsAre("a"));
    EXPECT_EQ(g_clock_calls, 14);

    std::vector<std::string> names;
    for (const auto& s : o.stages) names.push_back(s.stage);
    EXPECT_THAT(names, ElementsAre("candidates", "qualification", "consent", "policies", "scoring", "ranking", "placement"));

    std::vector<std::pair<size_t, size_t>> counts;
    std::vector<int64_t> nanos;
    for (const auto& s : o.stages) {
        counts.emplace_back(s.in, s.out);
        nanos.push_back(s.nanos);
    }
    using C = std::pair<size_t, size_t>;
    EXPECT_THAT(counts, ElementsAre(C{7, 6}, C{6, 5}, C{5, 4}, C{4, 3}, C{3, 3}, C{3, 3}, C{3, 1}));
    EXPECT_THAT(nanos, ElementsAre(10, 40, 90, 160, 250, 360, 490));

    EXPECT_THAT(removed(o, "candidates"), ElementsAre("d: status is draft"));
    EXPECT_THAT(removed(o, "qualification"), ElementsAre("q: eligibility is false: has_segment('vip')"));
    EXPECT_THAT(removed(o, "consent"), ElementsAre("e: no consent for channel email (email needs an opt-in)"));
    EXPECT_THAT(removed(o, "policies"), ElementsAre("g: cooldown: last impression 5h ago < 24h at scope=offer:g"));
    EXPECT_THAT(removed(o, "scoring"), IsEmpty());
    EXPECT_THAT(removed(o, "ranking"), IsEmpty());
    EXPECT_THAT(removed(o, "placement"), ElementsAre("b: below the limit of 1", "c: below the limit of 1"));
}

TEST(PipelineTrace, TracedAndUntracedDecideAlike) {
    auto cat = trace_catalog().build();
    Outcome traced = Decide{cat, "f", {{"limit", 4}}, customer({}, {"vip"}), nullptr, kNow, true}();
    Outcome untraced = Decide{cat, "f", {{"limit", 4}}, customer({}, {"vip"}), nullptr, kNow, false}();
    EXPECT_THAT(ids(traced), ElementsAre("g", "a", "b", "q"));
    EXPECT_EQ(ids(traced), ids(untraced));
    EXPECT_FALSE(traced.stages.empty());
    EXPECT_TRUE(untraced.stages.empty());
}

// ---- determinism -----------------------------------------------------------------------

Catalog busy_catalog(bool reversed) {
    Catalog c;
    c.model(R"J({"id": "m", "type": "scorecard", "definition": {"base": 0.2, "rules": [
        {"when": "customer.age >= 30", "points": 0.3}, {"when": "offer.value > 50", "points": 0.2},
        {"when": "has_segment('gold')", "points": 0.1}]}})J");
    c.add("categories", R"J({"id": "k0"})J").add("categories", R"J({"id": "k1"})J").add("categories", R"J({"id": "k2"})J");
    c.flow(R"J({"id": "f", "modelId": "m", "ranking": {"method": "arbitration", "n": 6,
        "relevance": "coalesce(offer.rel, 0.5)", "contextWeights": {"k1": 1.2}}})J");
    std::vector<int> order;
    for (int i = 0; i < 30; ++i) order.push_back(reversed ? 29 - i : i);
    for (int i : order) {
        std::string id = "offer-" + std::to_string(i);
        Json fields = {{"priority", (i * 7) % 100}, {"value", (i * 13) % 90}, {"categoryId", "k" + std::to_string(i % 3)},
                       {"lever", 0.5 + (i % 5) / 10.0}};
        if (i % 4 == 0) fields["attributes"] = {{"rel", 0.25 * (i % 3)}};
        if (i % 6 == 5) fields["eligibility"] = "customer.age < 30";
        c.offer(id, fields);
        c.creative(id + "-b", id, "web").creative(id + "-a", id, "web");
    }
    return c;
}

TEST(PipelineDeterminism, SameInputsSameOutcome) {
    auto cat = busy_catalog(false).build();
    auto once = [&] {
        g_clock_calls = 0;
        return Decide{cat, "f", Json::object(), customer({{"age", 40}}, {"gold"}), nullptr, kNow, true, fake_clock}();
    };
    Outcome first = once();
    Outcome second = once();
    ASSERT_EQ(first.offers.size(), 6u);
    EXPECT_EQ(dump(first), dump(second));
    // Rows in another order compile to the same catalog and the same answer.
    auto other = busy_catalog(true).build();
    g_clock_calls = 0;
    Outcome third = Decide{other, "f", Json::object(), customer({{"age", 40}}, {"gold"}), nullptr, kNow, true, fake_clock}();
    EXPECT_EQ(dump(first), dump(third));
    for (const auto& ch : first.offers) EXPECT_EQ(ch.creative_id, ch.offer_id + "-a");
}

// ---- consent and policies with groups ------------------------------------------------------

// With groups on placements of different channels (no channel fixed), an
// offer is shown through the creative of the group that places it: consent
// is checked for that creative, not only for the first one that fits.
TEST(PipelineConsent, WithGroupsOnlyAnAllowedCreativeIsPlaced) {
    Catalog c;
    c.offer("o1", {{"priority", 90}}).creative("o1-h", "o1", "web", "hero");
    c.offer("o2", {{"priority", 80}}).creative("o2-h", "o2", "web", "hero").creative("o2-i", "o2", "email", "inbox");
    c.flow(R"J({"id": "f", "groups": [{"placementId": "hero", "slots": 1}, {"placementId": "inbox", "slots": 1}]})J");
    auto cat = c.build();
    // No email opt-in: hero takes o1, and o2 cannot be shown by email in inbox.
    Outcome o = Decide{cat, "f", Json::object(), customer()}();
    ASSERT_THAT(ids(o), ElementsAre("o1"));
    EXPECT_EQ(o.offers.at(0).placement, "hero");
    EXPECT_THAT(removed(o, "consent"), IsEmpty());
    EXPECT_THAT(removed(o, "placement"), ElementsAre("o2: no slot left in the flow's groups"));
    // With the opt-in, o2 goes to inbox through its email creative.
    o = Decide{cat, "f", Json::object(), customer({}, {}, {{"email", true}})}();
    ASSERT_THAT(ids(o), ElementsAre("o1", "o2"));
    EXPECT_EQ(o.offers.at(1).placement, "inbox");
    EXPECT_EQ(o.offers.at(1).creative_id, "o2-i");
}

TEST(PipelineConsent, WithGroupsARefusedCreativeGivesWayToAnAllowedOne) {
    Catalog c;
    c.offer("o1").creative("o1-h", "o1", "web", "hero").creative("o1-i", "o1", "email", "inbox");
    c.offer("o2").creative("o2-h", "o2", "web", "hero");
    c.flow(R"J({"id": "f", "groups": [{"placementId": "hero", "slots": 1}, {"placementId": "inbox", "slots": 1}]})J");
    auto cat = c.build();
    FakeGate gate;
    // web refused, email granted: o1 stays (shown by email), o2 has no allowed creative.
    Outcome o = Decide{cat, "f", Json::object(), customer({}, {}, {{"web", false}, {"email", true}}), &gate}();
    ASSERT_THAT(ids(o), ElementsAre("o1"));
    EXPECT_EQ(o.offers.at(0).placement, "inbox");
    EXPECT_EQ(o.offers.at(0).creative_id, "o1-i");
    EXPECT_THAT(removed(o, "consent"), ElementsAre("o2: consent refused for channel web"));
    // The gate is asked about the creative that will show it.
    EXPECT_THAT(gate.calls, ElementsAre("o1/o1-i/c1"));
}

TEST(PipelineScoring, APropensityIsNeverNaN) {
    // A linear scorecard whose sum overflows (finite base and points, as validation allows) with
    // factor 0: 0 x inf is NaN; the score and the propensity are 0.
    Catalog c;
    c.model(R"J({"id": "m", "type": "scorecard", "definition": {"base": 1e308, "factor": 0, "rules": [
        {"when": "true", "points": 1e308}]}})J");
    c.model(R"J({"id": "big", "type": "scorecard", "definition": {"base": 1e308, "factor": 10}})J");
    c.web_offer("a");
    c.flow(R"J({"id": "f", "modelId": "m"})J");
    c.flow(R"J({"id": "g", "modelId": "big"})J");
    auto cat = c.build();
    Outcome o = Decide{cat}();
    ASSERT_EQ(o.offers.size(), 1u);
    EXPECT_EQ(o.offers.at(0).score, 0.0);
    EXPECT_EQ(o.offers.at(0).propensity, std::optional<double>(0.0));
    // An infinite score (1e309) is 0 too, and so is its propensity.
    o = Decide{cat, "g"}();
    ASSERT_EQ(o.offers.size(), 1u);
    EXPECT_EQ(o.offers.at(0).score, 0.0);
    EXPECT_EQ(o.offers.at(0).propensity, std::optional<double>(0.0));
    // A scorer's NaN propensity becomes 0.
    c.web_offer("n", {{"attributes", {{"s", 0.5}, {"nanp", true}}}});
    cat = c.build();
    FakeScorer scorer;
    o = run(cat, cat.flows.at("f"), request("f"), customer(), nullptr, kNow, false, nullptr, &scorer);
    EXPECT_EQ(chosen(o, "n").propensity, std::optional<double>(0.0));
}

// ---- the creative actually shown ----------------------------------------------------------

// SPEC 6.3: contact policies have a `placement` scope (and `creative`,
// `channel`), so step 4 must judge the creative that will show the offer.
// With groups, the offer may be placed in a later group through another
// creative (o2-s in side): the gate judges that one too, and a creative it
// blocks is never placed.
TEST(PipelineShownCreative, PolicyGateJudgesTheCreativeActuallyPlaced) {
    class SideBlocked final : public PolicyGate {
    public:
        mutable std::vector<std::string> calls;
        GateVerdict judge(const catalog::CompiledOffer& offer, const catalog::CompiledCreative& creative,
                          const CustomerView&) const override {
            calls.push_back(offer.id + "/" + creative.id);
            if (creative.placement_id == "side") return {"frequency_cap exceeded: 1/day at scope=placement:side", {}};
            return {};
        }
    } gate;
    Catalog c;
    c.offer("o1", {{"priority", 90}}).creative("o1-h", "o1", "web", "hero");
    c.offer("o2", {{"priority", 80}}).creative("o2-h", "o2", "web", "hero").creative("o2-s", "o2", "web", "side");
    c.flow(R"J({"id": "f", "channelId": "web", "groups": [{"placementId": "hero", "slots": 1},
        {"placementId": "side", "slots": 1}]})J");
    auto cat = c.build();
    Outcome o = Decide{cat, "f", Json::object(), customer(), &gate}();
    for (const auto& ch : o.offers)
        EXPECT_NE(ch.placement, "side") << ch.offer_id << " placed through " << ch.creative_id
                                        << ", which the gate blocks; the gate was asked about: "
                                        << ::testing::PrintToString(gate.calls) << "\n"
                                        << dump(o);
    EXPECT_THAT(ids(o), ElementsAre("o1"));
}

// SPEC 6.2 step 3 with neither groups nor a channel fixed: when the
// customer refused (or never granted) the channel of the offer's first
// fitting creative, another of its creatives on a channel the customer may
// be reached on shows it, so the answer never depends on creative ids.
TEST(PipelineShownCreative, WithoutGroupsARefusedCreativeGivesWayToAnAllowedOne) {
    Catalog c;
    c.offer("o").creative("o-1-mail", "o", "email").creative("o-2-web", "o", "web");
    c.flow(R"J({"id": "f"})J");
    auto cat = c.build();
    Outcome o = Decide{cat, "f", Json::object(), customer()}();  // no email opt-in; web needs none
    ASSERT_THAT(ids(o), ElementsAre("o")) << dump(o);
    EXPECT_EQ(o.offers.at(0).creative_id, "o-2-web");
}

}  // namespace
}  // namespace kaireon::decision
