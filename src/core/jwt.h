// jwt.h - JSON Web Token verification for licences, with OpenSSL EVP.
//
// Security rules (as in jwt-cpp): each public key is bound to exactly one
// algorithm when it is registered; the token's `alg` must equal the key's
// (it never chooses the verification method by itself); `kid` is only a
// lookup key; `none` and HMAC algorithms never verify; tokens are bounded in
// size. Every rejection throws Error(LicenseInvalid) whose DETAIL carries a
// distinct `reason`.
#pragma once
#include "core/pure.h"

#include "core/json.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace kaireon::jwt {

enum class Algorithm { RS256, PS256, ES256, EdDSA };

inline constexpr size_t kMaxTokenBytes = 8 * 1024;
inline constexpr int kMinRsaBits = 2048;

// algorithm_from_name returns the algorithm called `name` ("RS256", ...).
std::optional<Algorithm> algorithm_from_name(std::string_view name);
std::string_view algorithm_name(Algorithm alg);

// PublicKey is a verification key bound to one algorithm.
class PublicKey {
public:
    // from_pem returns the key in `pem` (SubjectPublicKeyInfo, "-----BEGIN
    // PUBLIC KEY-----"), or throws Error(BadRequest) when the PEM does not
    // parse, the key type does not fit `alg` (RSA for RS256/PS256, EC P-256
    // for ES256, Ed25519/Ed448 for EdDSA) or an RSA key is under 2048 bits.
    static PublicKey from_pem(std::string_view pem, Algorithm alg);

    Algorithm algorithm() const noexcept { return alg_; }

    // verify returns whether `signature` (as carried in a JWT: raw R||S for
    // ES256) signs `message` under this key's algorithm.
    bool verify(std::string_view message, std::string_view signature) const;

    PublicKey(PublicKey&&) noexcept;
    PublicKey& operator=(PublicKey&&) noexcept;
    ~PublicKey();

private:
    struct Impl;
    PublicKey(std::unique_ptr<Impl> impl, Algorithm alg);
    std::unique_ptr<Impl> impl_;
    Algorithm alg_;
};

// Token is a JWT split and decoded, not yet verified.
struct Token {
    Json header;
    Json payload;
    std::string alg;            // header alg as written
    std::string kid;            // header kid
    std::string signing_input;  // "<header>.<payload>" as received
    std::string signature;      // decoded signature bytes
};

// parse returns the decoded token, or throws Error(LicenseInvalid) for: over
// 8 KiB, not three segments, malformed base64url, malformed JSON, header or
// payload not an object, `alg` none or HMAC or unsupported, missing `kid`.
Token parse(std::string_view token);

// What a key lookup found for a kid.
struct KeyLookup {
    std::shared_ptr<const PublicKey> key;  // null: unknown kid (or a key that no longer loads)
    bool revoked = false;
};

// verify_signature checks `token` against the key registered for its kid:
// unknown or revoked kid, algorithm not the key's, or a signature that does
// not verify (including a tampered header or payload) throw
// Error(LicenseInvalid).
void verify_signature(const Token& token, const std::function<KeyLookup(const std::string& kid)>& lookup);

// reject throws Error(LicenseInvalid) with `reason` (a stable slug) and a
// message for people. Shared by the licence checks.
[[noreturn]] void reject(std::string_view reason, const std::string& message);

}  // namespace kaireon::jwt
