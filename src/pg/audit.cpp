#include "core/audit.h"

#include "pg/audit.h"

#include "pg/direct_insert.h"
#include "pg/events.h"
#include "pg/guard.h"
#include "pg/jsonb.h"
#include "pg/name_lock.h"
#include "pg/shared_state.h"
#include "pg/spi.h"
#include "pg/tenant_access.h"

#include <array>
#include <cstring>
#include <string>
#include <vector>

extern "C" {
#include "nodes/parsenodes.h"
#include "nodes/plannodes.h"
#include "tcop/pquery.h"
#include "utils/portal.h"
}

namespace kaireon::pg {

bool restoring() {
    // pg_dump's scripts and pg_restore load data as a superuser with
    // row_security off, with COPY (or INSERT with --inserts); the API never
    // writes that way.
    // The calling role (not the owner of a SECURITY DEFINER trigger on the
    // way), and only COPY ... FROM: COPY (query) TO writes through the API.
    return pg_call([] {
        if (!superuser_arg(GetOuterUserId())) return false;
        if (ActivePortal != nullptr && ActivePortal->commandTag == CMDTAG_COPY) {
            ListCell* cell = nullptr;
            foreach (cell, ActivePortal->stmts) {
                auto* planned = static_cast<PlannedStmt*>(lfirst(cell));
                if (IsA(planned, PlannedStmt) && planned->utilityStmt != nullptr && IsA(planned->utilityStmt, CopyStmt) &&
                    castNode(CopyStmt, planned->utilityStmt)->is_from)
                    return true;
            }
        }
        const char* row_security = GetConfigOption("row_security", false, false);
        return row_security != nullptr && strcmp(row_security, "off") == 0;
    });
}

void audit(const std::string& tenant, std::string_view action, const std::optional<std::string>& target,
           const Json& details) {
    const char* actor = pg_call([] { return GetUserNameFromId(GetOuterUserId(), true); });
    std::string actor_name = actor != nullptr ? actor : "?";
    AsExtensionOwner owner;
    insert_row("audit_log", {{"tenant_id", text_arg(tenant)},
                             {"actor", text_arg(actor_name)},
                             {"action", text_arg(action)},
                             {"target", target ? text_arg(*target) : null_text_arg()},
                             {"details", SpiArg{JSONBOID, jsonb_datum(details)}}});
}

namespace {

// The canonical text of a row's fields, in hashing order; txid is part of
// the row (it decides the chain order).
constexpr const char* kRowFields =
    "a.id::text, a.txid::text, (extract(epoch FROM a.recorded_at) * 1000000)::bigint::text, a.actor, a.action, "
    "CASE WHEN a.target IS NULL THEN 'N' ELSE 'T' || a.target END, a.details::text";
constexpr int kRowFieldCount = 7;

std::vector<std::string> row_fields(const SpiSession& spi, uint64 row, int first_column) {
    std::vector<std::string> fields;
    fields.reserve(kRowFieldCount);
    for (int i = 0; i < kRowFieldCount; ++i) fields.push_back(spi.text(row, first_column + i).value_or(""));
    return fields;
}

audit::Hash hash_from(const std::optional<std::string>& hex_text) {
    if (auto hash = hex_text ? audit::from_hex(*hex_text) : std::nullopt) return *hash;
    // Unreadable (NULL, wrong length): a value no real link has, not even
    // genesis (all zeros), so verify() reports the break.
    audit::Hash unreadable;
    unreadable.fill(0xFF);
    return unreadable;
}

// The refusal counters seal_audit writes to the trail (shared memory, since
// the server started), as audit action "refusals" with target = the kind.
constexpr std::array<std::pair<Stat, const char*>, 3> kRefusalKinds{{
    {Stat::QuotaRefusals, "quota"},
    {Stat::UsageRefusals, "usage_limit"},
    {Stat::EntitlementRefusals, "entitlement"},
}};

// flush_refusals writes what the refusal counters of `tenant` counted since
// the last flush. Refused transactions rolled back; the counters did not.
int64_t flush_refusals(const std::string& tenant, const uint64_t* counters) {
    int64_t written = 0;
    for (const auto& [stat, kind] : kRefusalKinds) {
        const auto total = static_cast<int64_t>(counters[static_cast<int>(stat)]);
        int64_t counted = 0;
        std::string since;
        {
            AsExtensionOwner owner;
            SpiSession spi;
            spi.execute(
                "SELECT counted::text, server_start = pg_postmaster_start_time() FROM kaireon.audit_refusal_marks "
                "WHERE tenant_id = $1 AND kind = $2",
                {text_arg(tenant), text_arg(kind)});
            if (spi.rows() == 1 && spi.boolean(0, 1).value_or(false)) counted = std::stoll(spi.text(0, 0).value_or("0"));
        }
        if (total <= counted) continue;
        audit(tenant, "refusals", std::string(kind), Json{{"kind", kind}, {"count", total - counted}});
        AsExtensionOwner owner;
        SpiSession spi;
        spi.execute(
            "INSERT INTO kaireon.audit_refusal_marks (tenant_id, kind, counted, server_start) "
            "VALUES ($1, $2, $3, pg_postmaster_start_time()) ON CONFLICT (tenant_id, kind) DO UPDATE "
            "SET counted = EXCLUDED.counted, server_start = EXCLUDED.server_start",
            {text_arg(tenant), text_arg(kind), SpiArg{INT8OID, Int64GetDatum(total)}});
        ++written;
    }
    return written;
}

// chain_start is where `tenant`'s chain goes on from: its latest anchor
// (retention dropped the seals up to it), or genesis.
audit::ChainStart chain_start(SpiSession& spi, const std::string& tenant) {
    spi.execute(
        "SELECT a.position::text, encode(a.hash, 'hex') FROM kaireon.audit_anchors a "
        "WHERE a.tenant_id = $1 ORDER BY a.position DESC LIMIT 1",
        {text_arg(tenant)}, true);
    audit::ChainStart start;
    if (spi.rows() == 1) {
        start.position = std::stoll(spi.text(0, 0).value_or("0"));
        start.hash = hash_from(spi.text(0, 1));
    }
    return start;
}

struct SealResult {
    int64_t sealed = 0;
    int64_t last_audit_id = 0;
    std::string last_hash;
};

// seal_tenant extends `tenant`'s chain over its committed rows that have no
// seal yet, at most `max_rows` of them, in (txid, id) order. Sealers of one
// tenant take turns; writers never wait for them. Rows of transactions still
// running are sealed by a later run: audit_chain_state.scan_from remembers
// the oldest transaction that was running, so later runs look no further back.
SealResult seal_tenant(const std::string& tenant, int64_t max_rows) {
    lock_name(NameSpace::AuditSeal, tenant, "seal", true);
    SealResult result;
    AsExtensionOwner owner;
    SpiSession spi;
    LatestSnapshot latest;  // what sealers before us committed
    const audit::ChainStart start = chain_start(spi, tenant);
    int64_t position = start.position;
    audit::Hash prev = start.hash;
    spi.execute(
        "SELECT s.position::text, encode(s.hash, 'hex') FROM kaireon.audit_seals s "
        "WHERE s.tenant_id = $1 AND s.position > $2 ORDER BY s.position DESC LIMIT 1",
        {text_arg(tenant), SpiArg{INT8OID, Int64GetDatum(start.position)}}, true);
    if (spi.rows() == 1) {
        position = std::stoll(spi.text(0, 0).value_or("0"));
        prev = hash_from(spi.text(0, 1));
    }
    spi.execute(
        "SELECT coalesce((SELECT scan_from FROM kaireon.audit_chain_state WHERE tenant_id = $1), '0')::text, "
        "pg_snapshot_xmin(pg_current_snapshot())::text",
        {text_arg(tenant)}, true);
    const std::string scan_from = spi.text(0, 0).value_or("0");
    const std::string horizon = spi.text(0, 1).value_or("0");
    spi.execute(
        (std::string("SELECT ") + kRowFields +
         ", a.recorded_at::text FROM kaireon.audit_log a WHERE a.tenant_id = $1 AND a.txid >= $2::xid8 "
         "AND a.txid IS DISTINCT FROM pg_current_xact_id_if_assigned() "
         "AND NOT EXISTS (SELECT 1 FROM kaireon.audit_seals s WHERE s.tenant_id = a.tenant_id AND s.audit_id = a.id) "
         "ORDER BY a.txid, a.id LIMIT $3")
            .c_str(),
        {text_arg(tenant), text_arg(scan_from), SpiArg{INT8OID, Int64GetDatum(max_rows)}}, true);
    struct Link {
        std::vector<std::string> fields;
        std::string recorded_at;  // the seal goes to its row's time partition
        audit::Hash prev;
        audit::Hash hash;
    };
    std::vector<Link> links;
    for (uint64 row = 0; row < spi.rows(); ++row) {
        Link link{row_fields(spi, row, 0), spi.text(row, kRowFieldCount).value_or(""), prev, {}};
        link.hash = audit::link_hash(prev, link.fields);
        prev = link.hash;
        links.push_back(std::move(link));
    }
    for (const Link& link : links) {
        ++position;
        spi.execute(
            "INSERT INTO kaireon.audit_seals (tenant_id, position, audit_id, prev_hash, hash, recorded_at) "
            "VALUES ($1, $2, $3::bigint, decode($4, 'hex'), decode($5, 'hex'), $6::timestamptz)",
            {text_arg(tenant), SpiArg{INT8OID, Int64GetDatum(position)}, text_arg(link.fields[0]),
             text_arg(audit::hex(link.prev)), text_arg(audit::hex(link.hash)), text_arg(link.recorded_at)});
    }
    if (static_cast<int64_t>(links.size()) < max_rows) {  // all caught up to the horizon
        spi.execute(
            "INSERT INTO kaireon.audit_chain_state (tenant_id, scan_from, sealed_at) VALUES ($1, $2::xid8, now()) "
            "ON CONFLICT (tenant_id) DO UPDATE SET scan_from = EXCLUDED.scan_from, sealed_at = EXCLUDED.sealed_at",
            {text_arg(tenant), text_arg(horizon)});
    }
    result.sealed = static_cast<int64_t>(links.size());
    if (!links.empty()) {
        result.last_audit_id = std::stoll(links.back().fields[0]);
        result.last_hash = audit::hex(links.back().hash);
    }
    return result;
}

std::vector<std::string> tenants_with_audit_rows() {
    AsExtensionOwner owner;
    SpiSession spi;
    // A loose index scan: one probe per distinct tenant.
    spi.execute(
        "WITH RECURSIVE t (tenant_id) AS ("
        "  (SELECT a.tenant_id FROM kaireon.audit_log a ORDER BY a.tenant_id LIMIT 1)"
        "  UNION ALL"
        "  SELECT (SELECT a.tenant_id FROM kaireon.audit_log a WHERE a.tenant_id > t.tenant_id"
        "          ORDER BY a.tenant_id LIMIT 1) FROM t WHERE t.tenant_id IS NOT NULL)"
        "SELECT tenant_id FROM t WHERE tenant_id IS NOT NULL",
        {}, true);
    std::vector<std::string> tenants;
    for (uint64 row = 0; row < spi.rows(); ++row) tenants.push_back(spi.text(row, 0).value_or(""));
    return tenants;
}

bool tenant_exists(const std::string& tenant) {
    AsExtensionOwner owner;
    SpiSession spi;
    spi.execute("SELECT 1 FROM kaireon.tenants WHERE tenant_id = $1", {text_arg(tenant)}, true);
    return spi.rows() > 0;
}

void require_audit_reader(const std::string& tenant) {
    Oid role = GetOuterUserId();
    if (is_kaireon_admin(role)) return;
    if (!tenant.empty() && tenant_access(role, tenant) == TenantAccess::Member) return;
    throw Error(ErrorCode::TenantAccessDenied, "role may not read the audit trail of tenant \"" + tenant + "\"",
                Json{{"tenant", tenant}});
}

// walk_chain reads `tenant`'s chain from its anchor (up to through_position
// when given) and judges it. The whole chain also looks for committed rows
// the last seal_audit run should have sealed that have no seal: added
// behind the chain's back.
audit::Verdict walk_chain(const std::string& tenant, std::optional<int64_t> through_position) {
    std::vector<audit::SealedEntry> chain;
    std::vector<int64_t> unsealed;
    AsExtensionOwner owner;
    SpiSession spi;
    LatestSnapshot latest;
    const audit::ChainStart start = chain_start(spi, tenant);
    spi.execute((std::string("SELECT s.position::text, s.audit_id::text, encode(s.prev_hash, 'hex'), "
                             "encode(s.hash, 'hex'), a.id IS NOT NULL, ") +
                 kRowFields +
                 " FROM kaireon.audit_seals s LEFT JOIN kaireon.audit_log a "
                 "ON a.tenant_id = s.tenant_id AND a.id = s.audit_id "
                 "WHERE s.tenant_id = $1 AND s.position > $2 AND ($3::bigint IS NULL OR s.position <= $3) "
                 "ORDER BY s.position")
                    .c_str(),
                {text_arg(tenant), SpiArg{INT8OID, Int64GetDatum(start.position)},
                 through_position ? SpiArg{INT8OID, Int64GetDatum(*through_position)} : SpiArg{INT8OID, 0, true}},
                true);
    chain.reserve(spi.rows());
    for (uint64 row = 0; row < spi.rows(); ++row) {
        audit::SealedEntry entry;
        entry.position = std::stoll(spi.text(row, 0).value_or("0"));
        entry.audit_id = std::stoll(spi.text(row, 1).value_or("0"));
        entry.prev_hash = hash_from(spi.text(row, 2));
        entry.hash = hash_from(spi.text(row, 3));
        if (spi.boolean(row, 4).value_or(false)) entry.fields = row_fields(spi, row, 5);
        chain.push_back(std::move(entry));
    }
    if (!through_position) {
        spi.execute(
            "SELECT a.id::text FROM kaireon.audit_log a JOIN kaireon.audit_chain_state st USING (tenant_id) "
            "WHERE a.tenant_id = $1 AND a.txid < st.scan_from "
            "AND NOT EXISTS (SELECT 1 FROM kaireon.audit_seals s WHERE s.tenant_id = a.tenant_id AND s.audit_id = a.id) "
            "ORDER BY a.id LIMIT 100",
            {text_arg(tenant)}, true);
        for (uint64 row = 0; row < spi.rows(); ++row) unsealed.push_back(std::stoll(spi.text(row, 0).value_or("0")));
    }
    return audit::verify(chain, unsealed, start);
}

}  // namespace
}  // namespace kaireon::pg

