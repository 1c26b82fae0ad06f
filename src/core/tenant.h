// tenant.h - tenant identifiers.
#pragma once
#include "core/pure.h"

#include <cstddef>
#include <string>
#include <string_view>

namespace kaireon {

// A tenant id is 1 to 63 characters from [a-z0-9_-], starting with a letter or
// digit: it is safe in file names, URLs, metric labels and shared-memory keys,
// and it reads the same in every collation.
inline constexpr size_t kMaxTenantIdLength = 63;

// tenant_id_problem returns why `id` is not a valid tenant id, or an empty
// string when it is valid.
std::string tenant_id_problem(std::string_view id);

// validate_tenant_id throws Error(BadRequest) when `id` is not valid.
void validate_tenant_id(std::string_view id);

}  // namespace kaireon
