#!/usr/bin/env bash
# Time partitions survive pg_dump / pg_restore (docs/operations.md "Time
# partitioning"). Runs against the cluster in PGHOST/PGPORT.
#
# A database with pg_partman and kaireon's append tables cut into monthly
# partitions (rows of January to April 2026 moved out of the default
# partitions, more rows reported after) is dumped twice:
#   1. with --load-via-partition-root: the restore gives back every row in
#      the same partition, the same usage totals (the rows load through
#      usage_events, whose trigger rebuilds the rollups), kaireon's and
#      pg_partman's configuration, and partitions guarded as before
#      (row-level security, the tenant policy, no grants, append-only with
#      TRUNCATE refused); partition_maintenance runs there;
#   2. without it: the rows come back, the time partitions' rollups do not
#      (pg_restore makes their triggers after loading them), and
#      kaireon.rebuild_usage_rollups() gives back the same usage totals.
# The audit trail is cut too, and its retention has dropped January: both
# restores give back the same records, seals and anchors, every chain
# verifies, and sealing goes on from the anchors.
set -euo pipefail

src=kr_part_src
dst_root=kr_part_root
dst_leaf=kr_part_leaf
work=$(mktemp -d)
cleanup() {
    for db in $src $dst_root $dst_leaf; do dropdb --if-exists "$db" >/dev/null 2>&1 || true; done
    psql -qX -d postgres -c "DROP ROLE IF EXISTS kr_part_app" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
cleanup
work=$(mktemp -d)
fail() {
    echo "partitioning: $*" >&2
    exit 1
}

psql -qX -v ON_ERROR_STOP=1 -d postgres -c "CREATE ROLE kr_part_app IN ROLE kaireon_app"
createdb "$src"
psql -qX -v ON_ERROR_STOP=1 -d "$src" >/dev/null <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION kaireon;
CREATE SCHEMA partman;
CREATE EXTENSION pg_partman SCHEMA partman;
RESET client_min_messages;
SET kaireon.test_clock = '2026-01-05T12:00:00Z';
SELECT kaireon.create_tenant('acme', 'Acme', 'ops@acme.test');
SELECT kaireon.grant_tenant('kr_part_app', 'acme');
SELECT kaireon.define_feature('part_calls', 'numeric', '{"period": "month"}');
SELECT kaireon.define_feature('part_storage', 'numeric', '{"period": "never", "aggregation": "max"}');
-- January to April, in the default partitions (a maintenance load).
INSERT INTO kaireon.usage_events (tenant_id, feature, value, occurred_at, recorded_at)
SELECT 'acme', f, m * 10 + d, make_timestamptz(2026, m, d, 12, 0, 0, 'UTC'), make_timestamptz(2026, m, d, 12, 0, 0, 'UTC')
FROM unnest(ARRAY['part_calls', 'part_storage']) f, generate_series(1, 4) m, generate_series(1, 5) d;
INSERT INTO kaireon.decisions (tenant_id, customer_id, flow, offers, decided_at, quota_period)
SELECT 'acme', 'c' || d, 'main', '[]', make_timestamptz(2026, m, d, 12, 0, 0, 'UTC'), make_timestamptz(2026, m, 1, 0, 0, 0, 'UTC')
FROM generate_series(1, 4) m, generate_series(1, 3) d;
SET kaireon.test_clock = '2026-04-20T12:00:00Z';
SELECT kaireon.enable_time_partitioning(interval '1 month', 2);
-- After: through usage_events into April's partition.
INSERT INTO kaireon.usage_events (tenant_id, feature, value, occurred_at, recorded_at)
VALUES ('acme', 'part_calls', 1000, '2026-04-20T12:00:00Z', '2026-04-20T12:00:00Z');
-- The trail of January (sealed) goes; its chains go on from anchors.
SELECT kaireon.seal_audit();
SELECT kaireon.set_partition_retention('kaireon.audit_log', interval '1 day');
SELECT kaireon.partition_maintenance();
SELECT kaireon.seal_audit();
SQL
[ "$(psql -qXAt -d "$src" -c "SELECT count(DISTINCT tenant_id) FROM kaireon.audit_anchors")" -eq 2 ] ||
    fail "retention of the trail left no anchor for acme and the system trail: $(psql -qXAt -d "$src" -c \
        "SELECT kaireon.partition_maintenance() -> 'kaireon.audit_log'")"

# state DB: what must come back. Rows per partition (as of April 2026: the
# premade ones after it depend on the real date), the usage totals, the
# configuration, the partitions' guards.
state() {
    psql -qXAt -v ON_ERROR_STOP=1 -d "$1" <<'SQL'
SELECT 'rows', tableoid::regclass, count(*) FROM kaireon.usage_events GROUP BY 2 ORDER BY tableoid::regclass::text;
SELECT 'rows', tableoid::regclass, count(*) FROM kaireon.decisions GROUP BY 2 ORDER BY tableoid::regclass::text;
SELECT 'total', tenant_id, feature, period_start, sum, count, max FROM kaireon.usage_totals
ORDER BY feature, period_start;
SELECT 'handed over', table_name, partition_interval, retention FROM kaireon.time_partitioning ORDER BY table_name::text;
SELECT 'partman', parent_table, partition_interval, premake, infinite_time_partitions FROM partman.part_config
ORDER BY 2;
SELECT 'partitions', i.inhparent::regclass,
       (SELECT count(*) FROM kaireon._partition_bounds(i.inhparent) b WHERE b.range_to <= '2026-05-01'),
       bool_and(c.relrowsecurity), bool_and(EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid)),
       bool_and(c.relacl IS NULL OR array_length(c.relacl, 1) = 1)
FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent IN ('kaireon.usage_events'::regclass, 'kaireon.decisions'::regclass,
                      'kaireon.decision_traces'::regclass, 'kaireon.audit_log'::regclass,
                      'kaireon.audit_seals'::regclass)
GROUP BY i.inhparent ORDER BY i.inhparent::regclass::text;
SELECT 'guarded', c.relname, string_agg(t.tgname || ':' || t.tgenabled::text, ' ' ORDER BY t.tgname)
FROM pg_class c JOIN pg_trigger t ON t.tgrelid = c.oid
WHERE c.relname IN ('usage_events_default', 'usage_events_p2026_01', 'usage_events_p2026_04', 'audit_log_p2026_04',
                    'audit_seals_p2026_04')
GROUP BY 2 ORDER BY 2;
SELECT 'audit', tableoid::regclass, count(*) FROM kaireon.audit_log WHERE recorded_at < '2026-05-01'
GROUP BY 2 ORDER BY tableoid::regclass::text;
SELECT 'seals', tableoid::regclass, count(*) FROM kaireon.audit_seals WHERE recorded_at < '2026-05-01'
GROUP BY 2 ORDER BY tableoid::regclass::text;
SELECT 'anchor', tenant_id, position, audit_id, encode(hash, 'hex'), pruned_through FROM kaireon.audit_anchors
ORDER BY tenant_id, position;
SELECT 'verify', t, kaireon.verify_audit(t) FROM unnest(ARRAY['acme', '']) t;
SQL
}
state "$src" >"$work/before.txt"
grep -q '^rows|kaireon.usage_events_p2026_04|11$' "$work/before.txt" ||
    fail "the source does not hold April's rows in their partition: $(grep '^rows' "$work/before.txt")"
