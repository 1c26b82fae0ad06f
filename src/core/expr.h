// expr.h - the expression language of the decision catalog (SPEC 6.1, 6.2):
// eligibility conditions (offers, flows, triggers, journeys, policies) and
// numeric relevance expressions (arbitration). A source text is compiled once,
// on catalog write, into an immutable Program (a syntax or type error is
// Error(BadRequest) with its position); the decision pipeline then evaluates
// the Program for every candidate offer, without allocating in the common case.
//
// The language
// ------------
//   literals    3  2.5  1e3  'text'  "text"  true  false  null  [1, 2, 'a']
//               Strings take the escapes \\ \' \" \/ \n \t \r \b \f \uXXXX
//               (UTF-16, surrogate pairs combined; \u0000 is refused).
//   paths       customer.<name>  offer.<name>  context.<name>[.<name>...]
//               A path is a root (exactly `customer`, `offer` or `context`)
//               and one or more names [A-Za-z_][A-Za-z0-9_]* joined by dots
//               (after a dot, keywords are names too: `offer.in`). The caller
//               resolves a path's value (SPEC 6.1: customer.id,
//               customer.segments, customer.<attribute>; offer.<field> else
//               its attribute; context.<name>, nested context.cart.total).
//   operators   lowest to highest precedence:
//                 or
//                 and
//                 not
//                 = == != <> < <= > >=      a op b (not chainable: a < b < c
//                 [not] in (a, b, ...)      is an error)
//                 [not] in [a, b, ...]
//                 [not] in <operand>
//                 [not] between a and b     (inclusive)
//                 is [not] null
//                 + -                       left-associative
//                 * / %                     left-associative
//                 - (unary)
//                 literal, path, f(...), ( ... )
//               Keywords (and, or, not, in, between, is, null, true, false)
//               and function names are case-insensitive; path names are not.
//   functions   has_segment(s)     bool: is s one of the customer's segments
//               metric(s)          number or null: the customer's behavioral
//                                  metric s, as the caller supplies it
//               days_since(t)      number or null: whole days from t to the
//                                  evaluation's `now`, rounded down (negative
//                                  for a future t); t is an ISO-8601 string
//                                  (parse_timestamp) or Unix seconds
//               lower(s) upper(s)  ASCII case mapping (other bytes unchanged)
//               length(x)          code points of a string, elements of a list
//               contains(c, x)     c a list: is x an element (as with =);
//                                  c a string: is the string x a substring
//               coalesce(a, b, ...)  the first argument that is not null
//               abs(n)  min(a, b, ...)  max(a, b, ...)
//                                  min and max skip arguments that are not
//                                  numbers (null included), like SQL's
//                                  LEAST/GREATEST; null when none is left
//
// Semantics (two-valued; evaluation never fails)
// ---------
//  - A missing value is null. `is null` / `is not null` is the only test for
//    null: every comparison with a null operand is false, `!=`, `in`,
//    `not in`, `between` and `not between` included.
//  - `=` is true for two booleans, two numbers (by value: 1 = 1.0), two
//    strings (bytewise) or two lists (same length, elements pairwise equal,
//    where inside a list null equals null) that are equal. Values of
//    different types are never equal, and `!=` between them is false too:
//    `!=` is true only for two non-null values of the same type that differ.
//  - `<`, `<=`, `>`, `>=` order two numbers, or two strings bytewise
//    (unsigned); anything else (null, booleans, lists, mixed types) is false.
//  - `x between a and b` is a <= x and x <= b, when x, a and b are all
//    numbers or all strings; `x not between a and b` is the negation under
//    the same condition; otherwise both are false.
//  - `x in L`: when L is a list, some element of L equals x (as `=` does);
//    `(a, b, c)` and `[a, b, c]` are lists; `x in (v)` and `x in <operand>`
//    with a value v that is not a list mean x = v. `x not in L` is true when
//    no element equals x. Both are false when x or L is null; elements that
//    are null or of another type simply do not match (so `'a' not in [1, 2]`
//    is true while `'a' != 1` is false).
//  - `and`, `or` and `not` take only `true` as true: null (and any value that
//    is not a boolean) counts as false, so logic is two-valued and
//    `not (x > 1)` is TRUE when x is null (unlike SQL, where it is unknown).
//    Write `x <= 1` or `x is not null and not (x > 1)` to exclude nulls.
//  - Arithmetic (+ - * / % and unary -) takes numbers: with null or any other
//    type it gives null; so do division and % by zero and any result that is
//    not finite (overflow). % is fmod: the sign of the dividend.
//  - Functions given null (or a value of the wrong type, which a path can
//    hold) give null, or false for has_segment and contains.
//  - An eligibility condition holds only when the result is `true`
//    (Program::test); a relevance expression is a number, or null
//    (Program::number).
//
// Static types and compile errors
// -------------------------------
// Every expression has a static type: Bool, Number, String, List, or Any (a
// path, null, coalesce of mixed types). Where operand types are statically
// known, wrong ones are compile errors ('a' + 1, true < 3, not 5,
// has_segment(5), 'a' = 1, x in 5); Any is accepted everywhere. A Bool
// expression always yields true or false (never null). The expected result
// type is checked too: an eligibility condition (ResultType::Bool) must be
// Bool or Any, a relevance expression (ResultType::Number) Number or Any.
//
// A compile error is Error(BadRequest) whose message ends with " at <n>"
// where n is the 0-based offset, in Unicode code points, of the offending
// token or operand, e.g. "unexpected '>' at 14", "unknown function \"foo\" at
// 3", "unknown path root \"cust\" at 0", "expected ')' at 20", "has_segment
// expects a string at 12"; its DETAIL carries {"position": n} plus
// "expected" (what would have been accepted) where that is meaningful and
// "limit" for the limits. The database layer prefixes the catalog path
// (offers[3].eligibility: ...). Limits: a source of at most kMaxSourceBytes
// bytes of valid UTF-8; at most kMaxDepth nesting levels, where each
// parenthesis, list bracket, function call, `not` and unary minus opens one;
// lists of at most kMaxListElements elements.
//
// Compilation folds constants: an operation whose operands are all constant
// is computed once (1 + 2 becomes 3, lower('A') becomes 'a'), `and`/`or`
// drop constant operands (false and x becomes false), coalesce drops
// constant nulls. has_segment, metric and days_since are never folded.
#pragma once
#include "core/pure.h"

