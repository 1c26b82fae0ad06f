// json.h - the one JSON library of the project (nlohmann/json from Debian)
// and the limits every request document is parsed under.
#pragma once
#include "core/pure.h"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <string_view>

namespace kaireon {

// Json keeps keys in insertion order, so that error bodies and responses read
// in the order the spec writes them.
using Json = nlohmann::ordered_json;

struct JsonLimits {
    size_t max_bytes = 1 << 20;  // a request document is at most 1 MiB
    int max_depth = 64;          // nesting of objects and arrays
};

// kCatalogJsonLimits are the limits of a catalog document and of what the
// extension reads back from its tables: a gradient-boosted model of a few
// thousand trees is several MiB.
inline constexpr JsonLimits kCatalogJsonLimits{64u << 20, 64};

// parse_json returns the document in `text`, or throws Error(BadRequest) whose
// message names what is wrong and where (byte offset), e.g.
// "malformed JSON at byte 12: unexpected '}'". `what` names the document in
// messages ("request", "catalog", ...).
Json parse_json(std::string_view text, std::string_view what = "request",
                const JsonLimits& limits = JsonLimits{});

// parse_json_object is parse_json that also requires a top-level object.
Json parse_json_object(std::string_view text, std::string_view what = "request",
                       const JsonLimits& limits = JsonLimits{});

// type_name returns the JSON type of `value` as a user reads it ("object",
// "string", "number", ...), for error messages.
const char* type_name(const Json& value);

// json_object returns an empty object with room for `members`. The answers
// built on every call are sized up front: a growing ordered_json object
// copies all its members, deeply, on every reallocation (its
// std::pair<const std::string, Json> has no non-throwing move), and a braced
// list builds each member as a two-element array first. Measured on a
// six-member object: 0.9 to 1.2 µs braced, 0.3 to 0.5 µs sized.
Json json_object(size_t members);

// release_json empties `value`, depth first. nlohmann's destructor moves
// the members of every object and array to a heap-allocated stack first
// (so that no depth can overflow the C stack): a vector allocated and each
// member moved, for every container of the answers built on every call.
// Emptied from the leaves up, each container is freed in place; below
// `max_depth` levels the destructor does the rest as before.
void release_json(Json& value, int max_depth = 32);

// string_items returns the strings of the array object[key], in order
// (other items skipped; none when the key is missing or not an array).
std::vector<std::string> string_items(const Json& object, const char* key);

// json_number returns `value` as a JSON integer when it is integral, so that
// responses read 67433 rather than 67433.0 (and -0 reads 0).
Json json_number(double value);

}  // namespace kaireon