[ "$(grep -c '|aggregate:O append_only:A append_only_truncate:A$' "$work/before.txt")" -eq 3 ] ||
    fail "a partition of usage_events is not guarded: $(grep '^guarded' "$work/before.txt")"

pg_dump -Fc --load-via-partition-root -d "$src" -f "$work/root.custom"
pg_dump -Fc -d "$src" -f "$work/leaf.custom"

# 1. Through the partitioned tables.
createdb "$dst_root"
pg_restore --exit-on-error -d "$dst_root" "$work/root.custom"
state "$dst_root" >"$work/after_root.txt"
diff -u "$work/before.txt" "$work/after_root.txt" >&2 ||
    fail "the restore of the dump made with --load-via-partition-root differs (diff above)"
out=$(psql -qXAt -d "$dst_root" -c "TRUNCATE kaireon.usage_events_p2026_02" 2>&1 || true)
grep -q 'kaireon.usage_events is append-only: TRUNCATE is not allowed' <<<"$out" ||
    fail "a restored partition does not refuse TRUNCATE: $out"
out=$(psql -qXAt -d "$dst_root" -c "DELETE FROM kaireon.usage_events WHERE recorded_at < '2026-02-01'" 2>&1 || true)
grep -q 'kaireon.usage_events is append-only: DELETE is not allowed' <<<"$out" ||
    fail "a restored partition does not refuse DELETE: $out"
out=$(psql -qXAt -d "$dst_root" -c "SET ROLE kr_part_app" -c "SELECT count(*) FROM kaireon.decisions_p2026_01" 2>&1 || true)
grep -q 'permission denied for table decisions_p2026_01' <<<"$out" ||
    fail "an application reads a restored partition directly: $out"
psql -qXAt -v ON_ERROR_STOP=1 -d "$dst_root" -c "SELECT kaireon.partition_maintenance()" >/dev/null ||
    fail "partition_maintenance fails on the restored database"
grep -q '^verify|acme|{"valid": true' "$work/after_root.txt" || fail "acme's chain does not verify: $(grep '^verify' "$work/after_root.txt")"
out=$(psql -qXAt -v ON_ERROR_STOP=1 -d "$dst_root" -c "SELECT kaireon.seal_audit() -> 'sealed'" \
    -c "SELECT kaireon.verify_audit('') ->> 'valid'")
[ "$(tail -1 <<<"$out")" = true ] && [ "$(head -1 <<<"$out")" -gt 0 ] ||
    fail "sealing does not go on from the anchor after the restore: $out"
echo "partitioning: a dump made with --load-via-partition-root restores every row in its partition, the usage totals, the configuration and the guards"

# 2. Leaf by leaf: the time partitions' rollups are missing until rebuilt.
createdb "$dst_leaf"
pg_restore --exit-on-error -d "$dst_leaf" "$work/leaf.custom"
state "$dst_leaf" >"$work/after_leaf.txt"
if diff -q "$work/before.txt" "$work/after_leaf.txt" >/dev/null; then
    fail "the leaf-by-leaf restore already has every rollup: the docs' advice to rebuild them is stale"
fi
diff <(grep -v '^total' "$work/before.txt") <(grep -v '^total' "$work/after_leaf.txt") >&2 ||
    fail "the leaf-by-leaf restore differs in more than the rollups (diff above)"
psql -qXAt -v ON_ERROR_STOP=1 -d "$dst_leaf" -c "SELECT kaireon.rebuild_usage_rollups()" >/dev/null
state "$dst_leaf" >"$work/after_rebuild.txt"
diff -u "$work/before.txt" "$work/after_rebuild.txt" >&2 ||
    fail "after rebuild_usage_rollups the leaf-by-leaf restore still differs (diff above)"
echo "partitioning: a dump made leaf by leaf restores every row; rebuild_usage_rollups() gives back the usage totals"
