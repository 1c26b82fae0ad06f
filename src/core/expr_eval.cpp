// expr_eval.cpp - evaluation and printing of compiled expressions
// (src/core/expr.h, src/core/expr_internal.h).
#include "core/expr_internal.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <memory>

namespace kaireon::expr {
namespace detail {

namespace {

constexpr uint32_t kVariadic = UINT32_MAX;

constexpr std::array<FnInfo, 11> kFunctions{{
    {"has_segment", Fn::HasSegment, 1, 1, false},
    {"metric", Fn::Metric, 1, 1, false},
    {"days_since", Fn::DaysSince, 1, 1, false},
    {"lower", Fn::Lower, 1, 1, true},
    {"upper", Fn::Upper, 1, 1, true},
    {"coalesce", Fn::Coalesce, 2, kVariadic, true},
    {"length", Fn::Length, 1, 1, true},
    {"contains", Fn::Contains, 2, 2, true},
    {"abs", Fn::Abs, 1, 1, true},
    {"min", Fn::Min, 2, kVariadic, true},
    {"max", Fn::Max, 2, kVariadic, true},
}};

using Kind = Value::Kind;

bool equal_ascii_nocase(std::string_view a, std::string_view lower) {
    if (a.size() != lower.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
        char c = a[i];
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        if (c != lower[i]) return false;
    }
    return true;
}

// equal is the structural equality of two terms: same kind, equal contents
// (numbers by value, null equal to null). The language's `=` excludes nulls
// before calling it.
[[gnu::always_inline]] inline bool equal(const Term& a, const Term& b) noexcept {
    if (a.kind != b.kind) return false;
    switch (a.kind) {
        case Kind::Null: return true;
        case Kind::Bool: return a.b == b.b;
        case Kind::Number: return a.n == b.n;
        case Kind::String: {
            const std::string_view x = a.v->as_string(), y = b.v->as_string();
            return x.size() == y.size() && (x.data() == y.data() || std::memcmp(x.data(), y.data(), x.size()) == 0);
        }
        case Kind::List: return *a.v == *b.v;
    }
    return false;
}

// order returns -1, 0 or 1 for two numbers or two strings, and 2 when they
// are not ordered (other kinds, mixed kinds, NaN).
[[gnu::always_inline]] inline int order(const Term& a, const Term& b) noexcept {
    if (a.kind != b.kind) return 2;
    if (a.kind == Kind::Number) {
        if (a.n < b.n) return -1;
        if (a.n > b.n) return 1;
        return a.n == b.n ? 0 : 2;
    }
    if (a.kind == Kind::String) {
        int c = a.v->as_string().compare(b.v->as_string());
        return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
    return 2;
}

[[gnu::always_inline]] inline bool compare(CmpOp op, const Term& a, const Term& b) noexcept {
    if (a.kind == Kind::Null || b.kind == Kind::Null) return false;
    switch (op) {
        case CmpOp::Eq: return equal(a, b);
        case CmpOp::Ne: return a.kind == b.kind && !equal(a, b);
        case CmpOp::Lt: return order(a, b) == -1;
        case CmpOp::Le: {
            int c = order(a, b);
            return c == -1 || c == 0;
        }
        case CmpOp::Gt: return order(a, b) == 1;
        case CmpOp::Ge: {
            int c = order(a, b);
            return c == 1 || c == 0;
        }
    }
    return false;
}

// member tells whether `list` (a list term) has an element equal to `x`.
bool member(const Term& x, const Term& list) noexcept {
    for (const Value& item : list.v->as_list()) {
        if (equal(x, Term::of(item))) return true;
    }
    return false;
}

double arith(uint8_t op, double a, double b) noexcept {
    switch (static_cast<ArithOp>(op)) {
        case ArithOp::Add: return a + b;
        case ArithOp::Sub: return a - b;
        case ArithOp::Mul: return a * b;
        case ArithOp::Div: return b == 0 ? NAN : a / b;
        case ArithOp::Mod: return b == 0 ? NAN : std::fmod(a, b);
    }
    return NAN;
}

size_t code_points(std::string_view text) noexcept {
    size_t count = 0;
    for (char c : text) count += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    return count;
}

}  // namespace

std::string_view cmp_text(CmpOp op) {
    switch (op) {
        case CmpOp::Eq: return "=";
        case CmpOp::Ne: return "!=";
        case CmpOp::Lt: return "<";
        case CmpOp::Le: return "<=";
        case CmpOp::Gt: return ">";
        case CmpOp::Ge: return ">=";
    }
    return "?";
}

std::string_view arith_text(ArithOp op) {
    switch (op) {
        case ArithOp::Add: return "+";
        case ArithOp::Sub: return "-";
        case ArithOp::Mul: return "*";
        case ArithOp::Div: return "/";
        case ArithOp::Mod: return "%";
    }
    return "?";
}

const FnInfo* find_function(std::string_view name) {
    for (const FnInfo& info : kFunctions) {
        if (equal_ascii_nocase(name, info.name)) return &info;
    }
    return nullptr;
}

const FnInfo& function_info(Fn fn) { return kFunctions[static_cast<size_t>(fn)]; }

bool truthy(const Term& term) noexcept { return term.kind == Kind::Bool && term.b; }

Value Evaluator::value(const Term& term) {
    switch (term.kind) {
        case Kind::Null: return Value();
        case Kind::Bool: return Value(term.b);
        case Kind::Number: return Value(term.n);
        case Kind::String:
        case Kind::List: return *term.v;
    }
    return Value();
}

Term Evaluator::keep(Value value) {
    temps_.push_front(std::move(value));
    return Term::of(temps_.front());
}

Term Evaluator::eval(uint32_t index) {
    const Node& node = code_.nodes[index];
    const uint32_t* kids = code_.kids.data() + node.first;
    switch (node.op) {
        case Op::Const: return Term::of(code_.constants[node.arg]);
        case Op::Path: return Term::of(bindings_.path(node.arg));
        case Op::And:
            for (uint32_t i = 0; i < node.count; ++i) {
                if (!truthy(operand(kids[i]))) return Term::boolean(false);
            }
            return Term::boolean(true);
        case Op::Or:
            for (uint32_t i = 0; i < node.count; ++i) {
                if (truthy(operand(kids[i]))) return Term::boolean(true);
            }
            return Term::boolean(false);
        case Op::Not: return Term::boolean(!truthy(operand(kids[0])));
        case Op::Neg: {
            Term x = operand(kids[0]);
            return x.kind == Kind::Number ? Term::number(-x.n) : Term();
        }
        case Op::Arith: {
            Term first = operand(kids[0]);
            if (first.kind != Kind::Number) return Term();
            double acc = first.n;
            const uint8_t* ops = code_.kid_ops.data() + node.first;
            for (uint32_t i = 1; i < node.count; ++i) {
                Term term = operand(kids[i]);
                if (term.kind != Kind::Number) return Term();
                acc = arith(ops[i], acc, term.n);
                if (!std::isfinite(acc)) return Term();
            }
            return Term::number(acc);
        }
        case Op::Cmp: {
            Term a = operand(kids[0]);
            if (a.kind == Kind::Null) return Term::boolean(false);
            return Term::boolean(compare(static_cast<CmpOp>(node.sub), a, operand(kids[1])));
        }
        case Op::InList: {
            Term x = operand(kids[0]);
            if (x.kind == Kind::Null) return Term::boolean(false);
            bool found = false;
            for (uint32_t i = 1; i < node.count && !found; ++i) found = equal(x, operand(kids[i]));
            return Term::boolean(found != ((node.sub & kNegated) != 0));
        }
        case Op::InValue: {
            Term x = operand(kids[0]);
            if (x.kind == Kind::Null) return Term::boolean(false);
            Term within = operand(kids[1]);
            if (within.kind == Kind::Null) return Term::boolean(false);
            bool found = within.kind == Kind::List ? member(x, within) : equal(x, within);
            return Term::boolean(found != ((node.sub & kNegated) != 0));
        }
        case Op::Between: {
            Term x = operand(kids[0]);
            if (x.kind != Kind::Number && x.kind != Kind::String) return Term::boolean(false);
            Term low = operand(kids[1]);
            if (low.kind != x.kind) return Term::boolean(false);
            Term high = operand(kids[2]);
            if (high.kind != x.kind) return Term::boolean(false);
            int a = order(low, x);
            int b = order(x, high);
            if (a == 2 || b == 2) return Term::boolean(false);
            bool inside = a <= 0 && b <= 0;
            return Term::boolean(inside != ((node.sub & kNegated) != 0));
        }
        case Op::IsNull: return Term::boolean((operand(kids[0]).kind == Kind::Null) != ((node.sub & kNegated) != 0));
        case Op::List: return list(node, kids);
        case Op::Call: return call(node, kids);
    }
    return Term();
}

Term Evaluator::list(const Node& node, const uint32_t* kids) {
    std::vector<Value> items;
    items.reserve(node.count);
    for (uint32_t i = 0; i < node.count; ++i) items.push_back(value(operand(kids[i])));
    return keep(Value::list(std::move(items)));
}

Term Evaluator::call(const Node& node, const uint32_t* kids) {
    switch (static_cast<Fn>(node.sub)) {
        case Fn::HasSegment: {
            Term s = operand(kids[0]);
            return Term::boolean(s.kind == Kind::String && bindings_.has_segment(s.v->as_string()));
        }
        case Fn::Metric: {
            Term s = operand(kids[0]);
            if (s.kind != Kind::String) return Term();
            std::optional<double> metric = bindings_.metric(s.v->as_string());
            return metric ? Term::number(*metric) : Term();
        }
        case Fn::DaysSince: {
            Term t = operand(kids[0]);
            double seconds = 0;
            if (t.kind == Kind::Number) {
                seconds = t.n;
            } else if (t.kind == Kind::String) {
                std::optional<double> parsed = parse_timestamp(t.v->as_string());
                if (!parsed) return Term();
                seconds = *parsed;
            } else {
                return Term();
            }
            return Term::number(std::floor((static_cast<double>(bindings_.now()) - seconds) / 86400.0));
        }
        case Fn::Lower:
        case Fn::Upper: {
            Term s = operand(kids[0]);
            if (s.kind != Kind::String) return Term();
            std::string text(s.v->as_string());
            const bool upper = static_cast<Fn>(node.sub) == Fn::Upper;
            for (char& c : text) {
                if (upper && c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
                if (!upper && c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
            }
            return keep(Value(std::move(text)));
        }
        case Fn::Coalesce:
            for (uint32_t i = 0; i < node.count; ++i) {
                Term t = operand(kids[i]);
                if (t.kind != Kind::Null) return t;
            }
            return Term();
        case Fn::Length: {
            Term t = operand(kids[0]);
            if (t.kind == Kind::String) return Term::number(static_cast<double>(code_points(t.v->as_string())));
            if (t.kind == Kind::List) return Term::number(static_cast<double>(t.v->as_list().size()));
            return Term();
        }
        case Fn::Contains: {
            Term c = operand(kids[0]);
            if (c.kind != Kind::List && c.kind != Kind::String) return Term::boolean(false);
            Term x = operand(kids[1]);
            if (x.kind == Kind::Null) return Term::boolean(false);
            if (c.kind == Kind::List) return Term::boolean(member(x, c));
            return Term::boolean(x.kind == Kind::String &&
                                 c.v->as_string().find(x.v->as_string()) != std::string_view::npos);
        }
        case Fn::Abs: {
            Term t = operand(kids[0]);
            return t.kind == Kind::Number ? Term::number(std::fabs(t.n)) : Term();
        }
        case Fn::Min:
        case Fn::Max: {
            const bool max = static_cast<Fn>(node.sub) == Fn::Max;
            bool have = false;
            double best = 0;
            for (uint32_t i = 0; i < node.count; ++i) {
                Term t = operand(kids[i]);
                if (t.kind != Kind::Number || std::isnan(t.n)) continue;
                if (!have || (max ? t.n > best : t.n < best)) best = t.n;
                have = true;
            }
            return have ? Term::number(best) : Term();
        }
    }
    return Term();
}

namespace {

// Printer writes the canonical form of a compiled program (Program::to_string).
struct Printer {
    const Program::Impl& program;
    std::string out;

    void node(uint32_t index) {
        const CodeView& code = program.code;
        const Node& n = code.nodes[index];
        const uint32_t* kids = code.kids.data() + n.first;
        const bool negated = (n.sub & kNegated) != 0;
        switch (n.op) {
            case Op::Const: {
                const Value& value = code.constants[n.arg];
                // A folded coalesce keeps its static type Any; written as a bare
                // literal it would read back with a narrower type.
                if (n.type == Type::Any && !value.is_null()) {
                    out += "coalesce(null, ";
                    out += value.to_string();
                    out += ')';
                } else {
                    out += value.to_string();
                }
                break;
            }
            case Op::Path: out += program.paths[n.arg]; break;
            case Op::And:
            case Op::Or:
                list(kids, n.count, n.op == Op::And ? " and " : " or ", "(", ")");
                // Folding may leave one operand that is not a boolean (true and
                // customer.vip): the operator still turns it into one.
                if (n.count == 1) out.insert(out.size() - 1, n.op == Op::And ? " and true" : " or false");
                break;
            case Op::Not:
                out += "(not ";
                node(kids[0]);
                out += ')';
                break;
            case Op::Neg:
                out += "(-";
                node(kids[0]);
                out += ')';
                break;
            case Op::Arith:
                out += '(';
                for (uint32_t i = 0; i < n.count; ++i) {
                    if (i > 0) {
                        out += ' ';
                        out += arith_text(static_cast<ArithOp>(code.kid_ops[n.first + i]));
                        out += ' ';
                    }
                    node(kids[i]);
                }
                out += ')';
                break;
            case Op::Cmp:
                out += '(';
                node(kids[0]);
                out += ' ';
                out += cmp_text(static_cast<CmpOp>(n.sub));
                out += ' ';
                node(kids[1]);
                out += ')';
                break;
            case Op::InList:
                out += '(';
                node(kids[0]);
                out += negated ? " not in " : " in ";
                list(kids + 1, n.count - 1, ", ", "[", "]");
                out += ')';
                break;
            case Op::InValue: {
                out += '(';
                node(kids[0]);
                out += negated ? " not in " : " in ";
                // A list written [a, b] or (a, b) reads back as such (its
                // elements type-checked against x); a path needs no parentheses;
                // anything else is written (v).
                const bool bare = (n.sub & kListed) != 0 || code.nodes[kids[1]].op == Op::Path;
                if (!bare) out += '(';
                node(kids[1]);
                if (!bare) out += ')';
                out += ')';
                break;
            }
            case Op::Between:
                out += '(';
                node(kids[0]);
                out += negated ? " not between " : " between ";
                node(kids[1]);
                out += " and ";
                node(kids[2]);
                out += ')';
                break;
            case Op::IsNull:
                out += '(';
                node(kids[0]);
                out += negated ? " is not null)" : " is null)";
                break;
            case Op::List: list(kids, n.count, ", ", "[", "]"); break;
            case Op::Call:
                out += function_info(static_cast<Fn>(n.sub)).name;
                list(kids, n.count, ", ", "(", ")");
                break;
        }
    }

    void list(const uint32_t* kids, uint32_t count, std::string_view separator, std::string_view open,
              std::string_view close) {
        out += open;
        for (uint32_t i = 0; i < count; ++i) {
            if (i > 0) out += separator;
            node(kids[i]);
        }
        out += close;
    }
};

}  // namespace
}  // namespace detail

// ---- Program ------------------------------------------------------------------

std::shared_ptr<const Program::Impl> Program::Impl::make(Parts&& parts) {
    detail::Code& code = parts.code;
    // The arrays after the Impl, each aligned for its type: the constants
    // (Values), the nodes, the kids, the kid ops.
    auto aligned = [](size_t at, size_t alignment) { return (at + alignment - 1) / alignment * alignment; };
    const size_t constants_at = aligned(sizeof(Impl), alignof(Value));
    const size_t nodes_at = aligned(constants_at + code.constants.size() * sizeof(Value), alignof(detail::Node));
    const size_t kids_at = aligned(nodes_at + code.nodes.size() * sizeof(detail::Node), alignof(uint32_t));
    const size_t kid_ops_at = kids_at + code.kids.size() * sizeof(uint32_t);
    static_assert(alignof(Impl) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__ && alignof(Value) <= alignof(Impl));
    static_assert(std::is_trivially_copyable_v<detail::Node>);
    auto* block = static_cast<std::byte*>(::operator new(kid_ops_at + code.kid_ops.size()));
    // The deleter owns the block from here (also when the control block
    // cannot be allocated); it destroys the constants `code` lists.
    std::shared_ptr<Impl> impl(new (block) Impl(), [](Impl* p) {
        p->~Impl();
        ::operator delete(static_cast<void*>(p));
    });
    auto* constants = reinterpret_cast<Value*>(block + constants_at);
    std::uninitialized_move(code.constants.begin(), code.constants.end(), constants);  // noexcept
    auto* nodes = reinterpret_cast<detail::Node*>(block + nodes_at);
    std::uninitialized_copy(code.nodes.begin(), code.nodes.end(), nodes);
    auto* kids = reinterpret_cast<uint32_t*>(block + kids_at);
    std::uninitialized_copy(code.kids.begin(), code.kids.end(), kids);
    auto* kid_ops = reinterpret_cast<uint8_t*>(block + kid_ops_at);
    std::uninitialized_copy(code.kid_ops.begin(), code.kid_ops.end(), kid_ops);
    impl->code = {{nodes, code.nodes.size()},
                  {kids, code.kids.size()},
                  {kid_ops, code.kid_ops.size()},
                  {constants, code.constants.size()}};
    impl->root = parts.root;
    impl->source = std::move(parts.source);
    impl->paths = std::move(parts.paths);
    impl->metric_names = std::move(parts.metric_names);
    impl->expected = parts.expected;
    impl->uses_metric = parts.uses_metric;
    impl->uses_days_since = parts.uses_days_since;
    impl->uses_has_segment = parts.uses_has_segment;
    return impl;
}

Program::Impl::~Impl() {
    std::destroy(code.constants.begin(), code.constants.end());
}

const std::string& Program::source() const noexcept { return impl_->source; }
ResultType Program::expected() const noexcept { return impl_->expected; }
Type Program::type() const noexcept { return impl_->code.nodes[impl_->root].type; }
const std::vector<std::string>& Program::paths() const noexcept { return impl_->paths; }
bool Program::uses_metric() const noexcept { return impl_->uses_metric; }
bool Program::uses_days_since() const noexcept { return impl_->uses_days_since; }
bool Program::uses_has_segment() const noexcept { return impl_->uses_has_segment; }
const std::vector<std::string>& Program::metric_names() const noexcept { return impl_->metric_names; }

std::optional<Value> Program::constant() const {
    const detail::Node& root = impl_->code.nodes[impl_->root];
    if (root.op != detail::Op::Const) return std::nullopt;
    return impl_->code.constants[root.arg];
}

Value Program::evaluate(const Bindings& bindings) const {
    detail::Evaluator evaluator(impl_->code, bindings);
    return detail::Evaluator::value(evaluator.eval(impl_->root));
}

bool Program::test(const Bindings& bindings) const {
    detail::Evaluator evaluator(impl_->code, bindings);
    return detail::truthy(evaluator.eval(impl_->root));
}

std::optional<double> Program::number(const Bindings& bindings) const {
    detail::Evaluator evaluator(impl_->code, bindings);
    detail::Term result = evaluator.eval(impl_->root);
    if (result.kind != Value::Kind::Number) return std::nullopt;
    return result.n;
}

std::string Program::to_string() const {
    detail::Printer printer{*impl_, {}};
    printer.node(impl_->root);
    return std::move(printer.out);
}

}  // namespace kaireon::expr
