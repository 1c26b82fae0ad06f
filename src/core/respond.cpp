#include "core/respond.h"

#include "core/catalog.h"
#include "core/error.h"
#include "core/expr.h"
#include "core/usage.h"

#include <algorithm>
#include <cctype>
#include <cmath>

namespace kaireon::respond {
namespace {

[[noreturn]] void fail(const std::string& path, const std::string& message) {
    throw_bad_request(path + ": " + message, {{"path", path}});
}

const std::string& text(const Json& value, const std::string& path) {
    if (!value.is_string()) fail(path, std::string("must be a string, not ") + type_name(value));
    return value.get_ref<const std::string&>();
}

std::string id(const Json& value, const std::string& path) {
    const std::string& s = text(value, path);
    if (!catalog::valid_id(s)) fail(path, "must be an identifier: 1 to " + std::to_string(catalog::kMaxIdLength) +
                                             " bytes of letters, digits and _ - . : @");
    return s;
}

bool is_uuid(const std::string& s) {
    if (s.size() != 36) return false;
    for (size_t i = 0; i < s.size(); ++i) {
        const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !std::isxdigit(static_cast<unsigned char>(s[i]))) return false;
    }
    return true;
}

}  // namespace

Request parse_request(const Json& doc) {
    if (!doc.is_object()) throw_bad_request("the request must be a JSON object", {{"path", ""}});
    static constexpr std::string_view kFields[] = {"decisionId", "customerId", "offerId",    "creativeId",
                                                   "channel",    "placement",  "outcome",    "value",
                                                   "occurredAt", "idempotencyKey"};
    Request out;
    for (const auto& [key, value] : doc.items()) {
        if (std::find(std::begin(kFields), std::end(kFields), key) == std::end(kFields))
            fail(key, "unknown field (expected decisionId, customerId, offerId, creativeId, channel, placement, "
                      "outcome, value, occurredAt, idempotencyKey)");
        if (value.is_null()) continue;
        if (key == "decisionId") {
            std::string uuid = text(value, key);
            std::transform(uuid.begin(), uuid.end(), uuid.begin(), [](unsigned char c) { return std::tolower(c); });
            if (!is_uuid(uuid)) fail(key, "must be a decision id (a UUID)");
            out.decision_id = uuid;
        } else if (key == "customerId") {
            out.customer_id = id(value, key);
        } else if (key == "offerId") {
            out.offer_id = id(value, key);
        } else if (key == "creativeId") {
            out.creative_id = id(value, key);
        } else if (key == "channel") {
            out.channel = id(value, key);
        } else if (key == "placement") {
            out.placement = id(value, key);
        } else if (key == "outcome") {
            out.outcome = id(value, key);
        } else if (key == "value") {
            if (!value.is_number()) fail(key, std::string("must be a number, not ") + type_name(value));
            double v = value.get<double>();
            if (!std::isfinite(v)) fail(key, "must be a finite number");
            out.value = v;
        } else if (key == "occurredAt") {
            auto at = expr::parse_timestamp(text(value, key));
            if (!at) fail(key, "must be an ISO-8601 timestamp (2026-03-01T12:00:00Z)");
            out.occurred_at = at;
        } else if (key == "idempotencyKey") {
            const std::string& k = text(value, key);
            if (k.empty()) fail(key, "must not be empty");
            if (std::string problem = usage::idempotency_key_problem(k); !problem.empty())
                fail(key, problem.substr(problem.find(' ') + 1));  // "must be at most 255 characters"
            out.idempotency_key = k;
        }
    }
    if (out.idempotency_key.empty())
        fail("idempotencyKey", "required: every response carries a key, so that a retry is recorded once");
    if (out.outcome.empty()) fail("outcome", "required (a registered outcome type)");
    if (!out.decision_id) {
        if (out.customer_id.empty()) fail("customerId", "required without a decisionId");
        if (out.offer_id.empty()) fail("offerId", "required without a decisionId");
    }
    return out;
}

}  // namespace kaireon::respond
