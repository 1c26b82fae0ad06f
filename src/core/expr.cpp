// expr.cpp - the compiler of the expression language (src/core/expr.h):
// source checks, lexer, recursive-descent parser with static type checks,
// constant folding, and the final layout of the program.
#include "core/expr.h"

#include "core/error.h"
#include "core/expr_internal.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <initializer_list>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace kaireon::expr {
namespace {

using detail::arith_text;
using detail::ArithOp;
using detail::CmpOp;
using detail::Code;
using detail::Evaluator;
using detail::find_function;
using detail::Fn;
using detail::FnInfo;
using detail::function_info;
using detail::kListed;
using detail::Node;
using detail::Op;
using detail::Term;
using detail::truthy;

// ---- positions and errors -----------------------------------------------------

bool is_continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// code_point_offset returns the number of code points before byte `byte` of
// `source` (the lead bytes of its UTF-8 sequences, or stray bytes).
size_t code_point_offset(std::string_view source, size_t byte) {
    size_t count = 0;
    for (size_t i = 0; i < byte && i < source.size(); ++i) count += !is_continuation(source[i]);
    return count;
}

[[noreturn]] void fail(std::string_view source, const std::string& message, size_t byte, std::string_view expected = {},
                       std::optional<size_t> limit = std::nullopt) {
    const size_t position = code_point_offset(source, byte);
    Json extra = Json::object();
    extra["position"] = position;
    if (!expected.empty()) extra["expected"] = std::string(expected);
    if (limit) extra["limit"] = *limit;
    throw_bad_request(message + " at " + std::to_string(position), extra);
}

// decode returns the code point of the valid UTF-8 sequence at `i` and its
// length, or length 0 when the bytes there are not valid UTF-8 (overlong
// forms, surrogates and values past U+10FFFF included).
std::pair<uint32_t, size_t> decode(std::string_view s, size_t i) {
    const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char b0 = byte(i);
    if (b0 < 0x80) return {b0, 1};
    size_t length = 0;
    uint32_t cp = 0, min = 0;
    if ((b0 & 0xE0) == 0xC0) {
        length = 2, cp = b0 & 0x1F, min = 0x80;
    } else if ((b0 & 0xF0) == 0xE0) {
        length = 3, cp = b0 & 0x0F, min = 0x800;
    } else if ((b0 & 0xF8) == 0xF0) {
        length = 4, cp = b0 & 0x07, min = 0x10000;
    } else {
        return {0, 0};
    }
    if (i + length > s.size()) return {0, 0};
    for (size_t k = 1; k < length; ++k) {
        if ((byte(i + k) & 0xC0) != 0x80) return {0, 0};
        cp = (cp << 6) | (byte(i + k) & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return {0, 0};
    return {cp, length};
}

// invalid_utf8 returns the byte offset of the first invalid UTF-8 sequence,
// or npos.
size_t invalid_utf8(std::string_view s) {
    for (size_t i = 0; i < s.size();) {
        if (static_cast<unsigned char>(s[i]) < 0x80) {
            ++i;
            continue;
        }
        size_t length = decode(s, i).second;
        if (length == 0) return i;
        i += length;
    }
    return std::string_view::npos;
}

void append_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

std::string code_point_name(uint32_t cp) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string digits;
    for (uint32_t v = cp; v != 0 || digits.size() < 4; v >>= 4) digits.insert(digits.begin(), kHex[v & 0xF]);
    return "U+" + digits;
}

// ---- lexer ----------------------------------------------------------------------

enum class Tok : uint8_t {
    // clang-format off
    End, Error, Number, String, Ident,
    LParen, RParen, LBracket, RBracket, Comma, Dot,
    Eq, Ne, Lt, Le, Gt, Ge, Plus, Minus, Star, Slash, Percent
    // clang-format on
};

enum class Kw : uint8_t { None, And, Or, Not, In, Between, Is, Null, True, False };

struct Token {
    Tok tok = Tok::End;
    Kw kw = Kw::None;
    uint32_t begin = 0;  // bytes
    uint32_t end = 0;
    double number = 0;
    std::string text;  // String: the decoded value; Error: the message
};

Kw keyword(std::string_view word) {
    static constexpr std::pair<std::string_view, Kw> kKeywords[] = {
        {"and", Kw::And}, {"or", Kw::Or},     {"not", Kw::Not},   {"in", Kw::In},       {"between", Kw::Between},
        {"is", Kw::Is},   {"null", Kw::Null}, {"true", Kw::True}, {"false", Kw::False},
    };
    if (word.size() > 7) return Kw::None;
    char lower[8];
    for (size_t i = 0; i < word.size(); ++i) {
        char c = word[i];
        lower[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    }
    std::string_view folded(lower, word.size());
    for (const auto& [text, kw] : kKeywords) {
        if (folded == text) return kw;
    }
    return Kw::None;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_ident_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_ident_char(char c) { return is_ident_start(c) || is_digit(c); }
int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Lexer turns the (valid UTF-8) source into tokens, ending with End, or with
// an Error token at the first lexical error: the parser reports it only when
// it gets there, so errors come in source order.
class Lexer {
public:
    explicit Lexer(std::string_view source) : s_(source) {}

    std::vector<Token> run() {
        std::vector<Token> tokens;
        while (true) {
            while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
            Token token;
            token.begin = static_cast<uint32_t>(i_);
            if (i_ == s_.size()) {
                token.end = token.begin;
                tokens.push_back(std::move(token));
                return tokens;
            }
            bool ok = next(token);
            token.end = static_cast<uint32_t>(i_);
            tokens.push_back(std::move(token));
            if (!ok) return tokens;
        }
    }

private:
    bool error(Token& token, size_t at, std::string message) {
        token.tok = Tok::Error;
        token.begin = static_cast<uint32_t>(at);
        token.text = std::move(message);
        return false;
    }

    bool next(Token& token) {
        const size_t begin = i_;
        const char c = s_[i_];
        if (is_digit(c)) return lex_number(token);
        if (is_ident_start(c)) {
            while (i_ < s_.size() && is_ident_char(s_[i_])) ++i_;
            token.tok = Tok::Ident;
            token.kw = keyword(s_.substr(begin, i_ - begin));
            return true;
        }
        if (c == '\'' || c == '"') return lex_string(token);
        auto single = [&](Tok tok) {
            ++i_;
            token.tok = tok;
            return true;
        };
        auto follows = [&](char d) { return i_ + 1 < s_.size() && s_[i_ + 1] == d; };
        switch (c) {
            case '(': return single(Tok::LParen);
            case ')': return single(Tok::RParen);
            case '[': return single(Tok::LBracket);
            case ']': return single(Tok::RBracket);
            case ',': return single(Tok::Comma);
            case '.': return single(Tok::Dot);
            case '+': return single(Tok::Plus);
            case '-': return single(Tok::Minus);
            case '*': return single(Tok::Star);
            case '/': return single(Tok::Slash);
            case '%': return single(Tok::Percent);
            case '=':
                if (follows('=')) ++i_;
                return single(Tok::Eq);
            case '!':
                if (follows('=')) {
                    ++i_;
                    return single(Tok::Ne);
                }
                break;
            case '<':
                if (follows('=')) {
                    ++i_;
                    return single(Tok::Le);
                }
                if (follows('>')) {
                    ++i_;
                    return single(Tok::Ne);
                }
                return single(Tok::Lt);
            case '>':
                if (follows('=')) {
                    ++i_;
                    return single(Tok::Ge);
                }
                return single(Tok::Gt);
            default: break;
        }
        return unexpected_character(token, begin);
    }

    bool unexpected_character(Token& token, size_t at) {
        const auto [cp, length] = decode(s_, at);
        (void)length;
        if (cp > 0x20 && cp < 0x7F)
            return error(token, at, std::string("unexpected character '") + static_cast<char>(cp) + "'");
        return error(token, at, "unexpected character " + code_point_name(cp));
    }

    bool lex_number(Token& token) {
        const size_t begin = i_;
        while (i_ < s_.size() && is_digit(s_[i_])) ++i_;
        if (i_ + 1 < s_.size() && s_[i_] == '.' && is_digit(s_[i_ + 1])) {
            ++i_;
            while (i_ < s_.size() && is_digit(s_[i_])) ++i_;
        }
        if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
            size_t k = i_ + 1;
            if (k < s_.size() && (s_[k] == '+' || s_[k] == '-')) ++k;
            if (k < s_.size() && is_digit(s_[k])) {
                i_ = k;
                while (i_ < s_.size() && is_digit(s_[i_])) ++i_;
            }
        }
        if (i_ < s_.size() && is_ident_char(s_[i_])) {
            while (i_ < s_.size() && is_ident_char(s_[i_])) ++i_;
            std::string_view raw = s_.substr(begin, i_ - begin);
            if (raw.size() > 32)
                return error(token, begin, "invalid number '" + std::string(raw.substr(0, 32)) + "...'");
            return error(token, begin, "invalid number '" + std::string(raw) + "'");
        }
        double value = 0;
        auto result = std::from_chars(s_.data() + begin, s_.data() + i_, value);
        if (result.ec != std::errc() || result.ptr != s_.data() + i_ || !std::isfinite(value)) {
            return error(token, begin, "number out of range");
        }
        token.tok = Tok::Number;
        token.number = value;
        return true;
    }

    bool lex_string(Token& token) {
        const size_t open = i_;
        const char quote = s_[i_++];
        std::string value;
        while (true) {
            if (i_ >= s_.size()) return error(token, open, "unterminated string");
            const char c = s_[i_];
            if (c == quote) {
                ++i_;
                break;
            }
            if (c == '\0') return error(token, i_, "unexpected character U+0000");
            if (c != '\\') {
                value += c;
                ++i_;
                continue;
            }
            const size_t backslash = i_;
            if (i_ + 1 >= s_.size()) return error(token, open, "unterminated string");
            const char e = s_[i_ + 1];
            i_ += 2;
            switch (e) {
                case '\\': value += '\\'; break;
                case '\'': value += '\''; break;
                case '"': value += '"'; break;
                case '/': value += '/'; break;
                case 'n': value += '\n'; break;
                case 't': value += '\t'; break;
                case 'r': value += '\r'; break;
                case 'b': value += '\b'; break;
                case 'f': value += '\f'; break;
                case 'u': {
                    std::optional<uint32_t> cp = hex4();
                    if (cp && *cp >= 0xD800 && *cp <= 0xDBFF) {
                        // A high surrogate must be followed by a low one.
                        std::optional<uint32_t> low;
                        if (i_ + 1 < s_.size() && s_[i_] == '\\' && s_[i_ + 1] == 'u') {
                            i_ += 2;
                            low = hex4();
                        }
                        cp = (low && *low >= 0xDC00 && *low <= 0xDFFF)
                                 ? std::optional<uint32_t>(0x10000 + ((*cp - 0xD800) << 10) + (*low - 0xDC00))
                                 : std::nullopt;
                    } else if (cp && ((*cp >= 0xDC00 && *cp <= 0xDFFF) || *cp == 0)) {
                        cp = std::nullopt;
                    }
                    if (!cp) return error(token, backslash, "invalid \\u escape");
                    append_utf8(value, *cp);
                    break;
                }
                default:
                    if (e > 0x20 && e < 0x7F)
                        return error(token, backslash, std::string("invalid escape '\\") + e + "'");
                    return error(token, backslash, "invalid escape");
            }
        }
        token.tok = Tok::String;
        token.text = std::move(value);
        return true;
    }

    std::optional<uint32_t> hex4() {
        if (i_ + 4 > s_.size()) return std::nullopt;
        uint32_t cp = 0;
        for (int k = 0; k < 4; ++k) {
            int v = hex_value(s_[i_ + k]);
            if (v < 0) return std::nullopt;
            cp = cp * 16 + static_cast<uint32_t>(v);
        }
        i_ += 4;
        return cp;
    }

    std::string_view s_;
    size_t i_ = 0;
};

// ---- parser -----------------------------------------------------------------------

const char* article(Type type) {
    switch (type) {
        case Type::Bool: return "a boolean";
        case Type::Number: return "a number";
        case Type::String: return "a string";
        case Type::List: return "a list";
        case Type::Any: return "a value";
    }
    return "a value";
}

// NoBindings serves constant folding, which never folds what reads bindings.
class NoBindings final : public Bindings {
public:
    const Value& path(size_t) const override { return null_; }
    std::optional<double> metric(std::string_view) const override { return std::nullopt; }
    int64_t now() const override { return 0; }
    bool has_segment(std::string_view) const override { return false; }

private:
    Value null_;
};

const std::string_view kRoots[] = {"customer", "offer", "context"};

class Parser {
public:
    Parser(std::string_view source, std::vector<Token> tokens) : source_(source), tokens_(std::move(tokens)) {}

    uint32_t parse() {
        uint32_t root = parse_or();
        const Token& t = peek();
        if (t.tok != Tok::End) unexpected(t, "end of input");
        return root;
    }

    Code code;
    std::vector<std::string> paths;  // interned, indexed by Path nodes' arg

    Type type(uint32_t node) const { return code.nodes[node].type; }
    uint32_t start(uint32_t node) const { return starts_[node]; }

    [[noreturn]] void fail_at(const std::string& message, size_t byte, std::string_view expected = {},
                              std::optional<size_t> limit = std::nullopt) const {
        fail(source_, message, byte, expected, limit);
    }

private:
    // ---- tokens
    const Token& peek() const {
        const Token& t = tokens_[pos_];
        if (t.tok == Tok::Error) fail_at(t.text, t.begin);
        return t;
    }
    const Token& peek_next() const {
        if (pos_ + 1 >= tokens_.size()) return tokens_.back();
        const Token& t = tokens_[pos_ + 1];
        if (t.tok == Tok::Error) fail_at(t.text, t.begin);
        return t;
    }
    void advance() {
        if (tokens_[pos_].tok != Tok::End) ++pos_;
    }
    bool at(Kw kw) const { return peek().tok == Tok::Ident && peek().kw == kw; }
    std::string_view raw(const Token& t) const { return source_.substr(t.begin, t.end - t.begin); }

    [[noreturn]] void unexpected(const Token& t, std::string_view expected) const {
        std::string what;
        if (t.tok == Tok::End) {
            what = "end of input";
        } else if (t.tok == Tok::String) {
            what = "string";
        } else {
            std::string_view text = raw(t);
            what = "'" + std::string(text.substr(0, 32)) + (text.size() > 32 ? "...'" : "'");
        }
        fail_at("unexpected " + what, t.begin, expected);
    }
    [[noreturn]] void fail_expected(const Token& t, const std::string& what) const {
        fail_at("expected " + what, t.begin, what);
    }

    void enter(uint32_t byte) {
        if (++depth_ > kMaxDepth) fail_at("nesting deeper than " + std::to_string(kMaxDepth), byte, {}, kMaxDepth);
    }
    void leave() { --depth_; }

    // ---- nodes
    uint32_t add(Op op, uint8_t sub, Type type, std::span<const uint32_t> kids, uint32_t start, uint32_t pos,
                 std::span<const uint8_t> ops = {}, uint32_t arg = 0) {
        Node node{op, sub, type, arg, static_cast<uint32_t>(code.kids.size()), static_cast<uint32_t>(kids.size())};
        code.kids.insert(code.kids.end(), kids.begin(), kids.end());
        if (ops.empty()) {
            code.kid_ops.insert(code.kid_ops.end(), kids.size(), 0);
        } else {
            code.kid_ops.insert(code.kid_ops.end(), ops.begin(), ops.end());
        }
        code.nodes.push_back(node);
        starts_.push_back(start);
        positions_.push_back(pos);
        return static_cast<uint32_t>(code.nodes.size() - 1);
    }
    uint32_t constant(Value value, Type type, uint32_t start, uint32_t pos) {
        code.constants.push_back(std::move(value));
        return add(Op::Const, 0, type, {}, start, pos, {}, static_cast<uint32_t>(code.constants.size() - 1));
    }
    bool is_const(uint32_t node) const { return code.nodes[node].op == Op::Const; }
    const Value& const_value(uint32_t node) const { return code.constants[code.nodes[node].arg]; }
    std::vector<uint32_t> kids_of(uint32_t node) const {
        const Node& n = code.nodes[node];
        return std::vector<uint32_t>(code.kids.begin() + n.first, code.kids.begin() + n.first + n.count);
    }

    // ---- static types
    void require(uint32_t node, std::initializer_list<Type> allowed, std::string_view who,
                 std::string_view what) const {
        const Type t = type(node);
        if (t == Type::Any) return;
        for (Type a : allowed) {
            if (t == a) return;
        }
        fail_at(std::string(who) + " expects " + std::string(what), start(node), what);
    }
    // comparable refuses comparing two statically known different types;
    // `later` is the operand the error points at.
    void comparable(Type known, uint32_t later) const {
        const Type t = type(later);
        if (known == Type::Any || t == Type::Any || known == t) return;
        fail_at(std::string("cannot compare ") + article(known) + " with " + article(t), start(later), article(known));
    }

    // ---- constant folding
    uint32_t fold(uint32_t index) {
        const Node n = code.nodes[index];
        const std::vector<uint32_t> kids = kids_of(index);
        const uint32_t at = start(index), pos = positions_[index];
        switch (n.op) {
            case Op::Const:
            case Op::Path: return index;
            case Op::And:
            case Op::Or: {
                const bool is_and = n.op == Op::And;
                std::vector<uint32_t> keep;
                for (uint32_t k : kids) {
                    if (!is_const(k)) {
                        keep.push_back(k);
                    } else if (truthy(Term::of(const_value(k))) != is_and) {
                        return constant(Value(!is_and), n.type, at, pos);  // false and ..., true or ...
                    }
                }
                if (keep.empty()) return constant(Value(is_and), n.type, at, pos);
                if (keep.size() == 1 && type(keep[0]) == Type::Bool) return keep[0];
                if (keep.size() == kids.size()) return index;
                return add(n.op, 0, n.type, keep, at, pos);
            }
            case Op::Arith: {
                // A constant that is not a number makes the whole chain null.
                for (uint32_t k : kids) {
                    if (is_const(k) && !const_value(k).is_number()) return constant(Value(), n.type, at, pos);
                }
                uint32_t prefix = 0;
                while (prefix < kids.size() && is_const(kids[prefix])) ++prefix;
                if (prefix < 2 || prefix == kids.size()) break;  // nothing to fold, or all of it
                // A copy: add() below may move code.kid_ops.
                const std::vector<uint8_t> ops(code.kid_ops.begin() + n.first,
                                               code.kid_ops.begin() + n.first + n.count);
                std::vector<uint8_t> head_ops(ops.begin(), ops.begin() + prefix);
                const uint32_t head = fold(
                    add(Op::Arith, 0, Type::Number, std::span<const uint32_t>(kids.data(), prefix), at, pos, head_ops));
                if (const_value(head).is_null()) return constant(Value(), n.type, at, pos);  // null + x is null
                std::vector<uint32_t> rest{head};
                std::vector<uint8_t> rest_ops{0};
                for (size_t i = prefix; i < kids.size(); ++i) {
                    rest.push_back(kids[i]);
                    rest_ops.push_back(ops[i]);
                }
                return add(Op::Arith, 0, n.type, rest, at, pos, rest_ops);
            }
            case Op::Call: {
                const Fn fn = static_cast<Fn>(n.sub);
                if (!function_info(fn).pure) return index;
                if (fn != Fn::Coalesce) break;
                std::vector<uint32_t> keep;
                for (uint32_t k : kids) {
                    if (is_const(k) && const_value(k).is_null()) continue;
                    keep.push_back(k);
                    if (is_const(k)) break;  // a constant that is not null ends the search
                }
                if (keep.empty()) return constant(Value(), n.type, at, pos);
                if (keep.size() == 1) {
                    if (type(keep[0]) == n.type) return keep[0];
                    if (is_const(keep[0])) return constant(const_value(keep[0]), n.type, at, pos);
                    return index;  // coalesce(x) cannot be written; keep the call as it is
                }
                if (keep.size() == kids.size()) return index;
                return add(Op::Call, n.sub, n.type, keep, at, pos);
            }
            default: break;
        }
        for (uint32_t k : kids) {
            if (!is_const(k)) return index;
        }
        static const NoBindings kNoBindings;
        Evaluator evaluator(code.view(), kNoBindings);
        Value value = Evaluator::value(evaluator.eval(index));
        return constant(std::move(value), n.type, at, pos);
    }

    // ---- grammar
    uint32_t parse_or() { return parse_chain(Kw::Or); }
    uint32_t parse_and() { return parse_chain(Kw::And); }

    // parse_chain parses `a or b or ...` (or `and`) into one n-ary node.
    uint32_t parse_chain(Kw kw) {
        auto operand = [&] { return kw == Kw::Or ? parse_and() : parse_not(); };
        const uint32_t first = operand();
        if (!at(kw)) return first;
        const char* word = kw == Kw::Or ? "or" : "and";
        const uint32_t pos = peek().begin;
        std::vector<uint32_t> kids{first};
        require(first, {Type::Bool}, word, "a boolean");
        while (at(kw)) {
            advance();
            kids.push_back(operand());
            require(kids.back(), {Type::Bool}, word, "a boolean");
        }
        return fold(add(kw == Kw::Or ? Op::Or : Op::And, 0, Type::Bool, kids, start(first), pos));
    }

    uint32_t parse_not() {
        if (!at(Kw::Not)) return parse_comparison();
        const uint32_t pos = peek().begin;
        advance();
        enter(pos);
        const uint32_t operand = parse_not();
        leave();
        require(operand, {Type::Bool}, "not", "a boolean");
        const uint32_t kids[] = {operand};
        return fold(add(Op::Not, 0, Type::Bool, kids, pos, pos));
    }

    uint32_t parse_comparison() {
        const uint32_t left = parse_additive();
        const Token& t = peek();
        CmpOp op = CmpOp::Eq;
        switch (t.tok) {
            case Tok::Eq: op = CmpOp::Eq; break;
            case Tok::Ne: op = CmpOp::Ne; break;
            case Tok::Lt: op = CmpOp::Lt; break;
            case Tok::Le: op = CmpOp::Le; break;
            case Tok::Gt: op = CmpOp::Gt; break;
            case Tok::Ge: op = CmpOp::Ge; break;
            case Tok::Ident: return parse_keyword_comparison(left);
            default: return left;
        }
        const uint32_t pos = t.begin;
        const std::string text(raw(t));
        advance();
        const uint32_t right = parse_additive();
        if (op != CmpOp::Eq && op != CmpOp::Ne) {
            require(left, {Type::Number, Type::String}, text, "a number or a string");
            require(right, {Type::Number, Type::String}, text, "a number or a string");
        }
        comparable(type(left), right);
        const uint32_t kids[] = {left, right};
        return fold(add(Op::Cmp, static_cast<uint8_t>(op), Type::Bool, kids, start(left), pos));
    }

    // parse_keyword_comparison parses what follows `left` when it is one of
    // [not] in, [not] between, is [not] null.
    uint32_t parse_keyword_comparison(uint32_t left) {
        const Token& t = peek();
        const uint32_t pos = t.begin;
        bool negated = false;
        Kw kw = t.kw;
        if (kw == Kw::Not) {
            const Token& next = peek_next();
            if (next.tok != Tok::Ident || (next.kw != Kw::In && next.kw != Kw::Between)) {
                fail_expected(next, "'in' or 'between'");
            }
            advance();
            negated = true;
            kw = next.kw;
        }
        switch (kw) {
            case Kw::In: advance(); return parse_in(left, negated, pos);
            case Kw::Between: advance(); return parse_between(left, negated, pos);
            case Kw::Is: {
                advance();
                if (at(Kw::Not)) {
                    advance();
                    negated = true;
                }
                if (!at(Kw::Null)) fail_expected(peek(), "'null'");
                advance();
                const uint32_t kids[] = {left};
                return fold(add(Op::IsNull, negated, Type::Bool, kids, start(left), pos));
            }
            default: return left;
        }
    }

    uint32_t parse_in(uint32_t x, bool negated, uint32_t pos) {
        const Token& t = peek();
        std::vector<uint32_t> elements;
        if (t.tok == Tok::LParen || t.tok == Tok::LBracket) {
            const bool paren = t.tok == Tok::LParen;
            const uint32_t open = t.begin;
            advance();
            enter(open);
            elements = parse_elements(paren ? Tok::RParen : Tok::RBracket, paren ? "')'" : "']'", !paren, true);
            leave();
            if (paren && elements.size() == 1) {
                // (v): a list to look in, or a single value to compare with.
                if (type(elements[0]) != Type::List) comparable(type(x), elements[0]);
                const uint32_t kids[] = {x, elements[0]};
                return fold(add(Op::InValue, negated, Type::Bool, kids, start(x), pos));
            }
            for (uint32_t e : elements) comparable(type(x), e);
            if (!std::all_of(elements.begin(), elements.end(), [&](uint32_t e) { return is_const(e); })) {
                std::vector<uint32_t> kids{x};
                kids.insert(kids.end(), elements.begin(), elements.end());
                return fold(add(Op::InList, negated, Type::Bool, kids, start(x), pos));
            }
            std::vector<Value> items;
            items.reserve(elements.size());
            for (uint32_t e : elements) items.push_back(const_value(e));
            const uint32_t list = constant(Value::list(std::move(items)), Type::List, open, open);
            const uint32_t kids[] = {x, list};
            return fold(add(Op::InValue, static_cast<uint8_t>(negated | kListed), Type::Bool, kids, start(x), pos));
        }
        const uint32_t list = parse_additive();
        require(list, {Type::List}, negated ? "not in" : "in", "a list");
        const uint32_t kids[] = {x, list};
        return fold(add(Op::InValue, negated, Type::Bool, kids, start(x), pos));
    }

    uint32_t parse_between(uint32_t x, bool negated, uint32_t pos) {
        const uint32_t low = parse_additive();
        if (!at(Kw::And)) fail_expected(peek(), "'and'");
        advance();
        const uint32_t high = parse_additive();
        const char* word = negated ? "not between" : "between";
        Type known = Type::Any;
        for (uint32_t operand : {x, low, high}) {
            require(operand, {Type::Number, Type::String}, word, "a number or a string");
            comparable(known, operand);
            if (known == Type::Any) known = type(operand);
        }
        const uint32_t kids[] = {x, low, high};
        return fold(add(Op::Between, negated, Type::Bool, kids, start(x), pos));
    }

    // parse_chain of + - or * / %: one n-ary node per chain, left to right.
    uint32_t parse_additive() { return parse_arith(false); }
    uint32_t parse_multiplicative() { return parse_arith(true); }

    uint32_t parse_arith(bool multiplicative) {
        auto operand = [&] { return multiplicative ? parse_unary() : parse_multiplicative(); };
        auto op_of = [&](const Token& t) -> std::optional<ArithOp> {
            if (multiplicative) {
                if (t.tok == Tok::Star) return ArithOp::Mul;
                if (t.tok == Tok::Slash) return ArithOp::Div;
                if (t.tok == Tok::Percent) return ArithOp::Mod;
            } else {
                if (t.tok == Tok::Plus) return ArithOp::Add;
                if (t.tok == Tok::Minus) return ArithOp::Sub;
            }
            return std::nullopt;
        };
        const uint32_t first = operand();
        std::optional<ArithOp> op = op_of(peek());
        if (!op) return first;
        const uint32_t pos = peek().begin;
        require(first, {Type::Number}, arith_text(*op), "a number");
        std::vector<uint32_t> kids{first};
        std::vector<uint8_t> ops{0};
        while (op) {
            advance();
            kids.push_back(operand());
            ops.push_back(static_cast<uint8_t>(*op));
            require(kids.back(), {Type::Number}, arith_text(*op), "a number");
            op = op_of(peek());
        }
        return fold(add(Op::Arith, 0, Type::Number, kids, start(first), pos, ops));
    }

    uint32_t parse_unary() {
        const Token& t = peek();
        if (t.tok != Tok::Minus) return parse_primary();
        const uint32_t pos = t.begin;
        advance();
        enter(pos);
        const uint32_t operand = parse_unary();
        leave();
        require(operand, {Type::Number}, "-", "a number");
        const uint32_t kids[] = {operand};
        return fold(add(Op::Neg, 0, Type::Number, kids, pos, pos));
    }

    uint32_t parse_primary() {
        const Token& t = peek();
        const uint32_t pos = t.begin;
        switch (t.tok) {
            case Tok::Number: {
                const double value = t.number;
                advance();
                return constant(Value(value), Type::Number, pos, pos);
            }
            case Tok::String: {
                Value value(t.text);
                advance();
                return constant(std::move(value), Type::String, pos, pos);
            }
            case Tok::LParen: {
                advance();
                enter(pos);
                const uint32_t inner = parse_or();
                if (peek().tok != Tok::RParen) fail_expected(peek(), "')'");
                advance();
                leave();
                starts_[inner] = pos;
                return inner;
            }
            case Tok::LBracket: {
                advance();
                enter(pos);
                std::vector<uint32_t> items = parse_elements(Tok::RBracket, "']'", true, true);
                leave();
                return fold(add(Op::List, 0, Type::List, items, pos, pos));
            }
            case Tok::Ident:
                switch (t.kw) {
                    case Kw::True:
                    case Kw::False: {
                        const bool value = t.kw == Kw::True;
                        advance();
                        return constant(Value(value), Type::Bool, pos, pos);
                    }
                    case Kw::Null: advance(); return constant(Value(), Type::Any, pos, pos);
                    case Kw::None: return parse_name();
                    default: break;
                }
                break;
            default: break;
        }
        unexpected(t, "an expression");
    }

    // parse_elements parses `e, e, ...` up to `close` (the opening token is
    // consumed); `list` applies the list length limit.
    std::vector<uint32_t> parse_elements(Tok close, const std::string& close_text, bool allow_empty, bool list) {
        std::vector<uint32_t> items;
        if (allow_empty && peek().tok == close) {
            advance();
            return items;
        }
        while (true) {
            if (list && items.size() == kMaxListElements) {
                fail_at("list has more than " + std::to_string(kMaxListElements) + " elements", peek().begin, {},
                        kMaxListElements);
            }
            items.push_back(parse_or());
            const Token& t = peek();
            if (t.tok == Tok::Comma) {
                advance();
            } else if (t.tok == close) {
                advance();
                return items;
            } else {
                fail_expected(t, "',' or " + close_text);
            }
        }
    }

    // parse_name parses a function call or a path.
    uint32_t parse_name() {
        const Token& t = peek();
        const uint32_t pos = t.begin;
        const std::string name(raw(t));
        if (peek_next().tok == Tok::LParen) {
            const FnInfo* fn = find_function(name);
            if (!fn) fail_at("unknown function \"" + name + "\"", pos);
            advance();
            const uint32_t open = peek().begin;
            advance();
            enter(open);
            std::vector<uint32_t> args = parse_elements(Tok::RParen, "')'", true, false);
            leave();
            return call(*fn, args, pos);
        }
        if (std::find(std::begin(kRoots), std::end(kRoots), name) == std::end(kRoots)) {
            fail_at("unknown path root \"" + name + "\"", pos);
        }
        advance();
        std::string path = name;
        if (peek().tok != Tok::Dot) fail_expected(peek(), "'.'");
        while (peek().tok == Tok::Dot) {
            advance();
            const Token& field = peek();
            if (field.tok != Tok::Ident) fail_expected(field, "a name");
            path += '.';
            path += raw(field);
            advance();
        }
        auto [it, inserted] = path_ids_.emplace(path, static_cast<uint32_t>(paths.size()));
        if (inserted) paths.push_back(path);
        return add(Op::Path, 0, Type::Any, {}, pos, pos, {}, it->second);
    }

    uint32_t call(const FnInfo& fn, const std::vector<uint32_t>& args, uint32_t pos) {
        const std::string name(fn.name);
        if (args.size() < fn.min_args || args.size() > fn.max_args) {
            std::string count = std::to_string(fn.min_args) + (fn.min_args == 1 ? " argument" : " arguments");
            if (fn.max_args != fn.min_args) count = "at least " + count;
            fail_at(name + " expects " + count, pos, count);
        }
        Type result = Type::Any;
        switch (fn.fn) {
            case Fn::HasSegment:
                require(args[0], {Type::String}, name, "a string");
                result = Type::Bool;
                break;
            case Fn::Metric:
                require(args[0], {Type::String}, name, "a string");
                result = Type::Number;
                break;
            case Fn::DaysSince:
                require(args[0], {Type::String, Type::Number}, name, "a string or a number");
                if (is_const(args[0]) && const_value(args[0]).is_string() &&
                    !parse_timestamp(const_value(args[0]).as_string())) {
                    fail_at(name + " expects an ISO-8601 timestamp", start(args[0]), "an ISO-8601 timestamp");
                }
                result = Type::Number;
                break;
            case Fn::Lower:
            case Fn::Upper:
                require(args[0], {Type::String}, name, "a string");
                result = Type::String;
                break;
            case Fn::Coalesce:
                result = type(args[0]);
                for (uint32_t a : args) {
                    if (type(a) != result) result = Type::Any;
                }
                break;
            case Fn::Length:
                require(args[0], {Type::String, Type::List}, name, "a string or a list");
                result = Type::Number;
                break;
            case Fn::Contains:
                require(args[0], {Type::List, Type::String}, name, "a list or a string");
                if (type(args[0]) == Type::String) require(args[1], {Type::String}, name, "a string");
                result = Type::Bool;
                break;
            case Fn::Abs:
            case Fn::Min:
            case Fn::Max:
                for (uint32_t a : args) require(a, {Type::Number}, name, "a number");
                result = Type::Number;
                break;
        }
        return fold(add(Op::Call, static_cast<uint8_t>(fn.fn), result, args, pos, pos));
    }

    std::string_view source_;
    std::vector<Token> tokens_;
    size_t pos_ = 0;
    int depth_ = 0;
    std::vector<uint32_t> starts_;     // per node: byte offset where its text starts
    std::vector<uint32_t> positions_;  // per node: byte offset of its operator or name
    std::map<std::string, uint32_t> path_ids_;
};

// ---- layout -------------------------------------------------------------------------

// Layout copies the nodes reachable from the root into the program, in
// post-order (operands first), numbering path slots by first appearance.
struct Layout {
    const Code& in;
    const std::vector<std::string>& interned;
    Program::Parts& out;
    std::vector<int64_t> slots;

    uint32_t emit(uint32_t index) {
        const Node& n = in.nodes[index];
        std::vector<uint32_t> kids;
        kids.reserve(n.count);
        for (uint32_t i = 0; i < n.count; ++i) kids.push_back(emit(in.kids[n.first + i]));
        Node node = n;
        node.first = static_cast<uint32_t>(out.code.kids.size());
        out.code.kids.insert(out.code.kids.end(), kids.begin(), kids.end());
        out.code.kid_ops.insert(out.code.kid_ops.end(), in.kid_ops.begin() + n.first,
                                in.kid_ops.begin() + n.first + n.count);
        switch (n.op) {
            case Op::Const:
                node.arg = static_cast<uint32_t>(out.code.constants.size());
                out.code.constants.push_back(in.constants[n.arg]);
                break;
            case Op::Path:
                if (slots[n.arg] < 0) {
                    slots[n.arg] = static_cast<int64_t>(out.paths.size());
                    out.paths.push_back(interned[n.arg]);
                }
                node.arg = static_cast<uint32_t>(slots[n.arg]);
                break;
            case Op::Call:
                switch (static_cast<Fn>(n.sub)) {
                    case Fn::HasSegment: out.uses_has_segment = true; break;
                    case Fn::DaysSince: out.uses_days_since = true; break;
                    case Fn::Metric: {
                        out.uses_metric = true;
                        const Node& arg = out.code.nodes[kids[0]];
                        if (arg.op == Op::Const && out.code.constants[arg.arg].is_string()) {
                            std::string name(out.code.constants[arg.arg].as_string());
                            if (std::find(out.metric_names.begin(), out.metric_names.end(), name) ==
                                out.metric_names.end()) {
                                out.metric_names.push_back(std::move(name));
                            }
                        }
                        break;
                    }
                    default: break;
                }
                break;
            default: break;
        }
        out.code.nodes.push_back(node);
        return static_cast<uint32_t>(out.code.nodes.size() - 1);
    }
};

}  // namespace

Program compile(std::string_view source, ResultType expected) {
    if (source.size() > kMaxSourceBytes) {
        // The position is that of the first character that does not fit.
        size_t first_out = kMaxSourceBytes;
        while (first_out > 0 && is_continuation(source[first_out])) --first_out;
        fail(source, "expression is longer than " + std::to_string(kMaxSourceBytes) + " bytes", first_out, {},
             kMaxSourceBytes);
    }
    if (size_t bad = invalid_utf8(source); bad != std::string_view::npos) fail(source, "invalid UTF-8", bad);

    Parser parser(source, Lexer(source).run());
    const uint32_t root = parser.parse();
    const Type type = parser.type(root);
    if (expected == ResultType::Bool && type != Type::Bool && type != Type::Any) {
        parser.fail_at("expected a boolean expression", parser.start(root), "a boolean expression");
    }
    if (expected == ResultType::Number && type != Type::Number && type != Type::Any) {
        parser.fail_at("expected a numeric expression", parser.start(root), "a numeric expression");
    }

    Program::Parts parts;
    parts.source = std::string(source);
    parts.expected = expected;
    Layout layout{parser.code, parser.paths, parts, std::vector<int64_t>(parser.paths.size(), -1)};
    parts.root = layout.emit(root);
    return Program(Program::Impl::make(std::move(parts)));
}

}  // namespace kaireon::expr
