#include "core/entitlements.h"
#include "core/license.h"
#include "core/period.h"
#include "core/quota.h"
#include "core/usage.h"

#include "pg/usage_ingest.h"

#include "pg/audit.h"
#include "pg/cache_watch.h"
#include "pg/clock.h"
#include "pg/direct_insert.h"
#include "pg/entitlement_state.h"
#include "pg/events.h"
#include "pg/guard.h"
#include "pg/indexed_rows.h"
#include "pg/jsonb.h"
#include "pg/limit_gate.h"
#include "pg/quota_state.h"
#include "pg/shared_state.h"
#include "pg/spi.h"
#include "pg/tenant_access.h"
#include "pg/xact_state.h"

#include <cmath>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

extern "C" {
#include "catalog/partition.h"
#include "executor/tuptable.h"
#include "utils/datetime.h"
#include "utils/datum.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
}

namespace kaireon::pg {
namespace {

using entitlements::Aggregation;

constexpr size_t kMaxPropertiesBytes = 64 * 1024;

int g_idempotency_ttl = 30 * 24 * 3600;
int g_max_event_lateness = 7 * 24 * 3600;
int g_report_scopes = 0;

// Numeric is a numeric Datum with the arithmetic a Rollup needs, done by
// PostgreSQL so that usage keeps numeric's precision.
struct Numeric {
    Datum datum = 0;
    Numeric operator+(const Numeric& other) const {
        return Numeric{pg_call([&] { return DirectFunctionCall2(numeric_add, datum, other.datum); })};
    }
    bool operator<(const Numeric& other) const {
        return pg_call([&] { return DatumGetBool(DirectFunctionCall2(numeric_lt, datum, other.datum)); });
    }
};

double to_double(Datum numeric) {
    return pg_call([&] { return DatumGetFloat8(DirectFunctionCall1(numeric_float8_no_overflow, numeric)); });
}

std::string iso_or_null_text(TimestampTz ts) {
    if (TIMESTAMP_NOT_FINITE(ts)) return "";
    return license::iso8601(seconds_from_timestamp(ts));
}

Json iso_or_null(TimestampTz ts) {
    std::string text = iso_or_null_text(ts);
    return text.empty() ? Json(nullptr) : Json(text);
}

// A statement's events of one feature in one period.
struct Group {
    usage::Rollup<Numeric> rollup;
    double total = 0;  // the values as doubles, for limits and thresholds
    double largest = -INFINITY;
    double smallest = INFINITY;
    double latest = 0;
    usage::EventStamp latest_at{};
};

struct Row {
    std::string tenant;
    int64_t id = 0;
    std::string feature;
    Datum value = 0;
    TimestampTz occurred_at = 0;
    std::optional<std::string> key;
    Datum properties = 0;
};

struct Columns {
    int tenant_id, id, feature, value, occurred_at, idempotency_key, properties;
};

Columns find_columns(TupleDesc desc) {
    auto number = [&](const char* name) {
        for (int i = 0; i < desc->natts; ++i) {
            Form_pg_attribute attribute = TupleDescAttr(desc, i);
            if (!attribute->attisdropped && strcmp(NameStr(attribute->attname), name) == 0) return i + 1;
        }
        throw Error(ErrorCode::Internal, std::string("kaireon.usage_events has no column ") + name);
    };
    return Columns{number("tenant_id"),   number("id"),         number("feature"),   number("value"),
                   number("occurred_at"), number("idempotency_key"), number("properties")};
}

std::string row_path(size_t index) { return "row " + std::to_string(index + 1); }

[[noreturn]] void refuse_row(size_t index, const std::string& message, Json extra = Json::object()) {
    if (g_report_scopes == 0) extra["row"] = index + 1;  // a bulk load: which row
    throw_bad_request(message, extra);
}

// Tenants' own thresholds (set_thresholds), cached per backend and dropped
// when kaireon.feature_thresholds changes.
using Percents = std::optional<std::vector<int>>;
std::unordered_map<std::string, Percents> g_thresholds;  // by tenant NUL feature
void forget_thresholds() noexcept { g_thresholds.clear(); }
CacheWatch g_thresholds_watch({"feature_thresholds"}, forget_thresholds);

Percents tenant_thresholds(const std::string& tenant, const std::string& feature) {
    std::string key = tenant + '\0' + feature;
    if (auto it = g_thresholds.find(key); it != g_thresholds.end()) return it->second;
    g_thresholds_watch.resolve();
    uint64_t generation = g_thresholds_watch.generation();
    Percents percents;
    {
        AsExtensionOwner owner;
        LatestSnapshot latest;
        SpiSession spi;
        spi.execute("SELECT array_to_string(percents, ',') FROM kaireon.feature_thresholds "
                    "WHERE tenant_id = $1 AND feature = $2",
                    {text_arg(tenant), text_arg(feature)}, true);
        if (spi.rows() == 1) {
            percents.emplace();
            std::string list = spi.text(0, 0).value_or("");
            size_t start = 0;
            while (start < list.size()) {
                size_t comma = list.find(',', start);
                if (comma == std::string::npos) comma = list.size();
                percents->push_back(std::stoi(list.substr(start, comma - start)));
                start = comma + 1;
            }
        }
    }
    if (g_thresholds_watch.generation() == generation) g_thresholds[key] = percents;
    return percents;
}

[[noreturn]] void refuse_limit(const entitlements::FeatureDefinition& feature, double limit, double usage,
                               double requested, TimestampTz period_start) {
    Json extra{{"feature", feature.key}, {"limit", json_number(limit)}, {"currentUsage", json_number(usage)},
               {"requested", json_number(requested)}};
    extra["periodStart"] = iso_or_null(period_start);
    std::string hint;
    if (auto period = calendar_period(entitlements::name(feature.period))) {
        int64_t end = period_end(*period, seconds_from_timestamp(period_start));
        extra["periodEnd"] = license::iso8601(end);
        int64_t wait = end - now_seconds();
        if (wait > 0) hint = "Retry-After: " + std::to_string(wait);
    } else {
        extra["periodEnd"] = nullptr;
    }
    throw Error(ErrorCode::UsageLimitReached, "usage limit reached for feature \"" + feature.key + "\"", extra, hint);
}

// The slot row's columns as add_to_slot gives them, and merge_slot: a
// rollup added to the slot's, as the upsert statement below adds it (NULLs
// as it treats them: greatest/least skip them, a row comparison with one is
// not true).
enum SlotColumn { kTenant, kFeature, kPeriod, kSlot, kSum, kCount, kMax, kMin, kLatestValue, kLatestAt, kLatestId };

void merge_slot(const Datum* stored, const bool* stored_nulls, Datum* row, bool* row_nulls, void*) {
    auto numeric_pick = [&](int column, bool larger) {
        if (stored_nulls[column]) return;
        if (row_nulls[column] ||
            (DatumGetInt32(DirectFunctionCall2(numeric_cmp, stored[column], row[column])) > 0) == larger) {
            row[column] = stored[column];
            row_nulls[column] = false;
        }
    };
    row[kSum] = stored_nulls[kSum] || row_nulls[kSum] ? 0 : DirectFunctionCall2(numeric_add, stored[kSum], row[kSum]);
    row_nulls[kSum] = stored_nulls[kSum] || row_nulls[kSum];
    row[kCount] = Int64GetDatum(DatumGetInt64(stored[kCount]) + DatumGetInt64(row[kCount]));
    row_nulls[kCount] = stored_nulls[kCount] || row_nulls[kCount];
    numeric_pick(kMax, true);
    numeric_pick(kMin, false);
    const bool newer =
        !row_nulls[kLatestAt] && !stored_nulls[kLatestAt] &&
        (DatumGetTimestampTz(row[kLatestAt]) > DatumGetTimestampTz(stored[kLatestAt]) ||
         (DatumGetTimestampTz(row[kLatestAt]) == DatumGetTimestampTz(stored[kLatestAt]) && !row_nulls[kLatestId] &&
          !stored_nulls[kLatestId] && DatumGetInt64(row[kLatestId]) > DatumGetInt64(stored[kLatestId])));
    const Datum latest_at = row[kLatestAt];
    const bool latest_at_null = row_nulls[kLatestAt];
    if (!newer) {
        for (int column : {kLatestValue, kLatestId}) {
            row[column] = stored[column];
            row_nulls[column] = stored_nulls[column];
        }
    }
    // greatest(stored, reported)
    if (latest_at_null || (!stored_nulls[kLatestAt] &&
                           DatumGetTimestampTz(stored[kLatestAt]) > DatumGetTimestampTz(latest_at))) {
        row[kLatestAt] = stored[kLatestAt];
        row_nulls[kLatestAt] = stored_nulls[kLatestAt];
    }
}

// add_to_slot adds a statement's rollup to this backend's slot row: no other
// open transaction ever writes the same row (backend ids are unique among
// live backends), so reporters never wait on each other here. Directly
// (upsert_row: the row found through its primary key, updated in place);
// else an upsert statement, not an UPDATE first: it finds the row through
// the unique index itself, whereas the UPDATE's plan is the planner's
// choice, and on a slot table bloated by updates it chose a bitmap heap scan
// whose set-up doubled the statement's cost (measured; docs/performance.md).
void add_to_slot(const std::string& tenant, const std::string& feature, TimestampTz period_start, const Group& group) {
    const auto& r = group.rollup;
    AsExtensionOwner owner;
    const SpiArg values[] = {text_arg(tenant),
                             text_arg(feature),
                             SpiArg{TIMESTAMPTZOID, TimestampTzGetDatum(period_start)},
                             SpiArg{INT4OID, Int32GetDatum(MyBackendId)},
                             SpiArg{NUMERICOID, r.sum.datum},
                             SpiArg{INT8OID, Int64GetDatum(r.count)},
                             SpiArg{NUMERICOID, r.max->datum},
                             SpiArg{NUMERICOID, r.min->datum},
                             SpiArg{NUMERICOID, r.latest->datum},
                             SpiArg{TIMESTAMPTZOID, TimestampTzGetDatum(r.latest_at.occurred_at)},
                             SpiArg{INT8OID, Int64GetDatum(r.latest_at.id)}};
    static constexpr const char* kColumns[] = {"tenant_id", "feature",      "period_start", "slot",
                                               "sum",       "count",        "max",          "min",
                                               "latest_value", "latest_at", "latest_event_id"};
    ColumnValue row[std::size(kColumns)];
    for (size_t i = 0; i < std::size(kColumns); ++i) row[i] = ColumnValue{kColumns[i], values[i]};
    if (upsert_row("usage_rollups", row, merge_slot, nullptr)) return;
    SpiSession spi;
    spi.execute(
        "INSERT INTO kaireon.usage_rollups AS r "
        "(tenant_id, feature, period_start, slot, sum, count, max, min, latest_value, latest_at, latest_event_id) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) "
        "ON CONFLICT (tenant_id, feature, period_start, slot) DO UPDATE SET "
        "sum = r.sum + EXCLUDED.sum, count = r.count + EXCLUDED.count, "
        "max = greatest(r.max, EXCLUDED.max), min = least(r.min, EXCLUDED.min), "
        "latest_value = CASE WHEN (EXCLUDED.latest_at, EXCLUDED.latest_event_id) > (r.latest_at, r.latest_event_id) "
        "                    THEN EXCLUDED.latest_value ELSE r.latest_value END, "
        "latest_event_id = CASE WHEN (EXCLUDED.latest_at, EXCLUDED.latest_event_id) > (r.latest_at, r.latest_event_id) "
        "                    THEN EXCLUDED.latest_event_id ELSE r.latest_event_id END, "
        "latest_at = greatest(r.latest_at, EXCLUDED.latest_at)",
        std::span<const SpiArg>(values, std::size(values)));
}

// register_keys records bulk-loaded idempotency keys; a key already in use
// (and not expired) refuses the statement, so a bulk row is never counted
// twice.
void register_keys(const std::string& tenant, const std::vector<const Row*>& keyed) {
    AsExtensionOwner owner;
    SpiSession spi;
    TimestampTz now = now_timestamp();
    TimestampTz expired_before = now - static_cast<TimestampTz>(g_idempotency_ttl) * USECS_PER_SEC;
    for (const Row* row : keyed) {
        {
            LatestSnapshot latest;
            spi.execute("SELECT created_at < $3 FROM kaireon.usage_idempotency "
                        "WHERE tenant_id = $1 AND idempotency_key = $2",
                        {text_arg(tenant), text_arg(*row->key), SpiArg{TIMESTAMPTZOID, TimestampTzGetDatum(expired_before)}},
                        true);
        }
        if (spi.rows() == 1) {
            if (!spi.boolean(0, 0).value_or(false)) {
                throw Error(ErrorCode::IdempotencyConflict,
                            "idempotency key \"" + *row->key + "\" was already used",
                            Json{{"idempotencyKey", *row->key}},
                            "Bulk loads never replay a key; use report_usage to retry a single report.");
            }
            spi.execute("DELETE FROM kaireon.usage_idempotency WHERE tenant_id = $1 AND idempotency_key = $2",
                        {text_arg(tenant), text_arg(*row->key)});
        }
        spi.execute(
            "INSERT INTO kaireon.usage_idempotency "
            "(tenant_id, idempotency_key, feature, value, occurred_at, properties, event_id, answer, created_at) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, $8)",
            {text_arg(tenant), text_arg(*row->key), text_arg(row->feature), SpiArg{NUMERICOID, row->value},
             SpiArg{TIMESTAMPTZOID, TimestampTzGetDatum(row->occurred_at)}, SpiArg{JSONBOID, row->properties},
             SpiArg{INT8OID, Int64GetDatum(row->id)}, SpiArg{TIMESTAMPTZOID, TimestampTzGetDatum(now)}});
    }
}


}  // namespace

namespace {

// drop_tenant's permission to remove a tenant's rows from append-only
// tables, for the rest of its transaction.
class PurgeState final : public XactState {
public:
    std::string tenant;
    SubTransactionId granted_in = InvalidSubTransactionId;
    void reset_at_end(bool) noexcept override { tenant.clear(); }
    void reset_subxact(SubTransactionId subxact) noexcept override {
        if (!tenant.empty() && granted_in >= subxact) tenant.clear();
    }
};

PurgeState& purge_state() { return registered_state<PurgeState>(); }

struct Limits {
    entitlements::Evaluation evaluation;
    std::optional<double> cap;  // hard limits only
};

Limits limits_of(const std::string& tenant, const FeatureEntry& feature) {
    Limits limits{evaluate_entitlement(tenant, feature, 0, false), std::nullopt};
    if (!limits.evaluation.enabled) {
        stat_add(tenant, Stat::EntitlementRefusals);
        throw_not_entitled(feature, limits.evaluation.source);
    }
    if (limits.evaluation.limit && feature.definition.limit_type == entitlements::LimitType::Hard) {
        limits.cap = entitlements::hard_cap(feature.definition, *limits.evaluation.limit);
    }
    return limits;
}

// audit_statement records the statement in the audit trail: one record per
// report or bulk statement, with its features, event counts and totals.
template <class Groups>
void audit_statement(const std::string& tenant, const Groups& groups, size_t keyed_rows) {
    Json features = Json::object();
    int64_t events = 0;
    for (const auto& [group_key, group] : groups) {
        const std::string& feature = std::get<1>(group_key);
        Json& entry = features[feature];
        if (entry.is_null()) entry = Json{{"events", 0}, {"total", 0}};
        entry["events"] = entry["events"].template get<int64_t>() + group.rollup.count;
        entry["total"] = json_number(entry["total"].template get<double>() + group.total);
        events += group.rollup.count;
    }
    std::optional<std::string> target;
    if (features.size() == 1) target = features.begin().key();
    audit(tenant, g_report_scopes > 0 ? "usage.reported" : "usage.bulk_loaded", target,
          Json{{"events", events}, {"keyedEvents", keyed_rows}, {"features", features}});
}

// Rollup folds a statement's events (the trigger's transition table, or the
// one event report_usage inserted itself) into one group per tenant, feature
// and period, judging each row as it comes; finish() applies the limits and
// writes the slots, the audit record and the bulk-loaded keys.
class Rollup {
public:
    Rollup()
        // A superuser loading without a tenant (pg_restore) is a maintenance
        // load: the rows are aggregated as they are, not judged again.
        : maintenance_(is_maintenance_load()),
          current_(maintenance_ ? std::string() : require_current_tenant()),
          now_(static_cast<double>(now_seconds())) {}

