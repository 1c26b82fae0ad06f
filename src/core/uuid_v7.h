// uuid_v7.h - the layout of time-ordered UUIDs (version 7, RFC 9562): 48 bits
// of Unix time in milliseconds, 12 bits of the millisecond's fraction (in
// 4,096ths, as PostgreSQL 18's uuidv7()), the version and variant bits, and
// 62 random bits. Pure: the caller brings the clock and the randomness
// (src/pg/row_id.h).
#pragma once

#include <array>
#include <cstdint>

namespace kaireon {

// The first 60 bits of an id made at unix_ns: milliseconds, then the
// fraction of the millisecond.
uint64_t uuid_v7_time_bits(int64_t unix_ns);

// The time bits of the next id of one generator that last used `last`: the
// clock's, or last + 1 when the clock has not passed it (the same fraction
// twice, or a clock stepped back), so one generator's ids strictly increase.
uint64_t uuid_v7_next_time_bits(uint64_t last, uint64_t now);

// The 16 bytes of the id: time bits, version 7, variant 10, and 62 bits of
// `random` (its two top bits give way to the variant).
std::array<unsigned char, 16> uuid_v7_bytes(uint64_t time_bits, const std::array<unsigned char, 8>& random);

}  // namespace kaireon
