// sha256.h - SHA-256 of bytes, for the keys kaireon derives from names
// (advisory lock tags, shared-memory counters) and the audit chain.
#pragma once
#include "core/pure.h"

#include <array>
#include <string_view>

namespace kaireon {

using Sha256Digest = std::array<unsigned char, 32>;

// sha256 returns the SHA-256 digest of `data`. OpenSSL 3 looks the algorithm
// up in its providers on every one-shot call (SHA256(), EVP_sha256() with
// EVP_Digest): about 3 % of a usage report went there. This fetches it once
// per process. Throws Error(Internal) if OpenSSL fails.
Sha256Digest sha256(std::string_view data);

}  // namespace kaireon
