// expr_test.cpp - the expression language of the decision catalog
// (src/core/expr.h, SPEC 6.1 "The eligibility language", 6.2 relevance):
// values, literals, paths, precedence and associativity, null semantics,
// every operator and function, compile errors with their exact messages and
// positions, static types, limits, constant folding, the Program API, and a
// randomized comparison of the evaluator with a reference interpreter.
#include "core/expr.h"

#include "core/error.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace kaireon::expr {
namespace {

constexpr int64_t kNow = 1767225600;  // 2026-01-01T00:00:00Z

// The bindings most tests evaluate against.
MapBindings sample_bindings() {
    MapBindings b;
    b.values = {
        {"customer.age", 30},
        {"customer.name", "Ada"},
        {"customer.segments", Value::list({"gold", "newsletter"})},
        {"customer.vip", true},
        {"customer.f", false},
        {"customer.score", 2.5},
        {"customer.zero", 0},
        {"customer.tags", Value::list({"a", "b"})},
        {"customer.empty", ""},
        {"offer.value", 100},
        {"offer.id", "gold-card"},
        {"context.channel", "web"},
        {"context.cart.total", 42.5},
        {"context.signup", "2025-12-01T12:00:00Z"},
        {"context.ts", kNow - 3 * 86400},
    };
    b.metrics = {{"clicks_30d", 12}, {"spend", 0.5}};
    b.segments = {"gold", "newsletter"};
    b.now_seconds = kNow;
    return b;
}

Value eval(std::string_view source) {
    Program program = compile(source, ResultType::Any);
    MapBindings b = sample_bindings();
    b.bind(program);
    return program.evaluate(b);
}

std::string canonical(std::string_view source, ResultType expected = ResultType::Any) {
    return compile(source, expected).to_string();
}

struct Refusal {
    std::string message;
    Json detail;
};

// refusal returns the BadRequest Error that compiling `source` throws, or
// nothing (and a test failure) when it compiles or throws something else.
std::optional<Refusal> refusal(std::string_view source, ResultType expected = ResultType::Any) {
    try {
        compile(source, expected);
        ADD_FAILURE() << "compiled: " << source;
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::BadRequest) << e.what();
        return Refusal{e.what(), e.detail()};
    } catch (const std::exception& e) {
        ADD_FAILURE() << "threw something other than kaireon::Error: " << e.what();
    }
    return std::nullopt;
}

// EXPECT_REFUSED checks the exact message (which ends in " at <position>")
// and the DETAIL's position field.
#define EXPECT_REFUSED_AS(source_, expected_type_, message_, position_)                       \
    do {                                                                                      \
        SCOPED_TRACE(source_);                                                                \
        auto refused_ = refusal((source_), (expected_type_));                                 \
        if (refused_) {                                                                       \
            EXPECT_EQ(refused_->message, (message_));                                         \
            EXPECT_EQ(refused_->detail.value("position", size_t(999999)), size_t(position_)); \
            EXPECT_EQ(refused_->detail.value("error", std::string()), refused_->message);     \
            EXPECT_EQ(refused_->detail.value("code", std::string()), "BAD_REQUEST");          \
            EXPECT_TRUE(refused_->message.ends_with(" at " + std::to_string(position_)));     \
        }                                                                                     \
    } while (0)
#define EXPECT_REFUSED(source_, message_, position_) EXPECT_REFUSED_AS(source_, ResultType::Any, message_, position_)

// A Bindings that fails the test when anything reads it.
class UntouchableBindings final : public Bindings {
public:
    const Value& path(size_t) const override {
        ADD_FAILURE() << "path() read";
        return null_;
    }
    std::optional<double> metric(std::string_view) const override {
        ADD_FAILURE() << "metric() read";
        return std::nullopt;
    }
    int64_t now() const override {
        ADD_FAILURE() << "now() read";
        return 0;
    }
    bool has_segment(std::string_view) const override {
        ADD_FAILURE() << "has_segment() read";
        return false;
    }

private:
    Value null_;
};

// ---- Value --------------------------------------------------------------------------

TEST(ExprValue, KindsAndAccessors) {
    EXPECT_TRUE(Value().is_null());
    EXPECT_TRUE(Value(nullptr).is_null());
    EXPECT_TRUE(Value(true).is_bool());
    EXPECT_TRUE(Value(true).as_bool());
    EXPECT_EQ(Value(18).kind(), Value::Kind::Number);
    EXPECT_EQ(Value(int64_t{1} << 40).as_number(), 1099511627776.0);
    EXPECT_EQ(Value(2.5f).as_number(), 2.5);
    EXPECT_EQ(Value("gold").as_string(), "gold");
    EXPECT_EQ(Value(std::string("a\0b", 3)).as_string().size(), 3u);
    Value list = Value::list({1, "a", nullptr, Value::list({true})});
    ASSERT_TRUE(list.is_list());
    ASSERT_EQ(list.as_list().size(), 4u);
    EXPECT_EQ(list.as_list()[1], Value("a"));
    EXPECT_TRUE(list.as_list()[2].is_null());
    EXPECT_EQ(list.as_list()[3].as_list()[0], Value(true));
    EXPECT_EQ(sizeof(Value), 16u);
}

TEST(ExprValue, CopiesShareAndMovesEmpty) {
    Value a("a fairly long string that does not fit any small buffer");
    Value b = a;
    EXPECT_EQ(a.as_string().data(), b.as_string().data());  // shared, not copied
    Value c = std::move(a);
    EXPECT_TRUE(a.is_null());  // NOLINT(bugprone-use-after-move): moved-from is null by contract
    EXPECT_EQ(c, b);
    const Value& alias = c;
    c = alias;  // self-assignment
    EXPECT_EQ(c, b);
    c = Value(3);
    EXPECT_EQ(c, Value(3));
    b = std::move(c);
    EXPECT_EQ(b, Value(3));
    Value list = Value::list({"x", 1});
    Value other = list;
    other = Value::list({});
    EXPECT_EQ(list, Value::list({"x", 1}));
    EXPECT_EQ(other.as_list().size(), 0u);
}

TEST(ExprValue, StructuralEquality) {
    EXPECT_EQ(Value(), Value());
    EXPECT_EQ(Value(1), Value(1.0));
    EXPECT_EQ(Value(0.0), Value(-0.0));
    EXPECT_NE(Value(1), Value("1"));
    EXPECT_NE(Value(true), Value(1));
    EXPECT_NE(Value(), Value(false));
    EXPECT_EQ(Value::list({1, nullptr}), Value::list({1.0, nullptr}));
    EXPECT_NE(Value::list({1}), Value::list({1, 2}));
    EXPECT_NE(Value::list({1}), Value(1));
}

TEST(ExprValue, LiteralText) {
    EXPECT_EQ(Value().to_string(), "null");
    EXPECT_EQ(Value(false).to_string(), "false");
    EXPECT_EQ(Value(3).to_string(), "3");
    EXPECT_EQ(Value(-2.5).to_string(), "-2.5");
    EXPECT_EQ(Value(0.1).to_string(), "0.1");
    EXPECT_EQ(Value(1e21).to_string(), "1e+21");
    EXPECT_EQ(Value("it's \\ \n\t\x01 é").to_string(), R"('it\'s \\ \n\t\u0001 é')");
    EXPECT_EQ(Value::list({1, "a", Value::list({}), nullptr}).to_string(), "[1, 'a', [], null]");
}

TEST(ExprValue, Json) {
    Json doc = Json::parse(R"({"a": [1, 2.5, "x", true, null, {"k": 1}, [[]]]})");
    Value v = Value::from_json(doc["a"]);
    EXPECT_EQ(v, Value::list({1, 2.5, "x", true, nullptr, nullptr, Value::list({Value::list({})})}));
    EXPECT_EQ(v.to_json().dump(), R"([1,2.5,"x",true,null,null,[[]]])");
    EXPECT_TRUE(Value::from_json(doc).is_null());  // an object
    EXPECT_EQ(Value::from_json(Json(-7)), Value(-7));
    EXPECT_EQ(Value::from_json(Json(18446744073709551615ull)).as_number(), 18446744073709551615.0);
}

// ---- literals and paths ---------------------------------------------------------------

TEST(ExprLiterals, Numbers) {
    EXPECT_EQ(eval("3"), Value(3));
    EXPECT_EQ(eval("2.5"), Value(2.5));
    EXPECT_EQ(eval("1e3"), Value(1000));
    EXPECT_EQ(eval("1E-2"), Value(0.01));
    EXPECT_EQ(eval("2.5e+1"), Value(25));
    EXPECT_EQ(eval("007"), Value(7));
    EXPECT_EQ(eval("-0.5"), Value(-0.5));
    EXPECT_EQ(eval("9007199254740993"), Value(9007199254740992.0));  // nearest double
}

