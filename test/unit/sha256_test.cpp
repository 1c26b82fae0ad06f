// sha256_test.cpp - kaireon::sha256 (src/core/sha256.h) against the FIPS
// 180-2 vectors and OpenSSL's one-shot SHA256() it replaces: lock tags and
// shared-memory keys must not change with it.
#include "core/sha256.h"

#include <gtest/gtest.h>
#include <openssl/sha.h>

#include <cstring>
#include <random>
#include <string>

namespace {

std::string hex(const kaireon::Sha256Digest& digest) {
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (unsigned char byte : digest) {
        out.push_back(digits[byte >> 4]);
        out.push_back(digits[byte & 0xF]);
    }
    return out;
}

TEST(Sha256, KnownVectors) {
    EXPECT_EQ(hex(kaireon::sha256("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(hex(kaireon::sha256("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(hex(kaireon::sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256, SameAsOneShotSha256ForAnyBytes) {
    std::mt19937_64 rng(42);
    for (size_t length : {size_t{0}, size_t{1}, size_t{55}, size_t{56}, size_t{64}, size_t{65}, size_t{1000}, size_t{70000}}) {
        std::string data(length, '\0');
        for (auto& c : data) c = static_cast<char>(rng() & 0xFF);  // NUL and high bytes included
        unsigned char expected[SHA256_DIGEST_LENGTH];
        SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), expected);
        const kaireon::Sha256Digest got = kaireon::sha256(data);
        EXPECT_EQ(0, memcmp(got.data(), expected, sizeof(expected))) << length << " bytes";
    }
}

TEST(Sha256, RepeatedCallsAgree) {
    const auto first = kaireon::sha256("tenant\0name");
    for (int i = 0; i < 1000; ++i) ASSERT_EQ(kaireon::sha256("tenant\0name"), first);
}

TEST(Sha256, RememberedNamesGiveTheSameDigests) {
    // More names than are remembered, each asked for twice in a row and again
    // after the memo started over: every answer is the digest itself.
    const size_t names = kaireon::kRememberedNames * 2 + 7;
    for (int round = 0; round < 2; ++round) {
        for (size_t i = 0; i < names; ++i) {
            std::string name = "tenant-" + std::to_string(i);
            name.push_back('\0');
            name += "usage:feature";
            ASSERT_EQ(kaireon::sha256_of_name(name), kaireon::sha256(name)) << i;
            ASSERT_EQ(kaireon::sha256_of_name(name), kaireon::sha256(name)) << i;
        }
    }
    // Names that differ only after a NUL are different names.
    EXPECT_NE(kaireon::sha256_of_name(std::string("t\0a", 3)), kaireon::sha256_of_name(std::string("t\0b", 3)));
}

// The names counters and locks are keyed by: the prefix, then the parts with
// a NUL between them, byte for byte as they were always built.
TEST(Sha256, JoinedNames) {
    using namespace std::string_literals;
    EXPECT_EQ(kaireon::joined_name("cap:", {"c1", "channel", "web"}), "cap:c1\0channel\0web"s);
    EXPECT_EQ(kaireon::joined_name("", {"tenant", "budget:o\0impressions"s}), "tenant\0budget:o\0impressions"s);
    EXPECT_EQ(kaireon::joined_name("", {"tenant", ""}), "tenant\0"s);
    EXPECT_EQ(kaireon::joined_name("p:", {"only"}), "p:only");
    EXPECT_EQ(kaireon::joined_name("p:", {}), "p:");
}

}  // namespace
