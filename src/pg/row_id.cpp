#include "pg/row_id.h"

#include "core/error.h"
#include "core/uuid_v7.h"

#include "pg/guard.h"

#include <array>
#include <cstring>
#include <ctime>

extern "C" {
#include "miscadmin.h"
#include "port.h"
#include "utils/uuid.h"
}

namespace kaireon::pg {

namespace {

constexpr size_t kBlockBytes = 4096;

// What one process draws and hands out. A process forked from one that drew
// must not repeat its bytes nor continue its sequence: both belong to the
// process that drew them (owner).
struct Generator {
    std::array<unsigned char, kBlockBytes> bytes{};
    size_t used = kBlockBytes;  // empty until the first draw
    uint64_t last_time_bits = 0;
    int owner = 0;
};

Generator g_ids;

int64_t unix_now_ns() {
    timespec now{};
    clock_gettime(CLOCK_REALTIME, &now);
    return static_cast<int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
}

}  // namespace

Datum time_ordered_uuid() {
    std::array<unsigned char, 8> random{};
    if (g_ids.owner != MyProcPid) {
        g_ids = Generator{};
    }
    if (g_ids.used + random.size() > kBlockBytes) {
        if (!pg_strong_random(g_ids.bytes.data(), kBlockBytes)) {
            throw Error(ErrorCode::Internal, "could not generate random values for an id");
        }
        g_ids.used = 0;
        g_ids.owner = MyProcPid;
    }
    memcpy(random.data(), g_ids.bytes.data() + g_ids.used, random.size());
    // Wipe what was handed out: it is in the row now, not in the pool.
    memset(g_ids.bytes.data() + g_ids.used, 0, random.size());
    g_ids.used += random.size();
    g_ids.last_time_bits = uuid_v7_next_time_bits(g_ids.last_time_bits, uuid_v7_time_bits(unix_now_ns()));
    const auto bytes = uuid_v7_bytes(g_ids.last_time_bits, random);
    return pg_call([&bytes] {
        auto* uuid = static_cast<pg_uuid_t*>(palloc(sizeof(pg_uuid_t)));
        memcpy(uuid->data, bytes.data(), bytes.size());
        return UUIDPGetDatum(uuid);
    });
}

std::string uuid_text(Datum uuid) {
    return pg_call([&] { return std::string(DatumGetCString(DirectFunctionCall1(uuid_out, uuid))); });
}

}  // namespace kaireon::pg
