// catalog_functions.cpp - the SQL functions of the decision catalog:
// apply_catalog, export_catalog, forget_customer, check_eligibility,
// catalog_fields, and the catalog tables' trigger functions.
#include "core/catalog.h"
#include "core/bayes.h"
#include "core/catalog_compiled.h"
#include "core/contact_policies.h"
#include "core/pipeline.h"
#include "core/entitlements.h"
#include "core/expr.h"
#include "core/quota.h"

#include "pg/audit.h"
#include "pg/catalog_state.h"
#include "pg/quota_state.h"
#include "pg/clock.h"
#include "pg/entitlement_state.h"
#include "pg/events.h"
#include "pg/guard.h"
#include "pg/jsonb.h"
#include "pg/name_lock.h"
#include "pg/offer_stats.h"
#include "pg/policy_state.h"
#include "pg/spi.h"
#include "pg/tenant_access.h"

#include <cmath>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

extern "C" {
#include "access/htup_details.h"
#include "access/xact.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "funcapi.h"
#include "utils/fmgrprotos.h"
#include "utils/rel.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
}

namespace kaireon {
namespace {

using catalog::Entity;

const Entity& entity_of_table(const std::string& table) {
    const Entity* entity = catalog::find_entity_by_table(table);
    if (entity == nullptr) throw Error(ErrorCode::Internal, "not a catalog table: " + table);
    return *entity;
}

// same_content compares two JSON values as jsonb does: objects whatever
// their keys' order, numbers by value.
bool same_content(const Json& a, const Json& b) {
    if (a.is_number() && b.is_number()) return a.get<double>() == b.get<double>();
    if (a.type() != b.type()) return false;
    if (a.is_object()) {
        if (a.size() != b.size()) return false;
        for (const auto& [key, value] : a.items()) {
            auto it = b.find(key);
            if (it == b.end() || !same_content(value, *it)) return false;
        }
        return true;
    }
    if (a.is_array()) {
        if (a.size() != b.size()) return false;
        for (size_t i = 0; i < a.size(); ++i)
            if (!same_content(a[i], b[i])) return false;
        return true;
    }
    return a == b;
}

std::string columns_of(const Entity& entity, const char* prefix) {
    std::string out;
    for (const auto& field : entity.fields) {
        if (!out.empty()) out += ", ";
        out += prefix + std::string(field.column);
    }
    return out;
}

// upsert_sql writes rows given as a jsonb array of column-keyed objects.
std::string upsert_sql(const Entity& entity) {
    std::string record, updates, keys;
    for (const auto& field : entity.fields) {
        if (!record.empty()) record += ", ";
        record += std::string(field.column) + " " + std::string(field.sql_type);
        bool is_key = false;
        for (auto k : entity.key_fields) is_key |= k == field.name;
        if (is_key) {
            keys += ", " + std::string(field.column);
        } else {
            if (!updates.empty()) updates += ", ";
            updates += std::string(field.column) + " = EXCLUDED." + std::string(field.column);
        }
    }
    std::string table = "kaireon." + std::string(entity.table);
    return "INSERT INTO " + table + " AS t (tenant_id, " + columns_of(entity, "") + ") SELECT $1, " +
           columns_of(entity, "r.") + " FROM jsonb_to_recordset($2) AS r(" + record + ") ON CONFLICT (tenant_id" +
           keys + ") DO UPDATE SET " + updates;
}

std::string delete_sql(const Entity& entity) {
    std::string table = "kaireon." + std::string(entity.table);
    if (entity.key_fields.size() == 1) {
        std::string column(entity.field(entity.key_fields[0])->column);
        return "DELETE FROM " + table + " t WHERE t.tenant_id = $1 AND t." + column + " IN (SELECT jsonb_array_elements_text($2))";
    }
    // consents: keys "customerId/channelId" (ids never contain '/')
    return "DELETE FROM " + table +
           " t WHERE t.tenant_id = $1 AND (t.customer_id || '/' || t.channel_id) IN (SELECT jsonb_array_elements_text($2))";
}

// With PostgreSQL's own error (a key still referenced, ...) the path in the
// document is the key being written.
template <typename F>
void write_step(const std::string& key, F&& step) {
    try {
        step();
    } catch (const pg::PgError& e) {
        ErrorData* edata = e.edata();
        if (edata->sqlerrcode != ERRCODE_FOREIGN_KEY_VIOLATION) throw;
        std::string message = key + ": " + (edata->message ? edata->message : "a reference is still in use");
        Json detail = {{"path", key}};
        if (edata->detail) detail["reason"] = edata->detail;
        throw_bad_request(message, detail);
    }
}

struct EntityPlan {
    const Entity* entity;
    std::vector<catalog::Validated> rows;
    std::vector<std::string> paths;  // each row's path in the document
    std::vector<bool> unchanged;     // the row is stored exactly so already
};

// check_category_cycles refuses a parentId chain that loops.
void check_category_cycles(const EntityPlan& plan, const std::map<std::string, std::string>& existing_parents) {
    std::map<std::string, std::string> parent = existing_parents;
    for (size_t i = 0; i < plan.rows.size(); ++i) {
        const Json& row = plan.rows[i].row;
        std::string id = row["id"].get<std::string>();
        if (row["parentId"].is_string()) parent[id] = row["parentId"].get<std::string>();
        else parent.erase(id);
    }
    for (size_t i = 0; i < plan.rows.size(); ++i) {
        if (plan.unchanged[i]) continue;  // a loop stored before is not this document's doing
        const std::string start = plan.rows[i].row["id"].get<std::string>();
        const std::string& path = plan.paths[i];
        std::string at = start;
        for (size_t steps = 0; parent.contains(at); ++steps) {
            at = parent.at(at);
            if (at == start || steps > parent.size())
                throw_bad_request(path + ".parentId: categories may not contain themselves (\"" + start +
                                      "\" is its own ancestor)",
                                  Json{{"path", path + ".parentId"}});
        }
    }
}

// check_limit raises KR422 when `tenant` has more rows of a tier-limited
// entity than its entitlement allows (the caller added some).
void check_limit(const Entity& entity, const std::string& tenant) {
    const std::string feature_key(entity.limit_feature);
    pg::FeaturePtr feature = pg::find_feature(feature_key);
    entitlements::Evaluation evaluation = pg::evaluate_entitlement(tenant, *feature, 0, false);
    const auto& definition = feature->definition;
    if (evaluation.enabled && !evaluation.limit) return;  // unlimited
    if (evaluation.enabled && definition.limit_type == entitlements::LimitType::Soft) return;
    const double limit = evaluation.enabled ? *evaluation.limit : 0;
    const double cap = entitlements::hard_cap(definition, limit);
    pg::lock_name(pg::NameSpace::CatalogLimit, tenant, entity.table, true);
    const int64_t count = pg::count_catalog_rows(entity, tenant, true);
    if (static_cast<double>(count) <= cap) return;
    Json limit_json = limit == std::floor(limit) ? Json(static_cast<int64_t>(limit)) : Json(limit);
    throw Error(ErrorCode::EntitlementLimitReached,
                std::string(entity.key) + ": the " + feature_key + " limit of " + limit_json.dump() + " is reached (" +
                    std::to_string(count) + " after this change)",
                Json{{"feature", feature_key}, {"limit", limit_json}, {"count", count}},
                "Remove some " + std::string(entity.key) + " or upgrade the plan.");
}

Json apply(const std::string& tenant, const Json& doc, bool replace) {
    if (!doc.is_object()) throw_bad_request("the catalog document must be a JSON object", Json{{"path", ""}});
    const catalog::Hooks hooks = pg::catalog_hooks();
    std::map<std::string_view, EntityPlan> plans;
    std::vector<std::string_view> document_order;
    for (const auto& [key, value] : doc.items()) {
        const Entity* entity = catalog::find_entity(key);
        if (entity == nullptr) {
            std::string names;
            for (const auto& e : catalog::entities()) names += (names.empty() ? "" : ", ") + std::string(e.key);
            throw_bad_request(key + ": unknown key (expected " + names + ")", Json{{"path", key}});
        }
        if (!value.is_array()) throw_bad_request(key + ": must be an array", Json{{"path", key}});
        EntityPlan plan{entity, {}, {}, {}};
        std::unordered_map<std::string, size_t> seen;
        for (size_t i = 0; i < value.size(); ++i) {
            std::string path = key + "[" + std::to_string(i) + "]";
            plan.rows.push_back(catalog::validate(*entity, value[i], path, hooks));
            std::string row_key = catalog::row_key(*entity, plan.rows.back().row);
            auto [it, fresh] = seen.emplace(row_key, i);
            if (!fresh) {
                std::string at = path + "." + std::string(entity->key_fields.size() == 1 ? "id" : "channelId");
                throw_bad_request(at + ": duplicate \"" + row_key + "\" (also at " + key + "[" +
                                      std::to_string(it->second) + "])",
                                  Json{{"path", at}});
            }
            plan.paths.push_back(path);
        }
        plans.emplace(entity->key, std::move(plan));
        document_order.push_back(entity->key);
    }

    pg::SpiSession spi;
    // What the tenant has now, for the entities the document names or refers to.
    std::map<std::string_view, std::map<std::string, Json>> existing;
    auto existing_rows = [&](const Entity& entity) -> const std::map<std::string, Json>& {
        auto it = existing.find(entity.key);
        if (it != existing.end()) return it->second;
        std::map<std::string, Json> rows;
        for (Json& row : pg::read_catalog_rows(spi, entity, tenant)) {
            std::string k = catalog::row_key(entity, row);
            rows.emplace(std::move(k), std::move(row));
        }
        return existing.emplace(entity.key, std::move(rows)).first->second;
    };

    // Which objects are stored exactly so already: they change nothing, and
    // what they refer to is not this document's doing.
    for (auto& [key, plan] : plans) {
        const auto& stored = existing_rows(*plan.entity);
        for (const auto& validated : plan.rows) {
            auto it = stored.find(catalog::row_key(*plan.entity, validated.row));
            plan.unchanged.push_back(it != stored.end() &&
                                     same_content(it->second, catalog::stored_form(*plan.entity, validated.row)));
        }
    }

    // Every reference the document makes must name a row that exists after
    // the apply.
    for (std::string_view key : document_order) {
        const EntityPlan& plan = plans.at(key);
        for (size_t row = 0; row < plan.rows.size(); ++row) {
            if (plan.unchanged[row]) continue;
            for (const auto& reference : plan.rows[row].references) {
                const Entity& target = *catalog::find_entity(reference.entity);
                bool found = false;
                if (auto p = plans.find(target.key); p != plans.end()) {
                    for (const auto& r : p->second.rows)
                        if (catalog::row_key(target, r.row) == reference.id) found = true;
                    if (!found && !replace) found = existing_rows(target).contains(reference.id);
                } else {
                    found = existing_rows(target).contains(reference.id);
                }
                if (!found)
                    throw_bad_request(reference.path + ": \"" + reference.id + "\" is not in " + std::string(target.key),
                                      Json{{"path", reference.path}});
            }
        }
    }
    if (auto p = plans.find("categories"); p != plans.end()) {
        std::map<std::string, std::string> parents;
        if (!replace)
            for (const auto& [id, row] : existing_rows(*p->second.entity))
                if (row.contains("parentId")) parents[id] = row["parentId"].get<std::string>();
        check_category_cycles(p->second, parents);
    }

    // Write in dependency order; replace's deletions in the reverse order.
    Json result = Json::object();
    std::vector<std::pair<const Entity*, std::vector<std::string>>> deletions;
    for (const auto& entity : catalog::entities()) {
        auto p = plans.find(entity.key);
        if (p == plans.end()) continue;
        const auto& now = existing_rows(entity);
        Json writes = Json::array();
        int64_t inserted = 0, updated = 0, unchanged = 0;
        std::set<std::string> kept;
        for (size_t row = 0; row < p->second.rows.size(); ++row) {
            const catalog::Validated& validated = p->second.rows[row];
            std::string k = catalog::row_key(entity, validated.row);
            kept.insert(k);
            if (p->second.unchanged[row]) {
                ++unchanged;
                continue;
            }
            (now.contains(k) ? updated : inserted)++;
            Json columns = Json::object();
            for (const auto& field : entity.fields) columns[std::string(field.column)] = validated.row[std::string(field.name)];
            writes.push_back(std::move(columns));
        }
        if (!writes.empty()) {
            std::string sql = upsert_sql(entity);
            write_step(std::string(entity.key), [&] {
                spi.execute(sql.c_str(), {pg::text_arg(tenant), pg::SpiArg{JSONBOID, pg::jsonb_datum(writes)}});
            });
        }
        std::vector<std::string> gone;
        if (replace)
            for (const auto& [k, row] : now)
                if (!kept.contains(k)) gone.push_back(k);
        result[std::string(entity.key)] = {{"inserted", inserted}, {"updated", updated}, {"unchanged", unchanged},
                                           {"deleted", static_cast<int64_t>(gone.size())}};
        if (!gone.empty()) deletions.emplace_back(&entity, std::move(gone));
    }
    // Replace must not leave a stored row pointing at a row it deletes (the
    // references that no foreign key protects: scopeId, experimentId, ids in
    // configs, ...). Rows of keys in the document were checked above.
    if (!deletions.empty()) {
        std::map<std::string_view, std::set<std::string>> deleted;
        for (const auto& [entity, ids] : deletions) deleted[entity->key].insert(ids.begin(), ids.end());
        for (const auto& entity : catalog::entities()) {
            if (plans.contains(entity.key) || entity.key == "customers" || entity.key == "consents") continue;
            for (const auto& [k, row] : existing_rows(entity)) {
                std::optional<catalog::Validated> stored;
                try {
                    stored = catalog::validate(entity, row, std::string(entity.key) + "[" + Json(k).dump() + "]", hooks);
                } catch (const Error&) {
                    continue;  // a stored row that no longer validates is not this document's doing
                }
                for (const auto& reference : stored->references) {
                    auto gone = deleted.find(reference.entity);
                    if (gone != deleted.end() && gone->second.contains(reference.id))
                        throw_bad_request(reference.path + ": refers to \"" + reference.id + "\", which this replace deletes from " +
                                              std::string(reference.entity),
                                          Json{{"path", reference.path}});
                }
            }
        }
    }
    for (auto it = deletions.rbegin(); it != deletions.rend(); ++it) {
        std::string sql = delete_sql(*it->first);
        write_step(std::string(it->first->key),
                   [&] {
                       spi.execute(sql.c_str(), {pg::text_arg(tenant), pg::SpiArg{JSONBOID, pg::jsonb_datum(Json(it->second))}});
                   });
    }
    return Json{{"mode", replace ? "replace" : "merge"}, {"applied", result}};
}

// row_columns returns a catalog table's row as JSON, column names as keys.
Json row_columns(HeapTuple tuple, TupleDesc desc) {
    Datum row = pg::pg_call([&] { return heap_copy_tuple_as_datum(tuple, desc); });
    return parse_json(pg::text_from_datum(pg::pg_call([&] { return DirectFunctionCall1(row_to_json, row); })), "row",
                      kCatalogJsonLimits);
}

// stored_row returns the committed or own row with the key of `row` (an
// id-keyed entity), if there is one.
std::optional<Json> stored_row(const Entity& entity, const std::string& tenant, const Json& row) {
    pg::AsExtensionOwner owner;
    pg::SpiSession spi;
    const std::string sql =
        "SELECT to_jsonb(t) FROM kaireon." + std::string(entity.table) + " t WHERE t.tenant_id = $1 AND t.id = $2";
    spi.execute(sql.c_str(), {pg::text_arg(tenant), pg::text_arg(row.value("id", ""))}, true);
    if (spi.rows() == 0) return std::nullopt;
    return spi.json(0, 0);
}

}  // namespace
}  // namespace kaireon

