// catalog_compiled.h - a tenant's catalog compiled for decisions: offers with
// their eligibility programs and date windows, flows, and the resolution of
// expression paths against a customer, an offer and a request context
// (SPEC 6.1). Built once per catalog change (the PostgreSQL layer caches it
// per backend and tenant) and then only read.
#pragma once
#include "core/pure.h"

#include "core/expr.h"
#include "core/json.h"

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kaireon::catalog {

struct CompiledOffer {
    std::string id;
    Json row;  // the validated document object
    std::optional<expr::Program> eligibility;
    std::optional<double> start_at, end_at;  // Unix seconds
};

struct CompiledFlow {
    std::string id;
    Json row;
    std::optional<expr::Program> eligibility;
};

struct CompiledCatalog {
    std::vector<CompiledOffer> offers;  // sorted by id
    std::map<std::string, CompiledFlow, std::less<>> flows;
};

// RowsByKey holds validated document objects by document key ("offers").
using RowsByKey = std::map<std::string, std::vector<Json>, std::less<>>;

// compile_catalog builds the compiled catalog from validated rows.
CompiledCatalog compile_catalog(const RowsByKey& rows);

// Customer is what decisions know of a customer.
struct Customer {
    std::string id;
    Json attributes = Json::object();
    std::vector<std::string> segments;
};

// resolve returns the value of a path (SPEC 6.1): customer.id,
// customer.segments, customer.<attribute>[.<key>...]; offer.<field> (id,
// name, categoryId, priority, value, lever, startAt, endAt, status,
// mandatory) else offer.<attribute>[...]; context.<name>[.<key>...]. What is
// missing is null. `offer` may be null (flow conditions): offer paths are
// then null.
expr::Value resolve(std::string_view path, const Customer& customer, const Json* offer, const Json& context);

// Eligibility is the verdict for one offer, with the reason when it is out.
struct Eligibility {
    bool eligible = false;
    std::string reason;  // "eligible", "status is paused", "starts at ...", ...
};

// check_offer tells whether `offer` is eligible for `customer` at `now`
// (Unix seconds) in `flow` (may be null): status active, inside its date
// window, the flow's and the offer's eligibility true. Behavioral metrics
// are not known yet (metric() is null).
Eligibility check_offer(const CompiledOffer& offer, const CompiledFlow* flow, const Customer& customer,
                        const Json& context, double now);

}  // namespace kaireon::catalog
