// usage_report_test.cpp - the decision quota's rules (src/core/quota.h: the
// period, status and percentage, the 429 body, the alerts and their event
// payloads, the month-end projection) and the usage report built on them
// (src/core/usage_report.h: report_json, and report_html's figures, escaping,
// self-containment and chart, down to the degenerate months).
#include "core/usage_report.h"

#include "core/entitlements.h"
#include "core/event_types.h"
#include "core/quota.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kaireon::quota {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

constexpr int64_t kDay = 86400;

// utc returns Unix seconds of a UTC civil time (timegm is the oracle).
int64_t utc(int y, int mo, int d, int h = 0, int mi = 0, int s = 0) {
    std::tm tm{};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    return timegm(&tm);
}

// march returns a Community snapshot of March 2026 (no upgrade).
Snapshot march(double current, std::optional<double> limit = 10000) {
    Snapshot quota;
    quota.tier = license::Tier::Community;
    quota.current = current;
    quota.limit = limit;
    quota.period = current_period(utc(2026, 3, 10, 12), std::nullopt);
    return quota;
}

// ---- current_period ------------------------------------------------------------

TEST(QuotaPeriod, IsTheCalendarMonthWithoutAnUpgrade) {
    const Period period = current_period(utc(2026, 3, 10, 12), std::nullopt);
    EXPECT_EQ(period.month_start, utc(2026, 3, 1));
    EXPECT_EQ(period.start, utc(2026, 3, 1));
    EXPECT_EQ(period.end, utc(2026, 4, 1));
    // The month's first and last seconds belong to it.
    EXPECT_EQ(current_period(utc(2026, 3, 1), std::nullopt).start, utc(2026, 3, 1));
    EXPECT_EQ(current_period(utc(2026, 3, 31, 23, 59, 59), std::nullopt).end, utc(2026, 4, 1));
    EXPECT_EQ(current_period(utc(2026, 4, 1), std::nullopt).start, utc(2026, 4, 1));
    // February of a common year.
    EXPECT_EQ(current_period(utc(2026, 2, 14), std::nullopt).end, utc(2026, 3, 1));
}

TEST(QuotaPeriod, AnUpgradeInsideTheMonthStartsItAgain) {
    const Period period = current_period(utc(2026, 3, 10, 12), utc(2026, 3, 5, 9, 30));
    EXPECT_EQ(period.start, utc(2026, 3, 5, 9, 30));
    EXPECT_EQ(period.month_start, utc(2026, 3, 1));
    EXPECT_EQ(period.end, utc(2026, 4, 1));
    // At the very instant of the upgrade.
    EXPECT_EQ(current_period(utc(2026, 3, 10, 12), utc(2026, 3, 10, 12)).start, utc(2026, 3, 10, 12));
}

TEST(QuotaPeriod, AnUpgradeInAnEarlierMonthNoLongerMatters) {
    const Period period = current_period(utc(2026, 3, 10, 12), utc(2026, 2, 20));
    EXPECT_EQ(period.start, utc(2026, 3, 1));
    EXPECT_EQ(period.month_start, utc(2026, 3, 1));
    // One exactly at the month's start is the month's start.
    EXPECT_EQ(current_period(utc(2026, 3, 10, 12), utc(2026, 3, 1)).start, utc(2026, 3, 1));
}

TEST(QuotaPeriod, AnUpgradeInTheFutureIsIgnored) {
    // The clock was moved back past an upgrade.
    EXPECT_EQ(current_period(utc(2026, 3, 10, 12), utc(2026, 3, 20)).start, utc(2026, 3, 1));
    EXPECT_EQ(current_period(utc(2026, 3, 10, 12), utc(2026, 3, 10, 12, 0, 1)).start, utc(2026, 3, 1));
    EXPECT_EQ(current_period(utc(2026, 3, 10, 12), utc(2026, 5, 1)).start, utc(2026, 3, 1));
}

TEST(QuotaPeriod, DecemberRollsOverIntoJanuary) {
    const Period december = current_period(utc(2026, 12, 31, 23, 59, 59), utc(2026, 12, 15));
    EXPECT_EQ(december.month_start, utc(2026, 12, 1));
    EXPECT_EQ(december.start, utc(2026, 12, 15));
    EXPECT_EQ(december.end, utc(2027, 1, 1));
    const Period january = current_period(utc(2027, 1, 1), utc(2026, 12, 15));
    EXPECT_EQ(january.month_start, utc(2027, 1, 1));
    EXPECT_EQ(january.start, utc(2027, 1, 1));
    EXPECT_EQ(january.end, utc(2027, 2, 1));
}

// ---- status_of, percentage_used, banner -------------------------------------------

TEST(QuotaStatus, FollowsTheThresholds) {
    // 8999 of 10000 is below 90 %: ok, and one decimal (down) says 89.9.
    EXPECT_EQ(status_of(march(8999)), Status::Ok);
    EXPECT_EQ(percentage_used(march(8999)), 89.9);
    EXPECT_EQ(status_of(march(8990)), Status::Ok);
    EXPECT_EQ(percentage_used(march(8990)), 89.9);
    EXPECT_EQ(status_of(march(9000)), Status::Warning);
    EXPECT_EQ(percentage_used(march(9000)), 90.0);
    EXPECT_EQ(status_of(march(9500)), Status::Warning);
    EXPECT_EQ(status_of(march(9999)), Status::Warning);
    EXPECT_EQ(percentage_used(march(9999)), 99.9);
    EXPECT_EQ(status_of(march(10000)), Status::Exceeded);
    EXPECT_EQ(percentage_used(march(10000)), 100.0);
    EXPECT_EQ(status_of(march(12340)), Status::Exceeded);
    EXPECT_EQ(percentage_used(march(12340)), 123.4);
    EXPECT_EQ(percentage_used(march(0)), 0.0);
    EXPECT_EQ(status_name(Status::Ok), "ok");
    EXPECT_EQ(status_name(Status::Warning), "warning");
    EXPECT_EQ(status_name(Status::Exceeded), "exceeded");
}