TEST(ExprLiterals, Strings) {
    EXPECT_EQ(eval("'gold'"), Value("gold"));
    EXPECT_EQ(eval("\"gold\""), Value("gold"));
    EXPECT_EQ(eval("''"), Value(""));
    EXPECT_EQ(eval(R"('it\'s')"), Value("it's"));
    EXPECT_EQ(eval(R"("say \"hi\"")"), Value("say \"hi\""));
    EXPECT_EQ(eval(R"('"' = "\"")"), Value(true));
    EXPECT_EQ(eval(R"("it's")"), Value("it's"));
    EXPECT_EQ(eval(R"('\\ \/ \n \t \r \b \f')"), Value("\\ / \n \t \r \b \f"));
    EXPECT_EQ(eval(R"('\u00e9\u00E9')"), Value("éé"));
    EXPECT_EQ(eval(R"('\ud83d\ude00')"), Value("😀"));
    EXPECT_EQ(eval("'raw\nnewline'"), Value("raw\nnewline"));
    EXPECT_EQ(eval("'日本語'"), Value("日本語"));
}

TEST(ExprLiterals, BooleansNullListsAndKeywordCase) {
    EXPECT_EQ(eval("true"), Value(true));
    EXPECT_EQ(eval("TRUE"), Value(true));
    EXPECT_EQ(eval("False"), Value(false));
    EXPECT_EQ(eval("NULL"), Value());
    EXPECT_EQ(eval("[1, 'a', null, [true]]"), Value::list({1, "a", nullptr, Value::list({true})}));
    EXPECT_EQ(eval("[]"), Value::list({}));
    EXPECT_EQ(eval("[customer.age, customer.name, customer.nothing]"), Value::list({30, "Ada", nullptr}));
    EXPECT_EQ(eval("customer.age IS NOT NULL AND NOT customer.vip OR customer.name In ('Ada')"), Value(true));
    EXPECT_EQ(eval("customer.age BeTwEeN 1 AnD 99"), Value(true));
}

TEST(ExprPaths, ResolveThroughBindings) {
    EXPECT_EQ(eval("customer.age"), Value(30));
    EXPECT_EQ(eval("customer.segments"), Value::list({"gold", "newsletter"}));
    EXPECT_EQ(eval("offer.value"), Value(100));
    EXPECT_EQ(eval("context.cart.total"), Value(42.5));
    EXPECT_EQ(eval("customer.nothing"), Value());  // missing is null
    EXPECT_EQ(eval("customer . age"), Value(30));  // whitespace around dots
    EXPECT_EQ(canonical("customer . age"), "customer.age");
    // After a dot keywords are names; names are case-sensitive.
    EXPECT_EQ(canonical("offer.in = context.null"), "(offer.in = context.null)");
    EXPECT_EQ(compile("customer.Age = customer.age", ResultType::Bool).paths(),
              (std::vector<std::string>{"customer.Age", "customer.age"}));
}

TEST(ExprPaths, DistinctInOrderOfFirstAppearance) {
    Program p =
        compile("customer.a = 1 and offer.b = 2 or customer.a = 3 and context.c.d = 4 or offer.b in customer.list",
                ResultType::Bool);
    EXPECT_EQ(p.paths(), (std::vector<std::string>{"customer.a", "offer.b", "context.c.d", "customer.list"}));
    // Slots follow the paths: bindings are read by slot.
    MapBindings b;
    b.values = {{"customer.a", 3}, {"context.c.d", 4}};
    EXPECT_TRUE(p.test(b.bind(p)));
    b.values = {{"offer.b", 5}, {"customer.list", Value::list({5})}};
    EXPECT_TRUE(p.test(b.bind(p)));
    b.values = {{"offer.b", 5}, {"customer.list", Value::list({6})}};
    EXPECT_FALSE(p.test(b.bind(p)));
    // Folding removes paths that can no longer be read.
    EXPECT_EQ(compile("false and customer.x = 1 or offer.y = 2", ResultType::Bool).paths(),
              (std::vector<std::string>{"offer.y"}));
    EXPECT_TRUE(compile("1 + 1", ResultType::Number).paths().empty());
}

// ---- precedence and associativity ---------------------------------------------------------

TEST(ExprPrecedence, CanonicalFormTable) {
    const std::pair<const char*, const char*> table[] = {
        {"customer.a or customer.b and customer.c", "(customer.a or (customer.b and customer.c))"},
        {"customer.a and customer.b or customer.c", "((customer.a and customer.b) or customer.c)"},
        {"customer.a or customer.b or customer.c", "(customer.a or customer.b or customer.c)"},
        {"not customer.a and customer.b", "((not customer.a) and customer.b)"},
        {"not customer.a or not customer.b", "((not customer.a) or (not customer.b))"},
        {"not customer.a = customer.b", "(not (customer.a = customer.b))"},
        {"not not customer.a", "(not (not customer.a))"},
        {"not customer.a in [1, 2]", "(not (customer.a in [1, 2]))"},
        {"customer.a = customer.b + customer.c", "(customer.a = (customer.b + customer.c))"},
        {"customer.a + 1 > 2 * customer.b", "((customer.a + 1) > (2 * customer.b))"},
        {"customer.a + customer.b * customer.c", "(customer.a + (customer.b * customer.c))"},
        {"customer.a * customer.b + customer.c", "((customer.a * customer.b) + customer.c)"},
        {"customer.a - customer.b - customer.c", "(customer.a - customer.b - customer.c)"},
        {"customer.a - (customer.b - customer.c)", "(customer.a - (customer.b - customer.c))"},
        {"customer.a / customer.b % customer.c * customer.d", "(customer.a / customer.b % customer.c * customer.d)"},
        {"customer.a / (customer.b * customer.c)", "(customer.a / (customer.b * customer.c))"},
        {"-customer.a * customer.b", "((-customer.a) * customer.b)"},
        {"- -customer.a", "(-(-customer.a))"},
        {"-(customer.a + customer.b)", "(-(customer.a + customer.b))"},
        {"customer.a + customer.b between customer.c and customer.d + 1",
         "((customer.a + customer.b) between customer.c and (customer.d + 1))"},
        {"customer.a between 1 and 2 and customer.b", "((customer.a between 1 and 2) and customer.b)"},
        {"customer.a not between 1 and 2 or customer.b", "((customer.a not between 1 and 2) or customer.b)"},
        {"customer.a in (1, 2) or customer.b is null", "((customer.a in [1, 2]) or (customer.b is null))"},
        {"customer.a + 1 is not null", "((customer.a + 1) is not null)"},
        {"customer.a is not null and not customer.b in customer.c",
         "((customer.a is not null) and (not (customer.b in customer.c)))"},
        {"customer.a not in [1, customer.b]", "(customer.a not in [1, customer.b])"},
        {"customer.a in (customer.b)", "(customer.a in customer.b)"},
        {"customer.a in ('x')", "(customer.a in ('x'))"},
        {"customer.a in (['x'])", "(customer.a in (['x']))"},
        {"customer.a in ([customer.b])", "(customer.a in ([customer.b]))"},
        {"customer.a in ('x', 'y')", "(customer.a in ['x', 'y'])"},
        {"customer.a in [customer.b]", "(customer.a in [customer.b])"},
        {"customer.a <> 1 or customer.b == 2", "((customer.a != 1) or (customer.b = 2))"},
        {"customer.a < 1 or customer.a <= 2 or customer.a > 3 or customer.a >= 4",
         "((customer.a < 1) or (customer.a <= 2) or (customer.a > 3) or (customer.a >= 4))"},
        {"NOT customer.a AND customer.b OR customer.c IS NULL",
         "(((not customer.a) and customer.b) or (customer.c is null))"},
        {"((customer.a))", "customer.a"},
        {"Has_Segment('x') and LOWER(customer.n) = 'y'", "(has_segment('x') and (lower(customer.n) = 'y'))"},
        {"customer.a = 1 and (customer.b = 2 or customer.c = 3)",
         "((customer.a = 1) and ((customer.b = 2) or (customer.c = 3)))"},
    };
    for (const auto& [source, expected] : table) {
        EXPECT_EQ(canonical(source), expected) << source;
        // The canonical form compiles back to itself.
        EXPECT_EQ(canonical(expected), expected) << source;
    }
}

TEST(ExprPrecedence, ArithmeticAssociatesLeft) {
    EXPECT_EQ(eval("10 - 4 - 3"), Value(3));
    EXPECT_EQ(eval("100 / 10 / 5"), Value(2));
    EXPECT_EQ(eval("2 * 3 % 4"), Value(2));  // (2 * 3) % 4, not 2 * (3 % 4)
    EXPECT_EQ(eval("7 % 3 * 2"), Value(2));
    EXPECT_EQ(eval("1 + 2 * 3 - 4 / 2"), Value(5));
    EXPECT_EQ(eval("2 - -3"), Value(5));
    EXPECT_EQ(eval("-2 * -3"), Value(6));
    EXPECT_EQ(eval("-2 - 3"), Value(-5));
    EXPECT_EQ(eval("(1 + 2) * 3"), Value(9));
    // The same with values only known at evaluation time.
    EXPECT_EQ(eval("offer.value - customer.age - 20"), Value(50));
    EXPECT_EQ(eval("offer.value / 10 / 5"), Value(2));
    EXPECT_EQ(eval("customer.age * 3 % 4"), Value(2));
}

TEST(ExprPrecedence, LogicBindsAsWritten) {
    // or is lowest: true or (false and false)
    EXPECT_EQ(eval("customer.vip or customer.f and customer.f"), Value(true));
    // not binds tighter than and: (not false) and true
    EXPECT_EQ(eval("not customer.f and customer.vip"), Value(true));
    // not binds looser than comparisons: not (30 = 31)
    EXPECT_EQ(eval("not customer.age = 31"), Value(true));
    // between's and is its own: (age between 1 and 40) and vip
    EXPECT_EQ(eval("customer.age between 1 and 40 and customer.vip"), Value(true));
}

// ---- null semantics and operator truth tables ------------------------------------------------

TEST(ExprNulls, EveryComparisonWithNullIsFalse) {
    // N is a missing path; null literals behave the same.
    const char* false_cases[] = {
        "customer.n = 1",
        "1 = customer.n",
        "customer.n = customer.n",
        "null = null",
        "customer.n != 1",
        "1 != customer.n",
        "customer.n != customer.n",
        "customer.n <> 1",
        "customer.n < 1",
        "customer.n <= 1",
        "customer.n > 1",
        "customer.n >= 1",
        "1 < customer.n",
        "1 <= customer.n",
        "1 > customer.n",
        "1 >= customer.n",
        "'a' < customer.n",
        "customer.n in [1, null]",
        "customer.n in (1, null)",
        "customer.n not in [1]",
        "customer.n not in []",
        "1 in customer.n",
        "1 not in customer.n",
        "null in [null]",
        "customer.n between 1 and 2",
        "customer.n not between 1 and 2",
        "1 between customer.n and 2",
        "1 not between customer.n and 2",
        "1 between 0 and customer.n",
        "3 not between 0 and customer.n",
        "customer.n is not null",
        "customer.n and true",
        "true and customer.n",
        "customer.n or false",
        "contains(customer.n, 1)",
        "contains([1], customer.n)",
        "has_segment(customer.n)",
        "has_segment(null)",
    };
    for (const char* source : false_cases) EXPECT_EQ(eval(source), Value(false)) << source;
    const char* true_cases[] = {
        "customer.n is null",
        "null is null",
        "not customer.n",
        "not (customer.n > 1)",
        "not (customer.n = 1)",
        "not (customer.n != 1)",
        "customer.n or true",
        "true or customer.n",
        "not (customer.n in [1])",
        "not (customer.n between 1 and 2)",
        "not null",
    };
    for (const char* source : true_cases) EXPECT_EQ(eval(source), Value(true)) << source;
}

TEST(ExprNulls, ArithmeticAndFunctionsWithNullAreNull) {
    const char* null_cases[] = {
        "customer.n + 1",
        "1 - customer.n",
        "customer.n * 2",
        "2 / customer.n",
        "customer.n % 2",
        "-customer.n",
        "null + 1",
        "1 + 2 + customer.n + 3",
        "abs(customer.n)",
        "lower(customer.n)",
        "upper(null)",
        "length(customer.n)",
        "days_since(customer.n)",
        "metric(customer.n)",
        "coalesce(customer.n, null)",
        "min(customer.n, null)",
        "max(null, customer.n)",
    };
    for (const char* source : null_cases) EXPECT_EQ(eval(source), Value()) << source;
}

TEST(ExprNulls, LogicIsTwoValued) {
    // T = customer.vip, F = customer.f, N = customer.n; only `true` is true.
    struct Row {
        const char* a;
        const char* b;
        bool and_;
        bool or_;
    };
    const Row rows[] = {
        {"customer.vip", "customer.vip", true, true},     {"customer.vip", "customer.f", false, true},
        {"customer.vip", "customer.n", false, true},      {"customer.f", "customer.vip", false, true},
        {"customer.f", "customer.f", false, false},       {"customer.f", "customer.n", false, false},
        {"customer.n", "customer.vip", false, true},      {"customer.n", "customer.f", false, false},
        {"customer.n", "customer.n", false, false},       {"customer.age", "customer.vip", false, true},
        {"customer.name", "customer.name", false, false},
    };
    for (const Row& row : rows) {
        EXPECT_EQ(eval(std::string(row.a) + " and " + row.b), Value(row.and_)) << row.a << " and " << row.b;
        EXPECT_EQ(eval(std::string(row.a) + " or " + row.b), Value(row.or_)) << row.a << " or " << row.b;
    }
    EXPECT_EQ(eval("not customer.vip"), Value(false));
    EXPECT_EQ(eval("not customer.f"), Value(true));
    EXPECT_EQ(eval("not customer.n"), Value(true));
    EXPECT_EQ(eval("not customer.name"), Value(true));  // a string is not true
    EXPECT_EQ(eval("not customer.age"), Value(true));
}

// ---- comparisons ---------------------------------------------------------------------------

TEST(ExprComparisons, EqualityByTypeAndValue) {
    EXPECT_EQ(eval("1 = 1.0"), Value(true));
    EXPECT_EQ(eval("customer.age = 30.0"), Value(true));
    EXPECT_EQ(eval("customer.age == 30"), Value(true));
    EXPECT_EQ(eval("customer.age != 31"), Value(true));
    EXPECT_EQ(eval("customer.age <> 30"), Value(false));
    EXPECT_EQ(eval("customer.name = 'Ada'"), Value(true));
    EXPECT_EQ(eval("customer.name = 'ada'"), Value(false));
    EXPECT_EQ(eval("customer.vip = true"), Value(true));
    EXPECT_EQ(eval("customer.vip != false"), Value(true));
    EXPECT_EQ(eval("customer.tags = ['a', 'b']"), Value(true));
    EXPECT_EQ(eval("customer.tags != ['a']"), Value(true));
    EXPECT_EQ(eval("customer.tags = ['a', 'b', null]"), Value(false));
    EXPECT_EQ(eval("[1, null] = [1.0, null]"), Value(true));  // inside lists null equals null
    EXPECT_EQ(eval("customer.empty = ''"), Value(true));
}

TEST(ExprComparisons, DifferentTypesAreNeverEqualNorUnequal) {
    const char* false_cases[] = {
        "customer.age = '30'", "customer.age != '30'", "customer.name = 1",    "customer.name != 1",
        "customer.vip = 1",    "customer.vip != 1",    "customer.tags = 'a'",  "customer.tags != 'a'",
        "customer.name < 1",   "customer.name > 1",    "customer.age <= '99'", "customer.age >= '0'",
    };
    for (const char* source : false_cases) EXPECT_EQ(eval(source), Value(false)) << source;
}

TEST(ExprComparisons, OrderingOfNumbersAndStrings) {
    EXPECT_EQ(eval("customer.age < 31"), Value(true));
    EXPECT_EQ(eval("customer.age <= 30"), Value(true));
    EXPECT_EQ(eval("customer.age > 30"), Value(false));
    EXPECT_EQ(eval("customer.age >= 30"), Value(true));
    EXPECT_EQ(eval("-1 < 0"), Value(true));
    EXPECT_EQ(eval("'a' < 'b'"), Value(true));
    EXPECT_EQ(eval("'B' < 'a'"), Value(true));  // bytes, not collation
    EXPECT_EQ(eval("'ab' < 'abc'"), Value(true));
    EXPECT_EQ(eval("'é' > 'z'"), Value(true));  // 0xC3 > 0x7A: unsigned bytes
    EXPECT_EQ(eval("'' < 'a'"), Value(true));
    EXPECT_EQ(eval("customer.name >= 'Ada'"), Value(true));
    // Booleans and lists are not ordered.
    EXPECT_EQ(eval("customer.vip < customer.vip"), Value(false));
    EXPECT_EQ(eval("customer.vip >= customer.vip"), Value(false));
    EXPECT_EQ(eval("customer.tags <= customer.tags"), Value(false));
}

TEST(ExprComparisons, InAndNotIn) {
    EXPECT_EQ(eval("'gold' in customer.segments"), Value(true));
    EXPECT_EQ(eval("'x' in customer.segments"), Value(false));
    EXPECT_EQ(eval("'x' not in customer.segments"), Value(true));
    EXPECT_EQ(eval("'gold' not in customer.segments"), Value(false));
    EXPECT_EQ(eval("'gold' in (customer.segments)"), Value(true));  // (v): a list to look in
    EXPECT_EQ(eval("customer.age in (30)"), Value(true));           // (v): a value to compare with
    EXPECT_EQ(eval("customer.age in (29, 30, 31)"), Value(true));
    EXPECT_EQ(eval("customer.age in [29, 31]"), Value(false));
    EXPECT_EQ(eval("customer.age not in [29, 31]"), Value(true));
    EXPECT_EQ(eval("customer.age in [1.0, 30.0]"), Value(true));
    EXPECT_EQ(eval("customer.age in ['30']"), Value(false));
    EXPECT_EQ(eval("customer.age not in ['30', 'x']"), Value(true));  // no element equals it
    EXPECT_EQ(eval("customer.age in [null, 30]"), Value(true));
    EXPECT_EQ(eval("customer.age not in [null, 31]"), Value(true));
    EXPECT_EQ(eval("customer.age in []"), Value(false));
    EXPECT_EQ(eval("customer.age not in []"), Value(true));
    EXPECT_EQ(eval("customer.age in [customer.zero, offer.value, 30]"), Value(true));
    EXPECT_EQ(eval("customer.age in [customer.zero, offer.value]"), Value(false));
    EXPECT_EQ(eval("customer.name in customer.name"), Value(true));  // a non-list value: equality
    EXPECT_EQ(eval("customer.age in customer.name"), Value(false));
    EXPECT_EQ(eval("customer.tags in [['a', 'b'], ['c']]"), Value(true));
    EXPECT_EQ(eval("context.channel not in ('sms', 'push')"), Value(true));
}

TEST(ExprComparisons, BetweenIsInclusive) {
    EXPECT_EQ(eval("customer.age between 18 and 30"), Value(true));
    EXPECT_EQ(eval("customer.age between 30 and 40"), Value(true));
    EXPECT_EQ(eval("customer.age between 31 and 40"), Value(false));
    EXPECT_EQ(eval("customer.age between 40 and 18"), Value(false));
    EXPECT_EQ(eval("customer.age not between 31 and 40"), Value(true));
    EXPECT_EQ(eval("customer.age not between 18 and 30"), Value(false));
    EXPECT_EQ(eval("customer.name between 'A' and 'B'"), Value(true));
    EXPECT_EQ(eval("customer.name not between 'B' and 'C'"), Value(true));
    // Mixed types: neither between nor not between.
    EXPECT_EQ(eval("customer.name between 1 and 2"), Value(false));
    EXPECT_EQ(eval("customer.name not between 1 and 2"), Value(false));
    EXPECT_EQ(eval("customer.age not between 'a' and 'b'"), Value(false));
    EXPECT_EQ(eval("customer.vip not between customer.vip and customer.vip"), Value(false));
}

TEST(ExprComparisons, IsNull) {
    EXPECT_EQ(eval("customer.nothing is null"), Value(true));
    EXPECT_EQ(eval("customer.age is null"), Value(false));
    EXPECT_EQ(eval("customer.age is not null"), Value(true));
    EXPECT_EQ(eval("customer.empty is null"), Value(false));  // '' is a value
    EXPECT_EQ(eval("customer.age / 0 is null"), Value(true));
    EXPECT_EQ(eval("customer.segments is not null"), Value(true));
}

// ---- arithmetic ----------------------------------------------------------------------------

TEST(ExprArithmetic, NumbersOnly) {
    EXPECT_EQ(eval("customer.age + 1.5"), Value(31.5));
    EXPECT_EQ(eval("customer.age - offer.value"), Value(-70));
    EXPECT_EQ(eval("customer.age * customer.score"), Value(75));
    EXPECT_EQ(eval("offer.value / 8"), Value(12.5));
    EXPECT_EQ(eval("offer.value % 7"), Value(2));
    EXPECT_EQ(eval("5.5 % 2"), Value(1.5));
    EXPECT_EQ(eval("-7 % 3"), Value(-1));  // fmod: the sign of the dividend
    EXPECT_EQ(eval("7 % -3"), Value(1));
    EXPECT_EQ(eval("-customer.age"), Value(-30));
    EXPECT_EQ(eval("customer.age + customer.name"), Value());
    EXPECT_EQ(eval("customer.vip + 1"), Value());
    EXPECT_EQ(eval("customer.tags * 2"), Value());
    EXPECT_EQ(eval("-customer.name"), Value());
}

TEST(ExprArithmetic, DivisionByZeroAndOverflowAreNull) {
    EXPECT_EQ(eval("customer.age / customer.zero"), Value());
    EXPECT_EQ(eval("customer.age % customer.zero"), Value());
    EXPECT_EQ(eval("customer.zero / customer.zero"), Value());
    EXPECT_EQ(eval("customer.age / (customer.zero * -1)"), Value());
    EXPECT_EQ(eval("1 / 0"), Value());
    EXPECT_EQ(eval("1e308 * customer.age"), Value());
    EXPECT_EQ(eval("-1e308 - 1e308"), Value());
    EXPECT_EQ(eval("customer.zero / customer.age"), Value(0));
}

// ---- functions --------------------------------------------------------------------------

TEST(ExprFunctions, HasSegment) {
    EXPECT_EQ(eval("has_segment('gold')"), Value(true));
    EXPECT_EQ(eval("has_segment('newsletter')"), Value(true));
    EXPECT_EQ(eval("has_segment('GOLD')"), Value(false));
    EXPECT_EQ(eval("has_segment('platinum')"), Value(false));
    EXPECT_EQ(eval("has_segment(offer.id)"), Value(false));
    EXPECT_EQ(eval("has_segment(lower('GOLD'))"), Value(true));
    EXPECT_EQ(eval("has_segment(customer.age)"), Value(false));
    EXPECT_EQ(eval("HAS_SEGMENT('gold')"), Value(true));
}

TEST(ExprFunctions, Metric) {
    EXPECT_EQ(eval("metric('clicks_30d')"), Value(12));
    EXPECT_EQ(eval("metric('spend') * 2"), Value(1));
    EXPECT_EQ(eval("metric('unknown')"), Value());
    EXPECT_EQ(eval("metric('unknown') > 0"), Value(false));
    EXPECT_EQ(eval("metric(customer.name)"), Value());
    EXPECT_EQ(eval("metric(customer.age)"), Value());
    EXPECT_EQ(eval("coalesce(metric('unknown'), 0) + 1"), Value(1));
}

TEST(ExprFunctions, DaysSince) {
    EXPECT_EQ(eval("days_since(context.signup)"), Value(30));  // 30.5 days, rounded down
    EXPECT_EQ(eval("days_since(context.ts)"), Value(3));       // Unix seconds
    EXPECT_EQ(eval("days_since(" + std::to_string(kNow - 86400) + ")"), Value(1));
    EXPECT_EQ(eval("days_since(" + std::to_string(kNow - 1) + ")"), Value(0));
    EXPECT_EQ(eval("days_since(" + std::to_string(kNow + 1) + ")"), Value(-1));  // the future
    EXPECT_EQ(eval("days_since(0)"), Value(20454));
    EXPECT_EQ(eval("days_since('2026-01-01')"), Value(0));
    EXPECT_EQ(eval("days_since('2025-12-31')"), Value(1));
    EXPECT_EQ(eval("days_since('2025-12-31T00:00:01Z')"), Value(0));
    EXPECT_EQ(eval("days_since('2025-12-31T01:00:00+02:00')"), Value(1));
    EXPECT_EQ(eval("days_since('2026-01-02')"), Value(-1));
    EXPECT_EQ(eval("days_since(customer.name)"), Value());  // not a timestamp
    EXPECT_EQ(eval("days_since(customer.vip)"), Value());
    EXPECT_EQ(eval("days_since(customer.nothing)"), Value());
    EXPECT_EQ(eval("days_since(context.signup) between 7 and 60"), Value(true));
}

TEST(ExprFunctions, ParseTimestamp) {
    EXPECT_EQ(parse_timestamp("1970-01-01"), 0.0);
    EXPECT_EQ(parse_timestamp("1970-01-01T00:00:00Z"), 0.0);
    EXPECT_EQ(parse_timestamp("2026-01-01T00:00:00Z"), double(kNow));
    EXPECT_EQ(parse_timestamp("2026-01-01T00:00Z"), double(kNow));
    EXPECT_EQ(parse_timestamp("2026-01-01t00:00:00z"), double(kNow));
    EXPECT_EQ(parse_timestamp("2026-01-01 00:00:00+00"), double(kNow));  // PostgreSQL's text form
    EXPECT_EQ(parse_timestamp("2026-01-01T00:00:00"), double(kNow));     // no zone: UTC
    EXPECT_EQ(parse_timestamp("2026-01-01T02:00:00+02:00"), double(kNow));
    EXPECT_EQ(parse_timestamp("2026-01-01T02:00:00+0200"), double(kNow));
    EXPECT_EQ(parse_timestamp("2025-12-31T19:00:00-05:00"), double(kNow));
    EXPECT_EQ(parse_timestamp("2026-01-01T00:00:00.5Z"), double(kNow) + 0.5);
    EXPECT_EQ(parse_timestamp("2026-01-01T00:00:00.250+00:00"), double(kNow) + 0.25);
    EXPECT_EQ(parse_timestamp("2024-02-29"), 1709164800.0);
    EXPECT_EQ(parse_timestamp("2000-02-29"), 951782400.0);
    EXPECT_EQ(parse_timestamp("0000-01-01"), -62167219200.0);
    EXPECT_EQ(parse_timestamp("9999-12-31T23:59:59Z"), 253402300799.0);
    EXPECT_EQ(parse_timestamp("1969-12-31T23:59:59Z"), -1.0);
    const char* bad[] = {
        "",
        "2026",
        "2026-1-01",
        "2026-01-1",
        "26-01-01",
        "2026/01/01",
        "2026-01-01T",
        "2026-01-01T1:00",
        "2026-01-01T24:00",
        "2026-01-01T00:60",
        "2026-01-01T00:00:61",
        "2026-01-01Z",
        "2026-01-01T00:00:00+24:00",
        "2026-01-01T00:00:00+01:60",
        "2026-01-01T00:00:00.Z",
        "2026-01-01T00:00:00Zx",
        "2026-13-01",
        "2026-00-10",
        "2026-01-32",
        "2026-04-31",
        "2023-02-29",
        "1900-02-29",
        " 2026-01-01",
        "2026-01-01 ",
        "2026-01-01T00:00:00+1",
        "2026-01-01T00:00:00+01:0",
        "2026-01-01x00:00",
        "yesterday",
    };
    for (const char* text : bad) EXPECT_EQ(parse_timestamp(text), std::nullopt) << text;
}

TEST(ExprFunctions, LowerUpper) {
    EXPECT_EQ(eval("lower(customer.name)"), Value("ada"));
    EXPECT_EQ(eval("upper(customer.name)"), Value("ADA"));
    EXPECT_EQ(eval("lower('ÀB-c_1')"), Value("Àb-c_1"));  // ASCII only
    EXPECT_EQ(eval("upper('straße')"), Value("STRAßE"));
    EXPECT_EQ(eval("lower('')"), Value(""));
    EXPECT_EQ(eval("lower(customer.age)"), Value());
    EXPECT_EQ(eval("upper(customer.tags)"), Value());
    EXPECT_EQ(eval("Lower(context.channel) = 'web'"), Value(true));
}

TEST(ExprFunctions, Coalesce) {
    EXPECT_EQ(eval("coalesce(customer.nothing, customer.age)"), Value(30));
    EXPECT_EQ(eval("coalesce(customer.age, customer.nothing)"), Value(30));
    EXPECT_EQ(eval("coalesce(customer.nothing, customer.other)"), Value());
    EXPECT_EQ(eval("coalesce(customer.name, 1)"), Value("Ada"));
    EXPECT_EQ(eval("coalesce(customer.n1, customer.n2, customer.segments, 1)"), Value::list({"gold", "newsletter"}));
    EXPECT_EQ(eval("coalesce(customer.f, true)"), Value(false));  // false is not null
}

TEST(ExprFunctions, Length) {
    EXPECT_EQ(eval("length('héllo')"), Value(5));  // code points
    EXPECT_EQ(eval("length('😀')"), Value(1));
    EXPECT_EQ(eval("length('')"), Value(0));
    EXPECT_EQ(eval("length(customer.segments)"), Value(2));
    EXPECT_EQ(eval("length([])"), Value(0));
    EXPECT_EQ(eval("length([customer.age, 1, null])"), Value(3));
    EXPECT_EQ(eval("length(customer.name)"), Value(3));
    EXPECT_EQ(eval("length(customer.age)"), Value());
    EXPECT_EQ(eval("length(customer.vip)"), Value());
}

TEST(ExprFunctions, Contains) {
    EXPECT_EQ(eval("contains(customer.segments, 'gold')"), Value(true));
    EXPECT_EQ(eval("contains(customer.segments, 'x')"), Value(false));
    EXPECT_EQ(eval("contains([1, 2], 2.0)"), Value(true));
    EXPECT_EQ(eval("contains([1, null], null)"), Value(false));
    EXPECT_EQ(eval("contains([['a']], customer.tags)"), Value(false));
    EXPECT_EQ(eval("contains([['a', 'b']], customer.tags)"), Value(true));
    EXPECT_EQ(eval("contains('hello', 'ell')"), Value(true));
    EXPECT_EQ(eval("contains('hello', 'xyz')"), Value(false));
    EXPECT_EQ(eval("contains('hello', '')"), Value(true));
    EXPECT_EQ(eval("contains(offer.id, 'gold')"), Value(true));
    EXPECT_EQ(eval("contains(customer.name, customer.age)"), Value(false));
    EXPECT_EQ(eval("contains(customer.nothing, 'a')"), Value(false));
    EXPECT_EQ(eval("contains(customer.age, 30)"), Value(false));
}

TEST(ExprFunctions, AbsMinMax) {
    EXPECT_EQ(eval("abs(-2.5)"), Value(2.5));
    EXPECT_EQ(eval("abs(customer.age - 40)"), Value(10));
    EXPECT_EQ(eval("abs(customer.name)"), Value());
    EXPECT_EQ(eval("min(3, 1, 2)"), Value(1));
    EXPECT_EQ(eval("max(3, 1, 2)"), Value(3));
    EXPECT_EQ(eval("min(customer.age, offer.value)"), Value(30));
    EXPECT_EQ(eval("max(customer.age, offer.value)"), Value(100));
    // Arguments that are not numbers are skipped, as SQL's LEAST/GREATEST skip nulls.
    EXPECT_EQ(eval("max(3, customer.nothing, 5)"), Value(5));
    EXPECT_EQ(eval("min(customer.name, customer.age)"), Value(30));
    EXPECT_EQ(eval("min(customer.nothing, customer.name)"), Value());
    EXPECT_EQ(eval("max(customer.score, 0)"), Value(2.5));
    EXPECT_EQ(eval("max(customer.nothing, 0)"), Value(0));
}

TEST(ExprFunctions, ArityErrors) {
    EXPECT_REFUSED("has_segment('a', 'b')", "has_segment expects 1 argument at 0", 0);
    EXPECT_REFUSED("has_segment()", "has_segment expects 1 argument at 0", 0);
    EXPECT_REFUSED("metric()", "metric expects 1 argument at 0", 0);
    EXPECT_REFUSED("days_since(1, 2)", "days_since expects 1 argument at 0", 0);
    EXPECT_REFUSED("lower()", "lower expects 1 argument at 0", 0);
    EXPECT_REFUSED("upper('a', 'b')", "upper expects 1 argument at 0", 0);
    EXPECT_REFUSED("coalesce(1)", "coalesce expects at least 2 arguments at 0", 0);
    EXPECT_REFUSED("coalesce()", "coalesce expects at least 2 arguments at 0", 0);
    EXPECT_REFUSED("length()", "length expects 1 argument at 0", 0);
    EXPECT_REFUSED("contains([1])", "contains expects 2 arguments at 0", 0);
    EXPECT_REFUSED("contains([1], 1, 2)", "contains expects 2 arguments at 0", 0);
    EXPECT_REFUSED("1 + abs()", "abs expects 1 argument at 4", 4);
    EXPECT_REFUSED("min(1)", "min expects at least 2 arguments at 0", 0);
    EXPECT_REFUSED("max()", "max expects at least 2 arguments at 0", 0);
    auto refused = refusal("contains([1])");
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->detail["expected"], "2 arguments");
    // Many arguments are fine.
    std::string many = "min(";
    for (int i = 0; i < 1200; ++i) many += std::to_string(i % 10) + ", ";
    EXPECT_EQ(eval(many + "-1)"), Value(-1));
}

TEST(ExprFunctions, ArgumentTypeErrors) {
    EXPECT_REFUSED("has_segment(5)", "has_segment expects a string at 12", 12);
    EXPECT_REFUSED("has_segment(true)", "has_segment expects a string at 12", 12);
    EXPECT_REFUSED("metric(1)", "metric expects a string at 7", 7);
    EXPECT_REFUSED("days_since(true)", "days_since expects a string or a number at 11", 11);
    EXPECT_REFUSED("days_since('yesterday')", "days_since expects an ISO-8601 timestamp at 11", 11);
    EXPECT_REFUSED("days_since(lower('X'))", "days_since expects an ISO-8601 timestamp at 11", 11);
    EXPECT_REFUSED("lower(1)", "lower expects a string at 6", 6);
    EXPECT_REFUSED("upper([1])", "upper expects a string at 6", 6);
    EXPECT_REFUSED("length(1)", "length expects a string or a list at 7", 7);
    EXPECT_REFUSED("length(1 = 1)", "length expects a string or a list at 7", 7);
    EXPECT_REFUSED("contains(1, 2)", "contains expects a list or a string at 9", 9);
    EXPECT_REFUSED("contains('abc', 1)", "contains expects a string at 16", 16);
    EXPECT_REFUSED("abs('a')", "abs expects a number at 4", 4);
    EXPECT_REFUSED("min(1, 'a')", "min expects a number at 7", 7);
    EXPECT_REFUSED("max(true, 1)", "max expects a number at 4", 4);
    auto refused = refusal("has_segment(5)");
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->detail["expected"], "a string");
    // Values only known at evaluation time are accepted anywhere.
    for (const char* ok : {"has_segment(customer.x)", "has_segment(null)", "metric(context.m)",
                           "days_since(customer.x)", "days_since(null)", "lower(customer.x)", "length(customer.x)",
                           "contains(customer.x, 1)", "contains('abc', customer.x)", "contains([1], 'a')",
                           "abs(customer.x)", "min(customer.x, 1)", "coalesce(1, 'a', true, [1])"}) {
        EXPECT_NO_THROW(compile(ok, ResultType::Any)) << ok;
    }
}

// ---- compile errors ------------------------------------------------------------------------

TEST(ExprErrors, SyntaxMessagesAndPositions) {
    EXPECT_REFUSED("", "unexpected end of input at 0", 0);
    EXPECT_REFUSED("   ", "unexpected end of input at 3", 3);
    EXPECT_REFUSED("customer.age >", "unexpected end of input at 14", 14);
    EXPECT_REFUSED("customer.age >= 18 and", "unexpected end of input at 22", 22);
    EXPECT_REFUSED("customer.age > > 3", "unexpected '>' at 15", 15);
    EXPECT_REFUSED("1 < 2 < 3", "unexpected '<' at 6", 6);
    EXPECT_REFUSED("customer.a = 1)", "unexpected ')' at 14", 14);
    EXPECT_REFUSED("and", "unexpected 'and' at 0", 0);
    EXPECT_REFUSED("customer.a = 1 and or", "unexpected 'or' at 19", 19);
    EXPECT_REFUSED("customer.a in ()", "unexpected ')' at 15", 15);
    EXPECT_REFUSED("[1, ]", "unexpected ']' at 4", 4);
    EXPECT_REFUSED("customer.a = 'x' 'y'", "unexpected string at 17", 17);
    EXPECT_REFUSED("1 2", "unexpected '2' at 2", 2);
    EXPECT_REFUSED("customer.age(1)", "unexpected '(' at 12", 12);
    EXPECT_REFUSED("1 = 1 " + std::string(40, 'x'), "unexpected '" + std::string(32, 'x') + "...' at 6", 6);
    EXPECT_REFUSED("foo(1)", "unknown function \"foo\" at 0", 0);
    EXPECT_REFUSED("customer.a = 1 and foo(1)", "unknown function \"foo\" at 19", 19);
    EXPECT_REFUSED("customer(1)", "unknown function \"customer\" at 0", 0);
    EXPECT_REFUSED("cust.x = 1", "unknown path root \"cust\" at 0", 0);
    EXPECT_REFUSED("customer.a = cust.x", "unknown path root \"cust\" at 13", 13);
    EXPECT_REFUSED("Customer.age = 1", "unknown path root \"Customer\" at 0", 0);
    EXPECT_REFUSED("age > 1", "unknown path root \"age\" at 0", 0);
    EXPECT_REFUSED("customer", "expected '.' at 8", 8);
    EXPECT_REFUSED("customer = 1", "expected '.' at 9", 9);
    EXPECT_REFUSED("customer.", "expected a name at 9", 9);
    EXPECT_REFUSED("customer.1", "expected a name at 9", 9);
    EXPECT_REFUSED("customer..a", "expected a name at 9", 9);
    EXPECT_REFUSED("customer.a.(b)", "expected a name at 11", 11);
    EXPECT_REFUSED("(customer.age > 1", "expected ')' at 17", 17);
    EXPECT_REFUSED("(customer.age > 1]", "expected ')' at 17", 17);
    EXPECT_REFUSED("[1, 2", "expected ',' or ']' at 5", 5);
    EXPECT_REFUSED("[1 2]", "expected ',' or ']' at 3", 3);
    EXPECT_REFUSED("customer.a in (1, 2", "expected ',' or ')' at 19", 19);
    EXPECT_REFUSED("abs(1 2)", "expected ',' or ')' at 6", 6);
    EXPECT_REFUSED("customer.a not 5", "expected 'in' or 'between' at 15", 15);
    EXPECT_REFUSED("customer.a not", "expected 'in' or 'between' at 14", 14);
    EXPECT_REFUSED("customer.a is 5", "expected 'null' at 14", 14);
    EXPECT_REFUSED("customer.a is not 5", "expected 'null' at 18", 18);
    EXPECT_REFUSED("customer.a between 1 or 2", "expected 'and' at 21", 21);
}

TEST(ExprErrors, LexicalMessagesAndPositions) {
    EXPECT_REFUSED("'abc", "unterminated string at 0", 0);
    EXPECT_REFUSED("customer.a = \"abc", "unterminated string at 13", 13);
    EXPECT_REFUSED("'abc\\", "unterminated string at 0", 0);
    EXPECT_REFUSED("'abc\"", "unterminated string at 0", 0);
    EXPECT_REFUSED("'a\\qb'", "invalid escape '\\q' at 2", 2);
    EXPECT_REFUSED("'a\\\x01'", "invalid escape at 2", 2);
    EXPECT_REFUSED("'\\u12'", "invalid \\u escape at 1", 1);
    EXPECT_REFUSED("'\\u12g4'", "invalid \\u escape at 1", 1);
    EXPECT_REFUSED("'\\ud800'", "invalid \\u escape at 1", 1);
    EXPECT_REFUSED("'\\ud800\\u0041'", "invalid \\u escape at 1", 1);
    EXPECT_REFUSED("'\\udc00'", "invalid \\u escape at 1", 1);
    EXPECT_REFUSED("'\\u0000'", "invalid \\u escape at 1", 1);
    EXPECT_REFUSED(std::string("'a\0b'", 5), "unexpected character U+0000 at 2", 2);
    EXPECT_REFUSED(std::string("1 =\0 1", 6), "unexpected character U+0000 at 3", 3);
    EXPECT_REFUSED("customer.age & 1", "unexpected character '&' at 13", 13);
    EXPECT_REFUSED("customer.age ! 1", "unexpected character '!' at 13", 13);
    EXPECT_REFUSED("customer.age = 1;", "unexpected character ';' at 16", 16);
    EXPECT_REFUSED("customer.age\x01", "unexpected character U+0001 at 12", 12);
    EXPECT_REFUSED("customer.age = 1 é", "unexpected character U+00E9 at 17", 17);
    EXPECT_REFUSED("customer.age\u00a0= 1", "unexpected character U+00A0 at 12", 12);  // no-break space
    EXPECT_REFUSED("12abc", "invalid number '12abc' at 0", 0);
    EXPECT_REFUSED("1e", "invalid number '1e' at 0", 0);
    EXPECT_REFUSED("1.5e+", "invalid number '1.5e' at 0", 0);
    EXPECT_REFUSED("3and true", "invalid number '3and' at 0", 0);
    EXPECT_REFUSED("1e999", "number out of range at 0", 0);
    EXPECT_REFUSED("customer.a > 1e-999", "number out of range at 13", 13);
    EXPECT_REFUSED("1.", "unexpected '.' at 1", 1);
    EXPECT_REFUSED(".5", "unexpected '.' at 0", 0);
    // Errors come in source order: a syntax error before a lexical one wins.
    EXPECT_REFUSED(") & 1", "unexpected ')' at 0", 0);
    EXPECT_REFUSED("customer.a = 1 = 'x", "unexpected '=' at 15", 15);
}

TEST(ExprErrors, PositionsCountCodePoints) {
    EXPECT_REFUSED("'日本語' = customer.x and", "unexpected end of input at 22", 22);
    EXPECT_REFUSED("customer.x = '😀' and foo(1)", "unknown function \"foo\" at 21", 21);
    EXPECT_REFUSED("customer.name = 'ü' and 5", "and expects a boolean at 24", 24);
    EXPECT_REFUSED("'😀😀' = 1", "cannot compare a string with a number at 7", 7);
    EXPECT_REFUSED("'é\\q'", "invalid escape '\\q' at 2", 2);
    EXPECT_REFUSED("'é' = customer.a and é", "unexpected character U+00E9 at 21", 21);
    EXPECT_REFUSED("é", "unexpected character U+00E9 at 0", 0);
}

TEST(ExprErrors, InvalidUtf8) {
    EXPECT_REFUSED("'é' \xc3", "invalid UTF-8 at 4", 4);
    EXPECT_REFUSED("customer.name = '\xff'", "invalid UTF-8 at 17", 17);
    EXPECT_REFUSED("ab\x80", "invalid UTF-8 at 2", 2);                  // stray continuation byte
    EXPECT_REFUSED("\xc0\xaf", "invalid UTF-8 at 0", 0);                // overlong '/'
    EXPECT_REFUSED("'\xed\xa0\x80'", "invalid UTF-8 at 1", 1);          // a surrogate
    EXPECT_REFUSED("'\xf4\x90\x80\x80'", "invalid UTF-8 at 1", 1);      // past U+10FFFF
    EXPECT_REFUSED("'\xe6\x97'", "invalid UTF-8 at 1", 1);              // truncated
    EXPECT_REFUSED("'\xf8\x88\x80\x80\x80'", "invalid UTF-8 at 1", 1);  // five bytes
    // Invalid UTF-8 is refused even where a syntax error comes first.
    EXPECT_REFUSED(") '\xff'", "invalid UTF-8 at 3", 3);
}

TEST(ExprErrors, DetailCarriesPositionAndExpected) {
    auto refused = refusal("(customer.age > 1");
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->detail.dump(),
              R"({"error":"expected ')' at 17","code":"BAD_REQUEST","position":17,"expected":"')'"})");
    refused = refusal("customer.age >");
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->detail["expected"], "an expression");
    refused = refusal("1 = 1 )");
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->detail["expected"], "end of input");
    refused = refusal("foo(1)");
    ASSERT_TRUE(refused);
    EXPECT_FALSE(refused->detail.contains("expected"));
}

