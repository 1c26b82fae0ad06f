// json_test.cpp - parse_json / parse_json_object under hostile input.
#include "core/json.h"

#include "core/error.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kaireon {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

const std::string kRequest =
    R"({"customerId":"cust-42","flow":"homepage","channel":"web","placement":"hero","limit":5,)"
    R"("context":{"device":"mobile","basket":[{"sku":"A1","qty":2}]},"segments":["gold","new"],)"
    R"("attributes":{"age":37,"score":0.75,"optIn":true,"nickname":null},"excludeOffers":["o-1"],)"
    R"("trace":false,"dryRun":true})";

// refusal returns the Error that parsing `text` throws, or nothing (and a test
// failure) when it does not throw one.
std::optional<Error> refusal(std::string_view text, const JsonLimits& limits = JsonLimits{}, bool object = false) {
    try {
        Json doc = object ? parse_json_object(text, "request", limits) : parse_json(text, "request", limits);
        ADD_FAILURE() << "accepted: " << doc.dump().substr(0, 200);
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::BadRequest) << e.what();
        return e;
    } catch (const std::exception& e) {
        ADD_FAILURE() << "threw something other than kaireon::Error: " << e.what();
    }
    return std::nullopt;
}

std::string nested_arrays(int depth) {
    return std::string(static_cast<size_t>(depth), '[') + std::string(static_cast<size_t>(depth), ']');
}

// nested_objects returns {"a":{"a":...1...}} with `depth` objects.
std::string nested_objects(int depth) {
    std::string text;
    for (int i = 0; i < depth; ++i) text += R"({"a":)";
    text += "1";
    text += std::string(static_cast<size_t>(depth), '}');
    return text;
}

// is_utf8 returns whether `text` is valid UTF-8 (nlohmann's strict dump checks).
bool is_utf8(const std::string& text) {
    try {
        (void)Json(text).dump();
        return true;
    } catch (const Json::exception&) {
        return false;
    }
}

TEST(ParseJson, AcceptsTypicalRequestKeepingKeyOrder) {
    Json doc = parse_json_object(kRequest);
    ASSERT_TRUE(doc.is_object());
    EXPECT_EQ(doc.at("customerId"), "cust-42");
    EXPECT_EQ(doc.at("limit"), 5);
    EXPECT_EQ(doc.at("context").at("basket").at(0).at("qty"), 2);
    EXPECT_TRUE(doc.at("attributes").at("nickname").is_null());
    EXPECT_EQ(doc.dump(), kRequest);  // ordered_json: insertion order survives
}

TEST(ParseJson, AcceptsScalarsAndWhitespace) {
    EXPECT_EQ(parse_json("1"), 1);
    EXPECT_EQ(parse_json(R"("s")"), "s");
    EXPECT_TRUE(parse_json("null").is_null());
    EXPECT_EQ(parse_json(" \t\r\n true \n"), true);
    EXPECT_TRUE(parse_json("[]").is_array());
}

TEST(ParseJson, EveryTruncationOfARequestIsRefused) {
    for (size_t len = 0; len < kRequest.size(); ++len) {
        SCOPED_TRACE("length " + std::to_string(len));
        auto e = refusal(std::string_view(kRequest).substr(0, len));
        ASSERT_TRUE(e.has_value());
        ASSERT_TRUE(e->detail().contains("position")) << e->detail_text();
        EXPECT_LE(e->detail().at("position").get<size_t>(), len + 1);
    }
}

TEST(ParseJson, GarbageIsRefused) {
    const std::vector<std::string> garbage = {
        "x",
        "{x}",
        "{'a':1}",
        R"({"a":1,})",
        "[1,]",
        R"({"a" 1})",
        R"({"a":01})",
        R"({"a":.5})",
        R"({"a":+1})",
        R"({"a":NaN})",
        "Infinity",
        R"({"a":tru})",
        "{} x",
        "{}{}",
        "{} // c",
        "/* c */ {}",
        R"({"a":1]})",
        "]",
        "}",
        ",",
        ":",
        R"({"a":"\x41"})",
        R"({"a":"\u00"})",
        "\x01",
        std::string("\0", 1),
        std::string("\0{}", 3),
        R"({"a":"unterminated})",
    };
    for (const std::string& text : garbage) {
        SCOPED_TRACE(text);
        refusal(text);
    }
}

