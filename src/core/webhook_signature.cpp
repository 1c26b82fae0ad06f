#include "core/webhook_signature.h"

#include "core/error.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace kaireon::webhooks {

std::string hmac_sha256_hex(std::string_view key, std::string_view message) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    // HMAC() takes a key length as int.
    if (key.size() > 1u << 20) throw Error(ErrorCode::Internal, "webhook signing key too long");
    static const unsigned char empty = 0;
    const void* key_data = key.empty() ? &empty : static_cast<const void*>(key.data());
    const auto* data = message.empty() ? &empty : reinterpret_cast<const unsigned char*>(message.data());
    if (HMAC(EVP_sha256(), key_data, static_cast<int>(key.size()), data, message.size(), digest, &length) == nullptr ||
        length != 32) {
        throw Error(ErrorCode::Internal, "HMAC-SHA256 failed");
    }
    static const char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(64);
    for (unsigned int i = 0; i < length; ++i) {
        out.push_back(digits[digest[i] >> 4]);
        out.push_back(digits[digest[i] & 0xF]);
    }
    return out;
}

std::string signed_content(int64_t timestamp, std::string_view body) {
    std::string content = std::to_string(timestamp);
    content.push_back('.');
    content.append(body);
    return content;
}

std::string signature_header(std::string_view secret, int64_t timestamp, std::string_view body) {
    return "v1=" + hmac_sha256_hex(secret, signed_content(timestamp, body));
}

bool verify_signature_header(std::string_view header, std::string_view secret, int64_t timestamp,
                             std::string_view body) {
    const std::string expected = signature_header(secret, timestamp, body);
    if (header.size() != expected.size()) return false;
    return CRYPTO_memcmp(header.data(), expected.data(), expected.size()) == 0;
}

}  // namespace kaireon::webhooks