    // add takes row number `index` (zero-based) with its properties (valid
    // for the call).
    void add(size_t index, Row row, Jsonb* properties);
    void finish();

private:
    using GroupKey = std::tuple<std::string, std::string, TimestampTz>;  // tenant, feature, period start

    const bool maintenance_;
    const std::string current_;
    const double now_;
    std::map<std::string, FeaturePtr> features_;
    std::map<GroupKey, Group> groups_;
    std::vector<Row> keyed_;  // bulk-loaded keys to register
    size_t keyed_rows_ = 0;
    std::set<std::string> keys_;
};

void Rollup::add(size_t index, Row row, Jsonb* jsonb) {
    if (!maintenance_ && row.tenant != current_) {
        throw Error(ErrorCode::TenantAccessDenied,
                    row_path(index) + " is for tenant \"" + row.tenant + "\", not the current tenant",
                    Json{{"row", index + 1}, {"tenantId", row.tenant}, {"currentTenant", current_}});
    }
    auto found = features_.find(row.feature);
    if (found == features_.end()) found = features_.emplace(row.feature, find_feature(row.feature)).first;
    const entitlements::FeatureDefinition& definition = found->second->definition;
    if (definition.type != entitlements::FeatureType::Numeric) {
        refuse_row(index, "feature \"" + row.feature + "\" is " + std::string(entitlements::name(definition.type)) +
                              "; only numeric features are metered",
                   Json{{"feature", row.feature}});
    }
    if (std::string source = counted_source(row.feature); !source.empty()) {
        refuse_row(index, "feature \"" + row.feature + "\" counts " + source + "; it is not reported",
                   Json{{"feature", row.feature}});
    }
    const double number = to_double(row.value);
    if (!std::isfinite(number)) refuse_row(index, "value must be a finite number", Json{{"path", "value"}});
    if (definition.non_negative && number < 0) {
        refuse_row(index, "feature \"" + row.feature + "\" is nonNegative: value must be >= 0",
                   Json{{"path", "value"}, {"feature", row.feature}});
    }
    if (!maintenance_) {
        std::string problem = usage::occurred_at_problem(
            static_cast<double>(row.occurred_at) / USECS_PER_SEC + static_cast<double>(seconds_from_timestamp(0)),
            now_, g_max_event_lateness);
        if (!problem.empty()) {
            refuse_row(index, problem,
                       Json{{"path", "occurred_at"}, {"occurredAt", iso_or_null(row.occurred_at)},
                            {"maxEventLatenessSeconds", g_max_event_lateness}});
        }
    }
    if (!JB_ROOT_IS_OBJECT(jsonb) || JB_ROOT_IS_SCALAR(jsonb)) {
        refuse_row(index, "properties must be a JSON object", Json{{"path", "properties"}});
    }
    if (VARSIZE(jsonb) > kMaxPropertiesBytes) {
        refuse_row(index, "properties must be at most 64 KiB", Json{{"path", "properties"}});
    }
    if (row.key) {
        if (std::string problem = usage::idempotency_key_problem(*row.key); !problem.empty()) {
            refuse_row(index, problem, Json{{"path", "idempotency_key"}});
        }
        if (!keys_.insert(row.tenant + '\0' + *row.key).second) {
            throw Error(ErrorCode::IdempotencyConflict,
                        "idempotency key \"" + *row.key + "\" appears twice in one statement",
                        Json{{"row", index + 1}, {"idempotencyKey", *row.key}});
        }
    }

    Group& group = groups_[GroupKey{row.tenant, row.feature,
                                    period_start_timestamp(entitlements::name(definition.period), row.occurred_at)}];
    const usage::EventStamp stamp{row.occurred_at, row.id};
    group.rollup.add(Numeric{row.value}, stamp);
    group.total += number;
    group.largest = std::max(group.largest, number);
    group.smallest = std::min(group.smallest, number);
    if (group.rollup.latest_at == stamp) group.latest = number;
    if (row.key) ++keyed_rows_;
    if (row.key && !maintenance_ && g_report_scopes == 0) {
        row.properties = pg_call([&] { return datumCopy(PointerGetDatum(jsonb), false, -1); });
        keyed_.push_back(std::move(row));
    }
}

void Rollup::finish() {
    std::map<std::string, Limits> limits;
    for (const auto& [group_key, group] : groups_) {
        const auto& [tenant, feature_key, period_start] = group_key;
        const FeatureEntry& feature = *features_.at(feature_key);
        const entitlements::FeatureDefinition& definition = feature.definition;
        if (maintenance_) {
            add_to_slot(tenant, feature_key, period_start, group);
            continue;
        }
        auto known = limits.find(feature_key);
        if (known == limits.end()) known = limits.emplace(feature_key, limits_of(tenant, feature)).first;
        const Limits& limit = known->second;
        const double contribution = usage::contribution(definition.aggregation, group.total, group.rollup.count);
        std::optional<double> usage_after;
        if (limit.evaluation.limit && usage::additive(definition.aggregation)) {
            // Finite limits, hard or soft: the gate orders concurrent reports,
            // so limits and thresholds see the usage in flight too.
            GateKey gate{tenant, "usage:" + feature_key,
                         TIMESTAMP_IS_NOBEGIN(period_start) ? INT64_MIN : seconds_from_timestamp(period_start)};
            // Corrections (a negative sum) are never refused, even past the cap.
            std::optional<double> cap = contribution > 0 ? limit.cap : std::nullopt;
            Admission admission = admit(gate, contribution, cap, [&] {
                return read_usage(tenant, definition, period_start, true).value;
            });
            if (!admission.admitted) {
                stat_add(tenant, Stat::UsageRefusals);
                refuse_limit(definition, *limit.evaluation.limit, admission.before, contribution, period_start);
            }
            usage_after = admission.before + contribution;
        } else if (limit.cap) {
            usage::Current now_usage = read_usage(tenant, definition, period_start, true);
            double checked = usage::limited_usage(definition.aggregation, now_usage, group.total, group.rollup.count,
                                                  group.largest, group.smallest, group.latest);
            if (checked > *limit.cap) {
                stat_add(tenant, Stat::UsageRefusals);
                refuse_limit(definition, *limit.evaluation.limit, now_usage.value, group.largest, period_start);
            }
        }
        add_to_slot(tenant, feature_key, period_start, group);
        if (limit.evaluation.limit && (contribution > 0 || !usage::additive(definition.aggregation))) {
            if (!usage_after) usage_after = read_usage(tenant, definition, period_start, false).value;
            emit_thresholds(tenant, feature, *limit.evaluation.limit, *usage_after, period_start,
                            ThresholdCaller::UsageReport);
        }
    }
    if (!maintenance_) audit_statement(current_, groups_, keyed_rows_);
    if (!keyed_.empty()) {
        std::vector<const Row*> rows;
        for (const Row& row : keyed_) rows.push_back(&row);
        register_keys(current_, rows);
    }
}

// aggregate_statement is the trigger's work; see usage_ingest.h.
void aggregate_statement(TriggerData* trigger) {
    Rollup rollup;
    TupleDesc desc = trigger->tg_relation->rd_att;
    const Columns columns = find_columns(desc);
    TupleTableSlot* slot = pg_call([&] { return MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple); });
    for (size_t index = 0;; ++index) {
        if (!pg_call([&] { return tuplestore_gettupleslot(trigger->tg_newtable, true, false, slot); })) break;
        auto column = [&](int number, bool* is_null) {
            return pg_call([&] { return slot_getattr(slot, number, is_null); });
        };
        bool is_null = false;
        Row row;
        row.tenant = text_from_datum(column(columns.tenant_id, &is_null));
        row.id = DatumGetInt64(column(columns.id, &is_null));
        row.feature = text_from_datum(column(columns.feature, &is_null));
        Datum value = column(columns.value, &is_null);
        row.value = pg_call([&] { return datumCopy(value, false, -1); });  // outlives the slot's tuple
        row.occurred_at = DatumGetTimestampTz(column(columns.occurred_at, &is_null));
        Datum key = column(columns.idempotency_key, &is_null);
        if (!is_null) row.key = text_from_datum(key);
        Datum properties = column(columns.properties, &is_null);
        Jsonb* jsonb = pg_call([&] { return DatumGetJsonbP(properties); });  // valid until the next row
        rollup.add(index, std::move(row), jsonb);
    }
    pg_call([&] { ExecDropSingleTupleTableSlot(slot); });
    rollup.finish();
}

}  // namespace

