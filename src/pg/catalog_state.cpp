#include "pg/catalog_state.h"

#include "pg/cache_watch.h"
#include "pg/custom_scorer.h"
#include "pg/indexed_rows.h"
#include "pg/jsonb.h"
#include "pg/shared_state.h"
#include "pg/xact_state.h"

#include <cmath>
#include <optional>
#include <set>
#include <unordered_map>

extern "C" {
#include "pgtime.h"
#include "utils/inval.h"
}

namespace kaireon::pg {
namespace {

struct CacheEntry {
    uint64_t tenant_generation = 0;
    uint64_t database_generation = 0;
    std::shared_ptr<const catalog::CompiledCatalog> compiled;
};

std::unordered_map<std::string, CacheEntry> g_cache;

void forget_all_compiled() noexcept { g_cache.clear(); }
// Relcache invalidations of the view kaireon.catalog_signal (sent at COMMIT
// PREPARED, see before_prepare, after rows written with triggers off, and
// when the extension is dropped) drop every compiled catalog of this
// backend. Not the offers table's: VACUUM and ANALYZE send those too, when
// they update its statistics, and every backend would compile every tenant
// again.
CacheWatch g_catalog_watch({"catalog_signal"}, forget_all_compiled);

// ChangedTenants is the set of tenants whose catalog this transaction
// changed; at its end their generations advance (on commit) and this
// backend's copies go (always: they may hold rows that rolled back).
class ChangedTenants final : public XactState {
public:
    ChangedTenants() { register_xact_state(this); }

    void note(const std::string& tenant, Oid signal_relid) {
        prepare_relid_ = signal_relid;
        if (tenant.empty()) {
            all_ = true;
            g_cache.clear();
        } else {
            tenants_.insert(tenant);
            g_cache.erase(tenant);
        }
    }

    void reset_at_end(bool committed) noexcept override {
        try {
            if (committed) {
                for (const auto& tenant : tenants_) bump_catalog_generation(tenant);
                if (all_) bump_catalog_generation("");
            }
        } catch (...) {
            // The slots exist (note() read them), so this cannot fail; if it
            // did, the caches below are still dropped for this backend.
        }
        forget_local();
        tenants_.clear();
        all_ = false;
        prepare_relid_ = InvalidOid;
    }

    void reset_subxact(SubTransactionId) noexcept override { forget_local(); }

    // A prepared transaction commits elsewhere (COMMIT PREPARED), where no
    // callback of ours runs: a relcache invalidation of kaireon.catalog_signal,
    // carried with the prepared transaction and sent when it commits, makes
    // every backend drop its compiled catalogs (g_catalog_watch).
    void before_prepare() override {
        if ((all_ || !tenants_.empty()) && prepare_relid_ != InvalidOid) CacheInvalidateRelcacheByRelid(prepare_relid_);
    }

private:
    void forget_local() noexcept {
        if (all_) {
            g_cache.clear();
            return;
        }
        for (const auto& tenant : tenants_) g_cache.erase(tenant);
    }

