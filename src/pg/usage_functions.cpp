// usage_functions.cpp - the metering API (SPEC section 4): report_usage and
// the idempotency-key purge. Validation and aggregation are the insert
// trigger's code (usage_ingest.cpp), the same for a report and a bulk load.
#include "core/entitlements.h"
#include "core/usage.h"

#include "pg/clock.h"
#include "pg/direct_insert.h"
#include "pg/entitlement_state.h"
#include "pg/guard.h"
#include "pg/jsonb.h"
#include "pg/name_lock.h"
#include "pg/spi.h"
#include "pg/tenant_access.h"
#include "pg/usage_ingest.h"

#include <optional>
#include <string>
#include <vector>

using namespace kaireon;

namespace {

constexpr int kFeature = 0, kValue = 1, kKey = 2, kOccurredAt = 3, kProperties = 4;

pg::SpiArg nullable(FunctionCallInfo fcinfo, int n, Oid type) {
    if (PG_ARGISNULL(n)) return pg::SpiArg{type, 0, true};
    return pg::SpiArg{type, PG_GETARG_DATUM(n)};
}

// Replay is what the key's first report left: whether the supplied fields
// match, and its answer.
struct Replay {
    std::vector<std::string> differs;
    std::optional<std::string> answer;
};

// find_replay returns the key's live record, if any (an expired one is
// deleted: the key records again). Caller holds the key's name lock, so the
// latest committed data is the whole truth.
std::optional<Replay> find_replay(FunctionCallInfo fcinfo, const std::string& tenant, const std::string& key,
                                  const std::string& feature, Datum properties) {
    pg::AsExtensionOwner owner;
    pg::SpiSession spi;
    TimestampTz expired_before = pg::now_timestamp() - pg::idempotency_ttl_seconds() * USECS_PER_SEC;
    {
        pg::LatestSnapshot latest;
        spi.execute(
            "SELECT created_at < $7, feature IS DISTINCT FROM $3, value IS DISTINCT FROM $4, "
            "occurred_at IS DISTINCT FROM $5, properties IS DISTINCT FROM $6, answer::text "
            "FROM kaireon.usage_idempotency WHERE tenant_id = $1 AND idempotency_key = $2",
            {pg::text_arg(tenant), pg::text_arg(key), pg::text_arg(feature), nullable(fcinfo, kValue, NUMERICOID),
             nullable(fcinfo, kOccurredAt, TIMESTAMPTZOID), pg::SpiArg{JSONBOID, properties},
             pg::SpiArg{TIMESTAMPTZOID, TimestampTzGetDatum(expired_before)}},
            true);
    }
    if (spi.rows() == 0) return std::nullopt;
    if (spi.boolean(0, 0).value_or(false)) {
        spi.execute("DELETE FROM kaireon.usage_idempotency WHERE tenant_id = $1 AND idempotency_key = $2",
                    {pg::text_arg(tenant), pg::text_arg(key)});
        return std::nullopt;
    }
    Replay replay;
    const char* fields[] = {"feature", "value", "occurred_at", "properties"};
    for (int i = 0; i < 4; ++i) {
        if (spi.boolean(0, i + 1).value_or(true)) replay.differs.emplace_back(fields[i]);
    }
    replay.answer = spi.text(0, 5);
    return replay;
}

// answer returns the feature's state after the report, in this transaction's
// own view (its report included).
Json answer(const std::string& tenant, const pg::FeatureEntry& feature) {
    return entitlements::evaluation_json(pg::evaluate_entitlement(tenant, feature, 0, true));
}

}  // namespace

