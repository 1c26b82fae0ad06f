// sha256.h - SHA-256 of bytes, for the keys kaireon derives from names
// (advisory lock tags, shared-memory counters) and the audit chain.
#pragma once
#include "core/pure.h"

#include <array>
#include <initializer_list>
#include <string>
#include <string_view>

namespace kaireon {

using Sha256Digest = std::array<unsigned char, 32>;

// sha256 returns the SHA-256 digest of `data`. OpenSSL 3 looks the algorithm
// up in its providers on every one-shot call (SHA256(), EVP_sha256() with
// EVP_Digest): about 3 % of a usage report went there. This fetches it once
// per process. Throws Error(Internal) if OpenSSL fails.
Sha256Digest sha256(std::string_view data);

// sha256_of_name is sha256 for the short names a backend hashes again and
// again: the tenant's move gate on every API call, its limit gates. Even
// fetched once, a digest through EVP costs about a microsecond, several
// times per call; this keeps the digests of the last names it was given
// (at most kRememberedNames, then it starts over: enough for a backend
// deciding for a few hundred tenants, each with a dozen names). Not for names
// used once, such as idempotency keys. Per thread, so the unit tests may call
// it from any.
inline constexpr size_t kRememberedNames = 4096;
Sha256Digest sha256_of_name(std::string_view name);

// joined_name returns the name `prefix` followed by `parts` with a NUL
// between them ("cap:" "id\0scope\0scope_id"): NUL cannot occur in the
// parts, so different parts never make one name. One allocation.
std::string joined_name(std::string_view prefix, std::initializer_list<std::string_view> parts);

}  // namespace kaireon
