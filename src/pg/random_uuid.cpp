#include "pg/random_uuid.h"

#include "core/error.h"

#include "pg/guard.h"

#include <array>
#include <cstring>

extern "C" {
#include "miscadmin.h"
#include "port.h"
#include "utils/uuid.h"
}

namespace kaireon::pg {

namespace {

constexpr size_t kUuidBytes = 16;
constexpr size_t kBlockBytes = 4096;

struct Block {
    std::array<unsigned char, kBlockBytes> bytes{};
    size_t used = kBlockBytes;  // empty until the first draw
    int owner = 0;              // the process that drew it
};

Block g_block;

}  // namespace

Datum random_uuid() {
    // A process forked from one that drew a block must not hand out the
    // same bytes: the block is only ever used by the process that drew it.
    if (g_block.owner != MyProcPid || g_block.used + kUuidBytes > kBlockBytes) {
        if (!pg_strong_random(g_block.bytes.data(), kBlockBytes)) {
            throw Error(ErrorCode::Internal, "could not generate random values for an id");
        }
        g_block.used = 0;
        g_block.owner = MyProcPid;
    }
    return pg_call([] {
        auto* uuid = static_cast<pg_uuid_t*>(palloc(sizeof(pg_uuid_t)));
        memcpy(uuid->data, g_block.bytes.data() + g_block.used, kUuidBytes);
        // Wipe what was handed out: it is in the row now, not in the pool.
        memset(g_block.bytes.data() + g_block.used, 0, kUuidBytes);
        g_block.used += kUuidBytes;
        // As gen_random_uuid(): version 4, variant 10xx.
        uuid->data[6] = static_cast<unsigned char>((uuid->data[6] & 0x0f) | 0x40);
        uuid->data[8] = static_cast<unsigned char>((uuid->data[8] & 0x3f) | 0x80);
        return UUIDPGetDatum(uuid);
    });
}

}  // namespace kaireon::pg
