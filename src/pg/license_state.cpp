#include "core/jwt.h"
#include "core/license.h"
#include "core/sha256.h"
#include "core/tenant.h"

#include "pg/license_state.h"

#include "pg/cache_watch.h"
#include "pg/clock.h"
#include "pg/events.h"
#include "pg/jsonb.h"
#include "pg/spi.h"
#include "pg/xact_state.h"

#include <memory>
#include <set>
#include <unordered_map>

namespace kaireon::pg {
namespace {

char* g_license_key = nullptr;         // kaireon.license_key: a licence for single-tenant installs
char* g_license_server_url = nullptr;  // kaireon.license_server_url: stored and reported only
char* g_license_issuer = nullptr;      // kaireon.license_issuer: required `iss` when set

// --- the key ring -----------------------------------------------------------

// kid -> key; a kid that is not registered is cached too (as no key).
std::unordered_map<std::string, jwt::KeyLookup>& key_ring() {
    static std::unordered_map<std::string, jwt::KeyLookup> keys;
    return keys;
}

// Verified tokens by SHA-256: the claims, or why the token does not verify.
struct TokenVerdict {
    std::optional<license::Claims> claims;
    std::string reason_code;
    std::string message;
};

// Shared pointers: an invalidation may drop a cache entry while a caller
// still uses the verdict.
using VerdictPtr = std::shared_ptr<const TokenVerdict>;

std::unordered_map<std::string, VerdictPtr>& token_cache() {
    static std::unordered_map<std::string, VerdictPtr> cache;
    return cache;
}

void forget_rows() noexcept;

void forget_keys() noexcept {
    key_ring().clear();
    token_cache().clear();  // a verdict depends on the keys
    forget_rows();          // rows hold verdicts too
}
CacheWatch g_keys_watch({"license_keys"}, forget_keys);

jwt::KeyLookup lookup_key(const std::string& kid) {
    auto& ring = key_ring();
    if (auto it = ring.find(kid); it != ring.end()) return it->second;
    g_keys_watch.resolve();
    uint64_t generation = g_keys_watch.generation();
    jwt::KeyLookup entry;
    {
        AsExtensionOwner owner;
        LatestSnapshot latest;
        SpiSession spi;
        spi.execute("SELECT alg, public_key_pem, revoked_at IS NOT NULL FROM kaireon.license_keys WHERE kid = $1",
                    {text_arg(kid)}, true);
        if (spi.rows() == 1) {
            entry.revoked = spi.boolean(0, 2).value_or(false);
            auto alg = jwt::algorithm_from_name(spi.text(0, 0).value_or(""));
            if (alg) {
                try {
                    entry.key = std::make_shared<const jwt::PublicKey>(
                        jwt::PublicKey::from_pem(spi.text(0, 1).value_or(""), *alg));
                } catch (const Error&) {
                    entry.key.reset();  // refused at add_license_key; only a hand-edited row gets here
                }
            }
        }
    }
    if (g_keys_watch.generation() == generation) ring.emplace(kid, entry);
    return entry;
}

std::string sha256_hex(const std::string& data) {
    const Sha256Digest digest = sha256(data);
    static const char* hex = "0123456789abcdef";
    std::string out;
    out.reserve(digest.size() * 2);
    for (unsigned char byte : digest) {
        out.push_back(hex[byte >> 4]);
        out.push_back(hex[byte & 0xF]);
    }
    return out;
}

// verdict returns the cached signature-and-claims verdict of `token`.
VerdictPtr verdict(const std::string& token) {
    std::string hash = sha256_hex(token);
    auto& cache = token_cache();
    if (auto it = cache.find(hash); it != cache.end()) return it->second;
    uint64_t generation = g_keys_watch.generation();
    auto result = std::make_shared<TokenVerdict>();
    try {
        result->claims = license::verify_token(token, lookup_key);
    } catch (const Error& e) {
        if (e.code() != ErrorCode::LicenseInvalid) throw;
        result->reason_code = e.detail().value("reason", "invalid");
        result->message = e.what();
    }
    if (g_keys_watch.generation() == generation) cache[hash] = result;
    return result;
}

// --- revoked licences ---------------------------------------------------------

std::unordered_map<std::string, bool>& revoked_jtis() {
    static std::unordered_map<std::string, bool> revoked;
    return revoked;
}
void forget_revocations() noexcept { revoked_jtis().clear(); }
CacheWatch g_revocations_watch({"revoked_licenses"}, forget_revocations);

bool jti_revoked(const std::string& jti) {
    auto& revoked = revoked_jtis();
    if (auto it = revoked.find(jti); it != revoked.end()) return it->second;
    g_revocations_watch.resolve();
    uint64_t generation = g_revocations_watch.generation();
    bool is_revoked = false;
    {
        AsExtensionOwner owner;
        LatestSnapshot latest;
        SpiSession spi;
        spi.execute("SELECT 1 FROM kaireon.revoked_licenses WHERE jti = $1", {text_arg(jti)}, true);
        is_revoked = spi.rows() > 0;
    }
    if (g_revocations_watch.generation() == generation) revoked.emplace(jti, is_revoked);
    return is_revoked;
}

// --- stored licences ------------------------------------------------------------

struct StoredRow {
    bool present = false;
    VerdictPtr token;  // the stored token's verdict (so a call does not hash the token)
    license::Tier verified_tier = license::Tier::Community;
    std::optional<int64_t> first_failure;
    std::optional<int64_t> quota_reset_at;
    std::optional<license::Tier> tier;  // as verified at install
    std::optional<int64_t> expires_at;
};
using RowPtr = std::shared_ptr<const StoredRow>;

std::unordered_map<std::string, RowPtr>& stored_rows() {
    static std::unordered_map<std::string, RowPtr> rows;
    return rows;
}
void forget_rows() noexcept { stored_rows().clear(); }
CacheWatch g_rows_watch({"licenses"}, forget_rows);

std::optional<int64_t> optional_seconds(SpiSession& spi, int column) {
    auto text = spi.text(0, column);
    if (!text) return std::nullopt;
    return std::stoll(*text);
}

RowPtr stored_row(const std::string& tenant) {
    auto& rows = stored_rows();
    if (auto it = rows.find(tenant); it != rows.end()) return it->second;
    g_rows_watch.resolve();
    uint64_t generation = g_rows_watch.generation();
    auto row = std::make_shared<StoredRow>();
    std::string token;
    {
        AsExtensionOwner owner;
        LatestSnapshot latest;
        SpiSession spi;
        spi.execute(
            "SELECT token, verified_tier, floor(extract(epoch FROM first_failure_at))::int8, "
            "       floor(extract(epoch FROM quota_reset_at))::int8, tier, "
            "       floor(extract(epoch FROM expires_at))::int8 "
            "FROM kaireon.licenses WHERE tenant_id = $1",
            {text_arg(tenant)}, true);
        if (spi.rows() == 1) {
            row->present = true;
            token = spi.text(0, 0).value_or("");
            row->verified_tier =
                license::tier_from_name(spi.text(0, 1).value_or("")).value_or(license::Tier::Community);
            row->first_failure = optional_seconds(spi, 2);
            row->quota_reset_at = optional_seconds(spi, 3);
            row->tier = license::tier_from_name(spi.text(0, 4).value_or(""));
            row->expires_at = optional_seconds(spi, 5);
        }
    }
    if (row->present) row->token = verdict(token);
    if (g_rows_watch.generation() == generation) rows[tenant] = row;
    return row;
}

// --- events emitted at most once -------------------------------------------------

// Dedupe keys this backend knows are in the outbox (committed), so that a
// call does not try to insert them again; keys added by the running
// transaction become known at its commit.
class EmittedKeys final : public XactState {
public:
    std::set<std::string> known;
    std::set<std::string> pending;
    void reset_at_end(bool committed) noexcept override {
        if (committed) known.merge(pending);
        pending.clear();
    }
    void reset_subxact(SubTransactionId) noexcept override { pending.clear(); }
};

EmittedKeys& emitted_keys() { return registered_state<EmittedKeys>(); }

void emit_once(const std::string& tenant, const std::string& type, const Json& payload, const std::string& key) {
    EmittedKeys& keys = emitted_keys();
    std::string memo = tenant + "/" + key;
    if (keys.known.count(memo) || keys.pending.count(memo)) return;
    emit_event(tenant, type, payload, key);
    keys.pending.insert(memo);
}

bool read_only_transaction() { return XactReadOnly || RecoveryInProgress(); }

// record_failure stores when the tenant's licence was first seen failing, or
// clears it once the licence verifies again.
void record_verification(const std::string& tenant, const StoredRow& row, const license::Status& status,
                         const std::optional<license::Failure>& failure) {
    if (failure && !row.first_failure) {
        AsExtensionOwner owner;
        SpiSession spi;
        spi.execute(
            "UPDATE kaireon.licenses SET first_failure_at = to_timestamp($2::float8), failure_reason = $3 "
            "WHERE tenant_id = $1 AND first_failure_at IS NULL",
            {text_arg(tenant), text_arg(std::to_string(failure->since)), text_arg(failure->reason_code)});
        forget_license(tenant);
    } else if (!failure && row.first_failure) {
        AsExtensionOwner owner;
        SpiSession spi;
        spi.execute(
            "UPDATE kaireon.licenses SET first_failure_at = NULL, failure_reason = NULL, verified_tier = $2, "
            "verified_at = kaireon.clock() WHERE tenant_id = $1",
            {text_arg(tenant), text_arg(std::string(license::tier_name(status.effective_tier)))});
        forget_license(tenant);
    }
}

void emit_license_events(const std::string& tenant, const license::Status& status,
                         const std::optional<license::Claims>& claims, int64_t now) {
    if (status.state == license::State::Grace) {
        std::string day = license::iso8601(now).substr(0, 10);
        emit_once(tenant, "license.grace.reminder",
                  Json{{"tenant", tenant},
                       {"reason", status.reason},
                       {"effectiveTier", std::string(license::tier_name(status.effective_tier))},
                       {"graceUntil", license::iso8601(*status.grace_until)}},
                  "license.grace.reminder:" + day);
    }
    if (status.state == license::State::Valid && claims) {
        if (auto days = license::expiring_notice(claims->exp, now)) {
            emit_once(tenant, "license.expiring",
                      Json{{"tenant", tenant},
                           {"jti", claims->jti},
                           {"tier", std::string(license::tier_name(claims->tier))},
                           {"expiresAt", license::iso8601(claims->exp)},
                           {"daysLeft", *days}},
                      "license.expiring:" + claims->jti + ":" + std::to_string(*days));
        }
    }
}

// current_failure returns why `token` does not hold now, if it does not.
std::optional<license::Failure> current_failure(const TokenVerdict& token, int64_t now) {
    if (!token.claims) return license::Failure{token.reason_code, token.message, now};
    try {
        license::check_current(*token.claims, now, g_license_issuer ? g_license_issuer : "",
                               jti_revoked(token.claims->jti));
    } catch (const Error& e) {
        if (e.code() != ErrorCode::LicenseInvalid) throw;
        std::string code = e.detail().value("reason", "invalid");
        // An expiry is dated by the licence itself, not by when it was noticed.
        int64_t since = code == "expired" ? std::min(now, token.claims->exp) : now;
        return license::Failure{code, e.what(), since};
    }
    return std::nullopt;
}

}  // namespace

void forget_license(const std::string& tenant) { stored_rows().erase(tenant); }

license::Claims verify_license_token(const std::string& token) {
    VerdictPtr token_verdict = verdict(token);
    if (!token_verdict->claims) jwt::reject(token_verdict->reason_code, token_verdict->message);
    license::check_current(*token_verdict->claims, now_seconds(), g_license_issuer ? g_license_issuer : "",
                           jti_revoked(token_verdict->claims->jti));
    return *token_verdict->claims;
}

std::string peek_token_subject(const std::string& token) {
    try {
        jwt::Token parsed = jwt::parse(token);
        auto sub = parsed.payload.find("sub");
        if (sub != parsed.payload.end() && sub->is_string() && tenant_id_problem(sub->get<std::string>()).empty()) {
            return sub->get<std::string>();
        }
    } catch (const Error&) {
    }
    return {};
}

EffectiveLicense effective_license(const std::string& tenant) {
    int64_t now = now_seconds();
    EffectiveLicense result;
    RowPtr row = stored_row(tenant);
    if (!row->present) {
        // kaireon.license_key serves single-tenant installs: it counts for the
        // tenant it names while it verifies, without grace (it is not stored).
        if (g_license_key != nullptr && g_license_key[0] != '\0') {
            VerdictPtr configured = verdict(g_license_key);
            if (configured->claims && configured->claims->sub == tenant) {
                auto failure = current_failure(*configured, now);
                if (!failure) {
                    result.claims = configured->claims;
                    result.status = license::evaluate(true, configured->claims, std::nullopt, license::Stored{}, now);
                    return result;
                }
                result.status = license::evaluate(false, std::nullopt, std::nullopt, license::Stored{}, now);
                result.status.reason = "kaireon.license_key: " + failure->message;
                result.status.reason_code = failure->reason_code;
                return result;
            }
        }
        result.status = license::evaluate(false, std::nullopt, std::nullopt, license::Stored{}, now);
        return result;
    }
    auto failure = current_failure(*row->token, now);
    result.claims = row->token->claims;
    result.quota_reset_at = row->quota_reset_at;
    result.status = license::evaluate(true, row->token->claims, failure,
                                      license::Stored{row->verified_tier, row->first_failure, row->tier, row->expires_at}, now);
    if (!read_only_transaction()) {
        record_verification(tenant, *row, result.status, failure);
        emit_license_events(tenant, result.status, row->token->claims, now);
    }
    return result;
}

void license_init() {
    DefineCustomStringVariable("kaireon.license_key", "A licence token for single-tenant installs (LICENSE_KEY).",
                               "Counts for the tenant named in its sub claim while no licence is installed for it.",
                               &g_license_key, "", PGC_SUSET, GUC_NO_SHOW_ALL | GUC_SUPERUSER_ONLY, nullptr, nullptr,
                               nullptr);
    DefineCustomStringVariable("kaireon.license_server_url", "The licence server (LICENSE_SERVER_URL).",
                               "Stored and reported; the database makes no outbound calls for licences.",
                               &g_license_server_url, "", PGC_SUSET, 0, nullptr, nullptr, nullptr);
    DefineCustomStringVariable("kaireon.license_issuer", "When set, licences must carry this iss claim.", nullptr,
                               &g_license_issuer, "", PGC_SUSET, 0, nullptr, nullptr, nullptr);
}

}  // namespace kaireon::pg