    std::set<std::string> tenants_;
    bool all_ = false;
    Oid prepare_relid_ = InvalidOid;
};

ChangedTenants g_changed;

std::string order_by(const catalog::Entity& entity) {
    std::string out;
    for (auto key : entity.key_fields) {
        if (!out.empty()) out += ", ";
        out += "t." + std::string(entity.field(key)->column) + " COLLATE \"C\"";
    }
    return out;
}

}  // namespace

catalog::Hooks catalog_hooks() {
    catalog::Hooks hooks;
    hooks.valid_timezone = [](std::string_view name) {
        std::string zone(name);
        return pg_call([&] { return pg_tzset(zone.c_str()) != nullptr; });
    };
    // Privileges are the deciding role's, checked at each decision.
    hooks.scoring_function_problem = [](std::string_view name) { return scoring_function_problem(name, false); };
    return hooks;
}

std::vector<Json> read_catalog_rows_as_jsonb(SpiSession& spi, const catalog::Entity& entity, const std::string& tenant) {
    std::string sql = "SELECT to_jsonb(t) FROM kaireon." + std::string(entity.table) +
                      " t WHERE t.tenant_id = $1 ORDER BY " + order_by(entity);
    spi.execute(sql.c_str(), {text_arg(tenant)}, true);
    std::vector<Json> rows;
    rows.reserve(spi.rows());
    for (uint64 i = 0; i < spi.rows(); ++i)
        rows.push_back(catalog::stored_form(entity, catalog::object_of_columns(entity, *spi.json(i, 0))));
    return rows;
}

std::vector<Json> read_catalog_rows(SpiSession& spi, const catalog::Entity& entity, const std::string& tenant) {
    // Each column in its own type, turned into what to_jsonb(row) gives it
    // (column_json): to_jsonb and reading its result back were four fifths
    // of what compiling a tenant's catalog cost (docs/performance.md).
    std::string sql = "SELECT t.* FROM kaireon." + std::string(entity.table) + " t WHERE t.tenant_id = $1 ORDER BY " +
                      order_by(entity);
    spi.execute(sql.c_str(), {text_arg(tenant)}, true);
    struct Column {
        const catalog::Field* field;
        int number;
        Oid type;
    };
    std::vector<Column> columns;
    for (const auto& field : entity.fields) {
        const int number = spi.column(std::string(field.column).c_str());
        if (number < 0) continue;
        const Oid type = spi.type(number);
        // A type or encoding column_json does not know (customers' segments).
        if (!column_json(type, 0, true, kCatalogJsonLimits)) return read_catalog_rows_as_jsonb(spi, entity, tenant);
        columns.push_back({&field, number, type});
    }
    std::vector<Json> rows;
    rows.reserve(spi.rows());
    for (uint64 i = 0; i < spi.rows(); ++i) {
        Json row = json_object(columns.size());
        // Fields are named once each: appended, without operator[]'s search.
        auto& members = row.get_ref<Json::object_t&>();
        for (const Column& column : columns) {
            bool is_null = false;
            const Datum datum = spi.datum(i, column.number, &is_null);
            std::optional<Json> value = column_json(column.type, datum, is_null, kCatalogJsonLimits);
            if (!value) return read_catalog_rows_as_jsonb(spi, entity, tenant);  // (a float beyond a double)
            if (value->is_null()) continue;
            members.emplace_back(std::string(column.field->name), catalog::stored_value(column.field, std::move(*value)));
        }
        rows.push_back(std::move(row));
    }
    return rows;
}

decision::CustomerView read_customer(const std::string& tenant, const std::string& customer_id, const char* path) {
    // Two reads by key without the executor (indexed_rows.h): on every
    // decision, starting and ending the plan of a query cost more.
    const IndexedRows customer("customers", "customers_pkey", {tenant, customer_id},
                               {"attributes", "segments", "timezone"});
    if (customer.rows() == 0) throw_bad_request("unknown customer \"" + customer_id + "\"", Json{{"path", path}});
    decision::CustomerView view;
    view.customer.id = customer_id;
    view.customer.attributes = customer.json(0, 0).value_or(Json::object());
    view.customer.segments = customer.texts(0, 1).value_or(std::vector<std::string>{});
    view.timezone = customer.text(0, 2).value_or("");
    const IndexedRows consents("consents", "consents_pkey", {tenant, customer_id}, {"channel_id", "granted"});
    for (uint64 row = 0; row < consents.rows(); ++row)
        view.consents[consents.text(row, 0).value_or("")] = consents.boolean(row, 1).value_or(false);
    return view;
}

int64_t count_catalog_rows(const catalog::Entity& entity, const std::string& tenant, bool latest) {
    AsExtensionOwner owner;
    std::optional<LatestSnapshot> snapshot;
    if (latest) snapshot.emplace();
    SpiSession spi;
    std::string sql = "SELECT count(*)::text FROM kaireon." + std::string(entity.table) + " t WHERE t.tenant_id = $1";
    spi.execute(sql.c_str(), {text_arg(tenant)}, true);
    return std::stoll(*spi.text(0, 0));
}

void note_catalog_change(const std::string& tenant) {
    catalog_generation(tenant);  // makes sure the slot exists before commit needs it
    g_catalog_watch.resolve();
    g_changed.note(tenant, g_catalog_watch.relid(0));
}

std::shared_ptr<const catalog::CompiledCatalog> compiled_catalog(const std::string& tenant) {
    const uint64_t tenant_generation = catalog_generation(tenant);
    const uint64_t database_generation = catalog_generation("");
    pg_memory_barrier();  // the generations are read before any row
    auto it = g_cache.find(tenant);
    if (it != g_cache.end() && it->second.tenant_generation == tenant_generation &&
        it->second.database_generation == database_generation) {
        stat_add(tenant, Stat::CacheHits);
        return it->second.compiled;
    }
    stat_add(tenant, Stat::CacheMisses);
    g_catalog_watch.resolve();  // so that dropping the extension drops what is cached below
    catalog::RowsByKey rows;
    {
        AsExtensionOwner owner;
        LatestSnapshot latest;
        SpiSession spi;
        for (const char* key : {"offers", "creatives", "flows", "models", "experiments", "channels", "placements", "outcomeTypes", "caps",
                                "policies", "metrics", "categories", "triggers", "journeys"})
            rows[key] = read_catalog_rows(spi, *catalog::find_entity(key), tenant);
    }
    auto compiled = std::make_shared<const catalog::CompiledCatalog>(catalog::compile_catalog(rows));
    // The rows are done with: freed leaves first (release_json), cheaper
    // than their destructors' heap stack per object, a few hundred of them.
    for (auto& [key, entity_rows] : rows)
        for (Json& row : entity_rows) release_json(row);
    g_cache[tenant] = CacheEntry{tenant_generation, database_generation, compiled};
    return compiled;
}

}  // namespace kaireon::pg
