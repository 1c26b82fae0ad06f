// base64url_test.cpp - RFC 4648 section 5 base64url without padding
// (src/core/base64url.h): test vectors, round trips against OpenSSL's
// encoder as an independent oracle, and refusal of every non-canonical form.
#include "core/base64url.h"

#include <gtest/gtest.h>

#include "base64url_oracle.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>

namespace kaireon {
namespace {

constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string reference_encode(std::string_view bytes) { return kaireon::testing::reference_base64url(bytes); }

struct Vector {
    std::string_view bytes;
    std::string_view encoded;
};

// RFC 4648 section 10 (padding removed, as section 5 allows and JWS requires).
constexpr Vector kRfc4648Vectors[] = {
    {"", ""},         {"f", "Zg"},         {"fo", "Zm8"},          {"foo", "Zm9v"},
    {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"},
};

TEST(Base64url, Rfc4648Vectors) {
    for (const auto& v : kRfc4648Vectors) {
        EXPECT_EQ(base64url_encode(v.bytes), v.encoded) << "bytes: " << v.bytes;
        auto decoded = base64url_decode(v.encoded);
        ASSERT_TRUE(decoded.has_value()) << "encoded: " << v.encoded;
        EXPECT_EQ(*decoded, v.bytes);
    }
}

TEST(Base64url, UrlSafeAlphabetForIndexes62And63) {
    // 0xfb 0xff 0xfe is "+//+" in standard base64 and "-__-" in base64url.
    const std::string bytes("\xfb\xff\xfe", 3);
    EXPECT_EQ(reference_encode(bytes), "-__-");
    EXPECT_EQ(base64url_encode(bytes), "-__-");
    EXPECT_EQ(base64url_decode("-__-"), bytes);
    EXPECT_EQ(base64url_encode(std::string("\xfb\xff", 2)), "-_8");
}

TEST(Base64url, Rfc7515HeaderExample) {
    // RFC 7515 appendix A.1: the JOSE header with its CRLF line breaks.
    const std::string header = "{\"typ\":\"JWT\",\r\n \"alg\":\"HS256\"}";
    EXPECT_EQ(base64url_encode(header), "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9");
    EXPECT_EQ(base64url_decode("eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"), header);
}

TEST(Base64url, RandomBytesRoundTripForEveryLengthUpTo64) {
    std::mt19937 rng(20240229);
    std::uniform_int_distribution<int> byte(0, 255);
    for (size_t length = 0; length <= 64; ++length) {
        for (int sample = 0; sample < 8; ++sample) {
            std::string bytes(length, '\0');
            for (auto& c : bytes) c = static_cast<char>(byte(rng));
            std::string encoded = base64url_encode(bytes);
            EXPECT_EQ(encoded, reference_encode(bytes)) << "length " << length;
            EXPECT_EQ(encoded.size(), (length * 4 + 2) / 3) << "length " << length;  // no padding
            EXPECT_EQ(encoded.find_first_not_of(kAlphabet), std::string::npos) << encoded;
            auto decoded = base64url_decode(encoded);
            ASSERT_TRUE(decoded.has_value()) << "length " << length << ": " << encoded;
            EXPECT_EQ(*decoded, bytes) << "length " << length;
        }
    }
}

TEST(Base64url, AllByteValuesRoundTrip) {
    std::string bytes;
    for (int i = 0; i < 256; ++i) bytes.push_back(static_cast<char>(i));
    EXPECT_EQ(base64url_decode(base64url_encode(bytes)), bytes);
}

TEST(Base64url, RefusesPadding) {
    EXPECT_EQ(base64url_decode("Zg=="), std::nullopt);
    EXPECT_EQ(base64url_decode("Zg="), std::nullopt);
    EXPECT_EQ(base64url_decode("Zm8="), std::nullopt);
    EXPECT_EQ(base64url_decode("===="), std::nullopt);
    EXPECT_EQ(base64url_decode("Zm9v===="), std::nullopt);
}

TEST(Base64url, RefusesStandardAlphabetPlusAndSlash) {
    EXPECT_EQ(base64url_decode("+__-"), std::nullopt);
    EXPECT_EQ(base64url_decode("-_/-"), std::nullopt);
    EXPECT_EQ(base64url_decode("+//+"), std::nullopt);
    EXPECT_TRUE(base64url_decode("-__-").has_value());  // the control
}

TEST(Base64url, RefusesWhitespaceAnywhere) {
    for (std::string_view text : {" Zm9v", "Zm9v ", "Zm 9v", "Zm9v\n", "Zm\r\n9v", "\tZm9v", "Zm9v\f", "Zm9v\v"}) {
        EXPECT_EQ(base64url_decode(text), std::nullopt) << "'" << text << "'";
    }
}

TEST(Base64url, RefusesEveryByteOutsideTheAlphabet) {
    for (int c = 0; c < 256; ++c) {
        std::string text = "AAA";
        text.push_back(static_cast<char>(c));  // length 4: the last sextet has no trailing bits
        bool in_alphabet = kAlphabet.find(static_cast<char>(c)) != std::string_view::npos;
        EXPECT_EQ(base64url_decode(text).has_value(), in_alphabet) << "byte " << c;
    }
}

TEST(Base64url, RefusesEmbeddedNul) {
    EXPECT_EQ(base64url_decode(std::string_view("Zm\0v", 4)), std::nullopt);
}

TEST(Base64url, RefusesLengthOneModFour) {
    for (std::string_view text : {"Z", "A", "Zm9vY", "Zm9vYmFyZ", "AAAAAAAAA"}) {
        EXPECT_EQ(base64url_decode(text), std::nullopt) << text;
    }
}

TEST(Base64url, RefusesNonZeroTrailingBits) {
    EXPECT_EQ(base64url_decode("Zg"), std::string("f"));
    EXPECT_EQ(base64url_decode("Zh"), std::nullopt);  // same 'f', a trailing 1 bit
    EXPECT_EQ(base64url_decode("Zm8"), std::string("fo"));
    EXPECT_EQ(base64url_decode("Zm9"), std::nullopt);
    EXPECT_EQ(base64url_decode("Zm9vYh"), std::nullopt);
    EXPECT_EQ(base64url_decode("Zm9vYmF"), std::nullopt);
}

TEST(Base64url, ExactlyOneCanonicalFinalCharacterPerValue) {
    // Length 2 mod 4 leaves 4 trailing bits: only 4 of the 64 characters
    // (those whose low 4 bits are zero) may end the text. Length 3 mod 4
    // leaves 2: 16 characters.
    int accepted_two = 0;
    int accepted_three = 0;
    for (char last : kAlphabet) {
        auto index = static_cast<int>(kAlphabet.find(last));
        bool two = base64url_decode(std::string("Z") + last).has_value();
        bool three = base64url_decode(std::string("Zm") + last).has_value();
        EXPECT_EQ(two, index % 16 == 0) << "Z" << last;
        EXPECT_EQ(three, index % 4 == 0) << "Zm" << last;
        accepted_two += two;
        accepted_three += three;
    }
    EXPECT_EQ(accepted_two, 4);
    EXPECT_EQ(accepted_three, 16);
}

TEST(Base64url, DecodeOfEncodeIsIdentityAndEncodeOfDecodeIsIdentity) {
    // Canonical means: every accepted text is exactly what encode produces.
    std::mt19937 rng(7);
    std::uniform_int_distribution<size_t> pick(0, kAlphabet.size() - 1);
    for (size_t length = 0; length <= 24; ++length) {
        for (int sample = 0; sample < 50; ++sample) {
            std::string text(length, 'A');
            for (auto& c : text) c = kAlphabet[pick(rng)];
            auto decoded = base64url_decode(text);
            if (decoded) {
                EXPECT_EQ(base64url_encode(*decoded), text);
            }
        }
    }
}

}  // namespace
}  // namespace kaireon