void aggregate_reported_event(const std::string& tenant, int64_t id, const std::string& feature, Datum value,
                              TimestampTz occurred_at, const std::optional<std::string>& key, Datum properties) {
    Rollup rollup;
    Row row;
    row.tenant = tenant;
    row.id = id;
    row.feature = feature;
    row.value = value;
    row.occurred_at = occurred_at;
    row.key = key;
    rollup.add(0, std::move(row), pg_call([&] { return DatumGetJsonbP(properties); }));
    rollup.finish();
}

void emit_thresholds(const std::string& tenant, const FeatureEntry& feature, double limit, double usage_after,
                     TimestampTz period_start, ThresholdCaller caller) {
    Percents own = tenant_thresholds(tenant, feature.definition.key);
    if (caller == ThresholdCaller::Decision && !own) return;
    std::vector<int> percents = usage::threshold_percents(own, feature.definition);
    std::vector<int> reached = usage::reached_thresholds(percents, usage_after, limit);
    if (reached.empty()) return;
    std::string period_text = iso_or_null_text(period_start);
    Json end_text = nullptr;
    if (auto period = calendar_period(entitlements::name(feature.definition.period))) {
        end_text = license::iso8601(period_end(*period, seconds_from_timestamp(period_start)));
    }
    for (int percent : reached) {
        std::string dedupe = "usage.threshold_reached:" + feature.definition.key + ":" +
                             (period_text.empty() ? "never" : period_text) + ":" + std::to_string(percent);
        if (known_emitted(tenant, dedupe)) continue;
        Json payload{{"feature", feature.definition.key},
                     {"threshold", percent},
                     {"limit", json_number(limit)},
                     {"currentUsage", json_number(usage_after)},
                     {"percentageUsed", json_number(std::round(usage_after / limit * 1000.0) / 10.0)},
                     {"periodStart", iso_or_null(period_start)},
                     {"periodEnd", end_text}};
        emit_event_once_remembered(tenant, "usage.threshold_reached", payload, dedupe,
                                   caller == ThresholdCaller::UsageReport);
    }
}