// ---- static types -----------------------------------------------------------------------

TEST(ExprTypes, OperandErrors) {
    EXPECT_REFUSED("'a' + 1", "+ expects a number at 0", 0);
    EXPECT_REFUSED("1 + 'a'", "+ expects a number at 4", 4);
    EXPECT_REFUSED("1 - true", "- expects a number at 4", 4);
    EXPECT_REFUSED("2 * 'x'", "* expects a number at 4", 4);
    EXPECT_REFUSED("[1] / 2", "/ expects a number at 0", 0);
    EXPECT_REFUSED("'a' % 2", "% expects a number at 0", 0);
    EXPECT_REFUSED("1 + 2 - (3 = 3)", "- expects a number at 8", 8);
    EXPECT_REFUSED("-'a'", "- expects a number at 1", 1);
    EXPECT_REFUSED("-(customer.a > 1)", "- expects a number at 1", 1);
    EXPECT_REFUSED("true < 3", "< expects a number or a string at 0", 0);
    EXPECT_REFUSED("3 > true", "> expects a number or a string at 4", 4);
    EXPECT_REFUSED("[1] <= [2]", "<= expects a number or a string at 0", 0);
    EXPECT_REFUSED("customer.a >= false", ">= expects a number or a string at 14", 14);
    EXPECT_REFUSED("not 5", "not expects a boolean at 4", 4);
    EXPECT_REFUSED("not (5)", "not expects a boolean at 4", 4);
    EXPECT_REFUSED("not 'yes'", "not expects a boolean at 4", 4);
    EXPECT_REFUSED("not not customer.a + 1", "not expects a boolean at 8", 8);
    EXPECT_REFUSED("1 and true", "and expects a boolean at 0", 0);
    EXPECT_REFUSED("true or 'x'", "or expects a boolean at 8", 8);
    EXPECT_REFUSED("customer.a and customer.b + 1", "and expects a boolean at 15", 15);
    EXPECT_REFUSED("customer.a or customer.b or [true]", "or expects a boolean at 28", 28);
    EXPECT_REFUSED("'a' = 1", "cannot compare a string with a number at 6", 6);
    EXPECT_REFUSED("1 != 'a'", "cannot compare a number with a string at 5", 5);
    EXPECT_REFUSED("true = 1", "cannot compare a boolean with a number at 7", 7);
    EXPECT_REFUSED("[1] = 1", "cannot compare a list with a number at 6", 6);
    EXPECT_REFUSED("'a' < 1", "cannot compare a string with a number at 6", 6);
    EXPECT_REFUSED("has_segment('a') = 'yes'", "cannot compare a boolean with a string at 19", 19);
    EXPECT_REFUSED("1 in ['a']", "cannot compare a number with a string at 6", 6);
    EXPECT_REFUSED("1 in [1, 'a']", "cannot compare a number with a string at 9", 9);
    EXPECT_REFUSED("1 in (1, true)", "cannot compare a number with a boolean at 9", 9);
    EXPECT_REFUSED("'x' in (1)", "cannot compare a string with a number at 8", 8);
    EXPECT_REFUSED("1 in 5", "in expects a list at 5", 5);
    EXPECT_REFUSED("1 not in 'abc'", "not in expects a list at 9", 9);
    EXPECT_REFUSED("1 in customer.a + 1", "in expects a list at 5", 5);
    EXPECT_REFUSED("'a' between 1 and 2", "cannot compare a string with a number at 12", 12);
    EXPECT_REFUSED("1 between 0 and 'z'", "cannot compare a number with a string at 16", 16);
    EXPECT_REFUSED("customer.a between 0 and 'z'", "cannot compare a number with a string at 25", 25);
    EXPECT_REFUSED("true between 1 and 2", "between expects a number or a string at 0", 0);
    EXPECT_REFUSED("customer.a not between [1] and 2", "not between expects a number or a string at 23", 23);
    EXPECT_REFUSED("has_segment(customer.a) + 1", "+ expects a number at 0", 0);
    // Statically unknown operands (paths, null) are accepted.
    for (const char* ok :
         {"customer.a + customer.b", "not customer.x", "customer.x < 'a'", "customer.x = true",
          "customer.x in customer.y", "null + 1", "-null", "null < 1", "null and true", "1 in [null, customer.x, 2]",
          "customer.x in [1, 'a', true]", "'a' in ([1, 2])", "customer.x between 1 and customer.y",
          "null between 'a' and 'b'", "coalesce(customer.x, 1) + 1", "[1] = [true]", "1 in (customer.list)"}) {
        EXPECT_NO_THROW(compile(ok, ResultType::Any)) << ok;
    }
}

