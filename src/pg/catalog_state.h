// catalog_state.h - the decision catalog as the PostgreSQL layer sees it:
// reading rows back into document form, noting changes, and the per-backend
// compiled catalog of each tenant.
//
// Freshness: a change notes its tenant in the transaction (the row trigger);
// this backend drops its compiled copy at once, and when the transaction
// commits, after its rows became visible, the tenant's generation in shared
// memory advances (shared_state.h). Another backend compares the generation
// it compiled under with the current one on every use, reading the
// generation before the rows: a copy compiled under the new generation has
// seen the new rows. A decision therefore reads no catalog rows while
// nothing changed, and sees a committed change on its next call.
#pragma once
#include "core/catalog.h"
#include "core/catalog_compiled.h"
#include "core/pipeline.h"

#include "pg/spi.h"

#include <memory>
#include <string>
#include <vector>

namespace kaireon::pg {

// catalog_hooks returns the checks the core needs from the database (time
// zone names from PostgreSQL's time zone data).
catalog::Hooks catalog_hooks();

// read_catalog_rows returns the tenant's rows of `entity` as document
// objects (absent fields omitted, timestamps in UTC), sorted by key.
std::vector<Json> read_catalog_rows(SpiSession& spi, const catalog::Entity& entity, const std::string& tenant);
// read_catalog_rows_as_jsonb is the same through to_jsonb(row): the reference
// the boundary test compares read_catalog_rows with, and its way for a
// column type column_json does not know.
std::vector<Json> read_catalog_rows_as_jsonb(SpiSession& spi, const catalog::Entity& entity, const std::string& tenant);

// read_customer returns what decisions know of a customer of the tenant:
// attributes, segments, time zone and consents by channel; KR400 "unknown
// customer" (DETAIL path `path`, the caller's name of the argument) when
// there is none.
decision::CustomerView read_customer(const std::string& tenant, const std::string& customer_id, const char* path);

// count_catalog_rows returns how many rows of `entity` the tenant has, as
// this transaction sees them, or with `latest` as the latest committed data
// plus this transaction's own rows (tier-limit checks).
int64_t count_catalog_rows(const catalog::Entity& entity, const std::string& tenant, bool latest);

// note_catalog_change records that `tenant`'s catalog changed in this
// transaction ("" = every tenant of this database, after a TRUNCATE).
void note_catalog_change(const std::string& tenant);

// compiled_catalog returns the tenant's compiled catalog, compiling it
// again (from the latest committed rows and this transaction's own) when it
// changed; counts cache hits and misses in kaireon.stats.
std::shared_ptr<const catalog::CompiledCatalog> compiled_catalog(const std::string& tenant);

}  // namespace kaireon::pg
