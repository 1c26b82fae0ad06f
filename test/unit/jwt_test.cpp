// jwt_test.cpp - licence JWT parsing and signature verification
// (src/core/jwt.h). Every key is generated here with OpenSSL EVP and every
// token is signed here (header.payload with EVP_DigestSign), so the tests
// depend on no fixture files and on no other JWT library. Each rejection is
// checked by its ErrorCode and its DETAIL `reason` slug.
#include "core/error.h"
#include "core/json.h"
#include "core/jwt.h"

#include <gtest/gtest.h>

#include "base64url_oracle.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

namespace kaireon::jwt {
namespace {

// --- OpenSSL helpers -----------------------------------------------------------

struct PkeyFree {
    void operator()(EVP_PKEY* p) const noexcept { EVP_PKEY_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

Pkey checked(EVP_PKEY* key, const char* what) {
    if (key == nullptr) throw std::runtime_error(std::string("key generation failed: ") + what);
    return Pkey(key);
}

Pkey generate_rsa(size_t bits) { return checked(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", bits), "RSA"); }
// OpenSSL 3.0's EVP_PKEY_Q_keygen knows only "RSA" among the RSA types.
Pkey generate_rsa_pss(int bits) {
    std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA-PSS", nullptr),
                                                                   &EVP_PKEY_CTX_free);
    EVP_PKEY* key = nullptr;
    if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 || EVP_PKEY_CTX_set_rsa_keygen_bits(ctx.get(), bits) != 1 ||
        EVP_PKEY_generate(ctx.get(), &key) != 1) {
        key = nullptr;
    }
    return checked(key, "RSA-PSS");
}
Pkey generate_ec(const char* curve) { return checked(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve), curve); }
Pkey generate_ed(const char* type) { return checked(EVP_PKEY_Q_keygen(nullptr, nullptr, type), type); }

// Keys are generated on first use and shared by the tests of one process
// (ctest runs each TEST in its own process, so only what a test uses is made).
EVP_PKEY* rsa2048() {
    static Pkey key = generate_rsa(2048);
    return key.get();
}
EVP_PKEY* rsa2048_other() {
    static Pkey key = generate_rsa(2048);
    return key.get();
}
EVP_PKEY* rsa1024() {
    static Pkey key = generate_rsa(1024);
    return key.get();
}
EVP_PKEY* rsa_pss2048() {
    static Pkey key = generate_rsa_pss(2048);
    return key.get();
}
EVP_PKEY* p256() {
    static Pkey key = generate_ec("P-256");
    return key.get();
}
EVP_PKEY* p256_other() {
    static Pkey key = generate_ec("P-256");
    return key.get();
}
EVP_PKEY* p384() {
    static Pkey key = generate_ec("P-384");
    return key.get();
}
EVP_PKEY* ed25519() {
    static Pkey key = generate_ed("ED25519");
    return key.get();
}
EVP_PKEY* ed25519_other() {
    static Pkey key = generate_ed("ED25519");
    return key.get();
}
EVP_PKEY* ed448() {
    static Pkey key = generate_ed("ED448");
    return key.get();
}

std::string public_pem(EVP_PKEY* key) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
    if (!bio || PEM_write_bio_PUBKEY(bio.get(), key) != 1) throw std::runtime_error("PEM_write_bio_PUBKEY failed");
    char* data = nullptr;
    long length = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<size_t>(length));
}

std::string private_pem(EVP_PKEY* key) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
    if (!bio || PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
        throw std::runtime_error("PEM_write_bio_PrivateKey failed");
    }
    char* data = nullptr;
    long length = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<size_t>(length));
}

std::string b64url(std::string_view bytes) { return kaireon::testing::reference_base64url(bytes); }

enum class Signer { RS256, PS256, ES256, ES384Raw, EdDSA };

// ecdsa_der_to_raw converts OpenSSL's DER ECDSA signature into JWS R||S,
// each left-padded to `half` bytes.
std::string ecdsa_der_to_raw(const std::string& der, int half) {
    const auto* p = reinterpret_cast<const unsigned char*>(der.data());
    std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)> sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())),
                                                             &ECDSA_SIG_free);
    if (!sig) throw std::runtime_error("d2i_ECDSA_SIG failed");
    const BIGNUM* r = nullptr;
    const BIGNUM* s = nullptr;
    ECDSA_SIG_get0(sig.get(), &r, &s);
    std::string raw(static_cast<size_t>(2 * half), '\0');
    auto* out = reinterpret_cast<unsigned char*>(raw.data());
    if (BN_bn2binpad(r, out, half) != half || BN_bn2binpad(s, out + half, half) != half) {
        throw std::runtime_error("BN_bn2binpad failed");
    }
    return raw;
}

// sign returns the signature bytes of `message` as a JWS carries them.
// `der` keeps ECDSA signatures in OpenSSL's DER form (a wrong JWS encoding).
std::string sign(EVP_PKEY* key, Signer signer, std::string_view message, bool der = false) {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    EVP_PKEY_CTX* pctx = nullptr;
    const EVP_MD* md = signer == Signer::EdDSA ? nullptr : signer == Signer::ES384Raw ? EVP_sha384() : EVP_sha256();
    if (!ctx || EVP_DigestSignInit(ctx.get(), &pctx, md, nullptr, key) != 1) {
        throw std::runtime_error("EVP_DigestSignInit failed");
    }
    if (signer == Signer::PS256) {
        if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
            EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1) {
            throw std::runtime_error("PSS parameters refused");
        }
    }
    const auto* data = reinterpret_cast<const unsigned char*>(message.data());
    size_t length = 0;
    if (EVP_DigestSign(ctx.get(), nullptr, &length, data, message.size()) != 1) {
        throw std::runtime_error("EVP_DigestSign (size) failed");
    }
    std::string signature(length, '\0');
    if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &length, data, message.size()) !=
        1) {
        throw std::runtime_error("EVP_DigestSign failed");
    }
    signature.resize(length);
    if (!der && signer == Signer::ES256) return ecdsa_der_to_raw(signature, 32);
    if (!der && signer == Signer::ES384Raw) return ecdsa_der_to_raw(signature, 48);
    return signature;
}