namespace {

// numeric_double converts a folded numeric once, as the SQL `::float8` it
// replaced did (beyond a double: an error); none reads 0.
double numeric_double(std::optional<Datum> numeric) {
    if (!numeric) return 0;
    return pg_call([&] { return DatumGetFloat8(DirectFunctionCall1(numeric_float8, *numeric)); });
}

// NumericFold folds the slot rows' numeric columns the way sum(), max() and
// min() do (NULLs skipped), exactly, with Numeric's arithmetic: the rows are
// read as they are and folded here, since an aggregate's executor set-up
// cost more than the rows themselves on every report.
struct NumericFold {
    std::optional<Numeric> value;
    void add(Datum numeric) { value = value ? *value + Numeric{numeric} : Numeric{numeric}; }
    void keep_if(Datum numeric, bool larger) {
        const Numeric candidate{numeric};
        if (!value || (larger ? *value < candidate : candidate < *value)) value = candidate;
    }
    double as_double() const { return numeric_double(value ? std::optional<Datum>(value->datum) : std::nullopt); }
};

// LatestRow is the slot row whose latest event is the latest: ordered by
// (latest_at, latest_event_id) descending, NULLs first, as the ordered
// array_agg this replaced.
struct LatestRow {
    bool any = false;
    std::optional<TimestampTz> at;
    std::optional<int64> event_id;
    std::optional<Datum> value;
    bool later(const std::optional<TimestampTz>& other_at, const std::optional<int64>& other_id) const {
        auto descending_nulls_first = [](const auto& a, const auto& b) {  // -1: a before b
            if (!a && !b) return 0;
            if (!a) return -1;
            if (!b) return 1;
            return *a > *b ? -1 : (*a < *b ? 1 : 0);
        };
        const int by_time = descending_nulls_first(other_at, at);
        if (by_time != 0) return by_time < 0;
        return descending_nulls_first(other_id, event_id) < 0;
    }
};

}  // namespace