TEST(ParseJson, RandomBytesOnlyEverThrowError) {
    std::mt19937 rng(20240229);  // fixed seed: reproducible
    std::uniform_int_distribution<int> byte(0, 255);
    std::uniform_int_distribution<size_t> length(0, 64);
    const std::string alphabet = "{}[]:,\"\\ 0123456789.eE+-tfnrul";
    for (int i = 0; i < 5000; ++i) {
        std::string text(length(rng), '\0');
        // Half pure noise, half JSON-ish noise that gets further into the parser.
        for (char& c : text) c = (i % 2) ? static_cast<char>(byte(rng)) : alphabet[byte(rng) % alphabet.size()];
        try {
            (void)parse_json(text);
        } catch (const Error& e) {
            EXPECT_EQ(e.code(), ErrorCode::BadRequest);
        } catch (...) {
            ADD_FAILURE() << "non-Error exception for input of " << text.size() << " bytes";
        }
    }
}

TEST(ParseJson, InvalidUtf8IsRefused) {
    const std::vector<std::string> bad = {
        "\xff",                  // never valid
        "\x80",                  // lone continuation byte
        "\xc3",                  // truncated two-byte sequence
        "\xc0\xaf",              // overlong '/'
        "\xe0\x80\xaf",          // overlong, three bytes
        "\xed\xa0\x80",          // UTF-16 surrogate encoded as UTF-8
        "\xf4\x90\x80\x80",      // above U+10FFFF
        "\xf8\x88\x80\x80\x80",  // five-byte form
        "a\xe2\x82",             // truncated euro sign
    };
    for (const std::string& bytes : bad) {
        SCOPED_TRACE(::testing::PrintToString(bytes));
        auto e = refusal(R"({"a":")" + bytes + R"("})");
        ASSERT_TRUE(e.has_value());
        EXPECT_THAT(e->what(), HasSubstr("UTF-8"));
        EXPECT_NO_THROW((void)e->detail_text());
    }
    // Outside strings, too.
    refusal("\xef\xbb{}");
    refusal("{\"a\":1}\xff");
}

TEST(ParseJson, ValidUnicodeIsAccepted) {
    Json doc = parse_json_object(R"({"a":"caf\u00e9","b":"\ud83d\ude00","c":"日本","d":"😀",)"
                                 "\"e\":\"\xf4\x8f\xbf\xbf\",\"f\":\"\\u0000\"}");
    EXPECT_EQ(doc.at("a"), "caf\xc3\xa9");
    EXPECT_EQ(doc.at("b"), "\xf0\x9f\x98\x80");
    EXPECT_EQ(doc.at("b"), doc.at("d"));
    EXPECT_EQ(doc.at("e"), "\xf4\x8f\xbf\xbf");
    EXPECT_EQ(doc.at("f").get<std::string>(), std::string(1, '\0'));
}

TEST(ParseJson, BadEscapesAndControlCharactersAreRefused) {
    for (std::string text :
         {R"({"a":"\ud800"})", R"({"a":"\udc00"})", R"({"a":"\ud800\u0041"})", R"({"a":"\ud83d"})", R"({"a":"\q"})"}) {
        SCOPED_TRACE(text);
        refusal(text);
    }
    refusal(std::string("{\"a\":\"x\0y\"}", 11));  // raw NUL inside a string
    refusal("{\"a\":\"line\nbreak\"}");
    refusal("{\"a\":\"tab\there\"}");
}

