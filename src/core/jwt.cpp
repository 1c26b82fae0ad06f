#include "core/jwt.h"

#include "core/base64url.h"
#include "core/error.h"

#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <array>
#include <cstring>
#include <vector>

namespace kaireon::jwt {
namespace {

template <typename T, void (*Free)(T*)>
struct Deleter {
    void operator()(T* p) const noexcept { Free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX, EVP_MD_CTX_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, Deleter<ECDSA_SIG, ECDSA_SIG_free>>;

constexpr std::array<std::pair<std::string_view, Algorithm>, 4> kAlgorithms{{
    {"RS256", Algorithm::RS256},
    {"PS256", Algorithm::PS256},
    {"ES256", Algorithm::ES256},
    {"EdDSA", Algorithm::EdDSA},
}};

void bad_key(const std::string& message) { throw_bad_request(message, Json{{"field", "publicKey"}}); }

// ecdsa_raw_to_der converts a JWS ES256 signature (R||S, 32 bytes each) into
// the DER encoding OpenSSL verifies; empty when the length is wrong.
std::string ecdsa_raw_to_der(std::string_view raw) {
    if (raw.size() != 64) return {};
    EcdsaSigPtr sig(ECDSA_SIG_new());
    if (!sig) throw std::bad_alloc();
    const auto* bytes = reinterpret_cast<const unsigned char*>(raw.data());
    BIGNUM* r = BN_bin2bn(bytes, 32, nullptr);
    BIGNUM* s = BN_bin2bn(bytes + 32, 32, nullptr);
    if (r == nullptr || s == nullptr || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
        BN_free(r);
        BN_free(s);
        throw std::bad_alloc();
    }
    int length = i2d_ECDSA_SIG(sig.get(), nullptr);
    if (length <= 0) return {};
    std::string der(static_cast<size_t>(length), '\0');
    auto* out = reinterpret_cast<unsigned char*>(der.data());
    i2d_ECDSA_SIG(sig.get(), &out);
    return der;
}

Json decode_json_segment(std::string_view segment, const char* what) {
    auto bytes = base64url_decode(segment);
    if (!bytes) reject("malformed_base64url", std::string("the token's ") + what + " is not valid base64url");
    Json value;
    try {
        value = parse_json(*bytes, what, JsonLimits{kMaxTokenBytes, 16});
    } catch (const Error&) {
        reject("malformed_json", std::string("the token's ") + what + " is not valid JSON");
    }
    if (!value.is_object()) reject("malformed_json", std::string("the token's ") + what + " is not a JSON object");
    return value;
}

}  // namespace

struct PublicKey::Impl {
    PkeyPtr key;
};

std::optional<Algorithm> algorithm_from_name(std::string_view name) {
    for (const auto& [text, alg] : kAlgorithms) {
        if (text == name) return alg;
    }
    return std::nullopt;
}

std::string_view algorithm_name(Algorithm alg) {
    for (const auto& [text, value] : kAlgorithms) {
        if (value == alg) return text;
    }
    return "?";
}

PublicKey::PublicKey(std::unique_ptr<Impl> impl, Algorithm alg) : impl_(std::move(impl)), alg_(alg) {}
PublicKey::PublicKey(PublicKey&&) noexcept = default;
PublicKey& PublicKey::operator=(PublicKey&&) noexcept = default;
PublicKey::~PublicKey() = default;

PublicKey PublicKey::from_pem(std::string_view pem, Algorithm alg) {
    if (pem.size() > 16 * 1024) bad_key("public key PEM is too large");
    BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    if (!bio) throw std::bad_alloc();
    PkeyPtr key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
    ERR_clear_error();  // a failed parse leaves OpenSSL errors queued in the backend
    if (!key) bad_key("public key is not a PEM-encoded public key (-----BEGIN PUBLIC KEY-----)");

    int type = EVP_PKEY_get_base_id(key.get());
    switch (alg) {
        case Algorithm::RS256:
        case Algorithm::PS256: {
            if (type != EVP_PKEY_RSA && !(alg == Algorithm::PS256 && type == EVP_PKEY_RSA_PSS)) {
                bad_key(std::string(algorithm_name(alg)) + " needs an RSA public key");
            }
            int bits = EVP_PKEY_get_bits(key.get());
            if (bits < kMinRsaBits) {
                bad_key("RSA key is " + std::to_string(bits) + " bits; at least " + std::to_string(kMinRsaBits) +
                        " are required");
            }
            break;
        }
        case Algorithm::ES256: {
            char group[64] = "";
            size_t group_length = 0;
            if (type != EVP_PKEY_EC ||
                EVP_PKEY_get_group_name(key.get(), group, sizeof(group), &group_length) != 1 ||
                (std::strcmp(group, "prime256v1") != 0 && std::strcmp(group, "P-256") != 0)) {
                bad_key("ES256 needs an EC public key on the P-256 curve");
            }
            break;
        }
        case Algorithm::EdDSA:
            if (type != EVP_PKEY_ED25519 && type != EVP_PKEY_ED448) bad_key("EdDSA needs an Ed25519 or Ed448 public key");
            break;
    }
    auto impl = std::make_unique<Impl>();
    impl->key = std::move(key);
    return PublicKey(std::move(impl), alg);
}

bool PublicKey::verify(std::string_view message, std::string_view signature) const {
    // A failed verification queues OpenSSL errors; leave the queue empty.
    struct ClearErrors {
        ~ClearErrors() { ERR_clear_error(); }
    } clear_errors;
    MdCtxPtr ctx(EVP_MD_CTX_new());
    if (!ctx) throw std::bad_alloc();
    EVP_PKEY_CTX* pctx = nullptr;
    std::string der;
    const EVP_MD* digest = alg_ == Algorithm::EdDSA ? nullptr : EVP_sha256();
    if (EVP_DigestVerifyInit(ctx.get(), &pctx, digest, nullptr, impl_->key.get()) != 1) return false;
    // RFC 8017 8.1.2 and 8.2.2, step 1: an RSA signature is exactly as long
    // as the modulus. OpenSSL takes a shorter one as the number it encodes,
    // so a signature whose first byte is zero would verify without it too.
    if ((alg_ == Algorithm::PS256 || alg_ == Algorithm::RS256) &&
        signature.size() != static_cast<size_t>(EVP_PKEY_get_size(impl_->key.get())))
        return false;
    if (alg_ == Algorithm::PS256) {
        if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
            EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1 ||
            EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) != 1) {
            return false;
        }
    } else if (alg_ == Algorithm::RS256) {
        if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1) return false;
    } else if (alg_ == Algorithm::ES256) {
        der = ecdsa_raw_to_der(signature);
        if (der.empty()) return false;
        signature = der;
    }
    return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                            reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
}

