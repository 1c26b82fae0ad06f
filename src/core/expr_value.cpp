// expr_value.cpp - Value, timestamps and MapBindings of the expression
// language (src/core/expr.h).
#include "core/expr.h"

#include <charconv>
#include <cmath>
#include <memory>
#include <ostream>
#include <utility>

namespace kaireon::expr {

// ---- Value ------------------------------------------------------------------

Value::Value(std::string_view text) : kind_(Kind::String) {
    auto shared = std::make_unique<Shared>();
    shared->text.assign(text);
    shared_ = shared.release();
}

Value::Value(std::string&& text) : kind_(Kind::String) {
    auto shared = std::make_unique<Shared>();
    shared->text = std::move(text);
    shared_ = shared.release();
}

Value Value::list(std::vector<Value> items) {
    auto shared = std::make_unique<Shared>();
    shared->items = std::move(items);
    Value value;
    value.kind_ = Kind::List;
    value.shared_ = shared.release();
    return value;
}

Value::Value(const Value& other) noexcept : kind_(other.kind_) {
    switch (kind_) {
        case Kind::Null: number_ = 0; break;
        case Kind::Bool: bool_ = other.bool_; break;
        case Kind::Number: number_ = other.number_; break;
        case Kind::String:
        case Kind::List:
            shared_ = other.shared_;
            shared_->refs.fetch_add(1, std::memory_order_relaxed);
            break;
    }
}

Value::Value(Value&& other) noexcept : kind_(other.kind_) {
    switch (kind_) {
        case Kind::Null: number_ = 0; break;
        case Kind::Bool: bool_ = other.bool_; break;
        case Kind::Number: number_ = other.number_; break;
        case Kind::String:
        case Kind::List:
            shared_ = other.shared_;
            other.kind_ = Kind::Null;
            other.number_ = 0;
            break;
    }
}

Value& Value::operator=(const Value& other) noexcept {
    if (this != &other) {
        Value copy(other);
        *this = std::move(copy);
    }
    return *this;
}

Value& Value::operator=(Value&& other) noexcept {
    if (this != &other) {
        release();
        kind_ = other.kind_;
        switch (kind_) {
            case Kind::Null: number_ = 0; break;
            case Kind::Bool: bool_ = other.bool_; break;
            case Kind::Number: number_ = other.number_; break;
            case Kind::String:
            case Kind::List:
                shared_ = other.shared_;
                other.kind_ = Kind::Null;
                other.number_ = 0;
                break;
        }
    }
    return *this;
}

Value::~Value() { release(); }

void Value::release() noexcept {
    if (kind_ == Kind::String || kind_ == Kind::List) {
        if (shared_->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete shared_;
        kind_ = Kind::Null;
        number_ = 0;
    }
}

bool operator==(const Value& a, const Value& b) noexcept {
    if (a.kind_ != b.kind_) return false;
    switch (a.kind_) {
        case Value::Kind::Null: return true;
        case Value::Kind::Bool: return a.bool_ == b.bool_;
        case Value::Kind::Number: return a.number_ == b.number_;
        case Value::Kind::String: return a.shared_ == b.shared_ || a.shared_->text == b.shared_->text;
        case Value::Kind::List: {
            if (a.shared_ == b.shared_) return true;
            const auto& x = a.shared_->items;
            const auto& y = b.shared_->items;
            if (x.size() != y.size()) return false;
            for (size_t i = 0; i < x.size(); ++i) {
                if (!(x[i] == y[i])) return false;
            }
            return true;
        }
    }
    return false;
}

namespace {

void append_number(std::string& out, double value) {
    char buffer[64];
    auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
    out.append(buffer, result.ptr);
}

void append_quoted(std::string& out, std::string_view text) {
    static constexpr char kHex[] = "0123456789abcdef";
    out += '\'';
    for (char c : text) {
        switch (c) {
            case '\'': out += "\\'"; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\t': out += "\\t"; break;
            case '\r': out += "\\r"; break;
            case '\b': out += "\\b"; break;
            case '\f': out += "\\f"; break;
            default:
                if (static_cast<unsigned char>(c) < 0x20) {
                    out += "\\u00";
                    out += kHex[(static_cast<unsigned char>(c) >> 4) & 0xf];
                    out += kHex[static_cast<unsigned char>(c) & 0xf];
                } else {
                    out += c;
                }
        }
    }
    out += '\'';
}

void append_literal(std::string& out, const Value& value) {
    switch (value.kind()) {
        case Value::Kind::Null: out += "null"; break;
        case Value::Kind::Bool: out += value.as_bool() ? "true" : "false"; break;
        case Value::Kind::Number: append_number(out, value.as_number()); break;
        case Value::Kind::String: append_quoted(out, value.as_string()); break;
        case Value::Kind::List: {
            out += '[';
            bool first = true;
            for (const Value& item : value.as_list()) {
                if (!first) out += ", ";
                first = false;
                append_literal(out, item);
            }
            out += ']';
            break;
        }
    }
}

}  // namespace

std::string Value::to_string() const {
    std::string out;
    append_literal(out, *this);
    return out;
}

Json Value::to_json() const {
    switch (kind_) {
        case Kind::Null: return Json(nullptr);
        case Kind::Bool: return Json(bool_);
        case Kind::Number: return json_number(number_);
        case Kind::String: return Json(std::string(shared_->text));
        case Kind::List: {
            Json array = Json::array();
            for (const Value& item : shared_->items) array.push_back(item.to_json());
            return array;
        }
    }
    return Json(nullptr);
}

Value Value::from_json(const Json& value) {
    switch (value.type()) {
        case Json::value_t::boolean: return Value(value.get<bool>());
        case Json::value_t::number_integer:
        case Json::value_t::number_unsigned:
        case Json::value_t::number_float: return Value(value.get<double>());
        case Json::value_t::string: return Value(value.get_ref<const std::string&>());
        case Json::value_t::array: {
            std::vector<Value> items;
            items.reserve(value.size());
            for (const auto& item : value) items.push_back(from_json(item));
            return list(std::move(items));
        }
        default: return Value();
    }
}

void PrintTo(const Value& value, std::ostream* out) { *out << value.to_string(); }

std::string_view name(Type type) {
    switch (type) {
        case Type::Bool: return "boolean";
        case Type::Number: return "number";
        case Type::String: return "string";
        case Type::List: return "list";
        case Type::Any: return "any";
    }
    return "any";
}

// ---- timestamps -------------------------------------------------------------

namespace {

// days_from_civil returns the days since 1970-01-01 of a proleptic Gregorian
// date (Howard Hinnant's algorithm).
int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const int64_t yoe = y - era * 400;
    const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int days_in_month(int y, int m) {
    static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))) return 29;
    return kDays[m - 1];
}

}  // namespace