using namespace kaireon;

// kaireon_audit(tenant, action, target, details) appends one audit record
// (for the extension's SQL: its row triggers).
KAIREON_FUNCTION(kaireon_audit) {
    if (pg::restoring()) PG_RETURN_VOID();  // the rows were audited when they were made
    std::string tenant = PG_ARGISNULL(0) ? std::string() : pg::text_from_datum(PG_GETARG_DATUM(0));
    std::string action = pg::required_text(fcinfo, 1, "action");
    std::optional<std::string> target;
    if (!PG_ARGISNULL(2)) target = pg::text_from_datum(PG_GETARG_DATUM(2));
    // The triggers' details carry the catalog row written (a gradient-boosted
    // model may be several MiB): the catalog's limits.
    Json details =
        PG_ARGISNULL(3) ? Json::object() : pg::json_from_jsonb(PG_GETARG_DATUM(3), "details", kCatalogJsonLimits);
    pg::audit(tenant, action, target, details);
    PG_RETURN_VOID();
}

// kaireon_seal_audit(max_rows) writes the refusal counters to the trail, then
// seals every tenant's new rows; returns {"sealed": n, "tenants": k}.
KAIREON_FUNCTION(kaireon_seal_audit) {
    const int64 max_rows = PG_ARGISNULL(0) ? 100000 : PG_GETARG_INT32(0);
    if (max_rows < 1 || max_rows > 10000000) {
        throw_bad_request("max_rows must be between 1 and 10000000", Json{{"path", "max_rows"}});
    }
    if (IsolationUsesXactSnapshot()) {
        throw_bad_request("seal_audit must run in a READ COMMITTED transaction", Json{{"path", "transaction"}});
    }
    std::vector<pg::TenantStats> slots(static_cast<size_t>(pg::max_tenant_slots()) + 64);
    slots.resize(pg::snapshot_stats(slots.data(), slots.size()));
    int64_t refusal_records = 0;
    for (const pg::TenantStats& slot : slots) refusal_records += pg::flush_refusals(slot.tenant, slot.counters);

    int64_t sealed = 0;
    int64_t tenants = 0;
    for (const std::string& tenant : pg::tenants_with_audit_rows()) {
        pg::SealResult result = pg::seal_tenant(tenant, max_rows);
        if (result.sealed == 0) continue;
        sealed += result.sealed;
        ++tenants;
        if (!tenant.empty() && pg::tenant_exists(tenant)) {  // a dropped tenant's trail is kept, its outbox not
            pg::emit_event(tenant, "audit.sealed",
                           Json{{"sealed", result.sealed}, {"lastAuditId", result.last_audit_id},
                                {"lastHash", result.last_hash}});
        }
    }
    return pg::jsonb_datum(Json{{"sealed", sealed}, {"tenants", tenants}, {"refusalRecords", refusal_records}});
}