TEST(ExprTypes, StaticTypes) {
    EXPECT_EQ(compile("customer.x", ResultType::Any).type(), Type::Any);
    EXPECT_EQ(compile("null", ResultType::Any).type(), Type::Any);
    EXPECT_EQ(compile("1", ResultType::Any).type(), Type::Number);
    EXPECT_EQ(compile("'a'", ResultType::Any).type(), Type::String);
    EXPECT_EQ(compile("[1]", ResultType::Any).type(), Type::List);
    EXPECT_EQ(compile("[customer.x]", ResultType::Any).type(), Type::List);
    EXPECT_EQ(compile("customer.x = 1", ResultType::Any).type(), Type::Bool);
    EXPECT_EQ(compile("customer.x + 1", ResultType::Any).type(), Type::Number);
    EXPECT_EQ(compile("lower(customer.x)", ResultType::Any).type(), Type::String);
    EXPECT_EQ(compile("coalesce(customer.x, 1)", ResultType::Any).type(), Type::Any);
    EXPECT_EQ(compile("coalesce(customer.x > 1, true)", ResultType::Any).type(), Type::Bool);
    EXPECT_EQ(compile("coalesce('a', 'b')", ResultType::Any).type(), Type::String);
    EXPECT_EQ(compile("metric('m')", ResultType::Any).type(), Type::Number);
    EXPECT_EQ(name(Type::Bool), "boolean");
    EXPECT_EQ(name(Type::Any), "any");
}