TEST(QuotaStatus, UnlimitedIsAlwaysOkWithoutAPercentage) {
    EXPECT_EQ(status_of(march(1e12, std::nullopt)), Status::Ok);
    EXPECT_EQ(percentage_used(march(1e12, std::nullopt)), std::nullopt);
    EXPECT_EQ(banner(march(1e12, std::nullopt)), "");
}

TEST(QuotaStatus, AZeroLimitIsUsedUp) {
    EXPECT_EQ(status_of(march(0, 0)), Status::Exceeded);
    EXPECT_EQ(percentage_used(march(0, 0)), 100.0);
}

TEST(QuotaStatus, BannerFromNinetyPercent) {
    EXPECT_EQ(banner(march(8999)), "");
    EXPECT_EQ(banner(march(9000)),
              "Decision quota at 90 %: 9000 of 10000 decisions used this month (resets 2026-04-01T00:00:00Z).");
    EXPECT_EQ(banner(march(9550)),
              "Decision quota at 95.5 %: 9550 of 10000 decisions used this month (resets 2026-04-01T00:00:00Z).");
    EXPECT_EQ(banner(march(10000)),
              "Decision quota exceeded: 10000 of 10000 decisions used this month. Recommendations resume at "
              "2026-04-01T00:00:00Z or after an upgrade.");
}

// ---- the quota object and the 429 body ----------------------------------------------

TEST(QuotaBody, ExceededBodyIsTheSeedsKeyForKey) {
    EXPECT_EQ(exceeded_body(march(10000)).dump(),
              R"({"error":"Decision quota exceeded","code":"QUOTA_EXCEEDED","tier":"community",)"
              R"("usage":{"current":10000,"limit":10000,"periodStart":"2026-03-01T00:00:00Z",)"
              R"("periodEnd":"2026-03-31T23:59:59Z"},"retryAfter":"2026-04-01T00:00:00Z"})");
}

TEST(QuotaBody, QuotaJsonCarriesRetryAfterOnlyWhenExhausted) {
    const Json ok = quota_json(march(100));
    EXPECT_EQ(ok.dump(), R"({"tier":"community","status":"ok","usage":{"current":100,"limit":10000,)"
                         R"("periodStart":"2026-03-01T00:00:00Z","periodEnd":"2026-03-31T23:59:59Z"},)"
                         R"("percentageUsed":1.0,"banner":null,"retryAfter":null})");
    const Json warning = quota_json(march(9000));
    EXPECT_EQ(warning["status"], "warning");
    EXPECT_TRUE(warning["banner"].is_string());
    EXPECT_TRUE(warning["retryAfter"].is_null());
    const Json exceeded = quota_json(march(10000));
    EXPECT_EQ(exceeded["status"], "exceeded");
    EXPECT_EQ(exceeded["retryAfter"], "2026-04-01T00:00:00Z");
    const Json unlimited = quota_json(march(5, std::nullopt));
    EXPECT_TRUE(unlimited["usage"]["limit"].is_null());
    EXPECT_TRUE(unlimited["percentageUsed"].is_null());
    EXPECT_TRUE(unlimited["banner"].is_null());
}

TEST(QuotaBody, UsageStartsAtAnUpgrade) {
    Snapshot quota = march(10);
    quota.period = current_period(utc(2026, 3, 10, 12), utc(2026, 3, 5, 9, 30));
    EXPECT_EQ(usage_json(quota)["periodStart"], "2026-03-05T09:30:00Z");
    EXPECT_EQ(usage_json(quota)["periodEnd"], "2026-03-31T23:59:59Z");
}

TEST(QuotaBody, RetryAfterIsAtLeastOneSecond) {
    const Snapshot quota = march(10000);
    EXPECT_EQ(retry_after_seconds(quota, utc(2026, 3, 31, 23, 0)), 3600);
    EXPECT_EQ(retry_after_seconds(quota, utc(2026, 4, 1)), 1);
    EXPECT_EQ(retry_after_seconds(quota, utc(2026, 4, 2)), 1);
}

// ---- alerts ---------------------------------------------------------------------

std::vector<int> percents(const std::vector<Alert>& alerts) {
    std::vector<int> out;
    for (const Alert& alert : alerts) out.push_back(alert.percent);
    return out;
}

TEST(QuotaAlerts, ReachedAtNinetyNinetyFiveAndOneHundredPercent) {
    EXPECT_THAT(reached_alerts(march(8999)), IsEmpty());
    EXPECT_THAT(percents(reached_alerts(march(9000))), ElementsAre(90));
    EXPECT_THAT(percents(reached_alerts(march(9499))), ElementsAre(90));
    EXPECT_THAT(percents(reached_alerts(march(9500))), ElementsAre(90, 95));
    EXPECT_THAT(percents(reached_alerts(march(9999))), ElementsAre(90, 95));
    const std::vector<Alert> all = reached_alerts(march(10000));
    ASSERT_THAT(percents(all), ElementsAre(90, 95, 100));
    EXPECT_EQ(all[0].event_type, "quota.warning");
    EXPECT_EQ(all[1].event_type, "quota.admin_notified");
    EXPECT_EQ(all[2].event_type, "quota.exceeded");
    EXPECT_THAT(reached_alerts(march(1e12, std::nullopt)), IsEmpty());
    EXPECT_THAT(percents(reached_alerts(march(0, 0))), ElementsAre(90, 95, 100));
}

