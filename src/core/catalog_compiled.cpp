#include "core/catalog_compiled.h"

#include "core/catalog.h"

#include <algorithm>
#include <cmath>

namespace kaireon::catalog {
namespace {

std::optional<expr::Program> compile_optional(const Json& row, const char* field, expr::ResultType type) {
    auto it = row.find(field);
    if (it == row.end() || !it->is_string()) return std::nullopt;
    return expr::compile(it->get_ref<const std::string&>(), type);
}

std::optional<double> timestamp(const Json& row, const char* field) {
    auto it = row.find(field);
    if (it == row.end() || !it->is_string()) return std::nullopt;
    return expr::parse_timestamp(it->get_ref<const std::string&>());
}

// walk follows dotted `keys` into a JSON value; a missing key is null.
expr::Value walk(const Json* value, std::string_view keys) {
    while (!keys.empty()) {
        if (value == nullptr || !value->is_object()) return nullptr;
        size_t dot = keys.find('.');
        std::string_view key = keys.substr(0, dot);
        auto it = value->find(std::string(key));
        if (it == value->end()) return nullptr;
        value = &*it;
        keys = dot == std::string_view::npos ? std::string_view{} : keys.substr(dot + 1);
    }
    return value == nullptr ? expr::Value() : expr::Value::from_json(*value);
}

constexpr std::string_view kOfferFields[] = {"id",    "name",    "categoryId", "priority", "value",
                                             "lever", "startAt", "endAt",      "status",   "mandatory"};

// Bindings of one evaluation: every path of the program resolved up front.
class ResolvedBindings final : public expr::Bindings {
public:
    ResolvedBindings(const expr::Program& program, const Customer& customer, const Json* offer, const Json& context,
                     double now)
        : customer_(customer), now_(static_cast<int64_t>(std::floor(now))) {
        for (const auto& path : program.paths()) values_.push_back(resolve(path, customer, offer, context));
    }
    const expr::Value& path(size_t slot) const override { return values_[slot]; }
    std::optional<double> metric(std::string_view) const override { return std::nullopt; }
    int64_t now() const override { return now_; }
    bool has_segment(std::string_view segment) const override {
        return std::find(customer_.segments.begin(), customer_.segments.end(), segment) != customer_.segments.end();
    }

private:
    const Customer& customer_;
    int64_t now_;
    std::vector<expr::Value> values_;
};

}  // namespace

CompiledCatalog compile_catalog(const RowsByKey& rows) {
    CompiledCatalog out;
    if (auto it = rows.find("offers"); it != rows.end()) {
        for (const Json& row : it->second) {
            out.offers.push_back({row["id"].get<std::string>(), row,
                                  compile_optional(row, "eligibility", expr::ResultType::Bool),
                                  timestamp(row, "startAt"), timestamp(row, "endAt")});
        }
        std::sort(out.offers.begin(), out.offers.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
    }
    if (auto it = rows.find("flows"); it != rows.end()) {
        for (const Json& row : it->second) {
            std::string id = row["id"].get<std::string>();
            out.flows.emplace(id, CompiledFlow{id, row, compile_optional(row, "eligibility", expr::ResultType::Bool)});
        }
    }
    return out;
}

expr::Value resolve(std::string_view path, const Customer& customer, const Json* offer, const Json& context) {
    size_t dot = path.find('.');
    if (dot == std::string_view::npos) return nullptr;
    std::string_view root = path.substr(0, dot);
    std::string_view rest = path.substr(dot + 1);
    if (root == "customer") {
        if (rest == "id") return expr::Value(customer.id);
        if (rest == "segments") {
            std::vector<expr::Value> items(customer.segments.begin(), customer.segments.end());
            return expr::Value::list(std::move(items));
        }
        return walk(&customer.attributes, rest);
    }
    if (root == "offer") {
        if (offer == nullptr) return nullptr;
        std::string_view first = rest.substr(0, rest.find('.'));
        if (std::find(std::begin(kOfferFields), std::end(kOfferFields), first) != std::end(kOfferFields))
            return walk(offer, rest);
        auto attributes = offer->find("attributes");
        return attributes == offer->end() ? expr::Value() : walk(&*attributes, rest);
    }
    if (root == "context") return walk(&context, rest);
    return nullptr;
}

Eligibility check_offer(const CompiledOffer& offer, const CompiledFlow* flow, const Customer& customer,
                        const Json& context, double now) {
    const std::string status = offer.row.value("status", "active");
    if (status != "active") return {false, "status is " + status};
    if (offer.start_at && now < *offer.start_at) return {false, "starts at " + format_timestamp(*offer.start_at)};
    if (offer.end_at && now >= *offer.end_at) return {false, "ended at " + format_timestamp(*offer.end_at)};
    if (flow != nullptr && flow->eligibility &&
        !flow->eligibility->test(ResolvedBindings(*flow->eligibility, customer, nullptr, context, now)))
        return {false, "flow eligibility is false: " + flow->eligibility->source()};
    if (offer.eligibility && !offer.eligibility->test(ResolvedBindings(*offer.eligibility, customer, &offer.row, context, now)))
        return {false, "eligibility is false: " + offer.eligibility->source()};
    return {true, "eligible"};
}

}  // namespace kaireon::catalog