std::string hmac(const EVP_MD* md, std::string_view secret, std::string_view message) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (HMAC(md, secret.data(), static_cast<int>(secret.size()), reinterpret_cast<const unsigned char*>(message.data()),
             message.size(), out, &length) == nullptr) {
        throw std::runtime_error("HMAC failed");
    }
    return std::string(reinterpret_cast<char*>(out), length);
}

// --- tokens --------------------------------------------------------------------

Json header_for(std::string_view alg, std::string_view kid = "k") {
    return Json{{"alg", std::string(alg)}, {"typ", "JWT"}, {"kid", std::string(kid)}};
}

Json sample_payload() {
    return Json{{"sub", "acme"}, {"tier", "professional"}, {"iat", 1700000000}, {"exp", 1900000000}, {"jti", "acme-1"}};
}

std::string signing_input(const Json& header, const Json& payload) {
    return b64url(header.dump()) + "." + b64url(payload.dump());
}

// mint returns header.payload.signature signed by `key`.
std::string mint(EVP_PKEY* key, Signer signer, const Json& header, const Json& payload = sample_payload()) {
    std::string input = signing_input(header, payload);
    return input + "." + b64url(sign(key, signer, input));
}

std::string mint_hmac(const EVP_MD* md, std::string_view alg, std::string_view secret) {
    std::string input = signing_input(header_for(alg), sample_payload());
    return input + "." + b64url(hmac(md, secret, input));
}

// A key ring: kid -> key (and revocation), as the licence code looks keys up.
class Ring {
public:
    Ring& add(const std::string& kid, EVP_PKEY* key, Algorithm alg, bool revoked = false) {
        entries_[kid] = KeyLookup{std::make_shared<const PublicKey>(PublicKey::from_pem(public_pem(key), alg)), revoked};
        return *this;
    }
    Ring& revoke_unloadable(const std::string& kid) {
        entries_[kid] = KeyLookup{nullptr, true};
        return *this;
    }
    std::function<KeyLookup(const std::string&)> lookup() const {
        return [this](const std::string& kid) {
            auto it = entries_.find(kid);
            return it == entries_.end() ? KeyLookup{} : it->second;
        };
    }

private:
    std::map<std::string, KeyLookup> entries_;
};

void parse_and_verify(std::string_view token, const Ring& ring) { verify_signature(parse(token), ring.lookup()); }

// Rejected returns success when `action` throws Error(code) whose DETAIL
// reason is `reason`.
template <typename Action>
::testing::AssertionResult Rejected(Action&& action, std::string_view reason,
                                    ErrorCode code = ErrorCode::LicenseInvalid) {
    try {
        action();
    } catch (const Error& e) {
        if (e.code() != code) {
            return ::testing::AssertionFailure() << "code " << error_info(e.code()).name << ", expected "
                                                 << error_info(code).name << " (" << e.what() << ")";
        }
        if (code == ErrorCode::LicenseInvalid) {
            auto it = e.detail().find("reason");
            if (it == e.detail().end() || !it->is_string() || *it != reason) {
                return ::testing::AssertionFailure()
                       << "reason " << (it == e.detail().end() ? "(none)" : it->dump()) << ", expected \"" << reason
                       << "\" (" << e.what() << ")";
            }
            if (e.detail().at("code") != "LICENSE_INVALID") {
                return ::testing::AssertionFailure() << "detail code " << e.detail().at("code").dump();
            }
        }
        return ::testing::AssertionSuccess() << e.what();
    } catch (const std::exception& e) {
        return ::testing::AssertionFailure() << "threw a non-kaireon exception: " << e.what();
    }
    return ::testing::AssertionFailure() << "did not throw (expected reason \"" << reason << "\")";
}

::testing::AssertionResult ParseRejected(std::string_view token, std::string_view reason) {
    return Rejected([&] { parse(token); }, reason);
}

::testing::AssertionResult VerifyRejected(std::string_view token, const Ring& ring, std::string_view reason) {
    return Rejected([&] { parse_and_verify(token, ring); }, reason);
}

::testing::AssertionResult KeyRefused(EVP_PKEY* key, Algorithm alg) {
    std::string pem = public_pem(key);
    return Rejected([&] { PublicKey::from_pem(pem, alg); }, "", ErrorCode::BadRequest);
}

std::string replace_segment(const std::string& token, int index, const std::string& segment) {
    size_t first = token.find('.');
    size_t second = token.find('.', first + 1);
    switch (index) {
        case 0: return segment + token.substr(first);
        case 1: return token.substr(0, first + 1) + segment + token.substr(second);
        default: return token.substr(0, second + 1) + segment;
    }
}

std::string segment(const std::string& token, int index) {
    size_t first = token.find('.');
    size_t second = token.find('.', first + 1);
    switch (index) {
        case 0: return token.substr(0, first);
        case 1: return token.substr(first + 1, second - first - 1);
        default: return token.substr(second + 1);
    }
}

// --- algorithm names -------------------------------------------------------------

TEST(JwtAlgorithm, NamesRoundTrip) {
    for (Algorithm alg : {Algorithm::RS256, Algorithm::PS256, Algorithm::ES256, Algorithm::EdDSA}) {
        auto back = algorithm_from_name(algorithm_name(alg));
        ASSERT_TRUE(back.has_value());
        EXPECT_EQ(*back, alg);
    }
    EXPECT_EQ(algorithm_name(Algorithm::RS256), "RS256");
    EXPECT_EQ(algorithm_name(Algorithm::PS256), "PS256");
    EXPECT_EQ(algorithm_name(Algorithm::ES256), "ES256");
    EXPECT_EQ(algorithm_name(Algorithm::EdDSA), "EdDSA");
}

