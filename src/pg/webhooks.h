// webhooks.h - the settings of webhook delivery (docs/webhooks.md); the
// delivery itself is SQL (kaireon--0.13--0.14.sql) and the daemon
// src/webhookd.
#pragma once

namespace kaireon::pg {

// webhooks_init defines kaireon.webhook_max_attempts,
// kaireon.webhook_backoff_base and kaireon.webhook_backoff_max (from
// _PG_init).
void webhooks_init();

}  // namespace kaireon::pg
