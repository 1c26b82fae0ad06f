#include "core/sha256.h"

#include "pg/name_lock.h"

#include "pg/guard.h"

#include <cstring>
#include <string>

extern "C" {
#include "storage/lock.h"
}

namespace kaireon::pg {

bool lock_name(NameSpace space, std::string_view tenant, std::string_view name, bool wait, bool shared) {
    const std::string material = joined_name("", {tenant, name});
    // An idempotency key is taken once: remembering it would only cost.
    const bool once = space == NameSpace::UsageIdempotency || space == NameSpace::RespondIdempotency;
    const Sha256Digest digest = once ? sha256(material) : sha256_of_name(material);
    uint32 high = 0;
    uint32 low = 0;
    memcpy(&high, digest.data(), sizeof(high));
    memcpy(&low, digest.data() + sizeof(high), sizeof(low));
    // field4 of pg_advisory_lock tags is 1 or 2; kaireon's start at 0x4B52 ("KR").
    const uint16 field4 = static_cast<uint16>(0x4B52 + static_cast<uint16>(space));
    return pg_call([&] {
        LOCKTAG tag;
        SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, high, low, field4);
        return LockAcquire(&tag, shared ? ShareLock : ExclusiveLock, false, !wait) != LOCKACQUIRE_NOT_AVAIL;
    });
}

}  // namespace kaireon::pg