usage::Current read_usage(const std::string& tenant, const entitlements::FeatureDefinition& feature,
                          TimestampTz period_start, bool latest) {
    AsExtensionOwner owner;
    // The period's slot rows, read by key without the executor
    // (indexed_rows.h): the answer of every report reads them.
    const IndexedRows slots = [&] {
        std::optional<LatestSnapshot> latest_snapshot;
        std::optional<StatementSnapshot> statement_snapshot;
        if (latest) latest_snapshot.emplace();
        else statement_snapshot.emplace();
        const SpiArg keys[] = {text_arg(tenant), text_arg(feature.key),
                               SpiArg{TIMESTAMPTZOID, TimestampTzGetDatum(period_start)}};
        const char* const columns[] = {"sum", "count", "max", "min", "latest_value", "latest_at", "latest_event_id"};
        return IndexedRows("usage_rollups", "usage_rollups_pkey", keys, columns);
    }();
    NumericFold sum, max, min;
    int64 count = 0;
    LatestRow latest_row;
    for (uint64 row = 0; row < slots.rows(); ++row) {
        auto column = [&](int number) -> std::optional<Datum> {
            bool is_null = false;
            Datum datum = slots.datum(row, number, &is_null);
            return is_null ? std::nullopt : std::optional<Datum>(datum);
        };
        if (auto value = column(0)) sum.add(*value);
        if (auto value = column(1); value && __builtin_add_overflow(count, DatumGetInt64(*value), &count)) {
            throw Error(ErrorCode::Internal, "the usage count of feature \"" + feature.key + "\" is out of range");
        }
        switch (feature.aggregation) {
            case Aggregation::Max:
                if (auto value = column(2)) max.keep_if(*value, true);
                break;
            case Aggregation::Min:
                if (auto value = column(3)) min.keep_if(*value, false);
                break;
            case Aggregation::Latest: {
                std::optional<TimestampTz> at;
                if (auto value = column(5)) at = DatumGetTimestampTz(*value);
                std::optional<int64> event_id;
                if (auto value = column(6)) event_id = DatumGetInt64(*value);
                if (!latest_row.any || latest_row.later(at, event_id)) latest_row = {true, at, event_id, column(4)};
                break;
            }
            case Aggregation::Sum:
            case Aggregation::Count:
            case Aggregation::Average:
                break;
        }
    }
    usage::Current current;
    current.sum = sum.as_double();
    current.count = count;
    switch (feature.aggregation) {
        case Aggregation::Sum: current.value = current.sum; break;
        case Aggregation::Count: current.value = static_cast<double>(current.count); break;
        case Aggregation::Max: current.value = max.as_double(); break;
        case Aggregation::Min: current.value = min.as_double(); break;
        case Aggregation::Latest: current.value = numeric_double(latest_row.value); break;
        case Aggregation::Average:
            // The exact quotient, rounded once (as usage_totals' average).
            if (count > 0) {
                current.value = numeric_double(pg_call([&] {
                    return DirectFunctionCall2(numeric_div, sum.value->datum,
                                               DirectFunctionCall1(int8_numeric, Int64GetDatum(count)));
                }));
            }
            break;
    }
    return current;
}

