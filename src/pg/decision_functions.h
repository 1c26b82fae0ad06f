// decision_functions.h - a decision made from C++ exactly as
// kaireon_recommend makes it (SPEC 6.2: checks, pipeline, quota, record),
// for the actions of triggers (SPEC 6.7).
#pragma once
#include "core/json.h"

#include <string>

namespace kaireon::pg {

// recommend_for decides `request` (kaireon_recommend's document) for
// `tenant` in the calling transaction and returns the response.
Json recommend_for(const std::string& tenant, const Json& request);

}  // namespace kaireon::pg