using namespace kaireon;

// kaireon_apply_catalog(doc, mode) upserts a catalog document for the current
// tenant, all or nothing; returns {"mode", "applied": {key: {inserted,
// updated, unchanged, deleted}}}.
KAIREON_FUNCTION(kaireon_apply_catalog) {
    std::string tenant = pg::require_current_tenant();
    if (PG_ARGISNULL(0)) throw_bad_request("doc must not be null", Json{{"path", "doc"}});
    std::string mode = PG_ARGISNULL(1) ? "merge" : pg::text_from_datum(PG_GETARG_DATUM(1));
    if (mode != "merge" && mode != "replace")
        throw_bad_request("mode must be merge or replace, not \"" + mode + "\"", Json{{"path", "mode"}});
    Json doc = pg::json_from_jsonb(PG_GETARG_DATUM(0), "doc", kCatalogJsonLimits);
    return pg::jsonb_datum(apply(tenant, doc, mode == "replace"));
}

// kaireon_export_catalog() returns the current tenant's catalog document,
// every key present, every array sorted by id.
KAIREON_FUNCTION(kaireon_export_catalog) {
    std::string tenant = pg::require_current_tenant();
    Json doc = Json::object();
    pg::SpiSession spi;
    // Customers and consents are personal data: only administrators (who
    // may read those tables) get them; a reader's export leaves them out.
    const bool personal = pg::is_kaireon_admin(GetOuterUserId());
    for (const auto& entity : catalog::entities()) {
        if (!personal && (entity.key == "customers" || entity.key == "consents")) continue;
        doc[std::string(entity.key)] = pg::read_catalog_rows(spi, entity, tenant);
    }
    return pg::jsonb_datum(doc);
}