ReportScope::ReportScope() { ++g_report_scopes; }
ReportScope::~ReportScope() { --g_report_scopes; }

int64_t idempotency_ttl_seconds() { return g_idempotency_ttl; }
int64_t max_event_lateness_seconds() { return g_max_event_lateness; }

TimestampTz period_start_timestamp(std::string_view period, TimestampTz at) {
    auto calendar = calendar_period(period);
    if (!calendar) {
        TimestampTz never;
        TIMESTAMP_NOBEGIN(never);
        return never;
    }
    return timestamp_from_seconds(period_start(*calendar, seconds_from_timestamp(at)));
}

void usage_ingest_init() {
    DefineCustomIntVariable("kaireon.idempotency_ttl", "How long usage idempotency keys are kept.",
                            "A key older than this is forgotten: the same key records again.", &g_idempotency_ttl,
                            30 * 24 * 3600, 60, INT_MAX, PGC_SUSET, GUC_UNIT_S, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("kaireon.max_event_lateness", "How old a usage event may be when it is reported.",
                            "Older events are refused (KR400).", &g_max_event_lateness, 7 * 24 * 3600, 0, INT_MAX,
                            PGC_SUSET, GUC_UNIT_S, nullptr, nullptr, nullptr);
}

}  // namespace kaireon::pg