std::optional<double> parse_timestamp(std::string_view text) {
    size_t i = 0;
    auto digits = [&](int count, int& out) {
        out = 0;
        for (int k = 0; k < count; ++k) {
            if (i >= text.size() || text[i] < '0' || text[i] > '9') return false;
            out = out * 10 + (text[i++] - '0');
        }
        return true;
    };
    auto eat = [&](char c) {
        if (i < text.size() && text[i] == c) {
            ++i;
            return true;
        }
        return false;
    };
    int year = 0, month = 0, day = 0;
    if (!digits(4, year) || !eat('-') || !digits(2, month) || !eat('-') || !digits(2, day)) return std::nullopt;
    if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month)) return std::nullopt;
    double seconds = static_cast<double>(days_from_civil(year, month, day)) * 86400.0;
    if (i == text.size()) return seconds;

    if (text[i] != 'T' && text[i] != 't' && text[i] != ' ') return std::nullopt;
    ++i;
    int hour = 0, minute = 0, second = 0;
    if (!digits(2, hour) || !eat(':') || !digits(2, minute)) return std::nullopt;
    if (eat(':') && !digits(2, second)) return std::nullopt;
    if (hour > 23 || minute > 59 || second > 60) return std::nullopt;
    seconds += hour * 3600.0 + minute * 60.0 + second;
    if (eat('.')) {
        double scale = 0.1;
        size_t begin = i;
        while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
            seconds += (text[i] - '0') * scale;
            scale /= 10;
            ++i;
        }
        if (i == begin) return std::nullopt;
    }
    if (i == text.size()) return seconds;
    if (text[i] == 'Z' || text[i] == 'z') {
        ++i;
    } else if (text[i] == '+' || text[i] == '-') {
        const int sign = text[i] == '+' ? 1 : -1;
        ++i;
        int offset_hours = 0, offset_minutes = 0;
        if (!digits(2, offset_hours)) return std::nullopt;
        if (i < text.size()) {
            eat(':');
            if (!digits(2, offset_minutes)) return std::nullopt;
        }
        if (offset_hours > 23 || offset_minutes > 59) return std::nullopt;
        seconds -= sign * (offset_hours * 3600.0 + offset_minutes * 60.0);
    } else {
        return std::nullopt;
    }
    if (i != text.size()) return std::nullopt;
    return seconds;
}

// ---- MapBindings --------------------------------------------------------------

MapBindings& MapBindings::bind(const Program& program) {
    slots_.clear();
    slots_.reserve(program.paths().size());
    for (const std::string& path : program.paths()) {
        auto found = values.find(path);
        slots_.push_back(found == values.end() ? Value() : found->second);
    }
    return *this;
}

const Value& MapBindings::path(size_t slot) const {
    static const Value kNull;
    return slot < slots_.size() ? slots_[slot] : kNull;
}

std::optional<double> MapBindings::metric(std::string_view name) const {
    auto found = metrics.find(name);
    if (found == metrics.end()) return std::nullopt;
    return found->second;
}

bool MapBindings::has_segment(std::string_view segment) const {
    for (const std::string& s : segments) {
        if (s == segment) return true;
    }
    return false;
}

}  // namespace kaireon::expr