// kaireon_catalog_row: BEFORE INSERT OR UPDATE OR DELETE ... FOR EACH ROW
// on every catalog table. Validates the row as the document object it stores
// (KR400 naming the path, e.g. offers["gold"].priority), keeps it in its
// tenant, stamps updated_at, and notes the tenant's catalog change.
KAIREON_FUNCTION(kaireon_catalog_row) {
    auto* trigger = reinterpret_cast<TriggerData*>(fcinfo->context);
    if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BEFORE(trigger->tg_event) ||
        !TRIGGER_FIRED_FOR_ROW(trigger->tg_event)) {
        throw Error(ErrorCode::Internal, "kaireon._catalog_row must be a BEFORE ... FOR EACH ROW trigger");
    }
    Relation relation = trigger->tg_relation;
    TupleDesc desc = RelationGetDescr(relation);
    const Entity& entity = entity_of_table(RelationGetRelationName(relation));
    const int tenant_column = pg::pg_call([&] { return SPI_fnumber(desc, "tenant_id"); });
    auto tenant_of = [&](HeapTuple tuple) {
        bool is_null = false;
        Datum value = pg::pg_call([&] { return heap_getattr(tuple, tenant_column, desc, &is_null); });
        return is_null ? std::string() : pg::text_from_datum(value);
    };
    // Customers and consents are read per decision, not compiled: their
    // writes (an application syncing profiles) leave compiled catalogs alone.
    const bool compiled = entity.key != "customers" && entity.key != "consents";
    // The write's counting side effects compare the row with the one it
    // replaces: the old row of an UPDATE or DELETE, and for an INSERT the
    // stored row apply_catalog's upsert (INSERT ... ON CONFLICT DO UPDATE)
    // is about to update, since PostgreSQL fires BEFORE INSERT before it
    // finds the conflict.
    const bool counting_entity = entity.key == "offers" || entity.key == "models" || entity.key == "experiments";
    std::optional<Json> before, after;
    if (counting_entity) {
        if (TRIGGER_FIRED_BY_INSERT(trigger->tg_event)) {
            after = row_columns(trigger->tg_trigtuple, desc);
            before = stored_row(entity, tenant_of(trigger->tg_trigtuple), *after);
        } else {
            before = row_columns(trigger->tg_trigtuple, desc);
            if (TRIGGER_FIRED_BY_UPDATE(trigger->tg_event)) after = row_columns(trigger->tg_newtuple, desc);
        }
    }
    // A cap made, edited or removed: the tenant's counts load again from
    // the records once this commits, so a count left over from an earlier
    // scope of the cap (or from a removed cap with the same id) is never
    // read again. An offer's budget made, changed or removed is the same
    // for its count (respond counts only offers that have a budget).
    auto budget_of = [](const std::optional<Json>& row) -> std::string {
        return row && row->contains("budget") && !(*row)["budget"].is_null() ? (*row)["budget"].dump() : "";
    };
    const bool budget_changed = entity.key == "offers" && budget_of(before) != budget_of(after);
    if (entity.key == "caps" || budget_changed) {
        // Waits for transactions recording impressions under the caps as
        // they are, and holds new ones back until this edit ends: an
        // impression in flight is then never missed by a cap whose scope
        // changes under it.
        pg::lock_name(pg::NameSpace::CapCounting, tenant_of(trigger->tg_trigtuple), "", true);
        pg::forget_counts_at_commit(tenant_of(trigger->tg_trigtuple));
    }
    // A maintenance load (a superuser writing without kaireon.tenant, as
    // pg_restore does) counts nothing again and emits nothing: the slots
    // and the outbox are restored as they were.
    const bool maintenance = pg::is_maintenance_load();
    // A bayesian model made, or one that starts counting by segment: its
    // offer statistics are counted again from the recorded interactions,
    // with responding transactions held back as for caps (respond counts
    // only while a bayesian model exists). Other edits count nothing again.
    auto stats_mode = [](const std::optional<Json>& row) -> int {
        if (!row || row->value("type", Json()) != "bayesian") return 0;
        const Json definition = row->value("definition", Json::object());
        return definition.is_object() && definition.value("bySegment", false) == true ? 2 : 1;
    };
    if (entity.key == "models" && !maintenance && stats_mode(after) != 0 && stats_mode(after) != stats_mode(before)) {
        const std::string tenant = tenant_of(trigger->tg_trigtuple);
        pg::lock_name(pg::NameSpace::CapCounting, tenant, "", true);
        pg::rebuild_offer_stats(tenant);
    }
    // A bandit made (or an experiment turned into one, or switched between
    // variants and offers as its arms): its counts the same way, since
    // respond counts arms only while the bandit is in the catalog.
    auto arms_of = [](const std::optional<Json>& row) -> std::string {
        if (!row || row->value("type", Json()) != "bandit") return "";
        const Json variants = row->value("variants", Json::array());
        return variants.is_array() && !variants.empty() ? "variants" : "offers";
    };
    if (entity.key == "experiments" && !maintenance && !arms_of(after).empty() && arms_of(after) != arms_of(before)) {
        const std::string tenant = tenant_of(trigger->tg_trigtuple);
        pg::lock_name(pg::NameSpace::CapCounting, tenant, "", true);
        if (arms_of(after) == "offers") pg::rebuild_offer_stats(tenant);
        else pg::rebuild_bandit_arms(tenant, after->value("id", ""));
    }
    // An experiment that becomes active starts placing customers; one that
    // stops being active (paused, completed, deleted) stops: the outbox says
    // so (experiment.started, experiment.stopped with the reason).
    if (entity.key == "experiments" && !maintenance) {
        auto active = [](const std::optional<Json>& row) { return row && row->value("status", Json()) == "active"; };
        const std::string tenant = tenant_of(trigger->tg_trigtuple);
        const std::string id = (after ? *after : *before).value("id", "");
        if (active(after) && !active(before)) pg::emit_event(tenant, "experiment.started", {{"experimentId", id}});
        if (active(before) && !active(after))
            pg::emit_event(tenant, "experiment.stopped",
                           {{"experimentId", id}, {"reason", after ? after->value("status", "") : std::string("deleted")}});
    }
    if (TRIGGER_FIRED_BY_DELETE(trigger->tg_event)) {
        if (compiled) pg::note_catalog_change(tenant_of(trigger->tg_trigtuple));
        return PointerGetDatum(trigger->tg_trigtuple);
    }
    HeapTuple tuple = TRIGGER_FIRED_BY_UPDATE(trigger->tg_event) ? trigger->tg_newtuple : trigger->tg_trigtuple;
    const std::string tenant = tenant_of(tuple);
    if (TRIGGER_FIRED_BY_UPDATE(trigger->tg_event)) {
        if (tenant_of(trigger->tg_trigtuple) != tenant)
            throw_bad_request("a catalog row cannot move to another tenant", Json{{"path", "tenant_id"}});
        int column = pg::pg_call([&] { return SPI_fnumber(desc, "updated_at"); });
        Datum now = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());
        bool is_null = false;
        tuple = pg::pg_call([&] { return heap_modify_tuple_by_cols(tuple, desc, 1, &column, &now, &is_null); });
    }
    if (compiled) pg::note_catalog_change(tenant);
    // The row as JSON, column names as keys (row_to_json reads the row type
    // from the tuple itself).
    Json object = catalog::object_of_columns(entity, row_columns(tuple, desc));
    Json keys = Json::object();
    for (auto k : entity.key_fields) keys[std::string(k)] = object.value(std::string(k), "");
    std::string path = std::string(entity.key) + "[" + Json(catalog::row_key(entity, keys)).dump() + "]";
    catalog::validate(entity, object, path, pg::catalog_hooks());
    return PointerGetDatum(tuple);
}