using namespace kaireon;

// kaireon_usage_events_inserted: AFTER INSERT ... FOR EACH STATEMENT on
// kaireon.usage_events, with the statement's rows as the transition table.
KAIREON_FUNCTION(kaireon_usage_events_inserted) {
    auto* trigger = reinterpret_cast<TriggerData*>(fcinfo->context);
    if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_AFTER(trigger->tg_event) ||
        !TRIGGER_FIRED_FOR_STATEMENT(trigger->tg_event) || !TRIGGER_FIRED_BY_INSERT(trigger->tg_event) ||
        trigger->tg_newtable == nullptr) {
        throw Error(ErrorCode::Internal, "kaireon._usage_events_inserted must be an AFTER INSERT statement trigger "
                                         "with a NEW TABLE");
    }
    pg::aggregate_statement(trigger);
    return PointerGetDatum(nullptr);
}

// kaireon_refuse_change keeps a table append-only: BEFORE UPDATE OR DELETE
// (each row) and BEFORE TRUNCATE, enabled ALWAYS. drop_tenant may delete the
// rows of the tenant it drops.
KAIREON_FUNCTION(kaireon_refuse_change) {
    auto* trigger = reinterpret_cast<TriggerData*>(fcinfo->context);
    if (!CALLED_AS_TRIGGER(fcinfo)) throw Error(ErrorCode::Internal, "kaireon._refuse_change must be a trigger");
    // A partition's trigger names its partitioned table, the one users know
    // (the partition goes in the detail).
    Relation relation = trigger->tg_relation;
    const std::string table = pg::pg_call([&] {
        Oid shown = RelationGetRelid(relation);
        if (relation->rd_rel->relispartition) shown = llast_oid(get_partition_ancestors(shown));
        return get_rel_name(shown);
    });
    const std::string& purging = pg::purge_state().tenant;
    if (TRIGGER_FIRED_BY_DELETE(trigger->tg_event) && TRIGGER_FIRED_FOR_ROW(trigger->tg_event) && !purging.empty()) {
        int number = pg::pg_call([&] { return SPI_fnumber(trigger->tg_relation->rd_att, "tenant_id"); });
        bool is_null = true;
        Datum tenant = pg::pg_call([&] {
            return heap_getattr(trigger->tg_trigtuple, number, trigger->tg_relation->rd_att, &is_null);
        });
        if (!is_null && pg::text_from_datum(tenant) == purging) return PointerGetDatum(trigger->tg_trigtuple);
    }
    const char* what = TRIGGER_FIRED_BY_UPDATE(trigger->tg_event)   ? "UPDATE"
                       : TRIGGER_FIRED_BY_DELETE(trigger->tg_event) ? "DELETE"
                                                                    : "TRUNCATE";
    Json detail{{"table", "kaireon." + table}, {"operation", what}};
    if (relation->rd_rel->relispartition)
        detail["partition"] = "kaireon." + std::string(pg::pg_call([&] { return RelationGetRelationName(relation); }));
    throw_bad_request("kaireon." + table + " is append-only: " + what + " is not allowed", std::move(detail));
}

// kaireon_allow_tenant_purge(tenant) lets the calling transaction delete the
// tenant's rows from append-only tables (drop_tenant only: not granted).
KAIREON_FUNCTION(kaireon_allow_tenant_purge) {
    pg::PurgeState& state = pg::purge_state();
    state.tenant = pg::required_text(fcinfo, 0, "tenant_id");
    state.granted_in = GetCurrentSubTransactionId();
    pg::forget_counts_at_commit(state.tenant);  // its decisions are deleted with it
    PG_RETURN_VOID();
}
