// expr_internal.h - the compiled form of an expression (src/core/expr.h),
// shared by the compiler (expr.cpp), the evaluator and printer
// (expr_eval.cpp). Not part of the public API.
//
// A program is a tree of Nodes stored flat: each node lists its operands as a
// run of indices in Code::kids. The compiler emits nodes bottom-up, so the
// operands of node i always have indices below i; after folding, the
// reachable nodes are copied into a fresh Code in the same order, which
// Program::Impl::make packs into one allocation with the Impl (CodeView).
#pragma once
#include "core/pure.h"

#include "core/expr.h"

#include <cmath>
#include <cstdint>
#include <forward_list>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace kaireon::expr::detail {

enum class Op : uint8_t {
    Const,    // arg: index in Code::constants
    Path,     // arg: path slot (while compiling: index of the interned path)
    And,      // n operands
    Or,       // n operands
    Not,      // 1 operand
    Neg,      // 1 operand (unary minus)
    Arith,    // n >= 2 terms; Code::kid_ops[first + i] is the ArithOp before term i (i >= 1)
    Cmp,      // 2 operands; sub: CmpOp
    InList,   // x, element 1..n; sub: kNegated
    InValue,  // x, the list (or single value); sub: kNegated, kListed
    Between,  // x, low, high; sub: kNegated
    IsNull,   // 1 operand; sub: kNegated (is not null)
    List,     // list literal with non-constant elements
    Call,     // arguments; sub: Fn
};

// Flags of Node::sub for InList, InValue, Between, IsNull.
inline constexpr uint8_t kNegated = 1;  // not in, not between, is not null
inline constexpr uint8_t kListed = 2;   // InValue of a constant list written [a, b] or (a, b)

enum class CmpOp : uint8_t { Eq, Ne, Lt, Le, Gt, Ge };
enum class ArithOp : uint8_t { Add, Sub, Mul, Div, Mod };
enum class Fn : uint8_t { HasSegment, Metric, DaysSince, Lower, Upper, Coalesce, Length, Contains, Abs, Min, Max };

std::string_view cmp_text(CmpOp op);      // "=", "!=", "<", ...
std::string_view arith_text(ArithOp op);  // "+", "-", ...

struct FnInfo {
    std::string_view name;  // lower case
    Fn fn;
    uint32_t min_args;
    uint32_t max_args;  // UINT32_MAX: variadic
    bool pure;          // depends only on its arguments (foldable)
};
// find_function returns the function called `name` (case-insensitive), or
// nullptr; function_info returns the row of `fn`.
const FnInfo* find_function(std::string_view name);
const FnInfo& function_info(Fn fn);

struct Node {
    Op op;
    uint8_t sub;
    Type type;       // static type
    uint32_t arg;    // Const, Path
    uint32_t first;  // first operand in Code::kids
    uint32_t count;  // number of operands
};

// CodeView is what evaluation and printing read of a program: its arrays,
// wherever they are kept.
struct CodeView {
    std::span<const Node> nodes;
    std::span<const uint32_t> kids;
    std::span<const uint8_t> kid_ops;  // parallel to kids (Arith terms)
    std::span<const Value> constants;
};

// Code is a program being compiled: its arrays, growing.
struct Code {
    std::vector<Node> nodes;
    std::vector<uint32_t> kids;
    std::vector<uint8_t> kid_ops;  // parallel to kids (Arith terms)
    std::vector<Value> constants;

    CodeView view() const noexcept { return {nodes, kids, kid_ops, constants}; }
};

// Term is an intermediate result of evaluation: a null, boolean or number
// held by value, or a string or list borrowed from a Value that outlives the
// evaluation (a binding, a constant of the program, or a temporary the
// Evaluator keeps). Trivially copyable, 16 bytes.
struct Term {
    Value::Kind kind = Value::Kind::Null;
    union {
        bool b;
        double n;
        const Value* v;
    };

    Term() noexcept : n(0) {}
    static Term boolean(bool value) noexcept {
        Term t;
        t.kind = Value::Kind::Bool;
        t.b = value;
        return t;
    }
    // number gives null for a result that is not finite.
    static Term number(double value) noexcept {
        Term t;
        if (std::isfinite(value)) {
            t.kind = Value::Kind::Number;
            t.n = value;
        }
        return t;
    }
    static Term of(const Value& value) noexcept {
        Term t;
        t.kind = value.kind();
        switch (t.kind) {
            case Value::Kind::Null: break;
            case Value::Kind::Bool: t.b = value.as_bool(); break;
            case Value::Kind::Number: t.n = value.as_number(); break;
            case Value::Kind::String:
            case Value::Kind::List: t.v = &value; break;
        }
        return t;
    }
};

// Evaluator evaluates nodes of `code`. It owns the strings and lists an
// evaluation builds, so Terms it returns live as long as it does.
class Evaluator {
public:
    Evaluator(const CodeView& code, const Bindings& bindings) noexcept : code_(code), bindings_(bindings) {}
    Evaluator(const Evaluator&) = delete;
    Evaluator& operator=(const Evaluator&) = delete;
    ~Evaluator() = default;

    Term eval(uint32_t index);
    static Value value(const Term& term);

private:
    // operand evaluates an operand, leaves (paths, constants) without a call.
    Term operand(uint32_t index) {
        const Node& n = code_.nodes[index];
        if (n.op == Op::Path) return Term::of(bindings_.path(n.arg));
        if (n.op == Op::Const) return Term::of(code_.constants[n.arg]);
        return eval(index);
    }
    // Out of line, to keep eval()'s frame small: it recurses.
    [[gnu::noinline]] Term call(const Node& node, const uint32_t* kids);
    [[gnu::noinline]] Term list(const Node& node, const uint32_t* kids);
    [[gnu::noinline]] Term keep(Value value);

    const CodeView code_;
    const Bindings& bindings_;
    std::forward_list<Value> temps_;  // empty (no allocation) in the common case
};

bool truthy(const Term& term) noexcept;

}  // namespace kaireon::expr::detail

namespace kaireon::expr {

// Program::Parts is a program as the compiler lays it out (Layout), before
// Impl::make packs it.
struct Program::Parts {
    std::string source;
    ResultType expected = ResultType::Any;
    detail::Code code;
    uint32_t root = 0;
    std::vector<std::string> paths;
    std::vector<std::string> metric_names;
    bool uses_metric = false;
    bool uses_days_since = false;
    bool uses_has_segment = false;
};

// Program::Impl is the compiled program. Its arrays live in the same
// allocation, right after the fields evaluation reads (`root`, `code`): a
// decision evaluates a program or two per offer, often with none of them in
// the CPU's caches (a backend serving many tenants keeps many catalogs), and
// one block is fewer cache misses than an Impl and four arrays apart.
struct Program::Impl {
    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;
    ~Impl();

    // make packs `parts` (its code's constants are moved).
    static std::shared_ptr<const Impl> make(Parts&& parts);

    // Read by diagnostics and by catalogs binding paths.
    std::string source;
    std::vector<std::string> paths;
    std::vector<std::string> metric_names;
    ResultType expected = ResultType::Any;
    bool uses_metric = false;
    bool uses_days_since = false;
    bool uses_has_segment = false;
    // Read by every evaluation; the arrays follow.
    uint32_t root = 0;
    detail::CodeView code;

private:
    Impl() = default;
};

}  // namespace kaireon::expr