// kaireon_catalog_truncated: AFTER TRUNCATE on every catalog table; every
// tenant's compiled catalog of this database is stale.
KAIREON_FUNCTION(kaireon_catalog_truncated) {
    if (!CALLED_AS_TRIGGER(fcinfo)) throw Error(ErrorCode::Internal, "kaireon._catalog_truncated must be a trigger");
    pg::note_catalog_change("");
    return PointerGetDatum(nullptr);
}

// kaireon_catalog_limit: AFTER INSERT ... FOR EACH STATEMENT with the new
// rows as a transition table, on the tier-limited tables. For each tenant
// the statement added rows to, raises KR422 when the tenant now has more
// rows than it is entitled to. The name lock serialises the tenant's inserts
// into the table until commit, and the count reads the latest committed rows
// plus this transaction's own, so two racing inserts can never both take the
// last place, whatever the isolation level.
KAIREON_FUNCTION(kaireon_catalog_limit) {
    auto* trigger = reinterpret_cast<TriggerData*>(fcinfo->context);
    if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_FOR_STATEMENT(trigger->tg_event) ||
        trigger->tg_newtable == nullptr) {
        throw Error(ErrorCode::Internal, "kaireon._catalog_limit must be a statement trigger with a NEW TABLE");
    }
    const Entity& entity = entity_of_table(RelationGetRelationName(trigger->tg_relation));
    if (entity.limit_feature.empty() || pg::restoring()) return PointerGetDatum(nullptr);
    TupleDesc desc = RelationGetDescr(trigger->tg_relation);
    const int tenant_column = pg::pg_call([&] { return SPI_fnumber(desc, "tenant_id"); });
    std::set<std::string> tenants;
    TupleTableSlot* slot = pg::pg_call([&] { return MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple); });
    pg::pg_call([&] { tuplestore_rescan(trigger->tg_newtable); });
    while (pg::pg_call([&] { return tuplestore_gettupleslot(trigger->tg_newtable, true, false, slot); })) {
        bool is_null = false;
        Datum value = pg::pg_call([&] { return slot_getattr(slot, tenant_column, &is_null); });
        if (!is_null) tenants.insert(pg::text_from_datum(value));
    }
    pg::pg_call([&] { ExecDropSingleTupleTableSlot(slot); });
    for (const std::string& tenant : tenants) check_limit(entity, tenant);
    return PointerGetDatum(nullptr);
}

