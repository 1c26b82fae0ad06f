// jwt_fuzz.cpp - libFuzzer target for kaireon::license::verify_token.
//
// Contract under test: for any bytes, verify_token either returns claims or
// throws kaireon::Error(LicenseInvalid) whose DETAIL carries a non-empty
// string `reason`; anything else (another exception, another code, a crash,
// a sanitizer report) aborts. The key ring holds one RSA-2048 RS256 key under
// kid "k", generated once per process; "r" is a revoked kid and every other
// kid is unknown. The fuzzer cannot forge a signature, so accepted inputs are
// not expected: any input that is accepted is checked for the invariants of
// read_claims.
//
// Built by CMakeLists.txt with clang++-14; run by the ctest test fuzz_jwt, or
// by hand:  build/core/fuzz/jwt_fuzz -max_total_time=300 /tmp/corpus test/fuzz/corpus/jwt
#include "core/error.h"
#include "core/json.h"
#include "core/jwt.h"
#include "core/license.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <string>
#include <string_view>

namespace {

[[noreturn]] void fail(const char* what, const char* detail) {
    std::fprintf(stderr, "jwt_fuzz: %s: %s\n", what, detail);
    std::abort();
}

std::shared_ptr<const kaireon::jwt::PublicKey> make_key() {
    EVP_PKEY* pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048});
    if (pkey == nullptr) fail("setup", "RSA key generation failed");
    BIO* bio = BIO_new(BIO_s_mem());
    if (bio == nullptr || PEM_write_bio_PUBKEY(bio, pkey) != 1) fail("setup", "PEM_write_bio_PUBKEY failed");
    char* data = nullptr;
    long length = BIO_get_mem_data(bio, &data);
    std::string pem(data, static_cast<size_t>(length));
    BIO_free(bio);
    EVP_PKEY_free(pkey);
    return std::make_shared<const kaireon::jwt::PublicKey>(
        kaireon::jwt::PublicKey::from_pem(pem, kaireon::jwt::Algorithm::RS256));
}

kaireon::jwt::KeyLookup lookup(const std::string& kid) {
    static const std::shared_ptr<const kaireon::jwt::PublicKey> key = make_key();
    if (kid == "k") return kaireon::jwt::KeyLookup{key, false};
    if (kid == "r") return kaireon::jwt::KeyLookup{key, true};
    return kaireon::jwt::KeyLookup{};
}

void check_refused(const kaireon::Error& e) {
    if (e.code() != kaireon::ErrorCode::LicenseInvalid) fail("unexpected error code", e.what());
    const kaireon::Json& detail = e.detail();
    auto reason = detail.find("reason");
    if (reason == detail.end() || !reason->is_string() || reason->get<std::string>().empty()) {
        fail("refusal without a reason", e.detail_text().c_str());
    }
    if (detail.at("code") != "LICENSE_INVALID") fail("detail code is not LICENSE_INVALID", e.detail_text().c_str());
}

void check_accepted(const kaireon::license::Claims& claims) {
    if (claims.sub.empty() || claims.jti.empty()) fail("accepted claims without sub or jti", claims.sub.c_str());
    if (!claims.limits.is_object() || !claims.features.is_object()) fail("limits/features not objects", "");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    lookup("k");  // generate the key before the first input, not inside its time budget
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        kaireon::license::Claims claims = kaireon::license::verify_token(text, &lookup);
        check_accepted(claims);
    } catch (const kaireon::Error& e) {
        try {
            check_refused(e);
        } catch (const std::exception& inner) {
            fail("refusal's detail is broken", inner.what());
        }
    } catch (const std::exception& e) {
        fail("exception other than kaireon::Error", e.what());
    } catch (...) {
        fail("non-std exception", "?");
    }
    return 0;
}