#include "core/json.h"

#include <atomic>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iosfwd>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace kaireon::expr {

inline constexpr size_t kMaxSourceBytes = 4096;
inline constexpr int kMaxDepth = 64;
inline constexpr size_t kMaxListElements = 1000;

// Numeric types make numbers; bool and char do not.
template <typename T>
concept Numeric = std::is_arithmetic_v<T> && !std::is_same_v<T, bool> && !std::is_same_v<T, char>;

// Value is a value of the language: null, a boolean, a number (double), a
// string (bytes, UTF-8 in practice) or a list of values. It is 16 bytes;
// strings and lists are immutable and shared by reference counting, so a
// copy never allocates (it is one atomic increment) and copies may be used
// from several threads.
class Value {
public:
    enum class Kind : uint8_t { Null, Bool, Number, String, List };

    // The constructors are implicit on purpose, so that values read like the
    // literals they are: Value v = 18; Value::list({1, "a", nullptr}).
    // NOLINTBEGIN(google-explicit-constructor)
    Value() noexcept : kind_(Kind::Null), number_(0) {}
    Value(std::nullptr_t) noexcept : Value() {}
    Value(bool value) noexcept : kind_(Kind::Bool), bool_(value) {}
    // Any arithmetic type but bool and char is a number: Value(18), Value(2.5).
    template <Numeric T>
    Value(T value) noexcept : kind_(Kind::Number), number_(static_cast<double>(value)) {}
    Value(std::string_view text);
    Value(const char* text) : Value(std::string_view{text}) {}
    Value(const std::string& text) : Value(std::string_view{text}) {}
    Value(std::string&& text);
    // NOLINTEND(google-explicit-constructor)
    // list returns the list of `items`: Value::list({1, "a", nullptr}).
    static Value list(std::vector<Value> items);
    static Value list(std::initializer_list<Value> items) { return list(std::vector<Value>(items)); }