// kaireon_forget_customer(customer_id) erases a customer's personal data:
// attributes, segments, time zone and consents (the customer row goes);
// its decisions and traces stay, under a pseudonym.
KAIREON_FUNCTION(kaireon_forget_customer) {
    std::string tenant = pg::require_current_tenant();
    std::string customer = pg::required_text(fcinfo, 0, "customer_id");
    int64 consents = 0, customers = 0, decisions = 0, interactions = 0;
    {
        pg::SpiSession spi;
        consents = static_cast<int64>(spi.execute(
            "DELETE FROM kaireon.consents c WHERE c.tenant_id = $1 AND c.customer_id = $2",
            {pg::text_arg(tenant), pg::text_arg(customer)}));
        customers = static_cast<int64>(spi.execute("DELETE FROM kaireon.customers c WHERE c.tenant_id = $1 AND c.id = $2",
                                                   {pg::text_arg(tenant), pg::text_arg(customer)}));
        // Decisions, their traces and the interactions stay (they are
        // counted: quota, caps) under one pseudonym that nothing links back
        // to the customer.
        spi.execute("SELECT 'forgotten-' || gen_random_uuid()::text", {}, true);
        const std::string pseudonym = *spi.text(0, 0);
        decisions = static_cast<int64>(
            spi.execute("UPDATE kaireon.decisions d SET customer_id = $3 WHERE d.tenant_id = $1 AND d.customer_id = $2",
                        {pg::text_arg(tenant), pg::text_arg(customer), pg::text_arg(pseudonym)}));
        spi.execute("UPDATE kaireon.decision_traces t SET customer_id = $3 WHERE t.tenant_id = $1 AND t.customer_id = $2",
                    {pg::text_arg(tenant), pg::text_arg(customer), pg::text_arg(pseudonym)});
        interactions = static_cast<int64>(
            spi.execute("UPDATE kaireon.interactions i SET customer_id = $3 WHERE i.tenant_id = $1 AND i.customer_id = $2",
                        {pg::text_arg(tenant), pg::text_arg(customer), pg::text_arg(pseudonym)}));
    }
    Json erased = {{"customers", customers},
                   {"consents", consents},
                   {"decisionsAnonymised", decisions},
                   {"interactionsAnonymised", interactions}};
    pg::audit(tenant, "customer.forgotten", customer, Json{{"erased", erased}});
    return pg::jsonb_datum(Json{{"customerId", customer}, {"found", customers > 0}, {"erased", erased}});
}