TEST(ExprTypes, ExpectedResultType) {
    EXPECT_REFUSED_AS("5", ResultType::Bool, "expected a boolean expression at 0", 0);
    EXPECT_REFUSED_AS("'yes'", ResultType::Bool, "expected a boolean expression at 0", 0);
    EXPECT_REFUSED_AS("customer.age + 1", ResultType::Bool, "expected a boolean expression at 0", 0);
    EXPECT_REFUSED_AS("(1 + 2)", ResultType::Bool, "expected a boolean expression at 0", 0);
    EXPECT_REFUSED_AS("  'x'", ResultType::Bool, "expected a boolean expression at 2", 2);
    EXPECT_REFUSED_AS("lower(customer.name)", ResultType::Bool, "expected a boolean expression at 0", 0);
    EXPECT_REFUSED_AS("[true]", ResultType::Bool, "expected a boolean expression at 0", 0);
    EXPECT_REFUSED_AS("true", ResultType::Number, "expected a numeric expression at 0", 0);
    EXPECT_REFUSED_AS("customer.a > 1", ResultType::Number, "expected a numeric expression at 0", 0);
    EXPECT_REFUSED_AS("'1'", ResultType::Number, "expected a numeric expression at 0", 0);
    EXPECT_REFUSED_AS("has_segment('a')", ResultType::Number, "expected a numeric expression at 0", 0);
    auto refused = refusal("5", ResultType::Bool);
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->detail["expected"], "a boolean expression");
    for (const char* ok : {"customer.vip", "null", "coalesce(customer.a, false)", "has_segment('a')", "1 = 1"}) {
        EXPECT_NO_THROW(compile(ok, ResultType::Bool)) << ok;
    }
    for (const char* ok : {"customer.score", "null", "coalesce(customer.score, 1)", "metric('x') * 2",
                           "days_since(context.signup)", "1", "1 / 0"}) {
        EXPECT_NO_THROW(compile(ok, ResultType::Number)) << ok;
    }
    for (const char* ok : {"1", "'a'", "true", "[1]"}) EXPECT_NO_THROW(compile(ok, ResultType::Any)) << ok;
}

// ---- limits ---------------------------------------------------------------------------

TEST(ExprLimits, SourceLength) {
    const std::string head = "customer.name = '";
    std::string at_limit = head + std::string(kMaxSourceBytes - head.size() - 1, 'a') + "'";
    ASSERT_EQ(at_limit.size(), 4096u);
    EXPECT_NO_THROW(compile(at_limit, ResultType::Bool));
    std::string past = head + std::string(kMaxSourceBytes - head.size(), 'a') + "'";
    ASSERT_EQ(past.size(), 4097u);
    EXPECT_REFUSED(past, "expression is longer than 4096 bytes at 4096", 4096);
    auto refused = refusal(past);
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->detail["limit"], 4096);
    // Bytes, not characters: 2047 two-byte characters fit, 2048 do not; the
    // position is the character that crosses the limit.
    std::string e_acute;
    for (int i = 0; i < 2047; ++i) e_acute += "é";
    ASSERT_EQ(("'" + e_acute + "'").size(), 4096u);
    EXPECT_NO_THROW(compile("'" + e_acute + "'", ResultType::Any));
    EXPECT_REFUSED("'" + e_acute + "é'", "expression is longer than 4096 bytes at 2048", 2048);
    // Long flat chains are not nesting.
    std::string sum = "1";
    while (sum.size() + 4 <= kMaxSourceBytes) sum += " + 1";
    EXPECT_EQ(eval(sum), Value(static_cast<double>((sum.size() - 1) / 4 + 1)));
    std::string ors = "customer.age = 0";
    for (int i = 1; i < 150; ++i) ors += " or customer.age = " + std::to_string(i);
    EXPECT_EQ(eval(ors), Value(true));
}

