// webhook_signature_test.cpp - HMAC-SHA256 against the RFC 4231 test
// vectors, the Kaireon-Signature header's format, and verification refusing
// every altered part (src/core/webhook_signature.h).
#include "core/webhook_signature.h"

#include <gtest/gtest.h>

#include <string>

namespace kaireon::webhooks {
namespace {

struct Vector {
    std::string key;
    std::string data;
    std::string hex;  // full HMAC-SHA256, or its first 32 digits for test case 5
};

std::string bytes(int count, unsigned char value) { return std::string(static_cast<size_t>(count), static_cast<char>(value)); }

// RFC 4231 section 4, HMAC-SHA-256 results.
std::vector<Vector> rfc4231() {
    std::string key4;
    for (int i = 1; i <= 25; ++i) key4.push_back(static_cast<char>(i));
    return {
        {bytes(20, 0x0b), "Hi There", "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
        {"Jefe", "what do ya want for nothing?", "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
        {bytes(20, 0xaa), bytes(50, 0xdd), "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
        {key4, bytes(50, 0xcd), "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
        {bytes(20, 0x0c), "Test With Truncation", "a3b6167473100ee06e0c796c2955552b"},
        {bytes(131, 0xaa), "Test Using Larger Than Block-Size Key - Hash Key First",
         "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
        {bytes(131, 0xaa),
         "This is a test using a larger than block-size key and a larger than block-size data. The key needs to be "
         "hashed before being used by the HMAC algorithm.",
         "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
    };
}

TEST(WebhookSignature, Rfc4231Vectors) {
    int n = 0;
    for (const auto& v : rfc4231()) {
        ++n;
        const std::string mac = hmac_sha256_hex(v.key, v.data);
        ASSERT_EQ(mac.size(), 64u) << "test case " << n;
        EXPECT_EQ(mac.substr(0, v.hex.size()), v.hex) << "test case " << n;
    }
}

TEST(WebhookSignature, EmptyKeyAndMessage) {
    // HMAC-SHA256("", "") (a well-known value; OpenSSL needs a non-null pointer).
    EXPECT_EQ(hmac_sha256_hex("", ""), "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

TEST(WebhookSignature, SignedContentIsTimestampDotBody) {
    EXPECT_EQ(signed_content(1781092800, R"({"a": 1})"), R"(1781092800.{"a": 1})");
    EXPECT_EQ(signed_content(0, ""), "0.");
}

TEST(WebhookSignature, HeaderFormat) {
    const std::string secret = "whsec_" + std::string(64, 'a');
    const std::string body = R"({"id": 7, "type": "quota.warning"})";
    const std::string header = signature_header(secret, 1781092800, body);
    ASSERT_EQ(header.size(), 3u + 64u);
    EXPECT_EQ(header.substr(0, 3), "v1=");
    EXPECT_EQ(header.find_first_not_of("0123456789abcdef", 3), std::string::npos);
    EXPECT_EQ(header, "v1=" + hmac_sha256_hex(secret, "1781092800." + body));
}

TEST(WebhookSignature, VerifyRefusesEveryAlteredPart) {
    const std::string secret = "whsec_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    const std::string body = R"({"id": 7})";
    const std::string header = signature_header(secret, 1000, body);
    EXPECT_TRUE(verify_signature_header(header, secret, 1000, body));
    EXPECT_FALSE(verify_signature_header(header, secret, 1001, body));         // replayed with a new timestamp
    EXPECT_FALSE(verify_signature_header(header, secret, 1000, R"({"id": 8})"));  // tampered body
    EXPECT_FALSE(verify_signature_header(header, secret + "x", 1000, body));   // another secret
    EXPECT_FALSE(verify_signature_header(header.substr(3), secret, 1000, body));  // without "v1="
    EXPECT_FALSE(verify_signature_header("v0=" + header.substr(3), secret, 1000, body));
    std::string flipped = header;
    flipped.back() = flipped.back() == '0' ? '1' : '0';
    EXPECT_FALSE(verify_signature_header(flipped, secret, 1000, body));
    EXPECT_FALSE(verify_signature_header("", secret, 1000, body));
}

}  // namespace
}  // namespace kaireon::webhooks