    Value(const Value& other) noexcept;
    Value(Value&& other) noexcept;
    Value& operator=(const Value& other) noexcept;
    Value& operator=(Value&& other) noexcept;
    ~Value();

    Kind kind() const noexcept { return kind_; }
    bool is_null() const noexcept { return kind_ == Kind::Null; }
    bool is_bool() const noexcept { return kind_ == Kind::Bool; }
    bool is_number() const noexcept { return kind_ == Kind::Number; }
    bool is_string() const noexcept { return kind_ == Kind::String; }
    bool is_list() const noexcept { return kind_ == Kind::List; }
    // The accessors require the matching kind (checked only by assertions).
    bool as_bool() const noexcept {
        assert(kind_ == Kind::Bool);
        return bool_;
    }
    double as_number() const noexcept {
        assert(kind_ == Kind::Number);
        return number_;
    }
    std::string_view as_string() const noexcept;
    std::span<const Value> as_list() const noexcept;

    // to_string returns the value as a literal of the language: null, true,
    // 2.5 (shortest round trip), 'it\'s' (single quotes), [1, 'a'].
    std::string to_string() const;

    // to_json returns the value as JSON; from_json converts a JSON value
    // (an object, which the language cannot hold, becomes null).
    Json to_json() const;
    static Value from_json(const Json& value);

    // Structural equality, for tests and caches: same kind and equal
    // contents, numbers by value, null == null. (The language's `=` is
    // different: null never equals anything there.)
    friend bool operator==(const Value& a, const Value& b) noexcept;

private:
    struct Shared;  // the reference-counted string or list
    void release() noexcept;

    Kind kind_;
    union {
        bool bool_;
        double number_;
        Shared* shared_;
    };
};

struct Value::Shared {
    std::atomic<uint32_t> refs{1};
    std::string text;          // Kind::String
    std::vector<Value> items;  // Kind::List
};

inline std::string_view Value::as_string() const noexcept {
    assert(kind_ == Kind::String);
    return shared_->text;
}
inline std::span<const Value> Value::as_list() const noexcept {
    assert(kind_ == Kind::List);
    return shared_->items;
}

// PrintTo lets GoogleTest show values as literals.
void PrintTo(const Value& value, std::ostream* out);

// Type is a static type of the language; name() is "boolean", "number",
// "string", "list", "any".
enum class Type : uint8_t { Bool, Number, String, List, Any };
std::string_view name(Type type);

// ResultType is what a caller expects of a whole expression: an eligibility
// condition (Bool), a relevance expression (Number), or anything (Any).
enum class ResultType : uint8_t { Bool, Number, Any };

// Bindings is what an evaluation reads: the values of the program's paths
// (by slot, see Program::paths), the customer's behavioral metrics and
// segments, and the evaluation time. Implementations must be cheap: the
// pipeline evaluates every candidate offer through them. None of these is
// called for a program that does not use it.
class Bindings {
public:
    virtual ~Bindings() = default;
    // path returns the value of path slot `slot` (< program.paths().size());
    // a missing value is null. The reference must stay valid during the
    // evaluation.
    virtual const Value& path(size_t slot) const = 0;
    // metric returns the customer's behavioral metric `name`, if known.
    virtual std::optional<double> metric(std::string_view name) const = 0;
    // now returns the evaluation time in Unix seconds (days_since).
    virtual int64_t now() const = 0;
    // has_segment tells whether the customer is in segment `segment`.
    virtual bool has_segment(std::string_view segment) const = 0;
};