TEST(JwtAlgorithm, NoneHmacAndOthersAreNotAlgorithms) {
    for (std::string_view name : {"none", "None", "HS256", "HS384", "HS512", "RS384", "RS512", "PS384", "ES384",
                                  "ES512", "ES256K", "Ed25519", "rs256", "eddsa", "", "RS256 "}) {
        EXPECT_FALSE(algorithm_from_name(name).has_value()) << "'" << name << "'";
    }
}

// --- positive: each algorithm ----------------------------------------------------

TEST(JwtVerify, AcceptsRS256) {
    Ring ring;
    ring.add("k", rsa2048(), Algorithm::RS256);
    std::string token = mint(rsa2048(), Signer::RS256, header_for("RS256"));
    Token parsed = parse(token);
    EXPECT_EQ(parsed.alg, "RS256");
    EXPECT_EQ(parsed.kid, "k");
    EXPECT_EQ(parsed.header, header_for("RS256"));
    EXPECT_EQ(parsed.payload, sample_payload());
    EXPECT_EQ(parsed.signing_input, token.substr(0, token.rfind('.')));
    EXPECT_EQ(parsed.signature.size(), 256u);
    EXPECT_NO_THROW(verify_signature(parsed, ring.lookup()));
}

TEST(JwtVerify, AcceptsPS256) {
    Ring ring;
    ring.add("k", rsa2048(), Algorithm::PS256);
    std::string token = mint(rsa2048(), Signer::PS256, header_for("PS256"));
    EXPECT_NO_THROW(parse_and_verify(token, ring));
    // PSS is randomised: a second signature differs and verifies too.
    std::string again = mint(rsa2048(), Signer::PS256, header_for("PS256"));
    EXPECT_NE(segment(token, 2), segment(again, 2));
    EXPECT_NO_THROW(parse_and_verify(again, ring));
}

TEST(JwtVerify, AcceptsPS256WithAnRsaPssKey) {
    Ring ring;
    ring.add("k", rsa_pss2048(), Algorithm::PS256);
    EXPECT_NO_THROW(parse_and_verify(mint(rsa_pss2048(), Signer::PS256, header_for("PS256")), ring));
}

TEST(JwtVerify, RefusesPS256WithAnotherSaltLength) {
    // RFC 7518 3.5: the salt is as long as the digest (32 bytes). A signature
    // with the maximum salt length must not verify.
    Ring ring;
    ring.add("k", rsa2048(), Algorithm::PS256);
    std::string input = signing_input(header_for("PS256"), sample_payload());
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    EVP_PKEY_CTX* pctx = nullptr;
    ASSERT_EQ(EVP_DigestSignInit(ctx.get(), &pctx, EVP_sha256(), nullptr, rsa2048()), 1);
    ASSERT_EQ(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING), 1);
    ASSERT_EQ(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_MAX), 1);
    size_t length = 512;
    std::string signature(length, '\0');
    ASSERT_EQ(EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &length,
                             reinterpret_cast<const unsigned char*>(input.data()), input.size()),
              1);
    signature.resize(length);
    EXPECT_TRUE(VerifyRejected(input + "." + b64url(signature), ring, "bad_signature"));
}

TEST(JwtVerify, AcceptsES256) {
    Ring ring;
    ring.add("k", p256(), Algorithm::ES256);
    std::string token = mint(p256(), Signer::ES256, header_for("ES256"));
    EXPECT_EQ(parse(token).signature.size(), 64u);
    EXPECT_NO_THROW(parse_and_verify(token, ring));
}

TEST(JwtVerify, AcceptsES256WhoseRorSHasLeadingZeroBytes) {
    // About 1 signature in 128 has R or S under 2^248: the raw form must keep
    // its leading zero bytes (and the verifier must accept them).
    Ring ring;
    ring.add("k", p256(), Algorithm::ES256);
    std::string input = signing_input(header_for("ES256"), sample_payload());
    int found = 0;
    for (int attempt = 0; attempt < 4000 && found < 2; ++attempt) {
        std::string raw = sign(p256(), Signer::ES256, input);
        if (raw[0] != '\0' && raw[32] != '\0') continue;
        ++found;
        EXPECT_NO_THROW(parse_and_verify(input + "." + b64url(raw), ring)) << "attempt " << attempt;
    }
    if (found == 0) GTEST_SKIP() << "no signature with a leading zero byte in 4000 attempts";
}

TEST(JwtVerify, AcceptsEdDSAWithEd25519) {
    Ring ring;
    ring.add("k", ed25519(), Algorithm::EdDSA);
    std::string token = mint(ed25519(), Signer::EdDSA, header_for("EdDSA"));
    EXPECT_EQ(parse(token).signature.size(), 64u);
    EXPECT_NO_THROW(parse_and_verify(token, ring));
}

TEST(JwtVerify, AcceptsEdDSAWithEd448) {
    Ring ring;
    ring.add("k", ed448(), Algorithm::EdDSA);
    std::string token = mint(ed448(), Signer::EdDSA, header_for("EdDSA"));
    EXPECT_EQ(parse(token).signature.size(), 114u);
    EXPECT_NO_THROW(parse_and_verify(token, ring));
}