// kaireon_verify_audit(tenant) walks the tenant's chain and returns
// {"valid", "checked", "firstBrokenId", "reason"}.
KAIREON_FUNCTION(kaireon_verify_audit) {
    if (PG_ARGISNULL(0)) throw_bad_request("tenant_id must not be null", Json{{"path", "tenant_id"}});
    std::string tenant = pg::text_from_datum(PG_GETARG_DATUM(0));
    pg::require_audit_reader(tenant);
    audit::Verdict verdict = pg::walk_chain(tenant, std::nullopt);
    if (!verdict.valid && !tenant.empty() && !XactReadOnly) {
        pg::emit_event(tenant, "audit.verification_failed",
                       Json{{"firstBrokenId", verdict.first_broken_id ? Json(*verdict.first_broken_id) : Json(nullptr)},
                            {"reason", verdict.reason ? Json(*verdict.reason) : Json(nullptr)}});
    }
    return pg::jsonb_datum(verdict.to_json());
}

// kaireon_audit_chain_verdict(tenant, through_position) walks the tenant's
// chain from its anchor up to a position, for retention (the extension's
// SQL only: not granted).
KAIREON_FUNCTION(kaireon_audit_chain_verdict) {
    if (PG_ARGISNULL(0) || PG_ARGISNULL(1)) {
        throw_bad_request("tenant_id and through_position must not be null", Json{{"path", "tenant_id"}});
    }
    return pg::jsonb_datum(pg::walk_chain(pg::text_from_datum(PG_GETARG_DATUM(0)), PG_GETARG_INT64(1)).to_json());
}