std::string repeat(std::string_view text, int times) {
    std::string out;
    for (int i = 0; i < times; ++i) out += text;
    return out;
}

TEST(ExprLimits, NestingDepth) {
    EXPECT_EQ(eval(repeat("(", 64) + "1" + repeat(")", 64)), Value(1));
    EXPECT_REFUSED(repeat("(", 65) + "1" + repeat(")", 65), "nesting deeper than 64 at 64", 64);
    EXPECT_EQ(eval(repeat("not ", 64) + "true"), Value(true));
    EXPECT_REFUSED(repeat("not ", 65) + "true", "nesting deeper than 64 at 256", 256);
    EXPECT_EQ(eval(repeat("-", 64) + "1"), Value(1));
    EXPECT_REFUSED(repeat("-", 65) + "1", "nesting deeper than 64 at 64", 64);
    EXPECT_NO_THROW(compile(repeat("[", 64) + repeat("]", 64), ResultType::Any));
    EXPECT_REFUSED(repeat("[", 65) + repeat("]", 65), "nesting deeper than 64 at 64", 64);
    EXPECT_EQ(eval(repeat("abs(", 64) + "1" + repeat(")", 64)), Value(1));
    EXPECT_REFUSED(repeat("abs(", 65) + "1" + repeat(")", 65), "nesting deeper than 64 at 259", 259);
    EXPECT_REFUSED(repeat("abs(", 64) + "-1" + repeat(")", 64), "nesting deeper than 64 at 256", 256);
    EXPECT_EQ(eval("customer.age in " + repeat("(", 63) + "30" + repeat(")", 63)), Value(true));
    EXPECT_REFUSED("customer.age in " + repeat("(", 65) + "30" + repeat(")", 65), "nesting deeper than 64 at 80", 80);
    // Every kind counts towards the same limit.
    EXPECT_EQ(eval(repeat("(", 32) + repeat("-", 32) + "1" + repeat(")", 32)), Value(1));
    EXPECT_REFUSED(repeat("(", 32) + repeat("-", 33) + "1" + repeat(")", 32), "nesting deeper than 64 at 64", 64);
    auto refused = refusal(repeat("(", 65) + "1" + repeat(")", 65));
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->detail["limit"], 64);
}

TEST(ExprLimits, ListLength) {
    std::string elements = repeat("1, ", 999) + "1";
    EXPECT_EQ(eval("customer.age in [" + elements + "]"), Value(false));
    EXPECT_EQ(eval("customer.age in (" + elements + ")"), Value(false));
    EXPECT_EQ(eval("length([" + elements + "])"), Value(1000));
    EXPECT_EQ(eval("length([customer.age" + repeat(", 1", 999) + "])"), Value(1000));
    EXPECT_REFUSED("customer.a in [" + elements + ", 1]", "list has more than 1000 elements at 3015", 3015);
    EXPECT_REFUSED("customer.a in (" + elements + ", 1)", "list has more than 1000 elements at 3015", 3015);
    EXPECT_REFUSED("[" + elements + ", 1]", "list has more than 1000 elements at 3001", 3001);
    auto refused = refusal("[" + elements + ", 1]");
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->detail["limit"], 1000);
}

// ---- constant folding ----------------------------------------------------------------------

TEST(ExprFolding, ConstantsAreComputedOnce) {
    const std::pair<const char*, const char*> table[] = {
        {"1 + 2 * 3", "7"},
        {"10 - 4 - 3", "3"},
        {"2 * 3 + customer.x", "(6 + customer.x)"},
        {"customer.x + 2 * 3", "(customer.x + 6)"},
        {"1 + 2 + customer.x + 3", "(3 + customer.x + 3)"},
        {"1 / 0", "null"},
        {"null + customer.x", "null"},
        {"1 / 0 + customer.x", "null"},
        {"1e308 * 10", "null"},
        {"-(2)", "-2"},
        {"- - 2", "2"},
        {"lower('ABC')", "'abc'"},
        {"upper('abc') = 'ABC'", "true"},
        {"[1, 1 + 1]", "[1, 2]"},
        {"customer.x in [1 + 1, 3]", "(customer.x in [2, 3])"},
        {"customer.x in (1 + 1, 3)", "(customer.x in [2, 3])"},
        {"customer.x in [1, customer.y]", "(customer.x in [1, customer.y])"},
        {"false and customer.x = 1", "false"},
        {"customer.x = 1 and false", "false"},
        {"true or customer.x", "true"},
        {"customer.x = 1 or true", "true"},
        {"true and customer.x > 1", "(customer.x > 1)"},
        {"true and customer.vip", "(customer.vip and true)"},
        {"false or customer.vip", "(customer.vip or false)"},
        {"true and customer.a > 1 and true and customer.b > 2", "((customer.a > 1) and (customer.b > 2))"},
        {"null or customer.a > 1", "(customer.a > 1)"},
        {"true and true", "true"},
        {"false or false", "false"},
        {"not (1 > 2)", "true"},
        {"coalesce(null, customer.x, 2, customer.y)", "coalesce(customer.x, 2)"},
        {"coalesce(customer.x, null)", "customer.x"},
        {"coalesce(null, null)", "null"},
        {"coalesce(1, 2)", "1"},
        {"coalesce(null, 2)", "coalesce(null, 2)"},  // still of static type any
        {"abs(-3)", "3"},
        {"min(3, null, 1)", "1"},
        {"max(1, 2) * 2", "4"},
        {"length('héllo')", "5"},
        {"contains(['a', 'b'], 'b')", "true"},
        {"contains('hello', 'ell')", "true"},
        {"'a' in ['a', 'b']", "true"},
        {"1 between 0 and 2", "true"},
        {"null is null", "true"},
        {"1 is null", "false"},
        {"customer.x is null and 1 = 1", "(customer.x is null)"},
        {"[1, null] = [1, null]", "true"},
        // Never folded: they read the bindings.
        {"has_segment('gold')", "has_segment('gold')"},
        {"metric('a') > 1", "(metric('a') > 1)"},
        {"days_since('2020-01-01') > 1", "(days_since('2020-01-01') > 1)"},
    };
    for (const auto& [source, expected] : table) {
        EXPECT_EQ(canonical(source), expected) << source;
        EXPECT_EQ(canonical(expected), expected) << source;
    }
}

TEST(ExprFolding, ConstantProgramsReadNoBindings) {
    UntouchableBindings none;
    Program sum = compile("1 + 2", ResultType::Number);
    EXPECT_EQ(sum.constant(), Value(3));
    EXPECT_EQ(sum.number(none), 3.0);
    Program no = compile("false and has_segment('x') and metric('m') > days_since(customer.t)", ResultType::Bool);
    EXPECT_EQ(no.constant(), Value(false));
    EXPECT_FALSE(no.test(none));
    EXPECT_FALSE(no.uses_has_segment());
    EXPECT_FALSE(no.uses_metric());
    EXPECT_FALSE(no.uses_days_since());
    EXPECT_TRUE(no.paths().empty());
}

TEST(ExprFolding, FoldingKeepsStaticTypes) {
    // 1 / 0 folds to null but is still a number: not a condition.
    EXPECT_REFUSED_AS("1 / 0", ResultType::Bool, "expected a boolean expression at 0", 0);
    EXPECT_REFUSED("(1 / 0) = 'a'", "cannot compare a number with a string at 10", 10);
    // coalesce(null, 'a') is of type any: usable as a number operand.
    EXPECT_EQ(canonical("coalesce(null, 'a') < customer.age"), "(coalesce(null, 'a') < customer.age)");
    EXPECT_EQ(canonical("coalesce(null, 'a') + customer.age"), "null");  // 'a' + x is null
}

// ---- the Program API ------------------------------------------------------------------------

TEST(ExprProgram, Accessors) {
    const std::string source = "  customer.age >= 18 AND has_segment('gold')  ";
    Program p = compile(source, ResultType::Bool);
    EXPECT_EQ(p.source(), source);
    EXPECT_EQ(p.expected(), ResultType::Bool);
    EXPECT_EQ(p.type(), Type::Bool);
    EXPECT_EQ(p.to_string(), "((customer.age >= 18) and has_segment('gold'))");
    EXPECT_EQ(p.paths(), std::vector<std::string>{"customer.age"});
    EXPECT_TRUE(p.uses_has_segment());
    EXPECT_FALSE(p.uses_metric());
    EXPECT_FALSE(p.uses_days_since());
    EXPECT_EQ(p.constant(), std::nullopt);
    Program copy = p;  // shared
    EXPECT_EQ(&copy.source(), &p.source());
}

TEST(ExprProgram, MetricNamesAndFlags) {
    Program p = compile(
        "metric('a') > 1 and metric('b') < metric('a') and metric(customer.m) = 0 and "
        "days_since(context.t) < 3",
        ResultType::Bool);
    EXPECT_TRUE(p.uses_metric());
    EXPECT_TRUE(p.uses_days_since());
    EXPECT_FALSE(p.uses_has_segment());
    EXPECT_EQ(p.metric_names(), (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(p.paths(), (std::vector<std::string>{"customer.m", "context.t"}));
    Program dynamic = compile("metric(customer.m) > 0", ResultType::Bool);
    EXPECT_TRUE(dynamic.uses_metric());
    EXPECT_TRUE(dynamic.metric_names().empty());
    Program folded_name = compile("metric(lower('CLICKS')) > 0", ResultType::Bool);
    EXPECT_EQ(folded_name.metric_names(), std::vector<std::string>{"clicks"});
}

TEST(ExprProgram, TestIsTrueOnlyForTrue) {
    Program p = compile("customer.vip", ResultType::Bool);
    MapBindings b;
    for (const auto& [value, expected] : std::vector<std::pair<Value, bool>>{{true, true},
                                                                             {false, false},
                                                                             {Value(), false},
                                                                             {1, false},
                                                                             {"true", false},
                                                                             {Value::list({true}), false}}) {
        b.values["customer.vip"] = value;
        EXPECT_EQ(p.test(b.bind(p)), expected) << value.to_string();
        EXPECT_EQ(p.evaluate(b), value);
    }
}

TEST(ExprProgram, NumberForRelevance) {
    MapBindings b = sample_bindings();
    Program p = compile("customer.score * 2", ResultType::Number);
    EXPECT_EQ(p.number(b.bind(p)), 5.0);
    Program name = compile("customer.name", ResultType::Number);
    EXPECT_EQ(name.number(b.bind(name)), std::nullopt);
    Program missing = compile("customer.nothing", ResultType::Number);
    EXPECT_EQ(missing.number(b.bind(missing)), std::nullopt);
    Program relevance = compile("coalesce(metric('clicks_30d'), 0) / 10 + max(customer.score, 1)", ResultType::Number);
    ASSERT_TRUE(relevance.number(b.bind(relevance)));
    EXPECT_DOUBLE_EQ(*relevance.number(b), 3.7);
}

TEST(ExprProgram, EvaluateReturnsWhatItBuilds) {
    MapBindings b = sample_bindings();
    Program p =
        compile("[lower(customer.name), upper(offer.id), customer.segments, 1 + customer.age]", ResultType::Any);
    Value v = p.evaluate(b.bind(p));
    EXPECT_EQ(v, Value::list({"ada", "GOLD-CARD", Value::list({"gold", "newsletter"}), 31}));
    Program s = compile("coalesce(customer.nothing, lower(customer.name))", ResultType::Any);
    EXPECT_EQ(s.evaluate(b.bind(s)), Value("ada"));
}

TEST(ExprProgram, MapBindingsBindBySlot) {
    Program p = compile("offer.b + customer.a", ResultType::Number);
    MapBindings b;
    b.values = {{"customer.a", 1}, {"offer.b", 10}, {"unused.path", 5}};
    EXPECT_EQ(p.number(b.bind(p)), 11.0);
    EXPECT_EQ(b.path(0), Value(10));
    EXPECT_EQ(b.path(1), Value(1));
    EXPECT_TRUE(b.path(7).is_null());
}

TEST(ExprProgram, EvaluatesConcurrently) {
    const Program p = compile("customer.age >= 18 and has_segment('gold') and lower(customer.name) in ['ada', 'bob']",
                              ResultType::Bool);
    std::atomic<int> wrong{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            MapBindings b;
            b.values = {{"customer.age", 10 + t * 5}, {"customer.name", t % 2 ? "BOB" : "Eve"}};
            b.segments = {"gold"};
            b.bind(p);
            const bool expected = 10 + t * 5 >= 18 && t % 2;
            for (int i = 0; i < 2000; ++i) {
                if (p.test(b) != expected) ++wrong;
            }
        });
    }
    for (auto& thread : threads) thread.join();
    EXPECT_EQ(wrong.load(), 0);
}