TEST(JwtVerify, KidOnlySelectsTheKey) {
    // Several keys: each token verifies with the key of its kid only.
    Ring ring;
    ring.add("rsa", rsa2048(), Algorithm::RS256).add("ec", p256(), Algorithm::ES256).add("ed", ed25519(),
                                                                                          Algorithm::EdDSA);
    EXPECT_NO_THROW(parse_and_verify(mint(rsa2048(), Signer::RS256, header_for("RS256", "rsa")), ring));
    EXPECT_NO_THROW(parse_and_verify(mint(p256(), Signer::ES256, header_for("ES256", "ec")), ring));
    EXPECT_NO_THROW(parse_and_verify(mint(ed25519(), Signer::EdDSA, header_for("EdDSA", "ed")), ring));
    EXPECT_TRUE(VerifyRejected(mint(p256(), Signer::ES256, header_for("ES256", "rsa")), ring, "alg_mismatch"));
}

TEST(JwtVerify, HeaderMayCarryExtraFieldsAndAnyOrder) {
    Ring ring;
    ring.add("k", rsa2048(), Algorithm::RS256);
    Json header{{"kid", "k"}, {"x5t", "ignored"}, {"alg", "RS256"}};
    EXPECT_NO_THROW(parse_and_verify(mint(rsa2048(), Signer::RS256, header), ring));
}

// --- alg none / HMAC / unsupported -------------------------------------------

TEST(JwtReject, AlgNone) {
    for (std::string_view alg : {"none", "None", "NONE"}) {
        std::string unsigned_token = signing_input(header_for(alg), sample_payload()) + ".";
        EXPECT_TRUE(ParseRejected(unsigned_token, "alg_none")) << alg;
        // Also with a (meaningless) signature segment.
        EXPECT_TRUE(ParseRejected(unsigned_token + b64url("sig"), "alg_none")) << alg;
    }
}

TEST(JwtReject, AlgNoneOtherSpellingsAreStillRefused) {
    // Only none/None/NONE get the alg_none slug; any other spelling is simply
    // not a supported algorithm, which is refused as well.
    for (std::string_view alg : {"nOnE", "NoNe", "none "}) {
        EXPECT_TRUE(ParseRejected(signing_input(header_for(alg), sample_payload()) + ".", "unsupported_alg")) << alg;
    }
}

TEST(JwtReject, HmacAlgorithms) {
    EXPECT_TRUE(ParseRejected(mint_hmac(EVP_sha256(), "HS256", "secret"), "alg_hmac"));
    EXPECT_TRUE(ParseRejected(mint_hmac(EVP_sha384(), "HS384", "secret"), "alg_hmac"));
    EXPECT_TRUE(ParseRejected(mint_hmac(EVP_sha512(), "HS512", "secret"), "alg_hmac"));
}

TEST(JwtReject, Hs256SignedWithTheRsaPublicKeyPemAsSecret) {
    // The classic key-confusion attack: the attacker knows the public key and
    // uses its PEM as the HMAC secret, naming the RSA key's kid.
    Ring ring;
    ring.add("k", rsa2048(), Algorithm::RS256);
    std::string token = mint_hmac(EVP_sha256(), "HS256", public_pem(rsa2048()));
    EXPECT_TRUE(ParseRejected(token, "alg_hmac"));
    EXPECT_TRUE(VerifyRejected(token, ring, "alg_hmac"));
    // Also when the key is registered for another algorithm family.
    Ring ec_ring;
    ec_ring.add("k", p256(), Algorithm::ES256);
    EXPECT_TRUE(VerifyRejected(mint_hmac(EVP_sha256(), "HS256", public_pem(p256())), ec_ring, "alg_hmac"));
}

TEST(JwtReject, UnsupportedAlgorithms) {
    for (std::string_view alg : {"RS384", "RS512", "PS512", "ES384", "ES512", "ES256K", "Ed25519", "rs256", "", "RSA"}) {
        EXPECT_TRUE(ParseRejected(signing_input(header_for(alg), sample_payload()) + "." + b64url("sig"),
                                  "unsupported_alg"))
            << "'" << alg << "'";
    }
}

TEST(JwtReject, Es384TokenAgainstItsOwnP384KeyIsUnsupported) {
    // A correctly signed ES384 token still does not verify: not a licence algorithm.
    EXPECT_TRUE(ParseRejected(mint(p384(), Signer::ES384Raw, header_for("ES384")), "unsupported_alg"));
}

TEST(JwtReject, MalformedHeaderWithoutAlg) {
    std::string sig = "." + b64url("sig");
    EXPECT_TRUE(ParseRejected(signing_input(Json{{"kid", "k"}}, sample_payload()) + sig, "malformed_header"));
    EXPECT_TRUE(ParseRejected(signing_input(Json::object(), sample_payload()) + sig, "malformed_header"));
    for (const Json& alg : {Json(256), Json(nullptr), Json(true), Json::array({"RS256"}), Json{{"name", "RS256"}}}) {
        Json header{{"alg", alg}, {"kid", "k"}};
        EXPECT_TRUE(ParseRejected(signing_input(header, sample_payload()) + sig, "malformed_header")) << header.dump();
    }
}

// --- kid --------------------------------------------------------------------------

TEST(JwtReject, MissingKid) {
    std::string sig = "." + b64url("sig");
    EXPECT_TRUE(ParseRejected(signing_input(Json{{"alg", "RS256"}}, sample_payload()) + sig, "missing_kid"));
    for (const Json& kid : {Json(""), Json(7), Json(nullptr), Json::array({"k"}), Json::object()}) {
        Json header{{"alg", "RS256"}, {"kid", kid}};
        EXPECT_TRUE(ParseRejected(signing_input(header, sample_payload()) + sig, "missing_kid")) << header.dump();
    }
}