// keys_of returns an object's keys, sorted.
std::set<std::string> keys_of(const Json& object) {
    std::set<std::string> out;
    for (const auto& [key, value] : object.items()) out.insert(key);
    return out;
}

// check_payload expects `payload` to be accepted by the schema of its event
// type and to carry exactly the keys the schema names (at the top level and
// in nested objects with properties).
void check_payload(std::string_view type, const Json& schema, const Json& payload) {
    SCOPED_TRACE(std::string(type) + ": " + payload.dump());
    EXPECT_NO_THROW(entitlements::validate_config(schema, payload, "payload"));
    std::set<std::string> expected;
    for (const auto& [key, property] : schema.at("properties").items()) {
        expected.insert(key);
        if (property.contains("properties") && payload.contains(key)) {
            check_payload(std::string(type) + "." + key, property, payload.at(key));
        }
    }
    EXPECT_EQ(keys_of(payload), expected);
}

TEST(QuotaAlerts, PayloadsMatchTheEventSchemas) {
    const Snapshot quota = march(10000);
    for (const Alert& alert : reached_alerts(quota)) {
        const events::EventType* type = events::find_event_type(alert.event_type);
        ASSERT_NE(type, nullptr) << alert.event_type;
        const Json payload = alert_payload(alert, quota, "Acme Bank", "ops@acme.test");
        check_payload(alert.event_type, type->payload_schema, payload);
        EXPECT_EQ(payload["tier"], "community");
        EXPECT_EQ(payload["usage"], usage_json(quota));
    }
}

TEST(QuotaAlerts, EachPayloadAtItsOwnLevel) {
    const Json warning = alert_payload({90, "quota.warning"}, march(9000), "Acme Bank", "ops@acme.test");
    EXPECT_EQ(warning["percentageUsed"], 90.0);
    EXPECT_EQ(warning["banner"], banner(march(9000)));
    check_payload("quota.warning", events::find_event_type("quota.warning")->payload_schema, warning);

    const Json notified = alert_payload({95, "quota.admin_notified"}, march(9500), "Acme Bank", "ops@acme.test");
    check_payload("quota.admin_notified", events::find_event_type("quota.admin_notified")->payload_schema, notified);
    EXPECT_EQ(notified["percentageUsed"], 95.0);
    EXPECT_EQ(notified["email"]["to"], "ops@acme.test");
    EXPECT_EQ(notified["email"]["subject"], "[kaireon] Acme Bank: decision quota at 95 %");
    const std::string body = notified["email"]["body"];
    EXPECT_THAT(body, HasSubstr("\"Acme Bank\" has used 9500 of 10000 decisions"));
    EXPECT_THAT(body, HasSubstr("2026-03-01T00:00:00Z to 2026-03-31T23:59:59Z"));
    EXPECT_THAT(body, HasSubstr("until 2026-04-01T00:00:00Z"));

    const Json exceeded = alert_payload({100, "quota.exceeded"}, march(10000), "Acme Bank", "ops@acme.test");
    check_payload("quota.exceeded", events::find_event_type("quota.exceeded")->payload_schema, exceeded);
    EXPECT_EQ(exceeded["retryAfter"], "2026-04-01T00:00:00Z");
}

TEST(QuotaAlerts, TheSubjectIsOneLineWhateverTheTenantName) {
    // A tenant name is free text: a line break in the Subject header would
    // let it add headers (Bcc: ...) to the administrator's e-mail.
    const Json payload =
        alert_payload({95, "quota.admin_notified"}, march(9500), "Acme\r\nBcc: evil@x.test", "ops@acme.test");
    const std::string subject = payload["email"]["subject"];
    EXPECT_EQ(subject.find_first_of("\r\n"), std::string::npos) << subject;
    EXPECT_THAT(subject, HasSubstr("Bcc: evil@x.test"));  // kept as text, on the one line
}

// ---- projected_usage -----------------------------------------------------------

TEST(QuotaProjection, CarriesTheRateSinceThePeriodStartToItsEnd) {
    // 100 decisions in the first 10 days of March: 10 a day for 21 more days.
    EXPECT_EQ(projected_usage(march(100), utc(2026, 3, 11)), 310);
    // Since an upgrade on the 5th: 60 in 5 days, 12 a day for 21 more.
    Snapshot upgraded = march(60);
    upgraded.period = current_period(utc(2026, 3, 10), utc(2026, 3, 6));
    EXPECT_EQ(projected_usage(upgraded, utc(2026, 3, 11)), 60 + 12 * 21);
    EXPECT_EQ(projected_usage(march(0), utc(2026, 3, 11)), 0);
}

TEST(QuotaProjection, TheRateIsTakenOverAtLeastOneHour) {
    // 10 decisions in the first 30 seconds: as if in the first hour.
    const int64_t now = utc(2026, 3, 1, 0, 0, 30);
    const double remaining = static_cast<double>(utc(2026, 4, 1) - now);
    EXPECT_EQ(projected_usage(march(10), now), std::round(10 + 10 / 3600.0 * remaining));
    // From the first hour on, the elapsed time itself.
    EXPECT_EQ(projected_usage(march(10), utc(2026, 3, 1, 2)),
              std::round(10 + 10 / 7200.0 * static_cast<double>(utc(2026, 4, 1) - utc(2026, 3, 1, 2))));
}

