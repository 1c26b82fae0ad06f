#include "core/audit.h"

#include "core/error.h"
#include "core/sha256.h"


#include <algorithm>

namespace kaireon::audit {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

// hex_value returns the value of hexadecimal digit `c`, or -1.
int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// append_length appends `length` as 8 bytes, big-endian.
void append_length(std::string& out, uint64_t length) {
    for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((length >> shift) & 0xFF));
}

std::string row(int64_t audit_id) { return "row " + std::to_string(audit_id); }

Verdict broken(int64_t checked, int64_t audit_id, std::string reason) {
    Verdict verdict;
    verdict.valid = false;
    verdict.checked = checked;
    verdict.first_broken_id = audit_id;
    verdict.reason = std::move(reason);
    return verdict;
}

}  // namespace

Hash genesis() { return Hash{}; }

Hash link_hash(const Hash& prev, const std::vector<std::string>& fields) {
    size_t total = prev.size();
    for (const auto& field : fields) total += 8 + field.size();
    std::string message;
    message.reserve(total);
    message.append(reinterpret_cast<const char*>(prev.data()), prev.size());
    for (const auto& field : fields) {
        append_length(message, field.size());
        message.append(field);
    }

    return sha256(message);
}

std::string hex(const Hash& hash) {
    std::string out;
    out.reserve(hash.size() * 2);
    for (unsigned char byte : hash) {
        out.push_back(kHexDigits[byte >> 4]);
        out.push_back(kHexDigits[byte & 0x0F]);
    }
    return out;
}

std::optional<Hash> from_hex(std::string_view text) {
    Hash out{};
    if (text.size() != out.size() * 2) return std::nullopt;
    for (size_t i = 0; i < out.size(); ++i) {
        int high = hex_value(text[2 * i]);
        int low = hex_value(text[2 * i + 1]);
        if (high < 0 || low < 0) return std::nullopt;
        out[i] = static_cast<unsigned char>((high << 4) | low);
    }
    return out;
}

Json Verdict::to_json() const {
    Json out = Json::object();
    out["valid"] = valid;
    out["checked"] = checked;
    out["firstBrokenId"] = first_broken_id ? Json(*first_broken_id) : Json(nullptr);
    out["reason"] = reason ? Json(*reason) : Json(nullptr);
    return out;
}

Verdict verify(const std::vector<SealedEntry>& chain, const std::vector<int64_t>& unsealed_ids_before_horizon,
               const ChainStart& start) {
    Hash prev = start.hash;
    for (size_t i = 0; i < chain.size(); ++i) {
        const SealedEntry& entry = chain[i];
        const auto checked = static_cast<int64_t>(i);
        const int64_t expected = start.position + checked + 1;

        if (entry.position != expected) {
            bool comes_later = entry.position > expected &&
                               std::any_of(chain.begin() + static_cast<std::ptrdiff_t>(i) + 1, chain.end(),
                                           [&](const SealedEntry& later) { return later.position == expected; });
            if (entry.position > expected && !comes_later) {
                return broken(checked, entry.audit_id, "seal " + std::to_string(expected) + " is missing");
            }
            return broken(checked, entry.audit_id, "seals out of order");
        }
        if (entry.prev_hash != prev) {
            return broken(checked, entry.audit_id,
                          "seal of " + row(entry.audit_id) + " does not follow the previous seal");
        }
        if (!entry.fields) return broken(checked, entry.audit_id, row(entry.audit_id) + " was deleted");
        if (link_hash(entry.prev_hash, *entry.fields) != entry.hash) {
            return broken(checked, entry.audit_id, row(entry.audit_id) + " was modified");
        }
        prev = entry.hash;
    }

    const auto all = static_cast<int64_t>(chain.size());
    if (!unsealed_ids_before_horizon.empty()) {
        int64_t first = *std::min_element(unsealed_ids_before_horizon.begin(), unsealed_ids_before_horizon.end());
        return broken(all, first, row(first) + " is not in the chain (added after sealing)");
    }
    Verdict verdict;
    verdict.valid = true;
    verdict.checked = all;
    return verdict;
}

}  // namespace kaireon::audit
