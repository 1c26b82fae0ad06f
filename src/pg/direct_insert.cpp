#include "pg/direct_insert.h"

extern "C" {
#include "access/table.h"
#include "access/tableam.h"
#include "access/tupconvert.h"
#include "catalog/pg_trigger.h"
#include "executor/execPartition.h"
#include "executor/executor.h"
#include "executor/tuptable.h"
#include "nodes/bitmapset.h"
#include "nodes/execnodes.h"
#include "nodes/makefuncs.h"
#include "nodes/parsenodes.h"
#include "optimizer/optimizer.h"
#include "rewrite/rewriteHandler.h"
#include "utils/datum.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/rls.h"
}

#include <string>

namespace kaireon::pg {
namespace {

// Attempt is the row as the table's columns take it (in the caller's memory
// context, also for the statement), the columns to return, and whether it
// was stored directly.
struct Attempt {
    bool stored = false;
    Oid types[kMaxInsertColumns];
    Datum values[kMaxInsertColumns];
    bool nulls[kMaxInsertColumns];
    AttrNumber returning[kMaxInsertColumns];
};

// has_insert_trigger: a trigger fires on INSERT, other than the caller's own
// (which the caller names; only a statement trigger can be that).
bool has_insert_trigger(const TriggerDesc* triggers, const char* callers_trigger) {
    if (triggers == nullptr) return false;
    for (int i = 0; i < triggers->numtriggers; ++i) {
        const Trigger& trigger = triggers->triggers[i];
        if (!TRIGGER_FOR_INSERT(trigger.tgtype)) continue;
        if (callers_trigger != nullptr && !TRIGGER_FOR_ROW(trigger.tgtype) &&
            strcmp(trigger.tgname, callers_trigger) == 0)
            continue;
        return true;
    }
    return false;
}

// stores_only: inserting into `rel` runs nothing of the table's own
// (triggers, rules, stored generated columns) beyond its constraints.
bool stores_only(Relation rel, const char* callers_trigger) {
    return !has_insert_trigger(rel->trigdesc, callers_trigger) && rel->rd_rules == nullptr &&
           !(rel->rd_att->constr != nullptr && rel->rd_att->constr->has_generated_stored);
}

// The functions below run inside pg_call: PostgreSQL errors only.

// ParsedExprs are a relation's CHECK constraints and column defaults read
// from their text and planned once (`expression_planner`: SQL functions
// such as kaireon.clock() inlined), as INSERT's cached plan holds them:
// identity columns look up their sequence, and ExecConstraints reads the
// checks for every row (stringToNode: a sixth of what a response's two
// inserts cost). An invalidation of the relation's relcache entry (any ALTER
// TABLE of it) or of any function marks them stale; they are read again at
// their next use, not freed in the callback, which may run while they are
// being prepared (a catalog lookup takes a lock). (A domain's default is read
// with them and not watched: the extension's tables use none.) For an index,
// its predicate when partial (ExecInsertIndexTuples would plan it for every
// row).
struct ParsedExprs {
    Oid relid;  // the hash key
    bool stale;
    MemoryContext memory;
    int check_count;  // the relation's num_check, in the relcache's order
    Expr** checks;
    int column_count;  // natts; defaults[a] is null for none
    Expr** defaults;
    List* predicate;  // an index's, implicit AND; NIL for none
};

HTAB* g_parsed = nullptr;

void on_relation_changed(Datum, Oid relid) {
    if (g_parsed == nullptr) return;
    if (OidIsValid(relid)) {
        if (auto* entry = static_cast<ParsedExprs*>(hash_search(g_parsed, &relid, HASH_FIND, nullptr)))
            entry->stale = true;
        return;
    }
    HASH_SEQ_STATUS scan;
    hash_seq_init(&scan, g_parsed);
    while (auto* entry = static_cast<ParsedExprs*>(hash_seq_search(&scan))) entry->stale = true;
}

void on_function_changed(Datum, int, uint32) { on_relation_changed(0, InvalidOid); }

const ParsedExprs& parsed_exprs(Relation rel) {
    if (g_parsed == nullptr) {
        HASHCTL control{};
        control.keysize = sizeof(Oid);
        control.entrysize = sizeof(ParsedExprs);
        control.hcxt = CacheMemoryContext;
        g_parsed = hash_create("kaireon parsed expressions", 16, &control, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
        CacheRegisterRelcacheCallback(on_relation_changed, 0);
        CacheRegisterSyscacheCallback(PROCOID, on_function_changed, 0);
    }
    const Oid relid = RelationGetRelid(rel);
    TupleDesc desc = RelationGetDescr(rel);
    const int check_count = desc->constr != nullptr ? desc->constr->num_check : 0;
    bool found = false;
    auto* entry = static_cast<ParsedExprs*>(hash_search(g_parsed, &relid, HASH_ENTER, &found));
    if (found && (entry->stale || entry->check_count != check_count || entry->column_count != desc->natts)) {
        MemoryContextDelete(entry->memory);
        found = false;
    }
    if (found) return *entry;
    entry->stale = true;  // until read: after an error below, read again
    entry->memory = AllocSetContextCreate(CacheMemoryContext, "kaireon parsed expressions", ALLOCSET_SMALL_SIZES);
    MemoryContext caller = MemoryContextSwitchTo(entry->memory);
    entry->check_count = check_count;
    entry->checks = static_cast<Expr**>(palloc0(sizeof(Expr*) * static_cast<size_t>(check_count + 1)));
    for (int i = 0; i < check_count; ++i)
        entry->checks[i] = expression_planner(static_cast<Expr*>(stringToNode(desc->constr->check[i].ccbin)));
    entry->column_count = desc->natts;
    entry->defaults = static_cast<Expr**>(palloc0(sizeof(Expr*) * static_cast<size_t>(desc->natts + 1)));
    entry->predicate = NIL;
    if (rel->rd_rel->relkind == RELKIND_INDEX) {
        if (List* predicate = RelationGetIndexPredicate(rel))
            entry->predicate = reinterpret_cast<List*>(expression_planner(reinterpret_cast<Expr*>(predicate)));
    } else {
        for (int a = 0; a < desc->natts; ++a)
            if (!TupleDescAttr(desc, a)->attisdropped)
                if (Node* fallback = build_column_default(rel, a + 1))
                    entry->defaults[a] = expression_planner(reinterpret_cast<Expr*>(fallback));
    }
    MemoryContextSwitchTo(caller);
    entry->stale = false;
    return *entry;
}

// prepared_checks are `target`'s CHECK constraints ready to evaluate, as
// ExecConstraints would prepare them (it uses them when set).
ExprState** prepared_checks(ResultRelInfo* target, EState* estate) {
    const ParsedExprs& parsed = parsed_exprs(target->ri_RelationDesc);
    MemoryContext caller = MemoryContextSwitchTo(estate->es_query_cxt);
    auto** states = static_cast<ExprState**>(palloc(sizeof(ExprState*) * static_cast<size_t>(parsed.check_count)));
    for (int i = 0; i < parsed.check_count; ++i) states[i] = ExecInitExpr(parsed.checks[i], nullptr);
    MemoryContextSwitchTo(caller);
    return states;
}

// prepare_predicates sets the predicates of `target`'s partial indexes ready
// to evaluate, as ExecInsertIndexTuples would prepare them (it uses them when
// set).
void prepare_predicates(ResultRelInfo* target, EState* estate) {
    for (int i = 0; i < target->ri_NumIndices; ++i) {
        IndexInfo* info = target->ri_IndexRelationInfo[i];
        if (info->ii_Predicate == NIL || info->ii_PredicateState != nullptr) continue;
        const ParsedExprs& parsed = parsed_exprs(target->ri_IndexRelationDescs[i]);
        MemoryContext caller = MemoryContextSwitchTo(estate->es_query_cxt);
        info->ii_PredicateState = ExecInitQual(parsed.predicate, nullptr);
        MemoryContextSwitchTo(caller);
    }
}

// column_value is `value` as a value of the column `attr` (text read by the
// column type's input function, as `$n::type` would).
Datum column_value(const SpiArg& value, Form_pg_attribute attr, const char* table) {
    if (value.is_null || value.type == attr->atttypid) return value.value;
    if (value.type != TEXTOID)
        elog(ERROR, "kaireon: a %s value for kaireon.%s.%s, of type %s", format_type_be(value.type), table,
             NameStr(attr->attname), format_type_be(attr->atttypid));
    Oid input = InvalidOid, io_param = InvalidOid;
    getTypeInputInfo(attr->atttypid, &input, &io_param);
    return OidInputFunctionCall(input, TextDatumGetCString(value.value), io_param, attr->atttypmod);
}

// result_relation is `rel` as the one result relation of a new executor
// state, as a plan's would be: its range table entry too, which error
// details (the columns a role may see) and index hints (the columns an
// UPDATE sets, `updated`) read.
ResultRelInfo* result_relation(Relation rel, EState** estate_out, std::span<const AttrNumber> updated = {}) {
    EState* estate = CreateExecutorState();
    RangeTblEntry* range = makeNode(RangeTblEntry);
    range->rtekind = RTE_RELATION;
    range->relid = RelationGetRelid(rel);
    range->relkind = rel->rd_rel->relkind;
    range->rellockmode = RowExclusiveLock;
    for (AttrNumber column : updated)
        range->updatedCols = bms_add_member(range->updatedCols, column - FirstLowInvalidHeapAttributeNumber);
    ExecInitRangeTable(estate, list_make1(range));
    ResultRelInfo* target = makeNode(ResultRelInfo);
    InitResultRelInfo(target, rel, 1, nullptr, 0);
    estate->es_output_cid = GetCurrentCommandId(true);
    *estate_out = estate;
    return target;
}

// put_given sets the given columns' values of a virtual `slot` being filled.
void put_given(TupleTableSlot* slot, const AttrNumber* attnums, size_t n, const Datum* values, const bool* nulls) {
    for (size_t i = 0; i < n; ++i) {
        slot->tts_values[attnums[i] - 1] = values[i];
        slot->tts_isnull[attnums[i] - 1] = nulls[i];
    }
}

// store inserts the row (given values at `attnums`, defaults elsewhere) into
// `rel` or the partition that takes it, unless that partition does more
// than store: then it writes nothing and returns false. A default may have
// been evaluated by then (an identity's next value: a gap, as a failed
// INSERT leaves).
bool store(Relation rel, const AttrNumber* attnums, size_t n, const Attempt& row, const InsertExtras& extras) {
    EState* estate = nullptr;
    ResultRelInfo* root = result_relation(rel, &estate);

    TupleDesc desc = RelationGetDescr(rel);
    TupleTableSlot* slot = ExecInitExtraTupleSlot(estate, desc, &TTSOpsVirtual);
    ExecClearTuple(slot);
    bool* given = static_cast<bool*>(palloc0(sizeof(bool) * static_cast<size_t>(desc->natts)));
    for (int a = 0; a < desc->natts; ++a) {
        slot->tts_values[a] = 0;
        slot->tts_isnull[a] = true;
    }
    put_given(slot, attnums, n, row.values, row.nulls);
    for (size_t i = 0; i < n; ++i) given[attnums[i] - 1] = true;
    const ParsedExprs& parsed = parsed_exprs(rel);
    for (int a = 0; a < desc->natts; ++a) {
        if (given[a] || parsed.defaults[a] == nullptr) continue;
        MemoryContext caller = MemoryContextSwitchTo(estate->es_query_cxt);
        ExprState* state = ExecInitExpr(parsed.defaults[a], nullptr);
        Datum value = ExecEvalExprSwitchContext(state, GetPerTupleExprContext(estate), &slot->tts_isnull[a]);
        // Copied: a constant default points into the parsed expressions,
        // which the next parsed_exprs() of this relation frees when an
        // invalidation (while a partition or index is opened) made them stale.
        Form_pg_attribute attr = TupleDescAttr(desc, a);
        slot->tts_values[a] = slot->tts_isnull[a] ? 0 : datumCopy(value, attr->attbyval, attr->attlen);
        MemoryContextSwitchTo(caller);
    }
    ExecStoreVirtualTuple(slot);

    // The partition that takes the row (INSERT's error when none does), as
    // logical replication's apply worker routes without a plan.
    ResultRelInfo* target = root;
    TupleTableSlot* stored_slot = slot;
    ModifyTableState* modify = nullptr;
    PartitionTupleRouting* routing = nullptr;
    if (rel->rd_rel->relkind == RELKIND_PARTITIONED_TABLE) {
        modify = makeNode(ModifyTableState);
        modify->ps.plan = nullptr;
        modify->ps.state = estate;
        modify->operation = CMD_INSERT;
        modify->resultRelInfo = root;
        modify->rootResultRelInfo = root;
        routing = ExecSetupPartitionTupleRouting(estate, rel);
        target = ExecFindPartition(modify, root, routing, slot, estate);
        if (target->ri_RootToPartitionMap != nullptr) {
            TupleTableSlot* partition_slot = target->ri_PartitionTupleSlot;
            if (partition_slot == nullptr)
                partition_slot = table_slot_create(target->ri_RelationDesc, &estate->es_tupleTable);
            stored_slot = execute_attr_map_slot(target->ri_RootToPartitionMap->attrMap, slot, partition_slot);
        }
    } else {
        ExecOpenIndices(root, false);
    }

    Relation leaf = target->ri_RelationDesc;
    bool direct = leaf->rd_rel->relkind == RELKIND_RELATION && stores_only(leaf, extras.callers_trigger) &&
                  !has_insert_trigger(target->ri_TrigDesc, extras.callers_trigger);
    // A deferrable unique index checks again at commit, through the
    // after-trigger queue INSERT keeps.
    for (int i = 0; direct && i < target->ri_NumIndices; ++i)
        if (!target->ri_IndexRelationDescs[i]->rd_index->indimmediate) direct = false;
    if (direct) {
        // What ExecInsert does for a routed row without BEFORE triggers
        // (whose partition constraint routing has met).
        if (leaf->rd_att->constr != nullptr) {
            if (leaf->rd_att->constr->num_check > 0) target->ri_ConstraintExprs = prepared_checks(target, estate);
            ExecConstraints(target, stored_slot, estate);
        }
        table_tuple_insert(leaf, stored_slot, estate->es_output_cid, 0, nullptr);
        if (target->ri_NumIndices > 0) {
            prepare_predicates(target, estate);
            list_free(ExecInsertIndexTuples(target, stored_slot, estate, false, false, nullptr, NIL));
        }
        // Copied out of the executor state's memory, freed below.
        for (size_t i = 0; i < extras.returning.size(); ++i) {
            const int a = row.returning[i] - 1;
            Form_pg_attribute attr = TupleDescAttr(desc, a);
            extras.returned[i].is_null = slot->tts_isnull[a];
            extras.returned[i].value =
                slot->tts_isnull[a] ? 0 : datumCopy(slot->tts_values[a], attr->attbyval, attr->attlen);
        }
    }

    if (routing != nullptr) {
        ExecCleanupTupleRouting(modify, routing);
    } else {
        ExecCloseIndices(root);
    }
    ExecResetTupleTable(estate->es_tupleTable, false);
    FreeExecutorState(estate);
    // The next command sees the row, as after an INSERT statement.
    if (direct) CommandCounterIncrement();
    return direct;
}

// resolve_columns finds the given columns in `rel` and reads their values
// as the columns take them.
void resolve_columns(Relation rel, const char* table, const ColumnValue* row, size_t n, AttrNumber* attnums,
                     Attempt* out) {
    TupleDesc desc = RelationGetDescr(rel);
    for (size_t i = 0; i < n; ++i) {
        // Callers mostly name the columns in the table's order.
        attnums[i] = kaireon_column(desc, table, row[i].column, i == 0 ? 0 : attnums[i - 1]);
        for (size_t j = 0; j < i; ++j)
            if (attnums[j] == attnums[i]) elog(ERROR, "kaireon: kaireon.%s.%s given twice", table, row[i].column);
        Form_pg_attribute attr = TupleDescAttr(desc, attnums[i] - 1);
        if (attr->attidentity == ATTRIBUTE_IDENTITY_ALWAYS || attr->attgenerated != '\0')
            elog(ERROR, "kaireon: kaireon.%s.%s is generated, not given", table, row[i].column);
        out->types[i] = attr->atttypid;
        out->nulls[i] = row[i].value.is_null;
        out->values[i] = column_value(row[i].value, attr, table);
    }
}

// may_write: the calling role may do `modes` (each of them) on `relid` and no
// policy applies to it.
bool may_write(Oid relid, std::initializer_list<AclMode> modes) {
    for (AclMode mode : modes)
        if (pg_class_aclcheck(relid, GetUserId(), mode) != ACLCHECK_OK) return false;
    return check_enable_rls(relid, InvalidOid, true) != RLS_ENABLED;
}

void attempt(const char* table, const ColumnValue* row, size_t n, const InsertExtras& extras, Attempt* out) {
    const Oid relid = kaireon_relation(table);
    Relation rel = table_open(relid, RowExclusiveLock);
    TupleDesc desc = RelationGetDescr(rel);
    for (size_t i = 0; i < extras.returning.size(); ++i)
        out->returning[i] = kaireon_column(desc, table, extras.returning[i]);
    AttrNumber attnums[kMaxInsertColumns];
    resolve_columns(rel, table, row, n, attnums, out);
    // What INSERT would check or apply beyond storing: the statement does it.
    const char kind = rel->rd_rel->relkind;
    if ((kind == RELKIND_RELATION || kind == RELKIND_PARTITIONED_TABLE) && stores_only(rel, extras.callers_trigger) &&
        may_write(relid, {ACL_INSERT}))
        out->stored = store(rel, attnums, n, *out, extras);
    table_close(rel, NoLock);
}

bool has_update_trigger(const TriggerDesc* triggers) {
    return triggers != nullptr && (triggers->trig_update_before_row || triggers->trig_update_after_row ||
                                   triggers->trig_update_instead_row || triggers->trig_update_before_statement ||
                                   triggers->trig_update_after_statement || triggers->trig_update_old_table ||
                                   triggers->trig_update_new_table);
}

// update_or_store: the row whose primary key `key` equals the given key
// columns, found and locked as logical replication's apply worker finds a
// row (waiting for a transaction that writes it, again after a concurrent
// update), updated to the merge; or, when there is none, the row inserted.
bool update_or_store(Relation rel, Oid key, const AttrNumber* attnums, size_t n, Attempt& row, UpsertMerge merge,
                     void* context) {
    TupleDesc desc = RelationGetDescr(rel);
    // The key's columns from the relcache (the search opens the index).
    Bitmapset* key_columns = RelationGetIndexAttrBitmap(rel, INDEX_ATTR_BITMAP_PRIMARY_KEY);
    for (size_t i = 0; i < n; ++i)
        key_columns = bms_del_member(key_columns, attnums[i] - FirstLowInvalidHeapAttributeNumber);
    if (!bms_is_empty(key_columns))
        elog(ERROR, "kaireon: an upsert of kaireon.%s must give its primary key", RelationGetRelationName(rel));

    EState* estate = nullptr;
    ResultRelInfo* target = result_relation(rel, &estate, std::span(attnums, n));
    ExecOpenIndices(target, false);
    bool direct = true;
    for (int i = 0; direct && i < target->ri_NumIndices; ++i)
        if (!target->ri_IndexRelationDescs[i]->rd_index->indimmediate) direct = false;
    bool exists = false;
    if (direct) {
        TupleTableSlot* search = ExecInitExtraTupleSlot(estate, desc, &TTSOpsVirtual);
        ExecClearTuple(search);
        for (int a = 0; a < desc->natts; ++a) search->tts_isnull[a] = true;
        put_given(search, attnums, n, row.values, row.nulls);
        ExecStoreVirtualTuple(search);
        TupleTableSlot* found = table_slot_create(rel, &estate->es_tupleTable);
        exists = RelationFindReplTupleByIndex(rel, key, LockTupleExclusive, search, found);
        if (exists) {
            slot_getallattrs(found);
            Datum stored[kMaxInsertColumns];
            bool stored_nulls[kMaxInsertColumns];
            for (size_t i = 0; i < n; ++i) {
                stored[i] = found->tts_values[attnums[i] - 1];
                stored_nulls[i] = found->tts_isnull[attnums[i] - 1];
            }
            merge(stored, stored_nulls, row.values, row.nulls, context);
            TupleTableSlot* updated = ExecInitExtraTupleSlot(estate, desc, &TTSOpsVirtual);
            ExecClearTuple(updated);
            for (int a = 0; a < desc->natts; ++a) {
                updated->tts_values[a] = found->tts_values[a];
                updated->tts_isnull[a] = found->tts_isnull[a];
            }
            put_given(updated, attnums, n, row.values, row.nulls);
            ExecStoreVirtualTuple(updated);
            // What ExecUpdate does for a row without triggers (an UPDATE of a
            // table published without a replica identity is refused).
            CheckCmdReplicaIdentity(rel, CMD_UPDATE);
            if (desc->constr != nullptr) {
                if (desc->constr->num_check > 0) target->ri_ConstraintExprs = prepared_checks(target, estate);
                ExecConstraints(target, updated, estate);
            }
            bool update_indexes = false;
            simple_table_tuple_update(rel, &found->tts_tid, updated, estate->es_snapshot, &update_indexes);
            if (update_indexes && target->ri_NumIndices > 0) {
                prepare_predicates(target, estate);
                list_free(ExecInsertIndexTuples(target, updated, estate, true, false, nullptr, NIL));
            }
        }
    }
    ExecCloseIndices(target);
    ExecResetTupleTable(estate->es_tupleTable, false);
    FreeExecutorState(estate);
    if (!direct) return false;
    if (!exists) return store(rel, attnums, n, row, InsertExtras{});
    CommandCounterIncrement();
    return true;
}

void upsert_attempt(const char* table, const ColumnValue* row, size_t n, UpsertMerge merge, void* context,
                    Attempt* out) {
    const Oid relid = kaireon_relation(table);
    Relation rel = table_open(relid, RowExclusiveLock);
    AttrNumber attnums[kMaxInsertColumns];
    resolve_columns(rel, table, row, n, attnums, out);
    const Oid key = RelationGetPrimaryKeyIndex(rel);
    if (rel->rd_rel->relkind == RELKIND_RELATION && OidIsValid(key) && stores_only(rel, nullptr) &&
        !has_update_trigger(rel->trigdesc) && may_write(relid, {ACL_INSERT, ACL_UPDATE, ACL_SELECT}))
        out->stored = update_or_store(rel, key, attnums, n, *out, merge, context);
    table_close(rel, NoLock);
}

}  // namespace

bool upsert_row(const char* table, std::span<const ColumnValue> row, UpsertMerge merge, void* context) {
    if (row.empty() || row.size() > kMaxInsertColumns || merge == nullptr)
        throw Error(ErrorCode::Internal, "upsert_row: 1 to " + std::to_string(kMaxInsertColumns) + " columns");
    Attempt attempted;
    pg_call([&] { upsert_attempt(table, row.data(), row.size(), merge, context, &attempted); });
    return attempted.stored;
}

InsertPath insert_row(const char* table, std::span<const ColumnValue> row, const InsertExtras& extras) {
    if (row.empty() || row.size() > kMaxInsertColumns || extras.returning.size() > kMaxInsertColumns ||
        (!extras.returning.empty() && extras.returned == nullptr))
        throw Error(ErrorCode::Internal, "insert_row: 1 to " + std::to_string(kMaxInsertColumns) + " columns");
    Attempt attempted;
    pg_call([&] { attempt(table, row.data(), row.size(), extras, &attempted); });
    if (attempted.stored) return InsertPath::Direct;

    std::string sql = "INSERT INTO kaireon.";
    sql += pg_call([&] { return quote_identifier(table); });
    std::string values;
    SpiArg args[kMaxInsertColumns];
    for (size_t i = 0; i < row.size(); ++i) {
        sql += i == 0 ? " (" : ", ";
        sql += pg_call([&] { return quote_identifier(row[i].column); });
        values += (i == 0 ? "$" : ", $") + std::to_string(i + 1);
        args[i] = SpiArg{attempted.types[i], attempted.values[i], attempted.nulls[i]};
    }
    sql += ") VALUES (" + values + ")";
    for (size_t i = 0; i < extras.returning.size(); ++i) {
        sql += i == 0 ? " RETURNING " : ", ";
        sql += pg_call([&] { return quote_identifier(extras.returning[i]); });
    }
    SpiSession spi;
    spi.execute(sql.c_str(), std::span<const SpiArg>(args, row.size()));
    for (size_t i = 0; i < extras.returning.size(); ++i) {
        Returned& out = extras.returned[i];
        Datum value = spi.datum(0, static_cast<int>(i), &out.is_null);
        // Copied: SPI's result is freed when the session ends.
        out.value = out.is_null ? 0 : pg_call([&] {
            int16 length = 0;
            bool by_value = false;
            get_typlenbyval(SPI_gettypeid(SPI_tuptable->tupdesc, static_cast<int>(i) + 1), &length, &by_value);
            return datumCopy(value, by_value, length);
        });
    }
    return InsertPath::Statement;
}

}  // namespace kaireon::pg