TEST(JwtReject, UnknownKid) {
    Ring ring;
    ring.add("k", ed25519(), Algorithm::EdDSA);
    EXPECT_TRUE(VerifyRejected(mint(ed25519(), Signer::EdDSA, header_for("EdDSA", "other")), ring, "unknown_kid"));
    EXPECT_TRUE(VerifyRejected(mint(ed25519(), Signer::EdDSA, header_for("EdDSA", "K")), ring, "unknown_kid"));
    Ring empty;
    EXPECT_TRUE(VerifyRejected(mint(ed25519(), Signer::EdDSA, header_for("EdDSA")), empty, "unknown_kid"));
}

TEST(JwtReject, RevokedKid) {
    Ring ring;
    ring.add("k", ed25519(), Algorithm::EdDSA, /*revoked=*/true);
    std::string token = mint(ed25519(), Signer::EdDSA, header_for("EdDSA"));
    EXPECT_TRUE(VerifyRejected(token, ring, "revoked_kid"));
    // A revoked key whose PEM no longer loads is still reported as revoked.
    Ring unloadable;
    unloadable.revoke_unloadable("k");
    EXPECT_TRUE(VerifyRejected(token, unloadable, "revoked_kid"));
}

TEST(JwtReject, LookupSeesTheKidAsWritten) {
    std::string seen;
    auto lookup = [&](const std::string& kid) {
        seen = kid;
        return KeyLookup{};
    };
    std::string token = mint(ed25519(), Signer::EdDSA, header_for("EdDSA", "vendor-2026/ü"));
    EXPECT_TRUE(Rejected([&] { verify_signature(parse(token), lookup); }, "unknown_kid"));
    EXPECT_EQ(seen, "vendor-2026/ü");
}

// --- algorithm bound to the key ---------------------------------------------------

TEST(JwtReject, AlgMismatchPs256TokenForRs256Key) {
    // Same RSA key, correctly PSS-signed: still refused, the key is RS256's.
    Ring ring;
    ring.add("k", rsa2048(), Algorithm::RS256);
    EXPECT_TRUE(VerifyRejected(mint(rsa2048(), Signer::PS256, header_for("PS256")), ring, "alg_mismatch"));
}

TEST(JwtReject, AlgMismatchRs256TokenForPs256Key) {
    Ring ring;
    ring.add("k", rsa2048(), Algorithm::PS256);
    EXPECT_TRUE(VerifyRejected(mint(rsa2048(), Signer::RS256, header_for("RS256")), ring, "alg_mismatch"));
}

TEST(JwtReject, AlgMismatchAcrossKeyTypes) {
    Ring ring;
    ring.add("ec", p256(), Algorithm::ES256).add("ed", ed25519(), Algorithm::EdDSA);
    EXPECT_TRUE(VerifyRejected(mint(ed25519(), Signer::EdDSA, header_for("EdDSA", "ec")), ring, "alg_mismatch"));
    EXPECT_TRUE(VerifyRejected(mint(p256(), Signer::ES256, header_for("ES256", "ed")), ring, "alg_mismatch"));
    EXPECT_TRUE(VerifyRejected(mint(rsa2048(), Signer::RS256, header_for("RS256", "ec")), ring, "alg_mismatch"));
}

// --- signatures -------------------------------------------------------------------

TEST(JwtReject, SignedByAnotherKey) {
    Ring ring;
    ring.add("rsa", rsa2048(), Algorithm::RS256)
        .add("pss", rsa2048(), Algorithm::PS256)
        .add("ec", p256(), Algorithm::ES256)
        .add("ed", ed25519(), Algorithm::EdDSA);
    EXPECT_TRUE(VerifyRejected(mint(rsa2048_other(), Signer::RS256, header_for("RS256", "rsa")), ring, "bad_signature"));
    EXPECT_TRUE(VerifyRejected(mint(rsa2048_other(), Signer::PS256, header_for("PS256", "pss")), ring, "bad_signature"));
    EXPECT_TRUE(VerifyRejected(mint(p256_other(), Signer::ES256, header_for("ES256", "ec")), ring, "bad_signature"));
    EXPECT_TRUE(VerifyRejected(mint(ed25519_other(), Signer::EdDSA, header_for("EdDSA", "ed")), ring, "bad_signature"));
}

struct AlgCase {
    const char* name;
    EVP_PKEY* (*key)();
    Signer signer;
    Algorithm alg;
};

const AlgCase kAlgCases[] = {
    {"RS256", &rsa2048, Signer::RS256, Algorithm::RS256},
    {"PS256", &rsa2048, Signer::PS256, Algorithm::PS256},
    {"ES256", &p256, Signer::ES256, Algorithm::ES256},
    {"EdDSA", &ed25519, Signer::EdDSA, Algorithm::EdDSA},
};

class JwtTamper : public ::testing::TestWithParam<AlgCase> {
protected:
    void SetUp() override {
        ring_.add("k", GetParam().key(), GetParam().alg);
        token_ = mint(GetParam().key(), GetParam().signer, header_for(GetParam().name));
        ASSERT_NO_THROW(parse_and_verify(token_, ring_));
    }
    Ring ring_;
    std::string token_;
};

TEST_P(JwtTamper, TamperedPayload) {
    Json payload = sample_payload();
    payload["tier"] = "enterprise";
    EXPECT_TRUE(VerifyRejected(replace_segment(token_, 1, b64url(payload.dump())), ring_, "bad_signature"));
    // Same claims, other serialisation (whitespace): the bytes are signed, not the JSON.
    EXPECT_TRUE(VerifyRejected(replace_segment(token_, 1, b64url(sample_payload().dump(1))), ring_, "bad_signature"));
}

TEST_P(JwtTamper, TamperedHeader) {
    Json header = header_for(GetParam().name);
    header["typ"] = "jwt";
    EXPECT_TRUE(VerifyRejected(replace_segment(token_, 0, b64url(header.dump())), ring_, "bad_signature"));
    header = header_for(GetParam().name);
    header["crit"] = Json::array({"exp"});
    EXPECT_TRUE(VerifyRejected(replace_segment(token_, 0, b64url(header.dump())), ring_, "bad_signature"));
}

