#include "core/sha256.h"

#include "core/error.h"

#include <openssl/err.h>
#include <openssl/evp.h>

#include <functional>
#include <string>
#include <unordered_map>

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

namespace {

// Looks names up without copying them into a std::string first.
struct NameHash {
    using is_transparent = void;
    size_t operator()(std::string_view name) const noexcept { return std::hash<std::string_view>{}(name); }
};

}  // namespace

std::string joined_name(std::string_view prefix, std::initializer_list<std::string_view> parts) {
    size_t size = prefix.size() + parts.size();
    for (std::string_view part : parts) size += part.size();
    std::string name;
    name.reserve(size);
    name += prefix;
    for (const std::string_view* part = parts.begin(); part != parts.end(); ++part) {
        if (part != parts.begin()) name += '\0';
        name += *part;
    }
    return name;
}

Sha256Digest sha256_of_name(std::string_view name) {
    thread_local std::unordered_map<std::string, Sha256Digest, NameHash, std::equal_to<>> remembered;
    if (auto found = remembered.find(name); found != remembered.end()) return found->second;
    const Sha256Digest digest = sha256(name);
    if (remembered.size() >= kRememberedNames) remembered.clear();
    remembered.emplace(name, digest);
    return digest;
}

}  // namespace kaireon
