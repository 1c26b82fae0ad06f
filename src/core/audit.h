// audit.h - the tamper-evident audit trail's hash chain (SPEC section 4).
//
// kaireon.audit_log is append-only; kaireon.seal_audit() seals its rows, per
// tenant, into a chain kept in a seal table: one seal per sealed row, at
// positions 1..n in chain order, each holding the audit id it seals, the
// previous seal's hash and its own hash. The database chooses the canonical
// text of each row's fields (id as decimal, recorded_at as microseconds since
// the Unix epoch in decimal, actor, action, target, details as jsonb's
// canonical text) and hands them here as strings; this file only hashes and
// judges. Pure: no I/O, no clock, no PostgreSQL.
#pragma once
#include "core/pure.h"

#include "core/json.h"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kaireon::audit {

// Hash is a SHA-256 digest: a seal's prev_hash and hash.
using Hash = std::array<unsigned char, 32>;

// genesis returns the hash the first seal follows: 32 zero bytes.
Hash genesis();

// link_hash returns the hash of the seal of a row with `fields` that follows
// the seal whose hash is `prev`:
//
//   SHA-256( prev (32 bytes)
//            || for each field: its length as 8-byte big-endian || its bytes )
//
// Every field is length-prefixed, so field boundaries are unambiguous
// (("ab","c") and ("a","bc") differ, as do () and ("")) and a field may hold
// any byte, NUL included. Throws Error(Internal) if OpenSSL fails.
Hash link_hash(const Hash& prev, const std::vector<std::string>& fields);

// hex returns `hash` as 64 lowercase hexadecimal digits.
std::string hex(const Hash& hash);

// from_hex returns the hash written as exactly 64 hexadecimal digits (either
// case, nothing else: no "\x" prefix, no whitespace), or nullopt.
std::optional<Hash> from_hex(std::string_view text);

// SealedEntry is one seal joined with the row it seals, as the database reads
// them for verify().
struct SealedEntry {
    int64_t position = 0;                            // 1..n in chain order
    int64_t audit_id = 0;                            // the audit_log id the seal names
    std::optional<std::vector<std::string>> fields;  // the row's canonical fields; nullopt = the row is gone
    Hash prev_hash{};
    Hash hash{};
};

// ChainStart is where a walk of the chain begins: genesis at position 0, or,
// after retention dropped a tenant's oldest seals, its anchor (the last
// dropped seal's position and hash, kaireon.audit_anchors).
struct ChainStart {
    int64_t position = 0;
    Hash hash = genesis();
};

// Verdict is the answer of kaireon.verify_audit(tenant).
struct Verdict {
    bool valid = true;
    int64_t checked = 0;                     // seals verified as good before the first break
    std::optional<int64_t> first_broken_id;  // null when valid
    std::optional<std::string> reason;       // null when valid; one of the texts below

    // to_json returns {"valid": bool, "checked": n, "firstBrokenId": id or
    // null, "reason": text or null}: exactly these keys, in this order.
    Json to_json() const;
};

// verify walks `chain` in the order given (the database reads it ORDER BY
// position) from `start` (genesis() at 0 unless an anchor says otherwise)
// and reports the first break. With P = start.position, for the entry at
// index i (expected position P + i + 1), checked in this order:
//
//  1. position == P + i + 1, else, with X = that entry's audit_id:
//       "seal N is missing"      when position > P + i + 1 and no later entry
//                                has position P + i + 1 (N = P + i + 1: a
//                                seal was deleted);
//       "seals out of order"     otherwise (a repeated or decreasing position,
//                                or position P + i + 1 appears later on);
//  2. prev_hash == the previous entry's hash (start.hash for the first), else
//       "seal of row X does not follow the previous seal";
//  3. the row exists (fields present), else
//       "row X was deleted";
//  4. link_hash(prev_hash, fields) == hash, else
//       "row X was modified"     (also when the seal's own hash was changed:
//                                the two cannot be told apart).
//
// X is always the decimal audit_id of the entry at which the walk stopped,
// and first_broken_id is that same id; checked = i, the number of entries
// before it (all of them verified good).
//
// When the whole chain is good, `unsealed_ids_before_horizon` is consulted:
// the database lists there the audit ids that exist, are old enough to have
// been sealed, and sort before the last sealed entry, yet have no seal (a row
// inserted behind the chain's back). If it is non-empty the verdict is
// invalid with checked = chain.size(), first_broken_id = the smallest id
// listed (the list need not be sorted) and reason
//       "row X is not in the chain (added after sealing)".
//
// Otherwise the verdict is valid with checked = chain.size() and null
// first_broken_id and reason. An empty chain with an empty list is valid
// with checked 0.
//
// What the chain cannot see on its own: seals removed from its end (the rows
// they sealed look merely unsealed, and the next seal_audit() seals them
// again). Anchoring the last hash outside the database (the audit.sealed
// event carries lastAuditId) is what detects that.
Verdict verify(const std::vector<SealedEntry>& chain, const std::vector<int64_t>& unsealed_ids_before_horizon,
               const ChainStart& start = {});

}  // namespace kaireon::audit
