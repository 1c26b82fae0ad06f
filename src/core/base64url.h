// base64url.h - RFC 4648 section 5 encoding without padding, as JWTs use it.
#pragma once
#include "core/pure.h"

#include <optional>
#include <string>
#include <string_view>

namespace kaireon {

// base64url_decode returns the bytes encoded in `text`, or nullopt when `text`
// is not canonical unpadded base64url (wrong alphabet, padding, impossible
// length, or non-zero trailing bits).
std::optional<std::string> base64url_decode(std::string_view text);

// base64url_encode returns `bytes` as unpadded base64url.
std::string base64url_encode(std::string_view bytes);

}  // namespace kaireon