// kaireon_check_eligibility(customer_id, context, flow) returns, for every
// offer, whether it is eligible for the customer now and why not.
KAIREON_FUNCTION(kaireon_check_eligibility) {
    std::string tenant = pg::require_current_tenant();
    std::string customer_id = pg::required_text(fcinfo, 0, "customer_id");
    Json context = PG_ARGISNULL(1) ? Json::object() : pg::json_from_jsonb(PG_GETARG_DATUM(1), "context");
    if (!context.is_object()) throw_bad_request("context must be a JSON object", Json{{"path", "context"}});
    auto compiled = pg::compiled_catalog(tenant);
    const catalog::CompiledFlow* flow = nullptr;
    if (!PG_ARGISNULL(2)) {
        std::string flow_id = pg::text_from_datum(PG_GETARG_DATUM(2));
        auto it = compiled->flows.find(flow_id);
        if (it == compiled->flows.end())
            throw_bad_request("unknown flow \"" + flow_id + "\"", Json{{"path", "flow"}});
        flow = &it->second;
    }
    decision::CustomerView view = pg::read_customer(tenant, customer_id, "customer_id");
    // metric() reads the customer's behavioral metrics, as in decisions.
    if (compiled->uses_metrics) pg::read_customer_history(tenant, *compiled, view, pg::now_seconds());
    const catalog::Customer& customer = view.customer;
    const double now = static_cast<double>(pg::now_seconds());
    auto* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
    pg::pg_call([&] { InitMaterializedSRF(fcinfo, 0); });
    for (const auto& offer : compiled->offers) {
        catalog::Eligibility verdict = catalog::check_offer(offer, flow, customer, context, now);
        Datum values[3] = {pg::text_datum(offer.id), BoolGetDatum(verdict.eligible), pg::text_datum(verdict.reason)};
        bool nulls[3] = {};
        pg::pg_call([&] { tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls); });
    }
    return static_cast<Datum>(0);
}

// kaireon_catalog_fields() describes the document format: one row per field.
KAIREON_FUNCTION(kaireon_catalog_fields) {
    auto* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
    pg::pg_call([&] { InitMaterializedSRF(fcinfo, 0); });
    for (const auto& entity : catalog::entities()) {
        for (const auto& field : entity.fields) {
            Datum values[7] = {pg::text_datum(std::string(entity.key)),   pg::text_datum(std::string(entity.table)),
                               pg::text_datum(std::string(field.name)),   pg::text_datum(std::string(field.column)),
                               pg::text_datum(std::string(field.sql_type)), BoolGetDatum(field.required),
                               field.default_value.is_null() ? Datum(0) : pg::jsonb_datum(field.default_value)};
            bool nulls[7] = {false, false, false, false, false, false, field.default_value.is_null()};
            pg::pg_call([&] { tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls); });
        }
    }
    return static_cast<Datum>(0);
}
