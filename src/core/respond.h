// respond.h - kaireon_respond's request (SPEC 6.6), pure: the fields, their
// checks and paths. The database side (the decision it answers, the
// interaction record, idempotency, caps) is src/pg/respond_functions.cpp.
#pragma once
#include "core/pure.h"

#include "core/json.h"

#include <optional>
#include <string>

namespace kaireon::respond {

// Request is one recorded outcome. Either `decision_id` names the decision
// it answers (customer and offer may then come from that decision), or
// `customer_id` and `offer_id` say whom and what.
struct Request {
    std::optional<std::string> decision_id;  // a UUID, lower case
    std::string customer_id;                 // "" when taken from the decision
    std::string offer_id;                    // "" when taken from the decision
    std::string creative_id, channel, placement;
    std::string outcome;                     // a registered outcome type
    std::optional<double> value;
    std::optional<double> occurred_at;       // Unix seconds; the call's time when absent
    std::string idempotency_key;
};

// parse_request checks a respond document and returns it, or throws
// Error(BadRequest) naming the field ("idempotencyKey: required ...").
// Unknown fields are errors; an explicit null is the same as absent.
Request parse_request(const Json& doc);

// kMaxFutureSkew: occurredAt may be ahead of the database's clock by this
// much (seconds), as usage events may.
inline constexpr double kMaxFutureSkew = 300;

}  // namespace kaireon::respond