TEST_P(JwtTamper, TamperedSignature) {
    std::string signature = parse(token_).signature;
    for (size_t at : {size_t{0}, signature.size() / 2, signature.size() - 1}) {
        std::string flipped = signature;
        flipped[at] = static_cast<char>(flipped[at] ^ 0x01);
        EXPECT_TRUE(VerifyRejected(replace_segment(token_, 2, b64url(flipped)), ring_, "bad_signature")) << "byte " << at;
    }
    EXPECT_TRUE(VerifyRejected(replace_segment(token_, 2, ""), ring_, "bad_signature"));
    EXPECT_TRUE(VerifyRejected(replace_segment(token_, 2, b64url(signature.substr(1))), ring_, "bad_signature"));
    EXPECT_TRUE(VerifyRejected(replace_segment(token_, 2, b64url(signature + '\0')), ring_, "bad_signature"));
    EXPECT_TRUE(
        VerifyRejected(replace_segment(token_, 2, b64url(std::string(signature.size(), '\0'))), ring_, "bad_signature"));
}

// An RSA signature with a leading zero byte, that byte dropped: the same
// number, one byte short. OpenSSL verified it; RFC 8017 says the length must
// be the modulus's. (Found by TamperedSignature above, 1 run in 256.)
TEST(JwtReject, RsaSignatureOneByteShortOfTheModulus) {
    for (const AlgCase& rsa : {kAlgCases[0], kAlgCases[1]}) {
        Ring ring;
        ring.add("k", rsa.key(), rsa.alg);
        std::string token, signature;
        for (int n = 0; n < 5000 && (signature.empty() || signature[0] != '\0'); ++n) {
            Json payload = sample_payload();
            payload["n"] = n;
            token = mint(rsa.key(), rsa.signer, header_for(rsa.name), payload);
            signature = parse(token).signature;
        }
        ASSERT_EQ(signature[0], '\0') << rsa.name << ": no signature with a leading zero in 5,000";
        ASSERT_NO_THROW(parse_and_verify(token, ring)) << rsa.name;
        EXPECT_TRUE(VerifyRejected(replace_segment(token, 2, b64url(signature.substr(1))), ring, "bad_signature"))
            << rsa.name;
    }
}

TEST_P(JwtTamper, SignatureOfAnotherTokenOfTheSameKey) {
    Json payload = sample_payload();
    payload["tier"] = "enterprise";
    std::string other = mint(GetParam().key(), GetParam().signer, header_for(GetParam().name), payload);
    EXPECT_NO_THROW(parse_and_verify(other, ring_));
    EXPECT_TRUE(VerifyRejected(replace_segment(token_, 2, segment(other, 2)), ring_, "bad_signature"));
}

TEST_P(JwtTamper, MalformedBase64urlInEachSegment) {
    for (int index = 0; index < 3; ++index) {
        std::string original = segment(token_, index);
        for (const std::string& bad :
             {original + "=", original + "==", "+" + original.substr(1), "/" + original.substr(1),
              original.substr(0, 4) + " " + original.substr(4), original + "\n", original.substr(0, 1) + "*" + original.substr(2)}) {
            EXPECT_TRUE(VerifyRejected(replace_segment(token_, index, bad), ring_, "malformed_base64url"))
                << "segment " << index << ": " << bad;
        }
    }
}

INSTANTIATE_TEST_SUITE_P(AllAlgorithms, JwtTamper, ::testing::ValuesIn(kAlgCases),
                         [](const ::testing::TestParamInfo<AlgCase>& param_info) { return std::string(param_info.param.name); });

TEST(JwtReject, MalformedBase64urlLengthOneModFour) {
    std::string token = mint(ed25519(), Signer::EdDSA, header_for("EdDSA"));
    for (int index = 0; index < 3; ++index) {
        std::string bad = segment(token, index);
        while (bad.size() % 4 != 1) bad += "A";
        EXPECT_TRUE(ParseRejected(replace_segment(token, index, bad), "malformed_base64url")) << "segment " << index;
    }
}

TEST(JwtReject, MalformedBase64urlNonCanonicalTrailingBits) {
    // "e30" is "{}" canonically; "e31" decodes to the same bytes with a
    // non-zero trailing bit: refused, so no two encodings of a token verify.
    EXPECT_TRUE(ParseRejected("e31." + b64url(sample_payload().dump()) + ".AA", "malformed_base64url"));
}

TEST(JwtReject, ES256SignatureOfTheWrongLength) {
    Ring ring;
    ring.add("k", p256(), Algorithm::ES256);
    std::string input = signing_input(header_for("ES256"), sample_payload());
    std::string raw = sign(p256(), Signer::ES256, input);
    ASSERT_EQ(raw.size(), 64u);
    ASSERT_NO_THROW(parse_and_verify(input + "." + b64url(raw), ring));
    // OpenSSL's DER form is not a JWS signature.
    std::string der = sign(p256(), Signer::ES256, input, /*der=*/true);
    EXPECT_TRUE(VerifyRejected(input + "." + b64url(der), ring, "bad_signature"));
    for (const std::string& bad : {raw.substr(0, 63), raw + '\0', std::string(1, '\0') + raw, raw.substr(0, 32),
                                   raw + raw, std::string()}) {
        EXPECT_TRUE(VerifyRejected(input + "." + b64url(bad), ring, "bad_signature")) << "length " << bad.size();
    }
    // 96 bytes: R||S of P-384's size.
    EXPECT_TRUE(VerifyRejected(input + "." + b64url(std::string(96, '\x01')), ring, "bad_signature"));
}

