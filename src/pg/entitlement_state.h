// entitlement_state.h - what a tenant is entitled to, for the API functions
// and for every later feature gate (the decision engine asks it which
// scoring, ranking and experiment features a tenant has).
//
// Features and plans are cached per backend, overrides per tenant, all
// dropped when their tables change; the licence comes from license_state.
#pragma once
#include "core/entitlements.h"

#include "pg/guard.h"

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace kaireon::pg {

struct FeatureEntry {
    entitlements::FeatureDefinition definition;
    bool builtin = false;
    std::array<std::optional<entitlements::Value>, 3> tiers;  // community, professional, enterprise
};
using FeaturePtr = std::shared_ptr<const FeatureEntry>;

// find_feature returns the feature called `key`, or throws KR400.
FeaturePtr find_feature(const std::string& key);

// all_features returns every feature, by key.
std::vector<FeaturePtr> all_features();

// evaluate_entitlement returns what `tenant` may do with `feature` now, as
// if `requested` more were used. Usage is read only for numeric features and
// only when `with_usage` (a pure enabled/disabled question needs none).
// Usage is read as this transaction sees it (its own reports included).
entitlements::Evaluation evaluate_entitlement(const std::string& tenant, const FeatureEntry& feature,
                                              double requested, bool with_usage);

// counted_source names where kaireon counts a feature's usage itself ("the
// rows of kaireon.connectors", "the traces stored today"), or returns "" for
// a feature whose usage is reported (report_usage): counted features cannot
// be reported.
std::string counted_source(std::string_view feature);

// throw_not_entitled raises KR403 FEATURE_NOT_ENTITLED for `feature`, naming
// the lowest tier that has it (or the override that disables it, when the
// value in force came from one).
[[noreturn]] void throw_not_entitled(const FeatureEntry& feature, entitlements::Source source);

// feature_enabled tells whether the tenant has the boolean feature `key`
// (nothing counted: for code that skips work rather than refuses).
bool feature_enabled(const std::string& tenant, const std::string& key);

// require_feature_enabled raises FEATURE_NOT_ENTITLED unless the tenant has
// the boolean feature `key` (the refusal counted in kaireon.stats, which the
// refused transaction's rollback does not undo).
void require_feature_enabled(const std::string& tenant, const std::string& key);

// forget_overrides drops this backend's cached overrides of `tenant` (after
// writing them, before the invalidation arrives).
void forget_overrides(const std::string& tenant);

}  // namespace kaireon::pg