TEST(QuotaProjection, AtOrAfterTheEndIsTheCountItself) {
    EXPECT_EQ(projected_usage(march(123.5), utc(2026, 4, 1)), 123.5);
    EXPECT_EQ(projected_usage(march(123), utc(2026, 5, 7)), 123);
    // The last second still projects (one more second at the same rate).
    EXPECT_GE(projected_usage(march(3100), utc(2026, 3, 31, 23, 59, 59)), 3100);
}

// ---- report data ---------------------------------------------------------------

// sample_report returns March 2026 on the 10th at noon: 4..9 decisions a
// day, through two flows, against `limit`.
ReportData sample_report(std::optional<double> limit = 100, int days = 10) {
    ReportData data;
    data.tenant_id = "acme";
    data.tenant_name = "Acme Bank";
    data.generated_at = utc(2026, 3, days > 0 ? days : 1, 12);
    data.quota = march(0, limit);
    int64_t total = 0;
    for (int i = 0; i < days; ++i) {
        const int64_t n = 4 + i % 6;
        data.daily.push_back({utc(2026, 3, 1 + i), n});
        total += n;
    }
    data.quota.current = static_cast<double>(total);
    data.month_decisions = total;
    if (total > 0) data.flows = {{"home", total - total / 3}, {"email", total / 3}};
    data.features = {{"decisions_per_month", "decisions", "month", true, static_cast<double>(total), limit},
                     {"connectors", "connectors", "never", true, 2, 5},
                     {"content_items", "creatives", "never", true, 12.5, std::nullopt},
                     {"cms_sources", "sources", "never", false, 0, 0}};
    return data;
}

// ---- report_json ---------------------------------------------------------------

TEST(UsageReportJson, DailyTrendIsCumulative) {
    ReportData data = sample_report();
    data.daily = {{utc(2026, 3, 1), 3}, {utc(2026, 3, 2), 0}, {utc(2026, 3, 3), 5}};
    const Json report = report_json(data);
    ASSERT_EQ(report["daily"].size(), 3u);
    EXPECT_EQ(report["daily"][0].dump(), R"({"day":"2026-03-01","decisions":3,"cumulative":3})");
    EXPECT_EQ(report["daily"][1].dump(), R"({"day":"2026-03-02","decisions":0,"cumulative":3})");
    EXPECT_EQ(report["daily"][2].dump(), R"({"day":"2026-03-03","decisions":5,"cumulative":8})");
}

TEST(UsageReportJson, FlowsAsAShareOfTheMonth) {
    ReportData data = sample_report();
    data.month_decisions = 3;
    data.flows = {{"home", 2}, {"email", 1}};
    const Json report = report_json(data);
    EXPECT_EQ(report["flows"].dump(),
              R"([{"flow":"home","decisions":2,"percent":66.7},{"flow":"email","decisions":1,"percent":33.3}])");
    data.flows = {{"home", 4}};
    data.month_decisions = 4;
    EXPECT_EQ(report_json(data)["flows"][0]["percent"].dump(), "100");
    // No decisions this month: no division by zero.
    data.flows = {{"home", 0}};
    data.month_decisions = 0;
    EXPECT_EQ(report_json(data)["flows"][0]["percent"].dump(), "0");
}

TEST(UsageReportJson, FiguresAndProjection) {
    const ReportData data = sample_report();
    const Json report = report_json(data);
    EXPECT_EQ(report["tenantId"], "acme");
    EXPECT_EQ(report["tenantName"], "Acme Bank");
    EXPECT_EQ(report["generatedAt"], "2026-03-10T12:00:00Z");
    EXPECT_EQ(report["quota"], quota_json(data.quota));
    EXPECT_EQ(report["monthDecisions"], data.month_decisions);
    const double projected = projected_usage(data.quota, data.generated_at);
    EXPECT_EQ(report["projectedMonthEnd"], json_number(projected));
    EXPECT_EQ(report["projectedMonthEnd"].dump(), std::to_string(static_cast<int64_t>(projected)));
    EXPECT_EQ(report["projectedPercent"], std::round(projected / 100 * 1000) / 10);
    EXPECT_EQ(report["daily"].back()["cumulative"], data.month_decisions);
}

TEST(UsageReportJson, FeaturesWithTheirLimits) {
    const Json features = report_json(sample_report())["features"];
    ASSERT_EQ(features.size(), 4u);
    EXPECT_EQ(features[0]["percentageUsed"], 61.0);
    EXPECT_EQ(features[1].dump(),
              R"({"feature":"connectors","unit":"connectors","period":"never","enabled":true,"usage":2,"limit":5,)"
              R"("percentageUsed":40.0})");
    EXPECT_EQ(features[2]["usage"].dump(), "12.5");
    EXPECT_TRUE(features[2]["limit"].is_null());
    EXPECT_TRUE(features[2]["percentageUsed"].is_null());
    EXPECT_EQ(features[3]["enabled"], false);
    EXPECT_TRUE(features[3]["percentageUsed"].is_null());  // a zero limit has no percentage
}

TEST(UsageReportJson, Unlimited) {
    const Json report = report_json(sample_report(std::nullopt));
    EXPECT_TRUE(report["quota"]["usage"]["limit"].is_null());
    EXPECT_TRUE(report["quota"]["percentageUsed"].is_null());
    EXPECT_EQ(report["quota"]["status"], "ok");
    EXPECT_TRUE(report["projectedPercent"].is_null());
    EXPECT_TRUE(report["projectedMonthEnd"].is_number_integer());
}

