#include "core/uuid_v7.h"

namespace kaireon {

namespace {
constexpr int64_t kNsPerMs = 1'000'000;
constexpr int kFractionBits = 12;
}  // namespace

uint64_t uuid_v7_time_bits(int64_t unix_ns) {
    const auto ms = static_cast<uint64_t>(unix_ns / kNsPerMs);
    const auto fraction = static_cast<uint64_t>((unix_ns % kNsPerMs) * (1 << kFractionBits) / kNsPerMs);
    return (ms << kFractionBits) | fraction;
}

uint64_t uuid_v7_next_time_bits(uint64_t last, uint64_t now) {
    return now > last ? now : last + 1;
}

std::array<unsigned char, 16> uuid_v7_bytes(uint64_t time_bits, const std::array<unsigned char, 8>& random) {
    std::array<unsigned char, 16> out{};
    const uint64_t ms = time_bits >> kFractionBits;
    for (int i = 0; i < 6; ++i) {
        out[i] = static_cast<unsigned char>(ms >> (8 * (5 - i)));
    }
    out[6] = static_cast<unsigned char>(0x70 | ((time_bits >> 8) & 0x0f));  // version 7, fraction's top 4 bits
    out[7] = static_cast<unsigned char>(time_bits & 0xff);
    for (int i = 0; i < 8; ++i) {
        out[8 + i] = random[i];
    }
    out[8] = static_cast<unsigned char>((out[8] & 0x3f) | 0x80);  // variant 10xx
    return out;
}

}  // namespace kaireon
