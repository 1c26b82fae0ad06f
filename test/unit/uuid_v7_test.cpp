// uuid_v7_test.cpp - the layout of kaireon's row ids (src/core/uuid_v7.h):
// RFC 9562's version 7 example, the fraction of the millisecond, and the
// order the ids sort in (which is why they are used: src/pg/row_id.h).
#include "core/uuid_v7.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

namespace {

std::string text(const std::array<unsigned char, 16>& id) {
    std::string out;
    char digits[3];
    for (size_t i = 0; i < id.size(); ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
        snprintf(digits, sizeof digits, "%02x", id[i]);
        out += digits;
    }
    return out;
}

TEST(UuidV7, RfcExample) {
    // RFC 9562, appendix A.6: Tuesday, February 22, 2022 2:22:22.00 PM GMT-05:00,
    // rand_a 0xCC3, rand_b 0x18C4DC0C0C07398F.
    const uint64_t time_bits = (uint64_t{0x017F22E279B0} << 12) | 0xCC3;
    const std::array<unsigned char, 8> random{0x18, 0xC4, 0xDC, 0x0C, 0x0C, 0x07, 0x39, 0x8F};
    EXPECT_EQ(text(kaireon::uuid_v7_bytes(time_bits, random)), "017f22e2-79b0-7cc3-98c4-dc0c0c07398f");
}

TEST(UuidV7, TimeBitsAreMillisecondsThenTheFraction) {
    const int64_t ms = 1'645'557'742'000;  // the RFC's example time
    EXPECT_EQ(kaireon::uuid_v7_time_bits(ms * 1'000'000), (uint64_t{0x017F22E279B0} << 12));
    EXPECT_EQ(kaireon::uuid_v7_time_bits(ms * 1'000'000 + 500'000), (uint64_t{0x017F22E279B0} << 12) | 2048);
    EXPECT_EQ(kaireon::uuid_v7_time_bits(ms * 1'000'000 + 999'999), (uint64_t{0x017F22E279B0} << 12) | 4095);
    EXPECT_EQ(kaireon::uuid_v7_time_bits((ms + 1) * 1'000'000), (uint64_t{0x017F22E279B1} << 12));
}

TEST(UuidV7, VersionAndVariantWhateverTheRandomBytes) {
    for (unsigned char fill : {0x00, 0xFF, 0x3F, 0xC0}) {
        std::array<unsigned char, 8> random;
        random.fill(fill);
        for (uint64_t time_bits : {uint64_t{0}, ~uint64_t{0} >> 4, uint64_t{0x017F22E279B0FFF}}) {
            const auto id = kaireon::uuid_v7_bytes(time_bits, random);
            EXPECT_EQ(id[6] >> 4, 7) << text(id);
            EXPECT_EQ(id[8] >> 6, 2) << text(id);
            // The random bytes below the variant are kept.
            EXPECT_EQ(id[8] & 0x3F, fill & 0x3F) << text(id);
            EXPECT_EQ(id[15], fill) << text(id);
        }
    }
}

TEST(UuidV7, NextTimeBitsNeverRepeatOrGoBack) {
    EXPECT_EQ(kaireon::uuid_v7_next_time_bits(100, 250), 250u);  // the clock moved on
    EXPECT_EQ(kaireon::uuid_v7_next_time_bits(100, 100), 101u);  // the same fraction twice
    EXPECT_EQ(kaireon::uuid_v7_next_time_bits(100, 40), 101u);   // a clock stepped back
    EXPECT_EQ(kaireon::uuid_v7_next_time_bits(0, 0), 1u);
}

TEST(UuidV7, IdsSortAsTheyWereMade) {
    // A generator's ids, whatever their random bytes, sort byte-wise (as
    // PostgreSQL's uuid comparison does) in the order they were made,
    // including bursts within one fraction and a clock that steps back.
    std::mt19937_64 rng(7);
    int64_t clock_ns = 1'764'000'000'000'000'000;
    uint64_t last = 0;
    std::vector<std::array<unsigned char, 16>> made;
    for (int i = 0; i < 20'000; ++i) {
        const auto step = static_cast<int64_t>(rng() % 400) - 50;  // some steps back, many within 244 ns
        clock_ns += step;
        last = kaireon::uuid_v7_next_time_bits(last, kaireon::uuid_v7_time_bits(clock_ns));
        std::array<unsigned char, 8> random;
        for (auto& b : random) b = static_cast<unsigned char>(rng());
        made.push_back(kaireon::uuid_v7_bytes(last, random));
    }
    EXPECT_TRUE(std::is_sorted(made.begin(), made.end()));
    EXPECT_EQ(std::adjacent_find(made.begin(), made.end()), made.end());
}

}  // namespace
