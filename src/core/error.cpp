#include "core/error.h"

#include <array>

namespace kaireon {
namespace {

// The catalog: one row per code, in ErrorCode order.
constexpr std::array<ErrorInfo, 10> kCatalog{{
    {ErrorCode::BadRequest, "KR400", "BAD_REQUEST"},
    {ErrorCode::LicenseInvalid, "KR401", "LICENSE_INVALID"},
    {ErrorCode::TenantAccessDenied, "KR403", "TENANT_ACCESS_DENIED"},
    {ErrorCode::FeatureNotEntitled, "KR403", "FEATURE_NOT_ENTITLED"},
    {ErrorCode::IdempotencyConflict, "KR409", "IDEMPOTENCY_CONFLICT"},
    {ErrorCode::EntitlementLimitReached, "KR422", "ENTITLEMENT_LIMIT_REACHED"},
    {ErrorCode::QuotaExceeded, "KR429", "QUOTA_EXCEEDED"},
    {ErrorCode::UsageLimitReached, "KR429", "USAGE_LIMIT_REACHED"},
    {ErrorCode::TenantMoving, "KR503", "TENANT_MOVING"},
    {ErrorCode::Internal, "XX000", "INTERNAL_ERROR"},
}};

}  // namespace

const ErrorInfo& error_info(ErrorCode code) {
    return kCatalog.at(static_cast<size_t>(code));
}

std::optional<ErrorCode> error_code_from_name(std::string_view name) {
    for (const auto& row : kCatalog) {
        if (row.name == name) return row.code;
    }
    return std::nullopt;
}

Error::Error(ErrorCode code, const std::string& message, const Json& extra, std::string hint)
    : std::runtime_error(message), code_(code), hint_(std::move(hint)) {
    detail_ = Json::object();
    detail_["error"] = message;
    detail_["code"] = std::string(info().name);
    if (extra.is_object()) {
        for (const auto& [key, value] : extra.items()) detail_[key] = value;
    }
}

std::string Error::detail_text() const {
    return detail_.dump(-1, ' ', false, Json::error_handler_t::replace);
}

void throw_bad_request(const std::string& message, const Json& extra) {
    throw Error(ErrorCode::BadRequest, message, extra);
}

}  // namespace kaireon