TEST(ParseJson, ReportsTheBytePosition) {
    // nlohmann counts bytes from 1; the end of input is size + 1.
    const std::vector<std::pair<std::string, size_t>> cases = {
        {R"({"a":})", 6}, {R"({"a":)", 6}, {"", 1},    {R"({"a": 1, "b": x})", 15},
        {"{}{}", 3},      {"[1,2,]", 6},   {"   ", 4}, {"{\"a\":\"\xff\"}", 7},
    };
    for (const auto& [text, position] : cases) {
        SCOPED_TRACE(text);
        auto e = refusal(text);
        ASSERT_TRUE(e.has_value());
        EXPECT_THAT(e->what(), StartsWith("malformed JSON in request at byte " + std::to_string(position) + ": "));
        EXPECT_EQ(e->detail().at("position"), position);
        EXPECT_EQ(e->detail().at("code"), "BAD_REQUEST");
    }
    auto e = refusal(R"({"a":})");
    ASSERT_TRUE(e.has_value());
    EXPECT_STREQ(e->what(), "malformed JSON in request at byte 6: unexpected '}'; expected '[', '{', or a literal");
    EXPECT_THAT(e->what(), ::testing::Not(HasSubstr("json.exception")));
}

TEST(ParseJson, NamesTheDocument) {
    try {
        (void)parse_json("{", "catalog");
        FAIL();
    } catch (const Error& e) {
        EXPECT_THAT(e.what(), StartsWith("malformed JSON in catalog at byte"));
    }
    try {
        (void)parse_json_object("[]", "model definition");
        FAIL();
    } catch (const Error& e) {
        EXPECT_STREQ(e.what(), "model definition must be a JSON object, not array");
    }
}

TEST(ParseJson, SizeLimit) {
    const size_t limit = JsonLimits{}.max_bytes;
    ASSERT_EQ(limit, size_t{1} << 20);
    // {"a":"xxx...x"} of exactly the limit is accepted.
    std::string at_limit = R"({"a":")" + std::string(limit - 8, 'x') + R"("})";
    ASSERT_EQ(at_limit.size(), limit);
    EXPECT_EQ(parse_json_object(at_limit).at("a").get_ref<const std::string&>().size(), limit - 8);

    std::string over = R"({"a":")" + std::string(limit - 7, 'x') + R"("})";
    auto e = refusal(over);
    ASSERT_TRUE(e.has_value());
    EXPECT_STREQ(e->what(), "request is too large: 1048577 bytes, at most 1048576");
    EXPECT_EQ(
        e->detail_text(),
        R"({"error":"request is too large: 1048577 bytes, at most 1048576","code":"BAD_REQUEST","limit":1048576})");

    // The size is checked before parsing: even garbage gets the size error.
    auto big_garbage = refusal(std::string(limit + 1, '\xff'));
    ASSERT_TRUE(big_garbage.has_value());
    EXPECT_THAT(big_garbage->what(), HasSubstr("too large"));

    JsonLimits small;
    small.max_bytes = 8;
    EXPECT_NO_THROW((void)parse_json(R"({"a":12})", "request", small));
    auto e2 = refusal(R"({"a":123})", small);
    ASSERT_TRUE(e2.has_value());
    EXPECT_EQ(e2->detail().at("limit"), 8);
}

TEST(ParseJson, DepthAtTheLimitIsAccepted) {
    const int limit = JsonLimits{}.max_depth;
    ASSERT_EQ(limit, 64);
    EXPECT_NO_THROW((void)parse_json(nested_arrays(limit)));
    EXPECT_NO_THROW((void)parse_json_object(nested_objects(limit)));
    // An object holding 63 arrays is 64 levels.
    EXPECT_NO_THROW((void)parse_json_object(R"({"a":)" + nested_arrays(limit - 1) + "}"));
    // Width is not depth.
    std::string wide = "[";
    for (int i = 0; i < 10000; ++i) wide += i ? ",[1]" : "[1]";
    wide += "]";
    EXPECT_EQ(parse_json(wide).size(), 10000U);
}

TEST(ParseJson, DepthJustPastTheLimitIsRefused) {
    const int limit = JsonLimits{}.max_depth;
    for (const std::string& text :
         {nested_arrays(limit + 1), nested_objects(limit + 1), R"({"a":)" + nested_arrays(limit) + "}",
          // deep in one branch only, after a shallow sibling
          R"({"ok":[1,2],"deep":)" + nested_arrays(limit) + R"(,"after":1})"}) {
        SCOPED_TRACE(text);
        auto e = refusal(text);
        ASSERT_TRUE(e.has_value());
        EXPECT_STREQ(e->what(), "request is nested too deeply: at most 64 levels");
        EXPECT_EQ(e->detail().at("limit"), 64);
    }
}

