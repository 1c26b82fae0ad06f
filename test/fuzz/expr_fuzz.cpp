// expr_fuzz.cpp - libFuzzer target for the expression language
// (src/core/expr.h).
//
// The input is an expression's source text. Contract under test:
//  - compile() of any bytes either returns a Program or throws
//    kaireon::Error(BadRequest) whose message ends with " at <n>", n being the
//    DETAIL's "position" and at most the number of characters of the input;
//  - the static type agrees with the expected result types: a program of type
//    boolean / number / any compiles as an eligibility condition / relevance
//    expression exactly when the type allows it;
//  - paths() are distinct and start with customer., offer. or context.;
//  - evaluation against fixed bindings (each path gets a value chosen from its
//    text) succeeds, and test(), number(), evaluate() and constant() agree;
//  - the canonical form compiles back (unless it outgrows a limit, which the
//    added parentheses may do) to the same canonical form and the same value.
// Anything else (another exception, a crash, a sanitizer report, a hang)
// aborts.
//
// Built by CMakeLists.txt with clang++-14; run by the ctest test fuzz_expr, or
// by hand:  build/core/fuzz/expr_fuzz -max_len=5000 -max_total_time=300 /tmp/corpus test/fuzz/corpus/expr
#include "core/error.h"
#include "core/expr.h"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>

namespace {

using kaireon::expr::Bindings;
using kaireon::expr::Program;
using kaireon::expr::ResultType;
using kaireon::expr::Type;
using kaireon::expr::Value;

[[noreturn]] void fail(const char* what, const std::string& detail) {
    std::fprintf(stderr, "expr_fuzz: %s: %s\n", what, detail.c_str());
    std::abort();
}

// FixedBindings gives every path a value picked by a hash of its text from a
// fixed set (null, booleans, numbers, strings, timestamps, lists), a few
// metrics and segments, and a fixed now.
class FixedBindings final : public Bindings {
public:
    explicit FixedBindings(const Program& program) {
        static const Value kValues[] = {
            Value(),
            Value(true),
            Value(false),
            Value(0),
            Value(1),
            Value(-2.5),
            Value(1e300),
            Value(37),
            Value(""),
            Value("gold"),
            Value("GB"),
            Value("é😀"),
            Value("2025-12-01T12:00:00Z"),
            Value(1766000000),
            Value::list({"gold", "silver"}),
            Value::list({1, 2, Value(), "x"}),
            Value::list({}),
            Value::list({Value::list({1})}),
        };
        constexpr size_t kCount = sizeof kValues / sizeof kValues[0];
        for (const std::string& path : program.paths()) {
            slots_.push_back(kValues[std::hash<std::string>{}(path) % kCount]);
        }
    }
    const Value& path(size_t slot) const override {
        if (slot >= slots_.size()) fail("path slot out of range", std::to_string(slot));
        return slots_[slot];
    }
    std::optional<double> metric(std::string_view name) const override {
        if (name == "clicks_30d") return 12;
        if (name == "spend") return -0.5;
        if (name == "huge") return 1e308;
        return std::nullopt;
    }
    int64_t now() const override { return 1767225600; }
    bool has_segment(std::string_view segment) const override { return segment == "gold" || segment == ""; }

private:
    std::vector<Value> slots_;
};

size_t code_points(std::string_view text) {
    size_t count = 0;
    for (char c : text) count += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    return count;
}

void check_refusal(const kaireon::Error& e, std::string_view source) {
    if (e.code() != kaireon::ErrorCode::BadRequest) fail("unexpected error code", e.what());
    const std::string message = e.what();
    const kaireon::Json& detail = e.detail();
    if (!detail.contains("position") || !detail["position"].is_number_unsigned()) {
        fail("refusal without a position", e.detail_text());
    }
    const size_t position = detail["position"].get<size_t>();
    const std::string suffix = " at " + std::to_string(position);
    if (message.size() < suffix.size() || message.compare(message.size() - suffix.size(), suffix.size(), suffix) != 0) {
        fail("message does not end with its position", e.detail_text());
    }
    if (position > code_points(source)) fail("position past the end", e.detail_text());
    if (detail.value("error", std::string()) != message) fail("detail error is not the message", e.detail_text());
    (void)e.detail_text();
}

// compiles tells whether `source` compiles as `expected`; other exceptions abort.
bool compiles(std::string_view source, ResultType expected) {
    try {
        (void)kaireon::expr::compile(source, expected);
        return true;
    } catch (const kaireon::Error& e) {
        check_refusal(e, source);
        return false;
    }
}

void check_evaluation(const Program& program) {
    const FixedBindings bindings(program);
    const Value value = program.evaluate(bindings);
    if (program.test(bindings) != (value.is_bool() && value.as_bool())) fail("test() disagrees", program.source());
    const std::optional<double> number = program.number(bindings);
    if (number.has_value() != value.is_number() || (number && *number != value.as_number())) {
        fail("number() disagrees", program.source());
    }
    if (value.is_number() && !std::isfinite(value.as_number())) {
        // Only a binding can hold a non-finite number; ours do not.
        fail("non-finite result", program.source());
    }
    if (auto constant = program.constant(); constant && !(*constant == value)) {
        fail("constant() disagrees", program.source());
    }
    if (program.type() == Type::Bool && !value.is_bool())
        fail("a boolean program gave a non-boolean", program.source());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view source(reinterpret_cast<const char*>(data), size);
    try {
        std::optional<Program> program;
        try {
            program = kaireon::expr::compile(source, ResultType::Any);
        } catch (const kaireon::Error& e) {
            check_refusal(e, source);
            // Refused as anything, refused as everything.
            if (compiles(source, ResultType::Bool) || compiles(source, ResultType::Number)) {
                fail("refused as any but accepted as a condition or a number", std::string(source));
            }
            return 0;
        }

        const Type type = program->type();
        const bool boolean = type == Type::Bool || type == Type::Any;
        const bool numeric = type == Type::Number || type == Type::Any;
        if (compiles(source, ResultType::Bool) != boolean)
            fail("eligibility disagrees with the type", program->source());
        if (compiles(source, ResultType::Number) != numeric)
            fail("relevance disagrees with the type", program->source());

        std::set<std::string> distinct;
        for (const std::string& path : program->paths()) {
            if (!distinct.insert(path).second) fail("duplicate path", path);
            if (path.rfind("customer.", 0) != 0 && path.rfind("offer.", 0) != 0 && path.rfind("context.", 0) != 0) {
                fail("path with an unknown root", path);
            }
        }
        check_evaluation(*program);

        const std::string canonical = program->to_string();
        std::optional<Program> again;
        try {
            again = kaireon::expr::compile(canonical, ResultType::Any);
        } catch (const kaireon::Error& e) {
            const std::string message = e.what();
            if (message.rfind("expression is longer than", 0) != 0 && message.rfind("nesting deeper than", 0) != 0) {
                fail("canonical form refused", canonical + " : " + message);
            }
        }
        if (again) {
            if (again->to_string() != canonical) fail("canonical form is not stable", canonical);
            if (again->paths() != program->paths()) fail("canonical form reads other paths", canonical);
            const FixedBindings b1(*program), b2(*again);
            if (!(again->evaluate(b2) == program->evaluate(b1)))
                fail("canonical form evaluates differently", canonical);
            check_evaluation(*again);
        }
    } catch (const std::exception& e) {
        fail("unexpected exception", e.what());
    } catch (...) {
        fail("non-std exception", "?");
    }
    return 0;
}
