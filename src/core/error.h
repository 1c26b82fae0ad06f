// error.h - the kaireon error catalog (SPEC section 8) and the one exception
// type the core throws. The PostgreSQL layer turns an Error into ereport with
// the catalog's SQLSTATE, the message, and a JSON DETAIL.
#pragma once
#include "core/pure.h"

#include "core/json.h"

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace kaireon {

enum class ErrorCode {
    BadRequest,               // KR400
    LicenseInvalid,           // KR401
    TenantAccessDenied,       // KR403
    FeatureNotEntitled,       // KR403
    IdempotencyConflict,      // KR409
    EntitlementLimitReached,  // KR422
    QuotaExceeded,            // KR429
    UsageLimitReached,        // KR429
    TenantMoving,             // KR503: the tenant is frozen for a move between shards, or has moved
    Internal,                 // XX000: a bug, never expected by a client
};

struct ErrorInfo {
    ErrorCode code;
    std::string_view sqlstate;  // five characters, class KR
    std::string_view name;      // the `code` field of the JSON DETAIL
};

// error_info returns the catalog row of a code.
const ErrorInfo& error_info(ErrorCode code);

// error_code_from_name returns the code whose DETAIL name is `name`, if any.
std::optional<ErrorCode> error_code_from_name(std::string_view name);

// Error is what core code throws for anything a client did wrong (and for
// internal failures). Its DETAIL is a JSON object that always starts with
// `error` (the message) and `code` (the catalog name); `extra` adds fields
// (e.g. the quota body) and may replace `error` where the public body must
// read differently from the message.
class Error : public std::runtime_error {
public:
    Error(ErrorCode code, const std::string& message, const Json& extra = Json::object(),
          std::string hint = {});

    ErrorCode code() const noexcept { return code_; }
    const ErrorInfo& info() const noexcept { return error_info(code_); }
    const Json& detail() const noexcept { return detail_; }
    const std::string& hint() const noexcept { return hint_; }

    // detail_text returns the DETAIL string: compact JSON in insertion order.
    std::string detail_text() const;

    // A sensitive error came from a request that carried a secret (a licence
    // token): the server log must not show the statement that raised it.
    bool sensitive() const noexcept { return sensitive_; }
    Error& mark_sensitive() noexcept {
        sensitive_ = true;
        return *this;
    }

private:
    ErrorCode code_;
    Json detail_;
    std::string hint_;
    bool sensitive_ = false;
};

// throw_bad_request throws Error(BadRequest): the most common throw.
[[noreturn]] void throw_bad_request(const std::string& message, const Json& extra = Json::object());

}  // namespace kaireon