TEST(ExprProgram, CanonicalFormRoundTrips) {
    const char* sources[] = {
        ("customer.age >= 18 and has_segment('gold') and offer.value between 10 and 500 and not (context.channel in "
         "['sms', 'push'])"),
        "coalesce(metric('clicks_30d'), 0) / 10 + abs(customer.x - 1)",
        "customer.a in (customer.b) or customer.a not in ('x') or customer.a in (1, customer.b)",
        "'it\\'s' = customer.a or \"tab\\t\" = customer.b or '\\u00e9' = customer.c",
        "true and customer.vip",
        "customer.a is not null and -customer.b < -1.5e-7 and customer.c % 2 = 1",
        "contains(customer.tags, upper(context.tag)) and length(customer.name) > 2",
        "[customer.a, [1, customer.b], 'x']",
        "coalesce(null, 'a') + customer.age",
        "min(customer.a, 3, customer.b) = max(1, 2)",
    };
    for (const char* source : sources) {
        SCOPED_TRACE(source);
        try {
            Program p = compile(source, ResultType::Any);
            Program again = compile(p.to_string(), ResultType::Any);
            EXPECT_EQ(again.to_string(), p.to_string());
            EXPECT_EQ(again.paths(), p.paths());
            MapBindings b = sample_bindings();
            EXPECT_EQ(again.evaluate(b.bind(again)), p.evaluate(b.bind(p)));
        } catch (const Error& e) {
            ADD_FAILURE() << e.what();
        }
    }
}

// ---- randomized comparison with a reference interpreter --------------------------------------
//
// The generator builds random well-typed expression trees and prints them as
// source text with only the parentheses precedence requires (plus a few
// redundant ones), random keyword case, == / <> spellings, quote styles and
// number formats. The text is compiled and the Program's result compared,
// under random bindings, with a small tree-walking interpreter written here
// from the semantics documented in expr.h.