void reject(std::string_view reason, const std::string& message) {
    throw Error(ErrorCode::LicenseInvalid, message, Json{{"reason", std::string(reason)}});
}

Token parse(std::string_view text) {
    if (text.size() > kMaxTokenBytes) {
        reject("too_large", "the token is " + std::to_string(text.size()) + " bytes; at most " +
                                std::to_string(kMaxTokenBytes) + " are accepted");
    }
    size_t first = text.find('.');
    size_t second = first == std::string_view::npos ? first : text.find('.', first + 1);
    if (first == std::string_view::npos || second == std::string_view::npos ||
        text.find('.', second + 1) != std::string_view::npos) {
        reject("segments", "the token must have exactly three dot-separated segments");
    }
    Token token;
    token.header = decode_json_segment(text.substr(0, first), "header");
    token.payload = decode_json_segment(text.substr(first + 1, second - first - 1), "payload");
    auto signature = base64url_decode(text.substr(second + 1));
    if (!signature) reject("malformed_base64url", "the token's signature is not valid base64url");
    token.signature = std::move(*signature);
    token.signing_input = std::string(text.substr(0, second));

    auto alg = token.header.find("alg");
    if (alg == token.header.end() || !alg->is_string()) reject("malformed_header", "the token's header has no \"alg\"");
    token.alg = alg->get<std::string>();
    if (token.alg == "none" || token.alg == "None" || token.alg == "NONE") {
        reject("alg_none", "unsigned tokens (alg \"none\") are never accepted");
    }
    if (token.alg.rfind("HS", 0) == 0) {
        reject("alg_hmac", "HMAC-signed tokens (" + token.alg + ") are never accepted: licences are signed with private keys");
    }
    if (!algorithm_from_name(token.alg)) reject("unsupported_alg", "algorithm \"" + token.alg + "\" is not supported");
    auto kid = token.header.find("kid");
    if (kid == token.header.end() || !kid->is_string() || kid->get<std::string>().empty()) {
        reject("missing_kid", "the token's header has no \"kid\" naming its signing key");
    }
    token.kid = kid->get<std::string>();
    return token;
}

void verify_signature(const Token& token, const std::function<KeyLookup(const std::string& kid)>& lookup) {
    KeyLookup found = lookup(token.kid);
    if (found.revoked) reject("revoked_kid", "signing key \"" + token.kid + "\" has been revoked");
    if (!found.key) reject("unknown_kid", "signing key \"" + token.kid + "\" is not registered");
    if (algorithm_name(found.key->algorithm()) != token.alg) {
        reject("alg_mismatch", "signing key \"" + token.kid + "\" is registered for " +
                                   std::string(algorithm_name(found.key->algorithm())) + ", the token says " + token.alg);
    }
    if (!found.key->verify(token.signing_input, token.signature)) {
        reject("bad_signature", "the token's signature does not verify (the token was altered or signed by another key)");
    }
}

}  // namespace kaireon::jwt
