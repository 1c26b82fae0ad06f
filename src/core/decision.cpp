#include "core/decision.h"

#include "core/error.h"

#include <algorithm>
#include <cmath>

namespace kaireon::decision {
namespace {

[[noreturn]] void fail(const std::string& path, const std::string& message) {
    throw_bad_request(path + ": " + message, {{"path", path}});
}

std::string text(const Json& value, const std::string& path) {
    if (!value.is_string()) fail(path, std::string("must be a string, not ") + type_name(value));
    const auto& s = value.get_ref<const std::string&>();
    if (s.empty()) fail(path, "must not be empty");
    if (s.size() > 1000) fail(path, "must be at most 1000 bytes");
    return s;
}

std::vector<std::string> texts(const Json& value, const std::string& path, size_t max) {
    if (!value.is_array()) fail(path, std::string("must be an array of strings, not ") + type_name(value));
    if (value.size() > max) fail(path, "must have at most " + std::to_string(max) + " elements");
    std::vector<std::string> out;
    for (size_t i = 0; i < value.size(); ++i) out.push_back(text(value[i], path + "[" + std::to_string(i) + "]"));
    return out;
}

bool flag(const Json& value, const std::string& path) {
    if (!value.is_boolean()) fail(path, std::string("must be true or false, not ") + type_name(value));
    return value.get<bool>();
}

}  // namespace

Request parse_request(const Json& request) {
    if (!request.is_object()) throw_bad_request("the request must be a JSON object", {{"path", ""}});
    Request out;
    bool has_customer = false, has_flow = false;
    static constexpr std::string_view kFields[] = {"customerId", "flow",     "channel",       "placement",
                                                   "limit",      "context",  "segments",      "attributes",
                                                   "excludeOffers", "trace", "dryRun"};
    for (const auto& [key, value] : request.items()) {
        if (std::find(std::begin(kFields), std::end(kFields), key) == std::end(kFields))
            fail(key, "unknown field (expected customerId, flow, channel, placement, limit, context, segments, "
                      "attributes, excludeOffers, trace, dryRun)");
        if (value.is_null()) continue;  // an explicit null is the same as absent
        if (key == "customerId") {
            out.customer_id = text(value, key);
            has_customer = true;
        } else if (key == "flow") {
            out.flow = text(value, key);
            has_flow = true;
        } else if (key == "channel") {
            out.channel = text(value, key);
        } else if (key == "placement") {
            out.placement = text(value, key);
        } else if (key == "limit") {
            if (!value.is_number()) fail(key, std::string("must be an integer, not ") + type_name(value));
            double n = value.get<double>();
            if (n != std::floor(n)) fail(key, "must be an integer");
            if (n < 1) fail(key, "must be at least 1");
            if (n > kMaxLimit) fail(key, "must be at most " + std::to_string(kMaxLimit));
            out.limit = static_cast<int>(n);
        } else if (key == "context") {
            if (!value.is_object()) fail(key, std::string("must be an object, not ") + type_name(value));
            out.context = value;
        } else if (key == "segments") {
            out.segments = texts(value, key, 1000);
        } else if (key == "attributes") {
            if (!value.is_object()) fail(key, std::string("must be an object, not ") + type_name(value));
            out.attributes = value;
        } else if (key == "excludeOffers") {
            out.exclude_offers = texts(value, key, kMaxExcludedOffers);
        } else if (key == "trace") {
            out.trace = flag(value, key);
        } else if (key == "dryRun") {
            out.dry_run = flag(value, key);
        } else {
            fail(key, "unknown field (expected customerId, flow, channel, placement, limit, context, segments, "
                      "attributes, excludeOffers, trace, dryRun)");
        }
    }
    if (!has_customer) fail("customerId", "is required");
    if (!has_flow) fail("flow", "is required");
    return out;
}

double arbitration_score(const Factors& f, const Weights& w) {
    auto term = [](double factor, double weight) {
        factor = std::max(factor, 0.0);
        if (weight == 0) return 1.0;
        return std::pow(factor, weight);
    };
    double score = term(f.propensity, w.propensity) * term(f.relevance, w.relevance) * term(f.impact, w.impact) *
                   term(f.emphasis, w.emphasis) * std::max(f.context_weight, 0.0);
    return std::isfinite(score) ? score : 0;
}

bool ranks_before(const Ranked& a, const Ranked& b) {
    if (a.score != b.score) return a.score > b.score;
    if (a.priority != b.priority) return a.priority > b.priority;
    return a.offer_id < b.offer_id;
}

}  // namespace kaireon::decision
