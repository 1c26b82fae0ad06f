// entitlements.h - features, entitlement values and their evaluation (SPEC
// section 3). Pure: the database layer supplies the definitions, the values
// in force (override > licence claim > tier) and the current usage; this
// decides what a tenant may do and answers in the product's usage shape.
#pragma once
#include "core/pure.h"

#include "core/json.h"
#include "core/license.h"

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kaireon::entitlements {

enum class FeatureType { Boolean, Numeric, Config };
enum class Aggregation { Sum, Count, Max, Min, Average, Latest };
enum class Period { Hour, Day, Week, Month, Never };
enum class LimitType { Hard, Soft };
enum class Status { Accepted, LimitReached, Denied };

std::string_view name(FeatureType value);
std::string_view name(Aggregation value);
std::string_view name(Period value);
std::string_view name(LimitType value);
std::string_view name(Status value);  // "ACCEPTED", "LIMIT_REACHED", "DENIED"

// feature_key_problem returns why `key` is not a valid feature key (1 to 100
// characters from [a-z0-9_.-], starting with a letter), or "" when valid.
std::string feature_key_problem(std::string_view key);

inline const std::vector<int> kDefaultThresholds{75, 90, 95, 100};

// FeatureDefinition is a feature and how it is limited and metered.
struct FeatureDefinition {
    std::string key;
    FeatureType type = FeatureType::Boolean;
    Aggregation aggregation = Aggregation::Sum;  // numeric only
    Period period = Period::Never;               // numeric only
    std::string unit;
    Json schema;                                 // config only: the JSON schema subset
    LimitType limit_type = LimitType::Hard;
    double grace_percent = 0;                    // usage allowed past a hard limit, in % of it
    std::vector<int> thresholds;                 // empty = the defaults
    bool non_negative = false;

    // from_options returns the definition of `key` with type `type` ("boolean",
    // "numeric", "config") and `options` (SPEC 3: aggregation, period, unit,
    // schema, limitType, gracePercent, thresholds, nonNegative), or throws
    // Error(BadRequest) naming the path of the first problem
    // ("options.period: must be one of hour, day, week, month, never").
    // Unknown option keys are errors; numeric-only options on other types too.
    static FeatureDefinition from_options(std::string_view key, std::string_view type, const Json& options);

    // options returns the definition as define_feature's options (all keys,
    // defaults included), so that from_options(key, type, options()) is equal.
    Json options() const;
};

// Value is an entitlement value of some feature type, as stored for a plan,
// a licence claim or an override: numeric {"limit": n} (null = unlimited,
// n >= 0), boolean {"enabled": b}, config {"config": {...}}.
struct Value {
    bool enabled = false;
    std::optional<double> limit;  // numeric; nullopt = unlimited
    Json config;                  // config; null when not entitled
};

// parse_value returns `value` as a Value of `feature`'s type, or throws
// Error(BadRequest) naming the path under `path` ("value.limit: must be a
// number >= 0 or null", "value.config.maxReplicas: 200 is above the maximum
// 100"). A config value is validated against the feature's schema. Licence
// claims may use shorthands: a plain number for a numeric limit, a boolean for
// a boolean feature.
Value parse_value(const FeatureDefinition& feature, const Json& value, std::string_view path = "value",
                  bool allow_shorthand = false);

// value_json returns `value` in its stored shape for `type`.
Json value_json(FeatureType type, const Value& value);

// validate_schema throws Error(BadRequest) unless `schema` is in the supported
// subset: "type" (object, array, string, number, integer, boolean, null),
// "required" (array of strings), "properties" (object of schemas),
// "additionalProperties" (boolean), "items" (schema), "minimum", "maximum",
// "minLength", "maxLength", "minItems", "maxItems", "enum" (array),
// "description". Other keywords are refused, so a schema never silently
// checks less than its author meant.
void validate_schema(const Json& schema, std::string_view path = "options.schema");

// validate_config throws Error(BadRequest) naming the path of the first
// place where `value` does not satisfy `schema` ("value.config.channel: must
// be one of \"community\", \"email\", \"dedicated\"").
void validate_config(const Json& schema, const Json& value, std::string_view path = "value.config");

// Where the value in force came from.
enum class Source { Override, License, Plan, None };
std::string_view name(Source value);

// Evaluation is the answer for one feature of one tenant.
struct Evaluation {
    std::string feature;
    FeatureType type = FeatureType::Boolean;
    bool enabled = false;
    std::optional<double> limit;       // numeric; nullopt = unlimited (or not numeric)
    double current_usage = 0;          // numeric: usage so far (plus `requested` in check_usage)
    std::optional<double> percentage_used;  // rounded to one decimal; null when unlimited or not numeric
    Status status = Status::Denied;
    Json config;                       // config features: the config in force
    Source source = Source::None;
};

// evaluate returns the evaluation of `feature` with the value in force
// (nullopt = not entitled), the usage so far and `requested` more:
//  - not enabled (or no value): DENIED;
//  - boolean and config: ACCEPTED;
//  - numeric, unlimited: ACCEPTED;
//  - numeric, hard limit L with grace g %: the cap is L * (1 + g/100);
//    with requested = 0 (entitlement()): LIMIT_REACHED when usage >= cap, else
//    ACCEPTED; with requested > 0 (check_usage()): ACCEPTED when usage +
//    requested <= cap, else LIMIT_REACHED; current_usage reports usage +
//    requested;
//  - numeric, soft limit: always ACCEPTED; percentageUsed shows the overage.
// percentageUsed = current_usage / L * 100 rounded to one decimal; null when
// unlimited, when the limit is 0, or for non-numeric features.
Evaluation evaluate(const FeatureDefinition& feature, const std::optional<Value>& value, Source source,
                    double current_usage, double requested = 0);

// hard_cap returns how much usage a hard limit of `limit` admits: the limit
// plus its grace (limit * grace / 100 added, exact for whole percents).
double hard_cap(const FeatureDefinition& feature, double limit);

// evaluation_json returns `evaluation` in the product's usage shape:
// {"entitlement", "type", "enabled", "limit", "currentUsage",
//  "percentageUsed", "status"} plus "config" for config features.
Json evaluation_json(const Evaluation& evaluation);

// Resolution of the value in force: override (unexpired) > licence claim >
// the tier's plan value.
struct Candidates {
    std::optional<Value> override_value;
    std::optional<int64_t> override_expires_at;  // nullopt = never expires
    std::optional<Value> license_value;
    std::optional<Value> plan_value;
};
struct Resolved {
    std::optional<Value> value;
    Source source = Source::None;
};
Resolved resolve(const Candidates& candidates, int64_t now);

// license_claim returns the licence's claim for `feature`, if any: numeric
// features from `limits` (a number or {"limit": n}), others from `features`
// (a value or a boolean shorthand). A malformed claim is ignored (the licence
// was verified; its vendor made a mistake) rather than failing every call.
std::optional<Value> license_claim(const FeatureDefinition& feature, const license::Claims& claims);

// The seed's table: the built-in features and the three tiers' values.
struct BuiltinFeature {
    FeatureDefinition definition;
    std::array<std::optional<Value>, 3> tiers;  // community, professional, enterprise; nullopt = not entitled
    std::string description;
};
const std::vector<BuiltinFeature>& builtin_features();

// lowest_tier returns the lowest tier whose value enables `feature`, from
// `tier_values` (community, professional, enterprise).
std::optional<license::Tier> lowest_tier(const std::array<std::optional<Value>, 3>& tier_values);

}  // namespace kaireon::entitlements