TEST(JwtReject, ES256SignatureWithZeroOrOversizedRAndS) {
    Ring ring;
    ring.add("k", p256(), Algorithm::ES256);
    std::string input = signing_input(header_for("ES256"), sample_payload());
    EXPECT_TRUE(VerifyRejected(input + "." + b64url(std::string(64, '\0')), ring, "bad_signature"));
    EXPECT_TRUE(VerifyRejected(input + "." + b64url(std::string(64, '\xff')), ring, "bad_signature"));
}

// --- structure ----------------------------------------------------------------------

TEST(JwtReject, MalformedJsonHeaderAndPayload) {
    std::string header = b64url(header_for("RS256").dump());
    std::string payload = b64url(sample_payload().dump());
    std::string sig = "." + b64url("sig");
    for (std::string_view bad : {"not json", "{", "{\"alg\":\"RS256\",}", "{'alg':'RS256'}", "", "{\"alg\":\"RS256\"}x",
                                 "\xff\xfe{}"}) {
        EXPECT_TRUE(ParseRejected(b64url(bad) + "." + payload + sig, "malformed_json")) << "header " << bad;
        EXPECT_TRUE(ParseRejected(header + "." + b64url(bad) + sig, "malformed_json")) << "payload " << bad;
    }
    // A NUL byte inside the JSON.
    std::string with_nul = std::string("{\"alg\":\"RS256\",\"kid\":\"k\"}") + '\0';
    EXPECT_TRUE(ParseRejected(b64url(with_nul) + "." + payload + sig, "malformed_json"));
}

TEST(JwtReject, HeaderOrPayloadNotAnObject) {
    std::string header = b64url(header_for("RS256").dump());
    std::string payload = b64url(sample_payload().dump());
    std::string sig = "." + b64url("sig");
    for (std::string_view bad : {"[]", "[{\"alg\":\"RS256\",\"kid\":\"k\"}]", "\"RS256\"", "42", "null", "true"}) {
        EXPECT_TRUE(ParseRejected(b64url(bad) + "." + payload + sig, "malformed_json")) << "header " << bad;
        EXPECT_TRUE(ParseRejected(header + "." + b64url(bad) + sig, "malformed_json")) << "payload " << bad;
    }
}

TEST(JwtReject, JsonNestedTooDeeply) {
    std::string deep;
    for (int i = 0; i < 40; ++i) deep += "{\"a\":";
    deep += "1";
    for (int i = 0; i < 40; ++i) deep += "}";
    std::string sig = "." + b64url("sig");
    EXPECT_TRUE(ParseRejected(b64url(header_for("RS256").dump()) + "." + b64url(deep) + sig, "malformed_json"));
}

TEST(JwtReject, NotThreeSegments) {
    std::string token = mint(ed25519(), Signer::EdDSA, header_for("EdDSA"));
    std::string h = segment(token, 0);
    std::string p = segment(token, 1);
    std::string s = segment(token, 2);
    for (const std::string& bad : {std::string(), h, h + "." + p, h + p + s, token + "." + s, token + ".", "." + token,
                                   h + ".." + p + "." + s, std::string("."), std::string("..."), std::string("....")}) {
        EXPECT_TRUE(ParseRejected(bad, "segments")) << "'" << bad << "'";
    }
}

TEST(JwtReject, ThreeEmptySegmentsAreMalformedJson) {
    // ".." has three segments; the empty header is not JSON.
    EXPECT_TRUE(ParseRejected("..", "malformed_json"));
}

TEST(JwtReject, OverEightKiB) {
    EXPECT_TRUE(ParseRejected(std::string(kMaxTokenBytes + 1, 'a'), "too_large"));
    EXPECT_TRUE(ParseRejected(std::string(1 << 20, '.'), "too_large"));
    // The size is checked before anything else: a signed token just over the limit.
    Json payload = sample_payload();
    payload["pad"] = std::string(kMaxTokenBytes, 'x');
    EXPECT_TRUE(ParseRejected(mint(ed25519(), Signer::EdDSA, header_for("EdDSA"), payload), "too_large"));
}

TEST(JwtVerify, ExactlyEightKiBIsAccepted) {
    Ring ring;
    ring.add("k", rsa2048(), Algorithm::RS256);
    // Find padding of header and payload that makes the token exactly 8192 bytes.
    std::string token;
    for (size_t header_pad = 0; header_pad < 4 && token.size() != kMaxTokenBytes; ++header_pad) {
        Json header = header_for("RS256");
        header["pad"] = std::string(header_pad, 'h');
        size_t header_length = b64url(header.dump()).size();
        size_t fixed = header_length + 1 + 1 + 342;  // 256 signature bytes = 342 characters
        // Start a little below the estimate: 3 payload bytes per 4 characters.
        size_t estimate = (kMaxTokenBytes - fixed) * 3 / 4 - sample_payload().dump().size();
        for (size_t pad = estimate > 32 ? estimate - 32 : 0; pad < kMaxTokenBytes; ++pad) {
            Json payload = sample_payload();
            payload["pad"] = std::string(pad, 'p');
            size_t length = fixed + b64url(payload.dump()).size();
            if (length > kMaxTokenBytes) break;
            if (length == kMaxTokenBytes) {
                token = mint(rsa2048(), Signer::RS256, header, payload);
                break;
            }
        }
    }
    ASSERT_EQ(token.size(), kMaxTokenBytes);
    EXPECT_NO_THROW(parse_and_verify(token, ring));
    EXPECT_TRUE(ParseRejected(token + "A", "too_large"));
}

