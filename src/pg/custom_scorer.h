// custom_scorer.h - custom models (SPEC 6.2 step 5, enterprise): the tenant
// names a SQL function `schema.name(customer jsonb, offer jsonb, context
// jsonb) returns float8` and it scores each candidate. It runs as the role
// that called kaireon_recommend (the session's current role, never the
// extension's owner the API functions run as) in a
// security-restricted operation, within kaireon.custom_model_timeout per
// decision; its errors come back as KR400 naming the function.
#pragma once
#include "core/catalog_compiled.h"
#include "core/pipeline.h"

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace kaireon::pg {

// scoring_function_problem tells what keeps `name` from scoring (not
// schema-qualified, no such function with (jsonb, jsonb, jsonb), not
// returning float8, SECURITY DEFINER, ...; with `as_caller` also the
// current role's EXECUTE and schema USAGE), or nothing.
std::optional<std::string> scoring_function_problem(std::string_view name, bool as_caller);

// custom_scorer returns the scorer of a custom model for one decision; it
// refuses (KR400) a function the calling role may not execute.
std::unique_ptr<decision::Scorer> custom_scorer(const catalog::CompiledModel& model, const std::string& flow_id);

// custom_scorer_init defines kaireon.custom_model_timeout (from _PG_init).
void custom_scorer_init();

}  // namespace kaireon::pg