// kaireon_report_usage(feature, value, idempotency_key, occurred_at,
// properties) records usage for the current tenant and returns the feature's
// state after it, in the entitlement() shape.
KAIREON_FUNCTION(kaireon_report_usage) {
    std::string tenant = pg::require_current_tenant();
    std::string feature_key = pg::required_text(fcinfo, kFeature, "feature");
    pg::FeaturePtr feature = pg::find_feature(feature_key);
    if (PG_ARGISNULL(kValue)) throw_bad_request("value must not be null", Json{{"path", "value"}});
    Datum properties = PG_ARGISNULL(kProperties) ? pg::jsonb_datum(Json::object()) : PG_GETARG_DATUM(kProperties);

    std::optional<std::string> key;
    if (!PG_ARGISNULL(kKey)) {
        key = pg::text_from_datum(PG_GETARG_DATUM(kKey));
        if (std::string problem = usage::idempotency_key_problem(*key); !problem.empty()) {
            throw_bad_request(problem, Json{{"path", "idempotency_key"}});
        }
        // A racing replay waits here for the first report's transaction, then
        // finds its record: no unique violation, no serialization failure.
        pg::lock_name(pg::NameSpace::UsageIdempotency, tenant, *key, true);
        if (auto replay = find_replay(fcinfo, tenant, *key, feature_key, properties)) {
            if (!replay->differs.empty()) {
                std::string list;
                for (const auto& field : replay->differs) list += (list.empty() ? "" : ", ") + field;
                throw Error(ErrorCode::IdempotencyConflict,
                            "idempotency key \"" + *key + "\" was used with other " + list,
                            Json{{"idempotencyKey", *key}, {"differs", replay->differs}},
                            "Use a new idempotency key for a different report.");
            }
            if (replay->answer) return pg::jsonb_datum(parse_json(*replay->answer, "answer"));
            return pg::jsonb_datum(answer(tenant, *feature));  // a bulk-loaded key: answer now
        }
    }

    int64 event_id = 0;
    {
        // Directly, the trigger's work done here for the one event; through
        // the INSERT statement and its trigger when the table asks for it
        // (direct_insert.h).
        pg::ReportScope scope;
        std::vector<pg::ColumnValue> row{{"tenant_id", pg::text_arg(tenant)},
                                         {"feature", pg::text_arg(feature_key)},
                                         {"value", pg::SpiArg{NUMERICOID, PG_GETARG_DATUM(kValue)}},
                                         {"idempotency_key", nullable(fcinfo, kKey, TEXTOID)},
                                         {"properties", pg::SpiArg{JSONBOID, properties}}};
        if (!PG_ARGISNULL(kOccurredAt)) row.push_back({"occurred_at", nullable(fcinfo, kOccurredAt, TIMESTAMPTZOID)});
        const char* returning[] = {"id", "occurred_at"};
        pg::Returned returned[2];
        const pg::InsertPath path =
            pg::insert_row("usage_events", row, pg::InsertExtras{returning, returned, pg::kUsageAggregateTrigger});
        event_id = DatumGetInt64(returned[0].value);
        if (path == pg::InsertPath::Direct)
            pg::aggregate_reported_event(tenant, event_id, feature_key, PG_GETARG_DATUM(kValue),
                                         DatumGetTimestampTz(returned[1].value), key, properties);
    }
    // One jsonb for the caller and, under a key, for the replays.
    const Datum result = pg::jsonb_datum(answer(tenant, *feature));
    if (key) {
        pg::SpiSession spi;
        spi.execute(
            "INSERT INTO kaireon.usage_idempotency "
            "(tenant_id, idempotency_key, feature, value, occurred_at, properties, event_id, answer, created_at) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, kaireon.clock())",
            {pg::text_arg(tenant), pg::text_arg(*key), pg::text_arg(feature_key),
             nullable(fcinfo, kValue, NUMERICOID), nullable(fcinfo, kOccurredAt, TIMESTAMPTZOID),
             pg::SpiArg{JSONBOID, properties}, pg::SpiArg{INT8OID, Int64GetDatum(event_id)},
             pg::SpiArg{JSONBOID, result}});
    }
    return result;
}

// kaireon_purge_idempotency_keys() deletes expired idempotency keys of every
// tenant and returns how many (for a scheduled job).
KAIREON_FUNCTION(kaireon_purge_idempotency_keys) {
    pg::SpiSession spi;
    TimestampTz expired_before = pg::now_timestamp() - pg::idempotency_ttl_seconds() * USECS_PER_SEC;
    uint64 deleted = spi.execute("DELETE FROM kaireon.usage_idempotency WHERE created_at < $1",
                                 {pg::SpiArg{TIMESTAMPTZOID, TimestampTzGetDatum(expired_before)}});
    PG_RETURN_INT64(static_cast<int64>(deleted));
}