TEST(ParseJson, CustomDepthLimits) {
    for (int limit : {1, 2, 3, 10}) {
        SCOPED_TRACE(limit);
        JsonLimits limits;
        limits.max_depth = limit;
        EXPECT_NO_THROW((void)parse_json(nested_arrays(limit), "request", limits));
        auto e = refusal(nested_objects(limit + 1), limits);
        ASSERT_TRUE(e.has_value());
        EXPECT_THAT(e->what(), HasSubstr("nested too deeply"));
    }
}

TEST(ParseJson, ZeroDepthLimitAllowsOnlyScalars) {
    JsonLimits limits;
    limits.max_depth = 0;
    EXPECT_EQ(parse_json("7", "request", limits), 7);
    auto e = refusal("[]", limits);
    ASSERT_TRUE(e.has_value());
    EXPECT_THAT(e->what(), HasSubstr("nested too deeply"));
}

TEST(ParseJson, HundredThousandDeepIsRefusedWithoutCrashing) {
    constexpr int kDepth = 100000;
    auto arrays = refusal(nested_arrays(kDepth));
    ASSERT_TRUE(arrays.has_value());
    EXPECT_THAT(arrays->what(), HasSubstr("nested too deeply"));

    auto objects = refusal(nested_objects(kDepth));
    ASSERT_TRUE(objects.has_value());
    EXPECT_THAT(objects->what(), HasSubstr("nested too deeply"));

    // Unterminated: refused as malformed or too deep, either way an Error.
    refusal(std::string(kDepth, '['));
    refusal(std::string(kDepth, '{'));
    refusal(std::string(kDepth, ']'));
    // At the limit of parse_json_object too.
    refusal(nested_arrays(kDepth), JsonLimits{}, /*object=*/true);
}

TEST(ParseJson, NumbersAtTheirLimits) {
    Json doc = parse_json_object(
        R"({"i64min":-9223372036854775808,"i64max":9223372036854775807,"u64max":18446744073709551615,)"
        R"("dmax":1.7976931348623157e308,"dmin":5e-324,"neg0":-0.0,"exp":1E+2})");
    EXPECT_EQ(doc.at("i64min").get<int64_t>(), std::numeric_limits<int64_t>::min());
    EXPECT_EQ(doc.at("i64max").get<int64_t>(), std::numeric_limits<int64_t>::max());
    EXPECT_EQ(doc.at("u64max").get<uint64_t>(), std::numeric_limits<uint64_t>::max());
    EXPECT_EQ(doc.at("dmax").get<double>(), std::numeric_limits<double>::max());
    EXPECT_EQ(doc.at("dmin").get<double>(), std::numeric_limits<double>::denorm_min());
    EXPECT_EQ(doc.at("exp").get<double>(), 100.0);
    EXPECT_STREQ(type_name(doc.at("neg0")), "number");

    // Past the integer range the value degrades to a double, never wraps.
    EXPECT_TRUE(parse_json("18446744073709551616").is_number_float());
    EXPECT_TRUE(parse_json("-9223372036854775809").is_number_float());
    EXPECT_GT(parse_json("18446744073709551616").get<double>(), 1.8e19);

    // Past the double range the document is refused.
    for (std::string_view text : {"1e400", "-1e400", R"({"a":[1,2,1e999]})"}) {
        SCOPED_TRACE(text);
        refusal(text);
    }
}

TEST(ParseJson, NumberOverflowMessageIsClean) {
    auto e = refusal(R"({"a":1e400})");
    ASSERT_TRUE(e.has_value());
    EXPECT_THAT(e->what(), HasSubstr("1e400"));
    EXPECT_THAT(e->what(), ::testing::Not(HasSubstr("json.exception")));
    EXPECT_THAT(e->what(), HasSubstr("at byte"));
}