TEST(UsageReportJson, EmptyMonthAndZeroLimit) {
    ReportData data = sample_report(0, 0);
    const Json report = report_json(data);
    EXPECT_EQ(report["daily"], Json::array());
    EXPECT_EQ(report["flows"], Json::array());
    EXPECT_EQ(report["projectedMonthEnd"], 0);
    EXPECT_TRUE(report["projectedPercent"].is_null());
    EXPECT_EQ(report["quota"]["status"], "exceeded");
}

// ---- report_html: helpers ----------------------------------------------------------

// text_of returns the text of the one element with id `id` (up to its first
// child tag), or "<missing>" / "<duplicate>".
std::string text_of(const std::string& html, std::string_view id) {
    const std::string needle = "id=\"" + std::string(id) + "\"";
    const size_t at = html.find(needle);
    if (at == std::string::npos) return "<missing>";
    if (html.find(needle, at + 1) != std::string::npos) return "<duplicate>";
    const size_t open = html.find('>', at);
    const size_t close = html.find('<', open);
    return html.substr(open + 1, close - open - 1);
}

size_t count(const std::string& haystack, std::string_view needle) {
    size_t n = 0;
    for (size_t at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + needle.size())) {
        ++n;
    }
    return n;
}

std::string lower(std::string text) {
    for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
}

// Tag is one start tag of the page: its name and attributes, in order.
struct Tag {
    std::string name;
    std::vector<std::pair<std::string, std::string>> attributes;
};

// tags_of returns every start tag of `html` (not end tags, the doctype or
// comments). The page's text never holds a raw '<' (escaped), nor does its
// style block, so a '<' always opens a tag.
std::vector<Tag> tags_of(const std::string& html) {
    std::vector<Tag> tags;
    auto name_char = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == ':'; };
    for (size_t at = html.find('<'); at != std::string::npos; at = html.find('<', at + 1)) {
        size_t i = at + 1;
        if (i >= html.size() || !std::isalpha(static_cast<unsigned char>(html[i]))) continue;
        Tag tag;
        while (i < html.size() && name_char(html[i])) tag.name += html[i++];
        while (i < html.size() && html[i] != '>') {
            if (std::isspace(static_cast<unsigned char>(html[i])) || html[i] == '/') {
                ++i;
                continue;
            }
            std::string name;
            while (i < html.size() && name_char(html[i])) name += html[i++];
            if (name.empty()) {  // a stray character: let the check of names see it
                name = html[i++];
            }
            std::string value;
            if (i < html.size() && html[i] == '=') {
                ++i;
                const char quote = i < html.size() && (html[i] == '"' || html[i] == '\'') ? html[i++] : '\0';
                while (
                    i < html.size() &&
                    (quote ? html[i] != quote : !std::isspace(static_cast<unsigned char>(html[i])) && html[i] != '>')) {
                    value += html[i++];
                }
                if (quote && i < html.size()) ++i;
            }
            tag.attributes.emplace_back(lower(name), value);
        }
        tags.push_back(std::move(tag));
    }
    return tags;
}

// check_self_contained expects no script, no URL but the SVG namespace, and
// nothing that loads a resource: no such element, no attribute naming one or
// an event handler in any tag, no url() or @import in the styles. (Text the
// tenant chose may say "src=": escaped, it is text, not markup.)
void check_self_contained(const std::string& html) {
    const std::string page = lower(html);
    EXPECT_EQ(page.find("<script"), std::string::npos);
    EXPECT_EQ(page.find("javascript:"), std::string::npos);
    EXPECT_EQ(count(page, "http"), 1u) << "only the SVG namespace may be a URL";
    EXPECT_EQ(count(page, "xmlns=\"http://www.w3.org/2000/svg\""), 1u);
    const std::set<std::string> elements{"html",    "head",  "meta",  "title", "style",  "body",     "header",
                                         "h1",      "h2",    "p",     "span",  "strong", "time",     "main",
                                         "section", "dl",    "div",   "dt",    "dd",     "figure",   "figcaption",
                                         "svg",     "g",     "line",  "text",  "rect",   "polyline", "circle",
                                         "table",   "thead", "tbody", "tr",    "th",     "td",       "footer"};
    std::string styles;
    size_t tags = 0;
    for (const Tag& tag : tags_of(html)) {
        ++tags;
        EXPECT_TRUE(elements.count(lower(tag.name))) << "an element <" << tag.name << ">";
        for (const auto& [name, value] : tag.attributes) {
            EXPECT_FALSE(name == "href" || name == "src" || name == "srcset" || name == "action" ||
                         name == "xlink:href" || name == "background" || name.rfind("on", 0) == 0)
                << "<" << tag.name << " " << name << "=\"" << value << "\">";
            if (name == "style") styles += lower(value);
        }
    }
    EXPECT_GT(tags, 50u);
    const size_t style_start = page.find("<style>");
    ASSERT_NE(style_start, std::string::npos);
    styles += page.substr(style_start, page.find("</style>") - style_start);
    EXPECT_THAT(styles, HasSubstr("font"));  // the style block was found
    for (std::string_view external : {"url(", "@import", "//", "@font-face", "expression("}) {
        EXPECT_EQ(styles.find(external), std::string::npos) << external;
    }
}

// finite_number returns `text` as a number when it is one, whole.
std::optional<double> finite_number(const std::string& text) {
    if (text.empty()) return std::nullopt;
    char* end = nullptr;
    const double v = std::strtod(text.c_str(), &end);
    if (*end != '\0' || !std::isfinite(v)) return std::nullopt;
    return v;
}

