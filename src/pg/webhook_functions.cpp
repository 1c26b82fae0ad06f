// webhook_functions.cpp - the C side of webhook delivery: the signature
// (computed in the database, so the endpoint's secret never leaves it), the
// retry delay, and their settings. The rest is SQL (kaireon--0.13--0.14.sql).
#include "core/error.h"
#include "core/webhook_retry.h"
#include "core/webhook_signature.h"

#include "pg/guard.h"
#include "pg/jsonb.h"
#include "pg/webhooks.h"

#include <climits>

extern "C" {
#include "common/pg_prng.h"
#include "utils/guc.h"
}

namespace kaireon::pg {
namespace {

int g_max_attempts = 8;
int g_backoff_base_ms = 10 * 1000;
int g_backoff_max_ms = 3600 * 1000;

}  // namespace

void webhooks_init() {
    DefineCustomIntVariable("kaireon.webhook_max_attempts",
                            "Attempts after which a webhook delivery is dead-lettered.",
                            "A delivery whose attempts all failed is dead (kaireon.webhook_dead_letters) and no longer "
                            "holds up its endpoint's later deliveries.",
                            &g_max_attempts, 8, 1, 100, PGC_SUSET, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("kaireon.webhook_backoff_base", "Delay step after a webhook delivery's first failed attempt.",
                            "The step doubles with every further failure up to kaireon.webhook_backoff_max; the delay "
                            "is drawn uniformly between half the step and the step.",
                            &g_backoff_base_ms, 10 * 1000, 1, 24 * 3600 * 1000, PGC_SUSET, GUC_UNIT_MS, nullptr,
                            nullptr, nullptr);
    DefineCustomIntVariable("kaireon.webhook_backoff_max", "Largest delay step between webhook delivery attempts.",
                            nullptr, &g_backoff_max_ms, 3600 * 1000, 1, 24 * 3600 * 1000, PGC_SUSET, GUC_UNIT_MS,
                            nullptr, nullptr, nullptr);
}

}  // namespace kaireon::pg

using namespace kaireon;

// kaireon_webhook_signature(secret text, timestamp bigint, body text) returns
// the Kaireon-Signature header's value: "v1=" and the hex HMAC-SHA256 of
// "<timestamp>.<body>" with the secret. Owner only: never granted.
KAIREON_FUNCTION(kaireon_webhook_signature) {
    const std::string secret = pg::required_text(fcinfo, 0, "secret");
    if (PG_ARGISNULL(1)) throw Error(ErrorCode::BadRequest, "timestamp must not be null", Json{{"path", "timestamp"}});
    const int64_t timestamp = PG_GETARG_INT64(1);
    const std::string body = pg::required_text(fcinfo, 2, "body");
    return pg::text_datum(webhooks::signature_header(secret, timestamp, body));
}

// kaireon_webhook_retry_delay(attempt int) returns the delay in milliseconds
// before the attempt after failed attempt `attempt`, from the settings,
// with jitter (core/webhook_retry.h).
KAIREON_FUNCTION(kaireon_webhook_retry_delay) {
    if (PG_ARGISNULL(0) || PG_GETARG_INT32(0) < 1)
        throw Error(ErrorCode::BadRequest, "attempt must be at least 1", Json{{"path", "attempt"}});
    const int attempt = PG_GETARG_INT32(0);
    const double unit = pg_prng_double(&pg_global_prng_state);
    return Int64GetDatum(webhooks::retry_delay_ms(attempt, pg::g_backoff_base_ms, pg::g_backoff_max_ms, unit));
}
