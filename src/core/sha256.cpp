#include "core/sha256.h"

#include "core/error.h"

#include <openssl/err.h>
#include <openssl/evp.h>

namespace kaireon {

namespace {

// The implementation, fetched at the first use and kept (freed at exit by
// OpenSSL's own cleanup; a backend never needs another).
const EVP_MD* sha256_md() {
    static EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    return fetched;
}

}  // namespace

Sha256Digest sha256(std::string_view data) {
    Sha256Digest out{};
    unsigned int length = 0;
    const EVP_MD* md = sha256_md();
    if (md == nullptr || EVP_Digest(data.data(), data.size(), out.data(), &length, md, nullptr) != 1 ||
        length != out.size()) {
        ERR_clear_error();
        throw Error(ErrorCode::Internal, "SHA-256 failed in OpenSSL");
    }
    return out;
}

}  // namespace kaireon