namespace reference {

enum class K { Lit, Path, Not, Neg, And, Or, Cmp, Arith, InList, InValue, Between, IsNull, List, Call };

struct Node {
    K kind = K::Lit;
    Type type = Type::Any;
    std::string op;  // Cmp, Arith: the operator; Call: the function
    bool negated = false;
    bool paren_form = false;  // InList written with (...); InValue written `in (v)`
    Value value;              // Lit
    std::string path;         // Path
    std::vector<Node> kids;
};

struct Env {
    std::map<std::string, Value> values;
    std::map<std::string, double> metrics;
    std::vector<std::string> segments;
    int64_t now = kNow;
};

bool truthy(const Value& v) { return v.is_bool() && v.as_bool(); }

// equals is the language's `=`: never with null, never across types.
bool equals(const Value& a, const Value& b) {
    if (a.is_null() || b.is_null() || a.kind() != b.kind()) return false;
    return a == b;
}

// order: -1, 0, 1, or 2 for "not ordered".
int order(const Value& a, const Value& b) {
    if (a.is_number() && b.is_number()) {
        return a.as_number() < b.as_number() ? -1 : (a.as_number() > b.as_number() ? 1 : 0);
    }
    if (a.is_string() && b.is_string()) {
        int c = a.as_string().compare(b.as_string());
        return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
    return 2;
}

Value number(double x) { return std::isfinite(x) ? Value(x) : Value(); }

bool is_member(const Value& x, const Value& list) {
    for (const Value& item : list.as_list()) {
        if (equals(x, item)) return true;
    }
    return false;
}

Value eval(const Node& n, const Env& env) {
    auto kid = [&](size_t i) { return eval(n.kids[i], env); };
    switch (n.kind) {
        case K::Lit: return n.value;
        case K::Path: {
            auto found = env.values.find(n.path);
            return found == env.values.end() ? Value() : found->second;
        }
        case K::Not: return !truthy(kid(0));
        case K::Neg: {
            Value x = kid(0);
            return x.is_number() ? number(-x.as_number()) : Value();
        }
        case K::And:
            for (size_t i = 0; i < n.kids.size(); ++i) {
                if (!truthy(kid(i))) return false;
            }
            return true;
        case K::Or:
            for (size_t i = 0; i < n.kids.size(); ++i) {
                if (truthy(kid(i))) return true;
            }
            return false;
        case K::Cmp: {
            Value a = kid(0), b = kid(1);
            if (a.is_null() || b.is_null()) return false;
            if (n.op == "=") return equals(a, b);
            if (n.op == "!=") return a.kind() == b.kind() && !(a == b);
            int c = order(a, b);
            if (c == 2) return false;
            if (n.op == "<") return c < 0;
            if (n.op == "<=") return c <= 0;
            if (n.op == ">") return c > 0;
            return c >= 0;
        }
        case K::Arith: {
            Value a = kid(0), b = kid(1);
            if (!a.is_number() || !b.is_number()) return Value();
            double x = a.as_number(), y = b.as_number();
            if (n.op == "+") return number(x + y);
            if (n.op == "-") return number(x - y);
            if (n.op == "*") return number(x * y);
            if (y == 0) return Value();
            if (n.op == "/") return number(x / y);
            return number(std::fmod(x, y));
        }
        case K::InList: {
            Value x = kid(0);
            if (x.is_null()) return false;
            bool found = false;
            for (size_t i = 1; i < n.kids.size(); ++i) found = found || equals(x, kid(i));
            return found != n.negated;
        }
        case K::InValue: {
            Value x = kid(0), v = kid(1);
            if (x.is_null() || v.is_null()) return false;
            bool found = v.is_list() ? is_member(x, v) : equals(x, v);
            return found != n.negated;
        }
        case K::Between: {
            Value x = kid(0), low = kid(1), high = kid(2);
            bool typed = (x.is_number() || x.is_string()) && low.kind() == x.kind() && high.kind() == x.kind();
            if (!typed) return false;
            bool inside = order(low, x) <= 0 && order(x, high) <= 0;
            return inside != n.negated;
        }
        case K::IsNull: return kid(0).is_null() != n.negated;
        case K::List: {
            std::vector<Value> items;
            for (size_t i = 0; i < n.kids.size(); ++i) items.push_back(kid(i));
            return Value::list(std::move(items));
        }
        case K::Call: {
            const std::string& f = n.op;
            if (f == "has_segment") {
                Value s = kid(0);
                if (!s.is_string()) return false;
                for (const auto& segment : env.segments) {
                    if (segment == s.as_string()) return true;
                }
                return false;
            }
            if (f == "metric") {
                Value s = kid(0);
                if (!s.is_string()) return Value();
                auto found = env.metrics.find(std::string(s.as_string()));
                return found == env.metrics.end() ? Value() : Value(found->second);
            }
            if (f == "days_since") {
                Value t = kid(0);
                std::optional<double> seconds;
                if (t.is_number()) seconds = t.as_number();
                if (t.is_string()) seconds = parse_timestamp(t.as_string());
                if (!seconds) return Value();
                return number(std::floor((static_cast<double>(env.now) - *seconds) / 86400));
            }
            if (f == "lower" || f == "upper") {
                Value s = kid(0);
                if (!s.is_string()) return Value();
                std::string text(s.as_string());
                for (char& c : text) {
                    if (f == "lower" && c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
                    if (f == "upper" && c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
                }
                return Value(text);
            }
            if (f == "coalesce") {
                for (size_t i = 0; i < n.kids.size(); ++i) {
                    Value v = kid(i);
                    if (!v.is_null()) return v;
                }
                return Value();
            }
            if (f == "length") {
                Value v = kid(0);
                if (v.is_list()) return Value(v.as_list().size());
                if (!v.is_string()) return Value();
                size_t count = 0;
                for (char c : v.as_string()) count += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
                return Value(count);
            }
            if (f == "contains") {
                Value c = kid(0), x = kid(1);
                if (c.is_list()) return !x.is_null() && is_member(x, c);
                if (c.is_string() && x.is_string()) return c.as_string().find(x.as_string()) != std::string_view::npos;
                return false;
            }
            if (f == "abs") {
                Value x = kid(0);
                return x.is_number() ? Value(std::fabs(x.as_number())) : Value();
            }
            // min, max
            std::optional<double> best;
            for (size_t i = 0; i < n.kids.size(); ++i) {
                Value x = kid(i);
                if (!x.is_number()) continue;
                if (!best || (f == "min" ? x.as_number() < *best : x.as_number() > *best)) best = x.as_number();
            }
            return best ? Value(*best) : Value();
        }
    }
    return Value();
}

const double kNumbers[] = {0, 1, 2, 3, 0.5, 2.5, 10, 100, 1000};
const char* const kStrings[] = {
    "", "a", "b", "B", "ab", "gold", "silver", "m1", "m2", "é", "it's", "x\"y", "2025-12-01T00:00:00Z", "line\nbreak"};
const char* const kPaths[] = {"customer.p0", "customer.p1", "customer.p2", "offer.v", "context.w.x", "customer.segs"};
const char* const kTimestamps[] = {"2025-12-01T00:00:00Z", "2026-01-01", "2025-06-15 08:30:00+02:00"};

class Generator {
public:
    explicit Generator(uint32_t seed) : rng_(seed) {}

    int below(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
    bool chance(int percent) { return below(100) < percent; }

    Type random_type() {
        static const Type kTypes[] = {Type::Bool, Type::Number, Type::String, Type::List, Type::Any};
        return kTypes[below(5)];
    }

    Value scalar() {
        switch (below(4)) {
            case 0: return Value(chance(50));
            case 1: return Value(kNumbers[below(9)]);
            default: return Value(kStrings[below(14)]);
        }
    }

    // binding returns a random value for a path.
    Value binding() {
        switch (below(6)) {
            case 0: return Value();
            case 1: {
                std::vector<Value> items;
                for (int i = below(4); i > 0; --i) items.push_back(chance(10) ? Value() : scalar());
                return Value::list(std::move(items));
            }
            default: return scalar();
        }
    }

    Env env() {
        Env e;
        for (const char* path : kPaths) {
            if (!chance(15)) e.values[path] = binding();
        }
        if (chance(60)) e.values["customer.segs"] = Value::list({"gold", "b"});
        if (chance(50)) e.metrics["m1"] = kNumbers[below(9)];
        if (chance(50)) e.metrics["m2"] = -kNumbers[below(9)];
        if (chance(50)) e.segments.push_back("gold");
        if (chance(50)) e.segments.push_back("silver");
        return e;
    }

    Node leaf(Type want) {
        Node n;
        if (chance(45) || want == Type::Any) {
            if (want == Type::Any && chance(25)) {
                n.value = Value();
                return n;
            }
            n.kind = K::Path;
            n.path = kPaths[below(6)];
            return n;
        }
        n.type = want;
        switch (want) {
            case Type::Bool: n.value = Value(chance(50)); break;
            case Type::Number: n.value = Value(kNumbers[below(9)]); break;
            case Type::String: n.value = Value(kStrings[below(14)]); break;
            case Type::List: {
                std::vector<Value> items;
                for (int i = below(4); i > 0; --i) items.push_back(scalar());
                n.value = Value::list(std::move(items));
                break;
            }
            case Type::Any: break;
        }
        return n;
    }

    static Node make(K kind, Type type, std::vector<Node> kids, std::string op = {}) {
        Node n;
        n.kind = kind;
        n.type = type;
        n.kids = std::move(kids);
        n.op = std::move(op);
        return n;
    }

    Node call(std::string f, Type type, std::vector<Node> args) { return make(K::Call, type, std::move(args), f); }

    static Type join(const std::vector<Node>& kids) {
        Type t = kids[0].type;
        for (const Node& k : kids) {
            if (k.type != t) t = Type::Any;
        }
        return t;
    }

    Node gen(Type want, int depth) {
        if (depth == 0 || chance(20)) return leaf(want);
        --depth;
        switch (want) {
            case Type::Bool: return gen_bool(depth);
            case Type::Number: return gen_number(depth);
            case Type::String: {
                if (chance(60)) return call(chance(50) ? "lower" : "upper", Type::String, {gen(Type::String, depth)});
                std::vector<Node> args{gen(Type::String, depth), gen(Type::String, depth)};
                Type t = join(args);
                return call("coalesce", t, std::move(args));
            }
            case Type::List: {
                std::vector<Node> items;
                for (int i = below(4); i > 0; --i) items.push_back(gen(random_type(), depth));
                return make(K::List, Type::List, std::move(items));
            }
            case Type::Any: {
                if (chance(40)) {
                    std::vector<Node> args{gen(random_type(), depth), gen(random_type(), depth)};
                    Type t = join(args);
                    return call("coalesce", t, std::move(args));
                }
                return gen(random_type(), depth + 1);
            }
        }
        return leaf(want);
    }

    Node gen_bool(int depth) {
        switch (below(12)) {
            case 0: {
                Node a = gen(random_type(), depth);
                Node b = gen(a.type == Type::Any ? random_type() : a.type, depth);
                return make(K::Cmp, Type::Bool, {a, b}, chance(50) ? "=" : "!=");
            }
            case 1: {
                static const char* kOps[] = {"<", "<=", ">", ">="};
                Type t = chance(50) ? Type::Number : Type::String;
                return make(K::Cmp, Type::Bool, {gen(t, depth), gen(t, depth)}, kOps[below(4)]);
            }
            case 2:
            case 3: {
                std::vector<Node> kids;
                for (int i = 2 + below(2); i > 0; --i) kids.push_back(gen(Type::Bool, depth));
                return make(below(2) ? K::And : K::Or, Type::Bool, std::move(kids));
            }
            case 4: return make(K::Not, Type::Bool, {gen(Type::Bool, depth)});
            case 5: {
                Node x = gen(random_type(), depth);
                std::vector<Node> kids{x};
                int count = below(4);
                for (int i = 0; i < count; ++i)
                    kids.push_back(gen(x.type == Type::Any ? random_type() : x.type, depth));
                Node n = make(K::InList, Type::Bool, std::move(kids));
                n.negated = chance(40);
                n.paren_form = count >= 2 && chance(50);
                return n;
            }
            case 6: {
                Node x = gen(random_type(), depth);
                Node n;
                if (chance(50)) {
                    Node path;
                    path.kind = K::Path;
                    path.path = kPaths[below(6)];
                    n = make(K::InValue, Type::Bool, {x, path});
                } else {
                    Node v = gen(random_type(), depth);
                    if (v.type != Type::List && v.type != Type::Any && x.type != Type::Any && v.type != x.type) {
                        v = gen(x.type, depth);
                    }
                    n = make(K::InValue, Type::Bool, {x, v});
                    n.paren_form = true;
                }
                n.negated = chance(40);
                return n;
            }
            case 7: {
                Type t = chance(50) ? Type::Number : Type::String;
                Node n = make(K::Between, Type::Bool, {gen(t, depth), gen(t, depth), gen(t, depth)});
                n.negated = chance(40);
                return n;
            }
            case 8: {
                Node n = make(K::IsNull, Type::Bool, {gen(random_type(), depth)});
                n.negated = chance(50);
                return n;
            }
            case 9: return call("has_segment", Type::Bool, {gen(Type::String, depth)});
            case 10: {
                Node c = gen(chance(50) ? Type::List : Type::String, depth);
                Node x = gen(c.type == Type::String ? Type::String : random_type(), depth);
                return call("contains", Type::Bool, {c, x});
            }
            default: {
                std::vector<Node> args{gen(Type::Bool, depth), gen(Type::Bool, depth)};
                Type t = join(args);
                return call("coalesce", t, std::move(args));
            }
        }
    }

    Node gen_number(int depth) {
        switch (below(10)) {
            case 0:
            case 1:
            case 2: {
                static const char* kOps[] = {"+", "-", "*", "/", "%"};
                return make(K::Arith, Type::Number, {gen(Type::Number, depth), gen(Type::Number, depth)},
                            kOps[below(5)]);
            }
            case 3: return make(K::Neg, Type::Number, {gen(Type::Number, depth)});
            case 4: return call("metric", Type::Number, {gen(Type::String, depth)});
            case 5: {
                if (chance(50)) {
                    Node ts;
                    ts.type = Type::String;
                    ts.value = Value(kTimestamps[below(3)]);
                    return call("days_since", Type::Number, {ts});
                }
                return call("days_since", Type::Number, {gen(Type::Number, depth)});
            }
            case 6: return call("length", Type::Number, {gen(chance(50) ? Type::String : Type::List, depth)});
            case 7: return call("abs", Type::Number, {gen(Type::Number, depth)});
            case 8: {
                std::vector<Node> args;
                for (int i = 2 + below(2); i > 0; --i) args.push_back(gen(Type::Number, depth));
                return call(chance(50) ? "min" : "max", Type::Number, std::move(args));
            }
            default: {
                std::vector<Node> args{gen(Type::Number, depth), gen(Type::Number, depth)};
                Type t = join(args);
                return call("coalesce", t, std::move(args));
            }
        }
    }

    // ---- printing

    std::string keyword(std::string_view word) {
        std::string out(word);
        const int style = below(4);
        for (size_t i = 0; i < out.size(); ++i) {
            if (out[i] >= 'a' && out[i] <= 'z' && (style == 0 || (style == 1 && i == 0)))
                out[i] = static_cast<char>(out[i] - 32);
        }
        return out;
    }

    std::string number_text(double x) {
        if (x == 1000 && chance(50)) return chance(50) ? "1e3" : "1E3";
        if (x == 0.5 && chance(50)) return "5e-1";
        if (x == 2.5 && chance(30)) return "25e-1";
        std::string text = Value(x).to_string();
        return text;
    }

    std::string string_text(std::string_view s) {
        const char quote = chance(50) ? '\'' : '"';
        std::string out(1, quote);
        for (char c : s) {
            if (c == quote || c == '\\') {
                out += '\\';
                out += c;
            } else if (c == '\n') {
                out += chance(50) ? "\\n" : "\n";
            } else {
                out += c;
            }
        }
        if (s == "é" && chance(50)) out = std::string(1, quote) + "\\u00E9";
        out += quote;
        return out;
    }

    std::string literal(const Value& v) {
        switch (v.kind()) {
            case Value::Kind::Null: return keyword("null");
            case Value::Kind::Bool: return keyword(v.as_bool() ? "true" : "false");
            case Value::Kind::Number: return number_text(v.as_number());
            case Value::Kind::String: return string_text(v.as_string());
            case Value::Kind::List: {
                std::string out = "[";
                for (size_t i = 0; i < v.as_list().size(); ++i) out += (i ? ", " : "") + literal(v.as_list()[i]);
                return out + "]";
            }
        }
        return "?";
    }

    static int level(const Node& n) {
        switch (n.kind) {
            case K::Or: return 1;
            case K::And: return 2;
            case K::Not: return 3;
            case K::Cmp:
            case K::InList:
            case K::InValue:
            case K::Between:
            case K::IsNull: return 4;
            case K::Arith: return n.op == "+" || n.op == "-" ? 5 : 6;
            case K::Neg: return 7;
            default: return 8;
        }
    }

    // print writes `n` where the grammar needs at least precedence level `min`.
    std::string print(const Node& n, int min) {
        std::string text = raw(n);
        if (level(n) < min || chance(4)) return "(" + text + ")";
        return text;
    }

    std::string list(const std::vector<Node>& kids, size_t from, const char* open, const char* close) {
        std::string out = open;
        for (size_t i = from; i < kids.size(); ++i) out += (i > from ? ", " : "") + print(kids[i], 1);
        return out + close;
    }

    std::string raw(const Node& n) {
        const std::string not_ = n.negated ? keyword("not") + " " : "";
        switch (n.kind) {
            case K::Lit: return literal(n.value);
            case K::Path: return n.path;
            case K::Not: return keyword("not") + " " + print(n.kids[0], 3);
            case K::Neg: return "-" + print(n.kids[0], 7);
            case K::And:
            case K::Or: {
                std::string out;
                for (size_t i = 0; i < n.kids.size(); ++i) {
                    if (i) out += " " + keyword(n.kind == K::And ? "and" : "or") + " ";
                    out += print(n.kids[i], n.kind == K::And ? 3 : 2);
                }
                return out;
            }
            case K::Cmp: {
                std::string op = n.op;
                if (op == "=" && chance(30)) op = "==";
                if (op == "!=" && chance(30)) op = "<>";
                return print(n.kids[0], 5) + " " + op + " " + print(n.kids[1], 5);
            }
            case K::Arith: {
                const bool additive = n.op == "+" || n.op == "-";
                return print(n.kids[0], additive ? 5 : 6) + " " + n.op + " " + print(n.kids[1], additive ? 6 : 7);
            }
            case K::InList:
                return print(n.kids[0], 5) + " " + not_ + keyword("in") + " " +
                       list(n.kids, 1, n.paren_form ? "(" : "[", n.paren_form ? ")" : "]");
            case K::InValue:
                return print(n.kids[0], 5) + " " + not_ + keyword("in") + " " +
                       (n.paren_form ? "(" + print(n.kids[1], 1) + ")" : n.kids[1].path);
            case K::Between:
                return print(n.kids[0], 5) + " " + not_ + keyword("between") + " " + print(n.kids[1], 5) + " " +
                       keyword("and") + " " + print(n.kids[2], 5);
            case K::IsNull:
                return print(n.kids[0], 5) + " " + keyword("is") + " " + (n.negated ? keyword("not") + " " : "") +
                       keyword("null");
            case K::List: return list(n.kids, 0, "[", "]");
            case K::Call: return keyword(n.op) + list(n.kids, 0, "(", ")");
        }
        return "?";
    }

private:
    std::mt19937 rng_;
};

MapBindings bindings(const Env& env, const Program& program) {
    MapBindings b;
    for (const auto& [path, value] : env.values) b.values[path] = value;
    for (const auto& [name, value] : env.metrics) b.metrics[name] = value;
    b.segments = env.segments;
    b.now_seconds = env.now;
    b.bind(program);
    return b;
}

}  // namespace reference

TEST(ExprProperty, EvaluatorMatchesReferenceInterpreter) {
    reference::Generator gen(20260101);
    int compiled = 0, constant = 0, evaluations = 0;
    for (int round = 0; round < 4000 && !HasFailure(); ++round) {
        const Type want = round % 3 == 0 ? Type::Bool : gen.random_type();
        const reference::Node tree = gen.gen(want, 1 + round % 5);
        const std::string source = gen.print(tree, 1);
        if (source.size() > kMaxSourceBytes) continue;
        SCOPED_TRACE(source);
        std::optional<Program> program;
        try {
            const ResultType expected = tree.type == Type::Bool     ? ResultType::Bool
                                        : tree.type == Type::Number ? ResultType::Number
                                                                    : ResultType::Any;
            program = compile(source, expected);
        } catch (const Error& e) {
            ADD_FAILURE() << "refused: " << e.what();
            continue;
        }
        ++compiled;
        constant += program->constant().has_value();
        EXPECT_TRUE(program->type() == tree.type || program->type() == Type::Any || tree.type == Type::Any)
            << name(program->type()) << " vs " << name(tree.type);
        // The canonical form compiles to the same program.
        std::optional<Program> again;
        try {
            again = compile(program->to_string(), ResultType::Any);
            EXPECT_EQ(again->to_string(), program->to_string());
        } catch (const Error& e) {
            ADD_FAILURE() << "canonical form refused: " << program->to_string() << ": " << e.what();
        }
        for (int i = 0; i < 6; ++i) {
            const reference::Env env = gen.env();
            const Value expected = reference::eval(tree, env);
            MapBindings b = reference::bindings(env, *program);
            const Value actual = program->evaluate(b);
            ++evaluations;
            EXPECT_EQ(actual, expected) << "canonical: " << program->to_string();
            EXPECT_EQ(program->test(b), reference::truthy(expected));
            EXPECT_EQ(program->number(b),
                      expected.is_number() ? std::optional<double>(expected.as_number()) : std::nullopt);
            if (again) {
                MapBindings b2 = reference::bindings(env, *again);
                EXPECT_EQ(again->evaluate(b2), expected) << "canonical: " << program->to_string();
            }
            if (HasFailure()) break;
        }
    }
    EXPECT_GT(compiled, 3900);
    EXPECT_GT(evaluations, 23000);
    EXPECT_LT(constant, compiled / 2);  // most programs still read their bindings
}

}  // namespace
}  // namespace kaireon::expr