// check_numbers expects no NaN or infinity in the page, and every SVG
// coordinate to be a finite number inside the 900 x 360 view box.
void check_numbers(const std::string& html) {
    const std::string page = lower(html);
    for (std::string_view word : {"nan", "inf"}) {
        for (size_t at = page.find(word); at != std::string::npos; at = page.find(word, at + 1)) {
            const bool letter_before = at > 0 && std::isalpha(static_cast<unsigned char>(page[at - 1]));
            const bool letter_after =
                at + word.size() < page.size() && std::isalpha(static_cast<unsigned char>(page[at + word.size()]));
            EXPECT_TRUE(letter_before || letter_after)
                << "a NaN or an infinity: ..." << page.substr(at >= 20 ? at - 20 : 0, 40);
        }
    }
    const std::set<std::string> coordinates{"x", "y", "x1", "x2", "y1", "y2", "cx", "cy", "r", "width", "height"};
    size_t checked = 0;
    for (const Tag& tag : tags_of(html)) {
        for (const auto& [name, value] : tag.attributes) {
            if (coordinates.count(name)) {
                const std::optional<double> v = finite_number(value);
                EXPECT_TRUE(v && *v >= -1 && *v <= 901) << "<" << tag.name << " " << name << "=\"" << value << "\">";
                ++checked;
            } else if (name == "points") {
                // "x,y x,y ...", each a finite number in the view box.
                size_t pairs = 0;
                size_t start = 0;
                while (start < value.size()) {
                    size_t end = value.find(' ', start);
                    if (end == std::string::npos) end = value.size();
                    const std::string pair = value.substr(start, end - start);
                    const size_t comma = pair.find(',');
                    const std::optional<double> x = finite_number(pair.substr(0, comma));
                    const std::optional<double> y =
                        comma == std::string::npos ? std::nullopt : finite_number(pair.substr(comma + 1));
                    EXPECT_TRUE(x && y && *x >= 0 && *x <= 900 && *y >= 0 && *y <= 360) << "points: " << pair;
                    ++pairs;
                    start = end + 1;
                }
                EXPECT_GE(pairs, 2u) << value;
            }
        }
    }
    EXPECT_GT(checked, 10u);
}

// check_page runs the checks every page must pass.
void check_page(const std::string& html) {
    EXPECT_EQ(html.rfind("<!DOCTYPE html>\n<html lang=\"en\">", 0), 0u);
    EXPECT_THAT(html, HasSubstr("<meta charset=\"utf-8\">"));
    EXPECT_THAT(html, HasSubstr("</html>\n"));
    EXPECT_EQ(count(html, "<svg"), 1u);
    EXPECT_EQ(count(html, "</svg>"), 1u);
    EXPECT_THAT(html, HasSubstr("viewBox=\"0 0 900 360\""));
    for (std::string_view id : {"current", "limit", "percent", "projected", "month-decisions", "status"}) {
        EXPECT_EQ(count(html, "id=\"" + std::string(id) + "\""), 1u) << id;
    }
    check_self_contained(html);
    check_numbers(html);
}

// ---- report_html -----------------------------------------------------------------

TEST(UsageReportHtml, KeyFiguresCarryStableIdsWithPlainNumbers) {
    ReportData data = sample_report(10000);
    data.quota.current = 9000;
    data.month_decisions = 9123;
    const std::string html = report_html(data);
    check_page(html);
    const double projected = projected_usage(data.quota, data.generated_at);
    EXPECT_EQ(text_of(html, "current"), "9000");
    EXPECT_EQ(text_of(html, "limit"), "10000");
    EXPECT_EQ(text_of(html, "percent"), "90.0");
    EXPECT_EQ(text_of(html, "projected"), std::to_string(static_cast<int64_t>(projected)));
    EXPECT_EQ(text_of(html, "projected-percent"), [&] {
        char buffer[32];
        std::snprintf(buffer, sizeof(buffer), "%.1f", std::round(projected / 10000 * 1000) / 10);
        return std::string(buffer);
    }());
    EXPECT_EQ(text_of(html, "month-decisions"), "9123");
    EXPECT_EQ(text_of(html, "status"), "warning");
    EXPECT_THAT(html, HasSubstr("class=\"status status-warning\""));
    EXPECT_THAT(html, HasSubstr("<span id=\"percent\">90.0</span> %"));
    EXPECT_THAT(html, HasSubstr("data-current=\"9000\" data-limit=\"10000\" data-percent=\"90.0\""));
    // The banner, the header, the period.
    EXPECT_EQ(text_of(html, "banner"), banner(data.quota));
    EXPECT_THAT(html, HasSubstr("<h1>Decision usage \u2014 <span id=\"tenant-name\">Acme Bank</span> "
                                "(<span id=\"tenant-id\">acme</span>)</h1>"));
    EXPECT_EQ(text_of(html, "tier"), "community");
    EXPECT_EQ(text_of(html, "generated-at"), "2026-03-10T12:00:00Z");
    EXPECT_EQ(text_of(html, "period-start"), "2026-03-01T00:00:00Z");
    EXPECT_EQ(text_of(html, "period-end"), "2026-03-31T23:59:59Z");
    // No thousands separators anywhere in the figures.
    EXPECT_THAT(html, Not(HasSubstr("9,000")));
    EXPECT_THAT(html, Not(HasSubstr("10,000")));
}

