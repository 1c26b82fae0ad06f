// base64url_oracle.h - base64url written with OpenSSL's standard base64
// encoder ('+' -> '-', '/' -> '_', padding dropped): an oracle independent of
// src/core/base64url.cpp, shared by the unit tests that need one.
#pragma once

#include <openssl/evp.h>

#include <algorithm>
#include <string>
#include <string_view>

namespace kaireon::testing {

inline std::string reference_base64url(std::string_view bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
    int length = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                 reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
    out.resize(static_cast<size_t>(length));
    while (!out.empty() && out.back() == '=') out.pop_back();
    std::replace(out.begin(), out.end(), '+', '-');
    std::replace(out.begin(), out.end(), '/', '_');
    return out;
}

}  // namespace kaireon::testing
