#include "pg/spi.h"

#include "pg/jsonb.h"
#include "pg/xact_state.h"

#include <string>
#include <unordered_map>
#include <vector>

namespace kaireon::pg {

namespace {
constexpr const char* kPinnedSearchPath = "pg_catalog, pg_temp";
}

SpiArg text_arg(std::string_view value) {
    return SpiArg{TEXTOID, text_datum(value)};
}

SpiArg oid_arg(Oid value) { return SpiArg{OIDOID, ObjectIdGetDatum(value)}; }

SpiArg null_text_arg() { return SpiArg{TEXTOID, static_cast<Datum>(0), true}; }

SpiArg text_or_null(const std::string& value) { return value.empty() ? null_text_arg() : text_arg(value); }

SpiSession::SpiSession() : caller_context_(CurrentMemoryContext) {
    int rc = pg_call([] { return SPI_connect(); });
    if (rc != SPI_OK_CONNECT) throw Error(ErrorCode::Internal, "SPI_connect failed");
    connected_ = true;
    // SPI_connect (and every query after it) makes SPI's procedure context
    // current, and SPI_finish deletes that context: a result built while the
    // session is open (a jsonb answer) would be freed under the caller. Keep
    // allocating in the caller's context; SPI runs its queries in its own.
    MemoryContextSwitchTo(caller_context_);
}

SpiSession::~SpiSession() {
    // SPI_finish reports failures by return code; it does not raise.
    if (connected_) SPI_finish();
}

namespace {

// Prepared plans of the extension's own queries, kept for the backend's life:
// parsing and planning cost more than running most of them. The plan cache
// replans them when the tables they read change.
//
// It does not replan them when a table only grows. A plan made while a table
// was nearly empty (a new install; a table that VACUUM or ANALYZE saw
// empty, which the planner then trusts) scans it whole, and kept that way
// until autovacuum analyzed the grown table, a minute or more later: on the
// benchmark suite's cluster a response's idempotency lookup scanned
// interaction_keys and the first five seconds of responses ran at a fifth of
// the speed. So each plan is made again after 100 uses, 200, 400 and so on:
// early while tables fill, about log2(uses) times in a backend's life.
constexpr size_t kMaxCachedPlans = 512;
constexpr uint64 kFirstRemake = 100;

struct KeptPlan {
    SPIPlanPtr plan = nullptr;
    uint64 uses = 0;
    uint64 remake_at = kFirstRemake;
};

std::unordered_map<std::string, KeptPlan>& plan_cache() {
    static std::unordered_map<std::string, KeptPlan> plans;
    return plans;
}

// Plans put aside while a statement may still be running them (the same
// query nested in itself, through a trigger): freed when the transaction
// ends, when none runs.
class RetiredPlans final : public XactState {
public:
    std::vector<SPIPlanPtr> plans;
    void reset_at_end(bool) noexcept override {
        for (SPIPlanPtr plan : plans) SPI_freeplan(plan);
        plans.clear();
    }
    void reset_subxact(SubTransactionId) noexcept override {}
};

RetiredPlans& retired_plans() { return registered_state<RetiredPlans>(); }

SPIPlanPtr prepare_kept(const char* sql, int n, Oid* types, int cursor_options) {
    return pg_call([&] {
        SPIPlanPtr prepared = SPI_prepare_cursor(sql, n, types, cursor_options);
        if (prepared == nullptr) elog(ERROR, "kaireon: SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
        SPI_keepplan(prepared);
        return prepared;
    });
}

SPIPlanPtr cached_plan(const char* sql, int n, Oid* types, int cursor_options) {
    std::string key(sql);
    key.push_back('\0');
    key.push_back(static_cast<char>(cursor_options == 0 ? 'a' : 'g'));
    key.append(reinterpret_cast<const char*>(types), sizeof(Oid) * static_cast<size_t>(n));
    auto& plans = plan_cache();
    RetiredPlans& retired = retired_plans();
    if (auto it = plans.find(key); it != plans.end()) {
        KeptPlan& kept = it->second;
        if (++kept.uses < kept.remake_at) return kept.plan;
        retired.plans.reserve(retired.plans.size() + 1);  // the only step that may fail after preparing
        SPIPlanPtr remade = prepare_kept(sql, n, types, cursor_options);
        retired.plans.push_back(kept.plan);
        kept.plan = remade;
        kept.remake_at *= 2;
        return remade;
    }
    if (plans.size() >= kMaxCachedPlans) {
        retired.plans.reserve(retired.plans.size() + plans.size());
        for (auto& [text, kept] : plans) retired.plans.push_back(kept.plan);
        plans.clear();
    }
    SPIPlanPtr plan = prepare_kept(sql, n, types, cursor_options);
    try {
        plans.emplace(std::move(key), KeptPlan{plan});
    } catch (...) {
        SPI_freeplan(plan);
        throw;
    }
    return plan;
}

}  // namespace

uint64 SpiSession::execute(const char* sql, std::initializer_list<SpiArg> args, bool read_only) {
    return run(sql, std::span(args.begin(), args.size()), read_only, 0);
}

uint64 SpiSession::execute(const char* sql, std::span<const SpiArg> args, bool read_only) {
    return run(sql, args, read_only, 0);
}

uint64 SpiSession::execute_generic(const char* sql, std::initializer_list<SpiArg> args, bool read_only) {
    return run(sql, std::span(args.begin(), args.size()), read_only, CURSOR_OPT_GENERIC_PLAN);
}

uint64 SpiSession::run(const char* sql, std::span<const SpiArg> args, bool read_only, int cursor_options) {
    constexpr size_t kMaxArgs = 24;
    if (args.size() > kMaxArgs) throw Error(ErrorCode::Internal, "too many SPI arguments");
    Oid types[kMaxArgs];
    Datum values[kMaxArgs];
    char nulls[kMaxArgs];
    int n = 0;
    for (const auto& arg : args) {
        types[n] = arg.type;
        values[n] = arg.value;
        nulls[n] = arg.is_null ? 'n' : ' ';
        ++n;
    }
    SPIPlanPtr plan = cached_plan(sql, n, types, cursor_options);
    int rc = pg_call([&] { return SPI_execute_plan(plan, values, nulls, read_only, 0); });
    MemoryContextSwitchTo(caller_context_);
    if (rc < 0) throw Error(ErrorCode::Internal, std::string("SPI query failed: ") + SPI_result_code_string(rc));
    return SPI_processed;
}

uint64 SpiSession::rows() const { return SPI_tuptable == nullptr ? 0 : SPI_processed; }

Datum SpiSession::datum(uint64 row, int column, bool* is_null) const {
    if (SPI_tuptable == nullptr || row >= SPI_processed || column >= SPI_tuptable->tupdesc->natts) {
        throw Error(ErrorCode::Internal, "SPI result access out of range");
    }
    return pg_call([&] { return SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, column + 1, is_null); });
}

int SpiSession::column(const char* name) const {
    if (SPI_tuptable == nullptr) throw Error(ErrorCode::Internal, "SPI result access out of range");
    const int number = pg_call([&] { return SPI_fnumber(SPI_tuptable->tupdesc, name); });
    return number > 0 ? number - 1 : -1;  // not a system column either
}

Oid SpiSession::type(int column) const {
    if (SPI_tuptable == nullptr || column < 0 || column >= SPI_tuptable->tupdesc->natts)
        throw Error(ErrorCode::Internal, "SPI result access out of range");
    return TupleDescAttr(SPI_tuptable->tupdesc, column)->atttypid;
}

bool SpiSession::is_null(uint64 row, int column) const {
    bool null = false;
    datum(row, column, &null);
    return null;
}

std::optional<std::string> SpiSession::text(uint64 row, int column) const {
    if (is_null(row, column)) return std::nullopt;
    char* chars = pg_call([&] { return SPI_getvalue(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, column + 1); });
    return std::string(chars);
}

std::optional<Json> SpiSession::json(uint64 row, int column) const {
    bool null = false;
    Datum value = datum(row, column, &null);
    if (null) return std::nullopt;
    // What the extension stored was checked on its way in.
    return json_from_jsonb(value, "column", kCatalogJsonLimits);
}

std::optional<std::string_view> SpiSession::text_view(uint64 row, int column) const {
    bool null = false;
    Datum value = datum(row, column, &null);
    if (null) return std::nullopt;
    const char* bytes = pg_call([&] { return reinterpret_cast<const char*>(pg_detoast_datum_packed(
                                          reinterpret_cast<struct varlena*>(DatumGetPointer(value)))); });
    return std::string_view(VARDATA_ANY(bytes), VARSIZE_ANY_EXHDR(bytes));
}

std::optional<std::vector<std::string>> SpiSession::texts(uint64 row, int column) const {
    bool null = false;
    Datum value = datum(row, column, &null);
    if (null) return std::nullopt;
    return texts_from_datum(value);
}

std::optional<bool> SpiSession::boolean(uint64 row, int column) const {
    bool null = false;
    Datum value = datum(row, column, &null);
    if (null) return std::nullopt;
    return DatumGetBool(value);
}

std::optional<Oid> SpiSession::oid(uint64 row, int column) const {
    bool null = false;
    Datum value = datum(row, column, &null);
    if (null) return std::nullopt;
    return DatumGetObjectId(value);
}

namespace {

// The oids of the schema's relations by name and the schema's owner, looked
// up once per backend: two catalog cache searches (hashing the names) for
// every table a call reads or writes directly, several times a call. Any
// change to a row of pg_class or pg_namespace (a relation created, renamed
// or dropped, statistics updated, the extension dropped and created again)
// forgets them all; a lookup during which one arrived is not kept.
struct NamedRelation {
    std::string name;
    Oid relid;
};
std::vector<NamedRelation> g_relations;  // a dozen tables and indexes
Oid g_schema_owner = InvalidOid;
uint64 g_names_generation = 0;

void forget_names(Datum, int, uint32) {
    g_relations.clear();
    g_schema_owner = InvalidOid;
    ++g_names_generation;
}

void watch_names() {
    static bool watched = false;
    if (watched) return;
    CacheRegisterSyscacheCallback(RELNAMENSP, forget_names, 0);
    CacheRegisterSyscacheCallback(NAMESPACEOID, forget_names, 0);
    watched = true;
}

}  // namespace

Oid kaireon_relation(const char* name) {
    for (const NamedRelation& known : g_relations)
        if (known.name == name) return known.relid;
    watch_names();
    const uint64 generation = g_names_generation;
    Oid relid = get_relname_relid(name, get_namespace_oid("kaireon", false));
    if (!OidIsValid(relid)) elog(ERROR, "kaireon: relation kaireon.%s does not exist", name);
    if (generation == g_names_generation) g_relations.push_back({name, relid});
    return relid;
}

AttrNumber kaireon_column(TupleDesc desc, const char* table, const char* column, AttrNumber from) {
    for (int k = 0; k < desc->natts; ++k) {
        Form_pg_attribute attr = TupleDescAttr(desc, (from + k) % desc->natts);
        if (!attr->attisdropped && strcmp(NameStr(attr->attname), column) == 0) return attr->attnum;
    }
    elog(ERROR, "kaireon: kaireon.%s has no column %s", table, column);
}

Oid extension_owner() {
    if (OidIsValid(g_schema_owner)) return g_schema_owner;
    return pg_call([] {
        watch_names();
        const uint64 generation = g_names_generation;
        Oid schema = get_namespace_oid("kaireon", false);
        HeapTuple tuple = SearchSysCache1(NAMESPACEOID, ObjectIdGetDatum(schema));
        if (!HeapTupleIsValid(tuple)) elog(ERROR, "kaireon: schema %u vanished", schema);
        Oid owner = reinterpret_cast<Form_pg_namespace>(GETSTRUCT(tuple))->nspowner;
        ReleaseSysCache(tuple);
        if (generation == g_names_generation) g_schema_owner = owner;
        return owner;
    });
}

AsExtensionOwner::AsExtensionOwner() {
    Oid owner = extension_owner();
    GetUserIdAndSecContext(&saved_user_, &saved_context_);
    SetUserIdAndSecContext(owner, saved_context_ | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);
    // Inside the extension's SECURITY DEFINER functions the path is pinned
    // already: skip the (costly) GUC nesting.
    if (saved_user_ == owner && namespace_search_path != nullptr &&
        strcmp(namespace_search_path, kPinnedSearchPath) == 0) {
        guc_nest_level_ = -1;
        return;
    }
    guc_nest_level_ = NewGUCNestLevel();
    try {
        pg_call([] {
            set_config_option("search_path", kPinnedSearchPath, PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
                              true, 0, false);
        });
    } catch (...) {
        AtEOXact_GUC(false, guc_nest_level_);
        SetUserIdAndSecContext(saved_user_, saved_context_);
        throw;
    }
}

AsExtensionOwner::~AsExtensionOwner() {
    if (guc_nest_level_ >= 0) AtEOXact_GUC(true, guc_nest_level_);
    SetUserIdAndSecContext(saved_user_, saved_context_);
}

LatestSnapshot::LatestSnapshot() {
    pg_call([] { PushActiveSnapshot(GetLatestSnapshot()); });
}

LatestSnapshot::~LatestSnapshot() { PopActiveSnapshot(); }

OwnWritesSnapshot::OwnWritesSnapshot() {
    pg_call([] {
        CommandCounterIncrement();
        PushCopiedSnapshot(GetActiveSnapshot());
        UpdateActiveSnapshotCommandId();
    });
}

OwnWritesSnapshot::~OwnWritesSnapshot() { PopActiveSnapshot(); }

StatementSnapshot::StatementSnapshot() {
    // As _SPI_execute_plan does for a statement that is not read-only.
    pg_call([] {
        PushActiveSnapshot(GetTransactionSnapshot());
        CommandCounterIncrement();
        UpdateActiveSnapshotCommandId();
    });
}

StatementSnapshot::~StatementSnapshot() { PopActiveSnapshot(); }

CommittedSnapshot::CommittedSnapshot() {
    pg_call([] {
        PushActiveSnapshot(GetLatestSnapshot());  // pushes a copy: ours to change
        GetActiveSnapshot()->curcid = FirstCommandId;
    });
}

CommittedSnapshot::~CommittedSnapshot() { PopActiveSnapshot(); }

}  // namespace kaireon::pg