TEST(JwtReject, ChecksHappenInOrder) {
    // alg none is refused before the kid is even looked at; the kid before
    // the signature; the payload's JSON is checked before the header's alg.
    std::string none_no_kid = signing_input(Json{{"alg", "none"}}, sample_payload()) + ".";
    EXPECT_TRUE(ParseRejected(none_no_kid, "alg_none"));
    std::string hmac_no_kid = signing_input(Json{{"alg", "HS256"}}, sample_payload()) + ".";
    EXPECT_TRUE(ParseRejected(hmac_no_kid, "alg_hmac"));
    EXPECT_TRUE(ParseRejected(b64url(Json{{"alg", "none"}}.dump()) + "." + b64url("[") + ".", "malformed_json"));
    Ring ring;
    ring.add("k", ed25519(), Algorithm::EdDSA, /*revoked=*/true);
    // Revoked kid and a bad signature: revocation is what is reported.
    EXPECT_TRUE(VerifyRejected(mint(ed25519_other(), Signer::EdDSA, header_for("EdDSA")), ring, "revoked_kid"));
}

// --- keys ------------------------------------------------------------------------------

TEST(JwtKey, LoadsEachSupportedKeyType) {
    EXPECT_EQ(PublicKey::from_pem(public_pem(rsa2048()), Algorithm::RS256).algorithm(), Algorithm::RS256);
    EXPECT_EQ(PublicKey::from_pem(public_pem(rsa2048()), Algorithm::PS256).algorithm(), Algorithm::PS256);
    EXPECT_EQ(PublicKey::from_pem(public_pem(p256()), Algorithm::ES256).algorithm(), Algorithm::ES256);
    EXPECT_EQ(PublicKey::from_pem(public_pem(ed25519()), Algorithm::EdDSA).algorithm(), Algorithm::EdDSA);
    EXPECT_EQ(PublicKey::from_pem(public_pem(ed448()), Algorithm::EdDSA).algorithm(), Algorithm::EdDSA);
}

TEST(JwtKey, VerifyDirectly) {
    PublicKey key = PublicKey::from_pem(public_pem(ed25519()), Algorithm::EdDSA);
    std::string signature = sign(ed25519(), Signer::EdDSA, "message");
    EXPECT_TRUE(key.verify("message", signature));
    EXPECT_FALSE(key.verify("messagE", signature));
    EXPECT_FALSE(key.verify("message", ""));
    PublicKey moved = std::move(key);
    EXPECT_TRUE(moved.verify("message", signature));
}

TEST(JwtKey, RefusesRsaUnder2048Bits) {
    EXPECT_TRUE(KeyRefused(rsa1024(), Algorithm::RS256));
    EXPECT_TRUE(KeyRefused(rsa1024(), Algorithm::PS256));
    try {
        PublicKey::from_pem(public_pem(rsa1024()), Algorithm::RS256);
        FAIL() << "a 1024-bit key was accepted";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::BadRequest);
        EXPECT_EQ(e.detail().value("field", ""), "publicKey");
        EXPECT_NE(std::string(e.what()).find("1024"), std::string::npos) << e.what();
    }
}

TEST(JwtKey, RefusesWrongKeyTypeForTheAlgorithm) {
    EXPECT_TRUE(KeyRefused(p256(), Algorithm::RS256));
    EXPECT_TRUE(KeyRefused(ed25519(), Algorithm::RS256));
    EXPECT_TRUE(KeyRefused(p256(), Algorithm::PS256));
    EXPECT_TRUE(KeyRefused(ed25519(), Algorithm::PS256));
    EXPECT_TRUE(KeyRefused(rsa2048(), Algorithm::ES256));
    EXPECT_TRUE(KeyRefused(ed25519(), Algorithm::ES256));
    EXPECT_TRUE(KeyRefused(rsa2048(), Algorithm::EdDSA));
    EXPECT_TRUE(KeyRefused(p256(), Algorithm::EdDSA));
}

TEST(JwtKey, RefusesRsaPssKeyForRS256) {
    EXPECT_TRUE(KeyRefused(rsa_pss2048(), Algorithm::RS256));
}

TEST(JwtKey, RefusesP384ForES256) {
    EXPECT_TRUE(KeyRefused(p384(), Algorithm::ES256));
}

TEST(JwtKey, RefusesGarbagePem) {
    std::string pem = public_pem(rsa2048());
    std::string truncated = pem.substr(0, pem.size() / 2);
    // The DER's first byte (the SEQUENCE tag, "M" in base64) broken: a change
    // inside the modulus would still parse as some other RSA key.
    size_t body = pem.find('\n') + 1;
    std::string corrupted = pem;
    ASSERT_EQ(corrupted[body], 'M');
    corrupted[body] = 'A';
    std::string no_armor = pem.substr(body, pem.find("-----END") - body);
    for (const std::string& bad :
         {std::string(), std::string("not a pem"), std::string("-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n"),
          std::string("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"), truncated, corrupted, no_armor,
          private_pem(rsa2048()), std::string(17 * 1024, 'A'), std::string("\0\0\0", 3)}) {
        EXPECT_TRUE(Rejected([&] { PublicKey::from_pem(bad, Algorithm::RS256); }, "", ErrorCode::BadRequest))
            << bad.substr(0, 40);
    }
}

TEST(JwtKey, PemLargerThan16KiBIsRefusedEvenWhenValid) {
    std::string pem = std::string(17 * 1024, '\n') + public_pem(rsa2048());
    EXPECT_TRUE(Rejected([&] { PublicKey::from_pem(pem, Algorithm::RS256); }, "", ErrorCode::BadRequest));
}

TEST(JwtReject, RejectHelperCarriesTheReason) {
    try {
        reject("some_slug", "a message");
        FAIL() << "reject returned";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::LicenseInvalid);
        EXPECT_EQ(std::string(e.what()), "a message");
        EXPECT_EQ(e.detail().at("reason"), "some_slug");
        EXPECT_EQ(e.detail().at("code"), "LICENSE_INVALID");
    }
}

}  // namespace
}  // namespace kaireon::jwt