TEST(UsageReportHtml, StatusColours) {
    ReportData data = sample_report(10000);
    data.quota.current = 8999;
    std::string html = report_html(data);
    EXPECT_EQ(text_of(html, "status"), "ok");
    EXPECT_THAT(html, HasSubstr("status-ok"));
    EXPECT_EQ(text_of(html, "banner"), "<missing>");
    data.quota.current = 10000;
    html = report_html(data);
    EXPECT_EQ(text_of(html, "status"), "exceeded");
    EXPECT_THAT(html, HasSubstr("class=\"banner exceeded\""));
    EXPECT_EQ(text_of(html, "percent"), "100.0");
}

TEST(UsageReportHtml, EscapesEveryTextFromTheTenant) {
    ReportData data = sample_report(10000);
    data.quota.current = 9500;  // with a banner
    data.tenant_name = "<script>alert(1)</script> & \"Sons\" 'Ltd'";
    data.tenant_id = "acme";
    data.flows = {{"<img src=x onerror=alert(2)>", 3}, {"a&b", 1}};
    data.features.push_back({"<b>bold</b>", "<i>u</i>", "\"month\"", true, 1, 2});
    const std::string html = report_html(data);
    check_page(html);
    EXPECT_THAT(html, Not(HasSubstr("<script>alert(1)</script>")));
    EXPECT_THAT(html, Not(HasSubstr("<img")));
    EXPECT_THAT(html, Not(HasSubstr("<b>bold")));
    EXPECT_THAT(html, Not(HasSubstr("<i>u")));
    EXPECT_THAT(html, HasSubstr("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;Sons&quot; &#39;Ltd&#39;"));
    EXPECT_THAT(html, HasSubstr("<title>Decision usage \u2014 &lt;script&gt;"));
    EXPECT_THAT(html, HasSubstr("<td>&lt;img src=x onerror=alert(2)&gt;</td>"));
    EXPECT_THAT(html, HasSubstr("<td>a&amp;b</td>"));
    EXPECT_THAT(html,
                HasSubstr("<td>&lt;b&gt;bold&lt;/b&gt;</td><td>&lt;i&gt;u&lt;/i&gt;</td><td>&quot;month&quot;</td>"));
}

TEST(UsageReportHtml, ControlCharactersInNamesAreDropped) {
    ReportData data = sample_report();
    data.tenant_name = std::string("Acme\x01\x1b[31m Bank\tX\n", 18);
    const std::string html = report_html(data);
    EXPECT_EQ(html.find('\x01'), std::string::npos);
    EXPECT_EQ(html.find('\x1b'), std::string::npos);
    EXPECT_EQ(text_of(html, "tenant-name"), "Acme[31m Bank\tX\n");
}

TEST(UsageReportHtml, TheChartHasABarPerDayAndThresholdsWithALimit) {
    const ReportData data = sample_report(100, 10);
    const std::string html = report_html(data);
    check_page(html);
    EXPECT_EQ(count(html, "class=\"bar\""), 10u);
    EXPECT_THAT(html, HasSubstr("<rect class=\"bar\" data-day=\"2026-03-01\" data-decisions=\"4\""));
    EXPECT_THAT(html, HasSubstr("data-day=\"2026-03-10\" data-decisions=\"7\""));
    EXPECT_EQ(count(html, "<polyline class=\"cumulative\""), 1u);
    EXPECT_EQ(count(html, "class=\"projection\""), 1u);
    EXPECT_EQ(count(html, "stroke-dasharray=\"7 5\""), 1u);  // the projection is dashed
    EXPECT_EQ(count(html, "<g class=\"threshold\""), 3u);
    EXPECT_THAT(html, HasSubstr(">90 %</text>"));
    EXPECT_THAT(html, HasSubstr(">95 %</text>"));
    EXPECT_THAT(html, HasSubstr(">100 % (limit)</text>"));
    // Every day of March on the x axis, no more.
    EXPECT_THAT(html, HasSubstr("text-anchor=\"middle\">31</text>"));
    EXPECT_THAT(html, Not(HasSubstr("text-anchor=\"middle\">32</text>")));
    EXPECT_THAT(html, HasSubstr("March 2026 (UTC)"));
    // The cumulative line: from 0 at the first day's start to the month's count.
    EXPECT_THAT(html,
                HasSubstr("data-projected=\"" +
                          std::to_string(static_cast<int64_t>(projected_usage(data.quota, data.generated_at))) + "\""));
}

TEST(UsageReportHtml, NoThresholdsWhenUnlimited) {
    const std::string html = report_html(sample_report(std::nullopt));
    check_page(html);
    EXPECT_EQ(text_of(html, "limit"), "unlimited");
    EXPECT_EQ(text_of(html, "percent"), "n/a");
    EXPECT_EQ(text_of(html, "status"), "ok");
    EXPECT_EQ(text_of(html, "projected-percent"), "<missing>");
    EXPECT_EQ(count(html, "class=\"threshold\""), 0u);
    EXPECT_THAT(html, Not(HasSubstr("100 % (limit)")));
    EXPECT_EQ(count(html, "class=\"bar\""), 10u);
}

TEST(UsageReportHtml, FlowAndFeatureTables) {
    const std::string html = report_html(sample_report(100));
    // 61 decisions: home 41, email 20.
    EXPECT_THAT(html, HasSubstr("<tr><td>home</td><td class=\"num\">41</td><td class=\"num\">67.2 %</td></tr>"));
    EXPECT_THAT(html, HasSubstr("<tr><td>email</td><td class=\"num\">20</td><td class=\"num\">32.8 %</td></tr>"));
    EXPECT_THAT(html, HasSubstr("<td>decisions_per_month</td><td>decisions</td><td>month</td><td class=\"num\">61</td>"
                                "<td class=\"num\">100</td><td class=\"num pct\">61.0 %</td>"));
    EXPECT_THAT(html, HasSubstr("<td class=\"num\">2</td><td class=\"num\">5</td><td class=\"num pct\">40.0 %</td>"));
    EXPECT_THAT(html, HasSubstr("<td class=\"num\">12.5</td><td class=\"num\">unlimited</td>"));
    EXPECT_THAT(html, HasSubstr("<td>cms_sources</td><td>sources</td><td>never</td><td class=\"num\">0</td>"
                                "<td class=\"num none\" colspan=\"2\">not in plan</td>"));
}

