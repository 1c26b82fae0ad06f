// license_state.h - a tenant's licence as every API call sees it.
//
// The signature of a token is verified once per distinct token per backend
// (cached by SHA-256 of the token, dropped when keys change); the time claims,
// issuer and revocations are checked on every call. A stored licence that
// stops verifying starts the 7-day grace, durably.
#pragma once
#include "core/license.h"

#include "pg/guard.h"

#include <optional>
#include <string>

namespace kaireon::pg {

struct EffectiveLicense {
    license::Status status;
    std::optional<license::Claims> claims;  // of the licence in force, when it parsed
    std::optional<int64_t> quota_reset_at;  // set by the last upgrade (decision quota counts from it)
};

// effective_license returns the licence state of `tenant` now, recording the
// first failure and emitting the grace and expiry events as a side effect
// (skipped in read-only transactions).
EffectiveLicense effective_license(const std::string& tenant);

// verify_license_token returns the claims of `token` verified now (signature,
// claims, time, issuer, revocation), or throws Error(LicenseInvalid).
license::Claims verify_license_token(const std::string& token);

// forget_license drops this backend's cached licence row of `tenant` (after
// writing it, before the invalidation arrives).
void forget_license(const std::string& tenant);

// peek_token_subject returns the `sub` claim of an unverified token, or ""
// (only to find which tenant a failure belongs to).
std::string peek_token_subject(const std::string& token);

// license_init defines the licence settings (from _PG_init).
void license_init();

}  // namespace kaireon::pg
