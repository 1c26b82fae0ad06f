// event_types.h - the catalog of outbox event types (SPEC section 4): what
// kaireon.event_types is seeded with, so that webhook subscribers can read
// which events exist, what each means and what its payload carries.
#pragma once
#include "core/pure.h"

#include "core/json.h"

#include <string>
#include <string_view>
#include <vector>

namespace kaireon::events {

// EventType is one row of kaireon.event_types.
//
// `category` is one of license, quota, usage, entitlement, override,
// cap, experiment, journey, trigger, audit, and is always the part
// of `type` before its first '.'.
//
// `payload_schema` is {"type": "object", "required": [...], "properties":
// {...}} in the JSON schema subset of entitlements::validate_schema (so that
// entitlements::validate_config can check a payload against it). Every
// property it lists is required (a field with no value is present as null
// where its type allows null); it does not set additionalProperties, so an
// emitter may add fields (license.installed also carries previousTier and
// upgrade). Timestamps are ISO-8601 UTC strings ("2026-03-01T00:00:00Z"),
// tiers one of community, professional, enterprise, catalog ids strings.
struct EventType {
    std::string type;  // e.g. "quota.warning"
    std::string category;
    std::string description;  // one sentence
    Json payload_schema;
};

// builtin_event_types returns the 27 built-in event types, grouped by
// category in the order of SPEC section 4 (licence, quota, usage threshold,
// entitlement, override, frequency cap, experiment, journey, trigger, audit).
const std::vector<EventType>& builtin_event_types();

// find_event_type returns the built-in event type named `type` (exact,
// case-sensitive), or nullptr.
const EventType* find_event_type(std::string_view type);

}  // namespace kaireon::events