// Program is a compiled expression: immutable, cheap to copy (shared), safe
// to evaluate from several threads at once.
class Program {
public:
    // source returns the text the program was compiled from.
    const std::string& source() const noexcept;
    // expected returns the result type asked of compile(); type() is the
    // static type of the expression.
    ResultType expected() const noexcept;
    Type type() const noexcept;

    // paths returns the distinct paths the evaluation may read, each as its
    // full dotted text ("customer.age"), in slot order: the order of first
    // appearance in the source. Paths that constant folding removed (false
    // and customer.x = 1) are not listed.
    const std::vector<std::string>& paths() const noexcept;
    // uses_* tell whether evaluation may call Bindings::metric, now (through
    // days_since) and has_segment; metric_names lists the distinct constant
    // names given to metric() in order of appearance (a metric name computed
    // at run time sets uses_metric without a name here).
    bool uses_metric() const noexcept;
    bool uses_days_since() const noexcept;
    bool uses_has_segment() const noexcept;
    const std::vector<std::string>& metric_names() const noexcept;
    // constant returns the value when compilation folded the whole program
    // to a constant (then evaluation reads no bindings at all).
    std::optional<Value> constant() const;

    // evaluate returns the value of the expression. It never throws except
    // std::bad_alloc (or what the Bindings throw); it allocates only when it must build a string or a list
    // (lower, upper, a list literal with non-constant elements as a value) or
    // return one it did not read from the bindings or the program.
    Value evaluate(const Bindings& bindings) const;
    // test tells whether the result is true (an eligibility condition holds);
    // number returns the result when it is a number (relevance), else
    // nullopt. Neither allocates unless the expression builds a string or a
    // list on the way.
    bool test(const Bindings& bindings) const;
    std::optional<double> number(const Bindings& bindings) const;

    // to_string returns the compiled program (after folding) in a canonical,
    // fully parenthesised form that compiles back to the same program, for
    // tests and diagnostics: "((customer.age >= 18) and has_segment('gold'))".
    // Keywords and function names are lower case, `==` reads `=`, `<>` reads
    // `!=`, chains of one precedence level read flat: "(a + b - c)".
    std::string to_string() const;

    // identity is the same for a program and its copies (they share the
    // compiled form), and differs between programs compiled apart.
    const void* identity() const noexcept { return impl_.get(); }

    struct Impl;   // the compiled form: src/core/expr_internal.h
    struct Parts;  // the compiled form before it is packed (expr_internal.h)

private:
    friend Program compile(std::string_view source, ResultType expected);
    explicit Program(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
    std::shared_ptr<const Impl> impl_;
};

// compile returns the program of `source`, whose result must suit
// `expected`, or throws Error(BadRequest) (see the top of this file).
Program compile(std::string_view source, ResultType expected);

// parse_timestamp returns the Unix time (seconds, with fractions) of an
// ISO-8601 timestamp: YYYY-MM-DD, optionally followed by T (or t or a space)
// and hh:mm[:ss[.fraction]], optionally followed by Z (or z), +hh, +hh:mm
// or +hhmm (or -); no zone means UTC. Anything else (including an
// impossible date such as 2023-02-29) is nullopt.
std::optional<double> parse_timestamp(std::string_view text);

// MapBindings is a Bindings held in plain containers: for tests, tools and
// callers that evaluate few candidates. Fill the public members, then bind()
// a program before evaluating it.
class MapBindings final : public Bindings {
public:
    std::map<std::string, Value, std::less<>> values;  // by path text: "customer.age"
    std::map<std::string, double, std::less<>> metrics;
    std::vector<std::string> segments;
    int64_t now_seconds = 0;

    // bind resolves `program`'s path slots against `values` (a path it lacks
    // is null). Bind again after changing `values` or for another program.
    MapBindings& bind(const Program& program);

    const Value& path(size_t slot) const override;
    std::optional<double> metric(std::string_view name) const override;
    int64_t now() const override { return now_seconds; }
    bool has_segment(std::string_view segment) const override;

private:
    std::vector<Value> slots_;
};

}  // namespace kaireon::expr
