// webhook_signature.h - how webhook deliveries are signed (docs/webhooks.md).
//
// A delivery's body is signed with the endpoint's secret over the timestamp
// and the exact body bytes:
//
//   Kaireon-Signature: v1=<hex(HMAC-SHA256(secret, timestamp + "." + body))>
//
// where timestamp is the Kaireon-Timestamp header (Unix seconds, decimal).
// The database computes it (the secret never leaves it); receivers compute
// it again and compare in constant time. Pure: no I/O, no PostgreSQL.
#pragma once
#include "core/pure.h"

#include <cstdint>
#include <string>
#include <string_view>

namespace kaireon::webhooks {

// hmac_sha256_hex returns HMAC-SHA256(key, message) as 64 lowercase hex
// digits. Throws Error(Internal) if OpenSSL fails.
std::string hmac_sha256_hex(std::string_view key, std::string_view message);

// signed_content returns what is signed: "<timestamp>.<body>".
std::string signed_content(int64_t timestamp, std::string_view body);

// signature_header returns the Kaireon-Signature header's value,
// "v1=" + hmac_sha256_hex(secret, signed_content(timestamp, body)).
std::string signature_header(std::string_view secret, int64_t timestamp, std::string_view body);

// verify_signature_header returns whether `header` is a valid v1 signature
// of (timestamp, body) with `secret` (constant-time comparison). Used by the
// tests and as the reference for receivers.
bool verify_signature_header(std::string_view header, std::string_view secret, int64_t timestamp,
                             std::string_view body);

}  // namespace kaireon::webhooks