TEST(UsageReportHtml, AProjectionFarAboveTheLimitIsClippedWithItsLabels) {
    // 30 decisions in the first two hours of March project to 11160.
    ReportData data = sample_report(100, 1);
    data.daily = {{utc(2026, 3, 1), 30}};
    data.quota.current = 30;
    data.month_decisions = 30;
    data.generated_at = utc(2026, 3, 1, 2);
    const std::string html = report_html(data);
    check_page(html);
    EXPECT_EQ(text_of(html, "projected"), "11160");
    EXPECT_EQ(text_of(html, "projected-percent"), "11160.0");
    EXPECT_THAT(html, HasSubstr("data-off-scale=\"true\""));
    EXPECT_THAT(html, HasSubstr("projected 11160 \u2191 (off the scale)"));
    EXPECT_EQ(count(html, "<g class=\"threshold\""), 3u);
    EXPECT_THAT(html, HasSubstr(">100 % (limit)</text>"));
    EXPECT_EQ(count(html, "class=\"bar\""), 1u);
}

TEST(UsageReportHtml, AProjectionOnTheScaleIsNotClipped) {
    const std::string html = report_html(sample_report(100));
    EXPECT_THAT(html, Not(HasSubstr("data-off-scale")));
    EXPECT_THAT(html, HasSubstr(">projected 199</text>"));
}

TEST(UsageReportHtml, DegenerateMonthsRenderWithoutNaN) {
    std::vector<std::pair<std::string, ReportData>> cases;
    cases.emplace_back("no days", sample_report(100, 0));
    cases.emplace_back("no days, unlimited", sample_report(std::nullopt, 0));
    cases.emplace_back("zero decisions", [] {
        ReportData data = sample_report(100, 10);
        for (DailyCount& day : data.daily) day.decisions = 0;
        data.quota.current = 0;
        data.month_decisions = 0;
        data.flows.clear();
        return data;
    }());
    cases.emplace_back("limit 0", sample_report(0, 10));
    cases.emplace_back("limit 0, no decisions", sample_report(0, 0));
    cases.emplace_back("one day", sample_report(100, 1));
    cases.emplace_back("one day, unlimited", sample_report(std::nullopt, 1));
    cases.emplace_back("a whole month, past its end", [] {
        ReportData data = sample_report(1000, 31);
        data.generated_at = utc(2026, 4, 1, 0, 0, 5);
        return data;
    }());
    cases.emplace_back("huge counts", [] {
        ReportData data = sample_report(std::nullopt, 3);
        for (DailyCount& day : data.daily) day.decisions = 3'000'000'000'000LL;
        data.quota.current = 9e12;
        data.month_decisions = 9'000'000'000'000LL;
        return data;
    }());
    cases.emplace_back("a fractional count", [] {
        ReportData data = sample_report(7, 2);
        data.quota.current = 2.5;
        return data;
    }());
    cases.emplace_back("default", ReportData{});
    cases.emplace_back("a day outside the month", [] {
        ReportData data = sample_report(100, 2);
        data.daily.push_back({utc(2026, 5, 1), 9});
        return data;
    }());
    cases.emplace_back("February", [] {
        ReportData data = sample_report(100, 3);
        for (DailyCount& day : data.daily) day.day -= 28 * kDay;  // 1..3 February
        data.generated_at = utc(2026, 2, 3, 12);
        data.quota.period = current_period(data.generated_at, std::nullopt);
        return data;
    }());
    for (const auto& [name, data] : cases) {
        SCOPED_TRACE(name);
        const std::string html = report_html(data);
        check_page(html);
        EXPECT_NE(text_of(html, "projected"), "<missing>");
        EXPECT_THAT(text_of(html, "current"), Not(HasSubstr("e+")));
        EXPECT_EQ(count(html, "<g class=\"threshold\""), data.quota.limit ? 3u : 0u);
    }
    // The February page has 28 days on its axis, one bar per day of data.
    const std::string february = report_html(cases.back().second);
    EXPECT_THAT(february, HasSubstr("text-anchor=\"middle\">28</text>"));
    EXPECT_THAT(february, Not(HasSubstr("text-anchor=\"middle\">29</text>")));
    EXPECT_THAT(february, HasSubstr("February 2026 (UTC)"));
    EXPECT_EQ(count(february, "class=\"bar\""), 3u);
    // A day outside the month is not drawn.
    EXPECT_EQ(count(report_html(cases[11].second), "class=\"bar\""), 2u);
    // No decisions: the chart says so.
    EXPECT_THAT(report_html(cases[0].second), HasSubstr("No decisions this month yet"));
    EXPECT_THAT(report_html(cases[0].second), HasSubstr("No decisions this month."));
    // Huge counts are still plain integers.
    EXPECT_EQ(text_of(report_html(cases[8].second), "current"), "9000000000000");
    EXPECT_EQ(text_of(report_html(cases[9].second), "current"), "2.5");
}

}  // namespace
}  // namespace kaireon::quota
