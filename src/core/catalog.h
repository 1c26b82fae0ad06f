// catalog.h - the decision catalog's document format (SPEC 6.1): every
// entity (offers, flows, policies, ...), its fields, their types and
// constraints, and the validator that checks one object of a catalog
// document (or one row written with plain SQL) and gives it back normalised.
//
// The description below is the single place that knows the format:
// apply_catalog, export_catalog and the tables' validation triggers
// (src/pg/catalog_functions.cpp) are generated from it, and docs/catalog.md
// describes it.
#pragma once
#include "core/pure.h"

#include "core/json.h"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kaireon::catalog {

inline constexpr size_t kMaxIdLength = 128;
inline constexpr size_t kMaxTextLength = 1000;
inline constexpr size_t kMaxArrayItems = 1000;

// Kind is what a field holds.
enum class Kind : uint8_t {
    Text,              // a string of at most kMaxTextLength bytes
    Id,                // an identifier (see valid_id); with `ref`, of another entity
    Number,            // a finite number within [min, max]
    Integer,           // a whole number within [min, max]
    Boolean,
    Timestamp,         // an ISO-8601 string (expr::parse_timestamp)
    Enum,              // one of `values`
    Condition,         // an eligibility expression (boolean)
    NumberExpression,  // a numeric expression (relevance)
    Object,            // with `properties` (closed unless `open`)
    Array,             // of `items`
    TextList,          // an array of distinct strings (segments)
    Timezone,          // a time zone name the database knows (Hooks)
    Any,               // any JSON value
};

struct Spec;

// Property is one key of an object.
struct Property {
    std::string_view name;
    std::shared_ptr<const Spec> spec;
    bool required = false;
};

// Spec describes a JSON value.
struct Spec {
    Kind kind = Kind::Any;
    std::optional<double> min, max;
    bool exclusive_min = false;
    std::vector<std::string_view> values;  // Enum
    std::vector<Property> properties;      // Object
    bool open = false;                     // Object: other keys allowed (attributes, content)
    std::shared_ptr<const Spec> items;     // Array
    std::string_view ref;                  // Id: the entity key it refers to ("categories")
    std::string_view unique_key;           // Array of objects: a key that must be unique ("id")
};

// Field is one top-level field of an entity: a document key and the table
// column that stores it.
struct Field {
    std::string_view name;      // in the document: "categoryId"
    std::string_view column;    // in the table: "category_id"
    std::string_view sql_type;  // the column's type: "text", "double precision", ...
    std::shared_ptr<const Spec> spec;
    bool required = false;
    Json default_value;  // null = none (the field is absent from exports)
};

struct Checker;

// Entity is one document key and its table.
struct Entity {
    std::string_view key;    // document key: "cmsSources"
    std::string_view table;  // kaireon.<table>: "cms_sources"
    std::vector<Field> fields;
    std::vector<std::string_view> key_fields;  // {"id"}; consents {"customerId", "channelId"}
    std::string_view limit_feature;            // the countable entitlement, or ""
    void (*check)(Json& row, Checker& checker) = nullptr;  // rules across fields; may normalise nested objects

    const Field* field(std::string_view name) const;
};

// entities returns every entity in dependency order: an entity refers only to
// entities before it (except flows.experimentId, checked by the caller).
const std::vector<Entity>& entities();

// find_entity returns the entity with document key `key`, or nullptr.
const Entity* find_entity(std::string_view key);

// find_entity_by_table returns the entity stored in kaireon.<table>, or nullptr.
const Entity* find_entity_by_table(std::string_view table);

// entity_counted_by returns the entity whose rows a tier-limited feature
// counts ("connectors" -> connectors, "content_items" -> creatives), or
// nullptr: such features are counted from the catalog, never reported.
const Entity* entity_counted_by(std::string_view feature);

// Reference is an id naming a row of another entity, found while validating.
struct Reference {
    std::string_view entity;  // document key: "categories"
    std::string id;
    std::string path;  // where it was found: "offers[3].categoryId"
};

// Hooks are the checks the core cannot make on its own.
struct Hooks {
    std::function<bool(std::string_view)> valid_timezone;  // unset: every name passes
    // A custom model's SQL function: what is wrong with it ("does not
    // exist", ...), nothing when it may score. Unset: every name passes.
    std::function<std::optional<std::string>(std::string_view)> scoring_function_problem;
};

// Validated is a checked object: every field of the entity by document name
// (absent optional fields as their default, or null), and the references it
// makes.
struct Validated {
    Json row;
    std::vector<Reference> references;
};

// validate checks `object` as an entity `entity` found at `path`
// ("offers[3]") and returns it normalised, or throws Error(BadRequest) whose
// message starts with the path of the offending value ("offers[3].priority:
// must be at most 100"); DETAIL {"path": ...}. Unknown keys are errors.
Validated validate(const Entity& entity, const Json& object, const std::string& path, const Hooks& hooks = {});

// object_of_columns returns the document object a table row stores, given
// the row with its column names (category_id -> categoryId); columns that
// are no field (tenant_id, created_at, ...) and nulls are left out.
Json object_of_columns(const Entity& entity, const Json& columns);

// stored_form returns a document object as the catalog stores and exports
// it: fields without a value (null) left out, timestamps as
// format_timestamp writes them (the same instant reads the same however it
// was written).
Json stored_form(const Entity& entity, const Json& object);
// stored_value is one field's value of that form (`field` may be null: a key
// that is no field of the entity); a null value stays null.
Json stored_value(const Field* field, Json value);

// row_key returns the entity's key of a validated row as text: the id, or
// "customerId/channelId" for consents.
std::string row_key(const Entity& entity, const Json& row);

// format_timestamp returns Unix seconds as the document writes timestamps:
// UTC, "2026-01-31T09:00:00Z", with microseconds only when there are some.
std::string format_timestamp(double seconds);

// valid_id tells whether `id` can be an identifier: 1 to kMaxIdLength bytes
// of letters, digits and _ - . : @ (no spaces, quotes or slashes).
bool valid_id(std::string_view id);

// Checker is what an entity's cross-field rules use to report.
struct Checker {
    const std::string& path;
    const Hooks& hooks;
    std::vector<Reference>& references;
    [[noreturn]] void fail(const std::string& field, const std::string& message) const;
};

}  // namespace kaireon::catalog
