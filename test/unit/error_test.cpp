// error_test.cpp - the error catalog (SPEC section 8) and kaireon::Error.
#include "core/error.h"

#include <gtest/gtest.h>

#include <array>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>

namespace kaireon {
namespace {

struct SpecRow {
    std::string_view sqlstate;
    std::string_view name;
};

// spec_row returns SPEC section 8's row for `code`, written out independently
// of src/core/error.cpp. No default: -Wswitch (-Wall -Werror) refuses to
// compile this file when an ErrorCode is added without a row here.
SpecRow spec_row(ErrorCode code) {
    switch (code) {
        case ErrorCode::BadRequest: return {"KR400", "BAD_REQUEST"};
        case ErrorCode::LicenseInvalid: return {"KR401", "LICENSE_INVALID"};
        case ErrorCode::TenantAccessDenied: return {"KR403", "TENANT_ACCESS_DENIED"};
        case ErrorCode::FeatureNotEntitled: return {"KR403", "FEATURE_NOT_ENTITLED"};
        case ErrorCode::IdempotencyConflict: return {"KR409", "IDEMPOTENCY_CONFLICT"};
        case ErrorCode::EntitlementLimitReached: return {"KR422", "ENTITLEMENT_LIMIT_REACHED"};
        case ErrorCode::QuotaExceeded: return {"KR429", "QUOTA_EXCEEDED"};
        case ErrorCode::UsageLimitReached: return {"KR429", "USAGE_LIMIT_REACHED"};
        case ErrorCode::TenantMoving: return {"KR503", "TENANT_MOVING"};
        case ErrorCode::Internal: return {"XX000", "INTERNAL_ERROR"};
    }
    return {"", ""};
}

constexpr std::array kAllCodes{
    ErrorCode::BadRequest,         ErrorCode::LicenseInvalid,      ErrorCode::TenantAccessDenied,
    ErrorCode::FeatureNotEntitled, ErrorCode::IdempotencyConflict, ErrorCode::EntitlementLimitReached,
    ErrorCode::QuotaExceeded,      ErrorCode::UsageLimitReached,   ErrorCode::TenantMoving,
    ErrorCode::Internal,
};

class ErrorCatalogTest : public ::testing::TestWithParam<ErrorCode> {};

TEST_P(ErrorCatalogTest, MatchesSpecTable) {
    const ErrorCode code = GetParam();
    const ErrorInfo& info = error_info(code);
    EXPECT_EQ(info.code, code) << "catalog rows are out of ErrorCode order";
    EXPECT_EQ(info.sqlstate, spec_row(code).sqlstate);
    EXPECT_EQ(info.name, spec_row(code).name);
}

TEST_P(ErrorCatalogTest, NameRoundTrips) {
    const ErrorCode code = GetParam();
    auto back = error_code_from_name(error_info(code).name);
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(*back, code);
}

TEST_P(ErrorCatalogTest, ErrorCarriesCatalogRow) {
    const ErrorCode code = GetParam();
    Error e(code, "something happened");
    EXPECT_EQ(e.code(), code);
    EXPECT_EQ(e.info().sqlstate, spec_row(code).sqlstate);
    EXPECT_EQ(e.detail().at("code").get<std::string>(), spec_row(code).name);
}

TEST_P(ErrorCatalogTest, SqlstateIsWellFormed) {
    const ErrorCode code = GetParam();
    std::string_view sqlstate = error_info(code).sqlstate;
    ASSERT_EQ(sqlstate.size(), 5U);
    for (char c : sqlstate) EXPECT_TRUE((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z')) << sqlstate;
    // Everything a client can cause is class KR; only Internal is XX000.
    if (code != ErrorCode::Internal) {
        EXPECT_EQ(sqlstate.substr(0, 2), "KR");
    }
}

INSTANTIATE_TEST_SUITE_P(AllCodes, ErrorCatalogTest, ::testing::ValuesIn(kAllCodes),
                         [](const ::testing::TestParamInfo<ErrorCode>& param_info) {
                             std::string name(spec_row(param_info.param).name);
                             std::string out;
                             for (char c : name) {
                                 if (c != '_') out += c;
                             }
                             return out;
                         });

TEST(ErrorCatalog, NamesAreUnique) {
    std::set<std::string_view> names;
    for (ErrorCode code : kAllCodes) EXPECT_TRUE(names.insert(error_info(code).name).second) << error_info(code).name;
}

TEST(ErrorCatalog, SharedSqlstatesAreTheSpecsOnly) {
    // SPEC 8: KR403 and KR429 each cover two codes; every other SQLSTATE one.
    EXPECT_EQ(error_info(ErrorCode::TenantAccessDenied).sqlstate, error_info(ErrorCode::FeatureNotEntitled).sqlstate);
    EXPECT_EQ(error_info(ErrorCode::QuotaExceeded).sqlstate, error_info(ErrorCode::UsageLimitReached).sqlstate);
    std::set<std::string_view> sqlstates;
    for (ErrorCode code : kAllCodes) sqlstates.insert(error_info(code).sqlstate);
    EXPECT_EQ(sqlstates.size(), kAllCodes.size() - 2);
}

TEST(ErrorCatalog, UnknownNamesAreRejected) {
    for (std::string_view name : {"", "bad_request", "Bad_Request", "BAD_REQUEST ", " BAD_REQUEST", "BAD-REQUEST",
                                  "KR400", "BAD", "BAD_REQUESTS", "QUOTA", "INTERNAL", "XX000"}) {
        EXPECT_FALSE(error_code_from_name(name).has_value()) << "'" << name << "'";
    }
    // The whole string_view counts, not a C string prefix.
    EXPECT_FALSE(error_code_from_name(std::string_view("BAD_REQUEST\0x", 13)).has_value());
    EXPECT_FALSE(error_code_from_name(std::string_view("BAD_REQUEST\0", 12)).has_value());
    EXPECT_FALSE(error_code_from_name(std::string_view("BAD_REQUEST", 3)).has_value());
}

TEST(Error, DetailStartsWithErrorAndCode) {
    Error e(ErrorCode::BadRequest, "limit must be at most 50");
    EXPECT_STREQ(e.what(), "limit must be at most 50");
    EXPECT_EQ(e.detail_text(), R"({"error":"limit must be at most 50","code":"BAD_REQUEST"})");
    EXPECT_EQ(e.hint(), "");
}

TEST(Error, ExtrasFollowInInsertionOrder) {
    Json extra = Json::object();
    extra["zeta"] = 1;
    extra["alpha"] = "two";
    extra["mid"] = Json::array({3, 4});
    Error e(ErrorCode::EntitlementLimitReached, "offers limit reached", extra);
    EXPECT_EQ(
        e.detail_text(),
        R"({"error":"offers limit reached","code":"ENTITLEMENT_LIMIT_REACHED","zeta":1,"alpha":"two","mid":[3,4]})");
}

TEST(Error, ExtrasMayOverrideErrorKeepingItsPlace) {
    Json extra = Json::object();
    extra["remaining"] = 0;
    extra["error"] = "decision quota exhausted";
    Error e(ErrorCode::QuotaExceeded, "tenant acme used 1000 of 1000 decisions", extra);
    // The message (what) stays the internal one; the public body reads differently.
    EXPECT_STREQ(e.what(), "tenant acme used 1000 of 1000 decisions");
    EXPECT_EQ(e.detail_text(), R"({"error":"decision quota exhausted","code":"QUOTA_EXCEEDED","remaining":0})");
}

TEST(Error, NonObjectExtrasAreIgnored) {
    for (const Json& extra : {Json(nullptr), Json::array({1, 2}), Json("text"), Json(42)}) {
        Error e(ErrorCode::LicenseInvalid, "bad signature", extra);
        EXPECT_EQ(e.detail_text(), R"({"error":"bad signature","code":"LICENSE_INVALID"})") << extra.dump();
    }
}

TEST(Error, HintIsKept) {
    Error e(ErrorCode::FeatureNotEntitled, "arbitration needs professional", Json::object(), "upgrade the plan");
    EXPECT_EQ(e.hint(), "upgrade the plan");
    EXPECT_EQ(e.detail_text(), R"({"error":"arbitration needs professional","code":"FEATURE_NOT_ENTITLED"})");
}

TEST(Error, DetailTextIsCompactValidJsonForAnyMessage) {
    const std::string message = "quote \" backslash \\ newline \n tab \t nul " + std::string(1, '\0') + " caf\xc3\xa9";
    Error e(ErrorCode::BadRequest, message);
    std::string text = e.detail_text();
    EXPECT_EQ(text.find('\n'), std::string::npos);
    Json back = Json::parse(text);
    EXPECT_EQ(back.at("error").get<std::string>(), message);
}

TEST(Error, DetailTextSurvivesInvalidUtf8) {
    // Messages quote user input; bytes that are not UTF-8 must not make
    // detail_text throw (it would escape the PostgreSQL guard as a second error).
    Error e(ErrorCode::BadRequest, "bad byte \xff\xfe here", Json{{"value", "\xc0\xaf"}});
    std::string text;
    ASSERT_NO_THROW(text = e.detail_text());
    Json back;
    ASSERT_NO_THROW(back = Json::parse(text)) << text;  // parse refuses invalid UTF-8
    EXPECT_EQ(back.at("error").get<std::string>(), "bad byte \xef\xbf\xbd\xef\xbf\xbd here");
    EXPECT_EQ(back.at("code").get<std::string>(), "BAD_REQUEST");
}

TEST(Error, ThrowBadRequest) {
    try {
        throw_bad_request("unknown flow 'x'", Json{{"field", "flow"}});
        FAIL() << "throw_bad_request returned";
    } catch (const std::runtime_error& base) {
        const auto* e = dynamic_cast<const Error*>(&base);
        ASSERT_NE(e, nullptr) << "throw_bad_request must throw kaireon::Error";
        EXPECT_EQ(e->code(), ErrorCode::BadRequest);
        EXPECT_EQ(e->info().sqlstate, "KR400");
        EXPECT_EQ(e->detail_text(), R"({"error":"unknown flow 'x'","code":"BAD_REQUEST","field":"flow"})");
    }
}

}  // namespace
}  // namespace kaireon