TEST(ParseJson, BytesAfterANulAreNotIgnored) {
    // The whole string_view is the document: a NUL byte does not end it.
    const std::string_view trailing("{\"a\":1}\0{\"evil\":true} garbage", 29);
    auto e = refusal(trailing);
    ASSERT_TRUE(e.has_value());
    EXPECT_THAT(e->what(), HasSubstr("at byte 8: NUL byte"));
    refusal(std::string_view("{}\0", 3));
    refusal(std::string_view("{}  \0  x", 8));
}

TEST(ParseJson, ErrorMessagesAreValidUtf8) {
    // The message becomes the PostgreSQL error message (converted to the
    // client encoding); the DETAIL is already made valid by detail_text().
    auto e = refusal("{\"a\":\"\xff\"}");
    ASSERT_TRUE(e.has_value());
    EXPECT_TRUE(is_utf8(e->detail_text()));
    EXPECT_TRUE(is_utf8(e->what()));
}

TEST(ParseJsonObject, RefusesEveryNonObject) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"[]", "array"},       {R"([{"a":1}])", "array"}, {"1", "number"},     {"-1.5", "number"},
        {R"("{}")", "string"}, {"null", "null"},          {"true", "boolean"}, {"false", "boolean"},
    };
    for (const auto& [text, type] : cases) {
        SCOPED_TRACE(text);
        auto e = refusal(text, JsonLimits{}, /*object=*/true);
        ASSERT_TRUE(e.has_value());
        EXPECT_EQ(std::string(e->what()), "request must be a JSON object, not " + type);
        EXPECT_EQ(e->detail().at("code"), "BAD_REQUEST");
    }
    EXPECT_TRUE(parse_json_object(" {} ").empty());
}

TEST(TypeName, NamesEveryType) {
    EXPECT_STREQ(type_name(Json(nullptr)), "null");
    EXPECT_STREQ(type_name(Json::object()), "object");
    EXPECT_STREQ(type_name(Json::array()), "array");
    EXPECT_STREQ(type_name(Json("s")), "string");
    EXPECT_STREQ(type_name(Json(true)), "boolean");
    EXPECT_STREQ(type_name(Json(-1)), "number");
    EXPECT_STREQ(type_name(Json(1U)), "number");
    EXPECT_STREQ(type_name(Json(1.5)), "number");
    EXPECT_STREQ(type_name(Json::binary({1, 2})), "binary");
    EXPECT_STREQ(type_name(Json(Json::value_t::discarded)), "discarded");
}

TEST(ReleaseJson, EmptiesEveryContainerLeavesFirst) {
    Json answer = parse_json(R"({"offers": [{"offerId": "a-long-offer-identifier", "score": 0.5, "tags": ["x"]}],
                                 "quota": {"usage": {"current": 1, "limit": null}}, "flow": "homepage"})");
    release_json(answer);
    EXPECT_TRUE(answer.is_object());
    EXPECT_TRUE(answer.empty());
    release_json(answer);  // again: nothing left to do
    EXPECT_TRUE(answer.empty());
    Json scalar = "text";
    release_json(scalar);
    EXPECT_EQ(scalar, "text");  // scalars stay as they are
}

TEST(ReleaseJson, LeavesWhatIsDeeperThanItsLimitToTheDestructor) {
    // 100,000 levels: the destructor's own stack frees what release_json
    // leaves below its depth (AddressSanitizer sees a leak or a double free).
    Json deep = Json::array();
    Json* level = &deep;
    for (int i = 0; i < 100000; ++i) level = &level->emplace_back(Json::array());
    level->push_back("the-deepest-string-of-all-these");
    release_json(deep, 3);
    EXPECT_TRUE(deep.empty());
    Json nested = parse_json(R"({"a": {"b": {"c": [1, 2, {"d": "e"}]}}})");
    release_json(nested, 2);  // the two outer levels emptied, below them freed by clear()
    EXPECT_TRUE(nested.empty());
}

}  // namespace
}  // namespace kaireon
