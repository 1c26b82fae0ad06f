#!/usr/bin/env bash
# The decision quota under load on a throw-away cluster (SPEC section 5):
# pgbench runs 8 clients against one tenant whose limit is small (1,500
# decisions a month) with a workload far past it: single decisions, batches
# (all or nothing), transactions that roll back, savepoints rolled back,
# transactions holding two units for a while; one customer in five refused
# contact, so its decisions are empty. Every call logs its outcome in the
# same transaction (public.stress_log), so the log holds exactly what
# committed. Afterwards:
#   - no error reached a client but the quota's own KR429 (caught and logged):
#     no deadlock, no serialization failure, no client aborted;
#   - counted decisions in kaireon.decisions (quota_period set) = counted
#     decisions logged = exactly the limit (never above it: no unit admitted
#     past the limit, none lost), and quota_status() says the same;
#   - empty decisions recorded = logged, none counted; refusals > 0 and
#     kaireon.stats.quota_refusals >= refusals logged (it also counts the
#     refusals of rolled-back transactions);
#   - quota.warning, quota.admin_notified and quota.exceeded: one each;
#   - after a restart the shared-memory count is rebuilt from the decision
#     records: quota_status() still says the limit, the next decision is
#     refused with KR429 and an empty one is still accepted; with the limit
#     raised by 50, more load counts exactly 50 more.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../../scripts/lib/cluster.sh
source "$here/scripts/lib/cluster.sh"

limit=${KR_QUOTA_LIMIT:-1500}
clients=8
per_client=${KR_QUOTA_TX:-600}
customers=100
db=kr_quota_stress
clock=2026-06-10T12:00:00Z  # a fixed instant: the run never straddles a month

work=$(mktemp -d)
chmod 755 "$work"
cleanup() {
    kr_cluster_stop
    rm -rf "$work"
}
trap cleanup EXIT
kr_cluster_start >/dev/null
started=$(date +%s)

createdb "$db"
psql -qX -v ON_ERROR_STOP=1 -d "$db" -v limit="$limit" -v customers="$customers" -v clock="$clock" \
    >/dev/null <<'SQL'
CREATE EXTENSION kaireon;
CREATE ROLE kr_stress_app LOGIN IN ROLE kaireon_app;
SELECT kaireon.create_tenant('stress', 'Stress', 'ops@stress.test');
SELECT kaireon.grant_tenant('kr_stress_app', 'stress');
-- The clock is superuser-only: pinned for the application's role.
ALTER ROLE kr_stress_app SET kaireon.test_clock = :'clock';
SET kaireon.test_clock = :'clock';
SET kaireon.tenant = 'stress';
-- One offer with a creative on the web; customers c1..c100, every fifth
-- of whom refused contact on the web (their decisions are empty).
SELECT kaireon.apply_catalog(jsonb_build_object(
    'channels', jsonb_build_array(jsonb_build_object('id', 'web', 'type', 'web')),
    'offers', jsonb_build_array(jsonb_build_object('id', 'o1', 'priority', 50)),
    'creatives', jsonb_build_array(jsonb_build_object('id', 'o1-web', 'offerId', 'o1', 'channelId', 'web')),
    'customers', (SELECT jsonb_agg(jsonb_build_object('id', 'c' || i)) FROM generate_series(1, :customers) AS i),
    'consents', (SELECT jsonb_agg(jsonb_build_object('customerId', 'c' || i, 'channelId', 'web', 'granted', false))
                 FROM generate_series(5, :customers, 5) AS i),
    'flows', jsonb_build_array(jsonb_build_object('id', 'home', 'channelId', 'web')))) IS NOT NULL;
SELECT kaireon.set_override('decisions_per_month', jsonb_build_object('limit', :limit)) IS NOT NULL;

-- The clients' log, written in the transaction of each call: what it
-- decided (counted / empty decisions) or that it was refused.
CREATE TABLE public.stress_log (kind text NOT NULL, outcome text NOT NULL, counted int NOT NULL DEFAULT 0,
                                empty int NOT NULL DEFAULT 0, at_count numeric);
GRANT INSERT, SELECT ON public.stress_log TO kr_stress_app;

-- stress_decide makes one decision; a refusal (KR429) is caught in a
-- subtransaction and logged, any other error reaches the client.
CREATE FUNCTION public.stress_decide(customer int) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    answer jsonb;
    offers int;
BEGIN
    BEGIN
        answer := kaireon_recommend(jsonb_build_object('customerId', 'c' || customer, 'flow', 'home'));
    EXCEPTION WHEN SQLSTATE 'KR429' THEN
        INSERT INTO public.stress_log (kind, outcome) VALUES ('single', 'refused');
        RETURN 'refused';
    END;
    offers := jsonb_array_length(answer -> 'offers');
    INSERT INTO public.stress_log VALUES ('single', 'ok', (offers > 0)::int, (offers = 0)::int,
                                          (answer -> 'quota' -> 'usage' ->> 'current')::numeric);
    RETURN 'ok';
END
$$;
-- stress_batch decides for several customers at once (one offer each at
-- most, so the rows are the non-empty decisions).
CREATE FUNCTION public.stress_batch(batch int[]) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    rows int;
BEGIN
    BEGIN
        SELECT count(*) INTO rows
        FROM kaireon.recommend_batch('home', (SELECT array_agg('c' || c) FROM unnest(batch) AS c));
    EXCEPTION WHEN SQLSTATE 'KR429' THEN
        INSERT INTO public.stress_log (kind, outcome) VALUES ('batch', 'refused');
        RETURN 'refused';
    END;
    INSERT INTO public.stress_log VALUES ('batch', 'ok', rows, cardinality(batch) - rows, NULL);
    RETURN 'ok';
END
$$;
SQL

# The workload: pgbench scripts, weighted.
cat >"$work/decide.sql" <<'SQL'
SET kaireon.tenant = 'stress';
\set c random(1, 100)
SELECT public.stress_decide(:c);
SQL
cat >"$work/batch.sql" <<'SQL'
SET kaireon.tenant = 'stress';
\set a random(1, 100)
\set b random(1, 100)
\set c random(1, 100)
SELECT public.stress_batch(ARRAY[:a, :b, :c]);
SQL
cat >"$work/rollback.sql" <<'SQL'
\set a random(1, 100)
\set b random(1, 100)
BEGIN;
SET LOCAL kaireon.tenant = 'stress';
SELECT public.stress_decide(:a);
SELECT public.stress_decide(:b);
ROLLBACK;
SQL
cat >"$work/savepoint.sql" <<'SQL'
\set a random(1, 100)
\set b random(1, 100)
\set c random(1, 100)
BEGIN;
SET LOCAL kaireon.tenant = 'stress';
SELECT public.stress_decide(:a);
SAVEPOINT undo;
SELECT public.stress_decide(:b);
ROLLBACK TO SAVEPOINT undo;
SELECT public.stress_decide(:c);
COMMIT;
SQL
cat >"$work/hold.sql" <<'SQL'
\set a random(1, 100)
\set b random(1, 100)
BEGIN;
SET LOCAL kaireon.tenant = 'stress';
SELECT public.stress_decide(:a);
\sleep 2 ms
SELECT public.stress_decide(:b);
COMMIT;
SQL

failures=()
fail() { failures+=("$1"); }

pgbench_rc=0
pgbench -n -U kr_stress_app -c "$clients" -j 2 -t "$per_client" --failures-detailed \
    -f "$work/decide.sql@10" -f "$work/batch.sql@2" -f "$work/rollback.sql@2" \
    -f "$work/savepoint.sql@2" -f "$work/hold.sql@2" "$db" >"$work/pgbench.out" 2>"$work/pgbench.err" ||
    pgbench_rc=$?
[ $pgbench_rc -eq 0 ] || fail "pgbench exited with $pgbench_rc: $(grep -v '^pgbench: client [0-9]* executing' "$work/pgbench.err" | tail -n 5 | tr '\n' ' ')"
processed=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$work/pgbench.out")
failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$work/pgbench.out")
[ "$processed" = $((clients * per_client)) ] ||
    fail "pgbench processed ${processed:-?} of $((clients * per_client)) transactions"
[ "${failed:-0}" = 0 ] || fail "pgbench: $failed transactions failed (serialization or deadlock): $(grep -i -E 'failures|deadlock|serializ' "$work/pgbench.out" | tr '\n' ' ')"
if grep -q 'ERROR' "$work/pgbench.err"; then
    fail "errors reached the clients: $(grep 'ERROR' "$work/pgbench.err" | sort | uniq -c | head -n 5 | tr '\n' ' ')"
fi

# check NAME SQL: the query returns problem rows; none expected.
check() {
    local name=$1 sql=$2 out
    if ! out=$(psql -qXAt -v ON_ERROR_STOP=1 -F ' | ' -d "$db" -c "$sql" 2>&1); then
        fail "$name: query failed: $out"
    elif [ -n "$out" ]; then
        fail "$name: $(head -n 12 <<<"$out" | tr '\n' ';')"
    fi
}
status_sql="SET kaireon.tenant = 'stress'; SET kaireon.test_clock = '$clock';
    SELECT q -> 'usage' ->> 'current', q -> 'usage' ->> 'limit', q ->> 'status' FROM kaireon.quota_status() AS q"

check "counted decisions: records, log and quota_status() differ or are not the limit" "
    SET kaireon.tenant = 'stress'; SET kaireon.test_clock = '$clock';
    SELECT r.counted AS recorded, l.counted AS logged, (q -> 'usage' ->> 'current')::numeric AS quota_status
    FROM (SELECT count(*) AS counted FROM kaireon.decisions WHERE tenant_id = 'stress' AND quota_period IS NOT NULL) r,
         (SELECT coalesce(sum(counted), 0) AS counted FROM public.stress_log) l,
         kaireon.quota_status() AS q
    WHERE NOT (r.counted = $limit AND l.counted = $limit AND (q -> 'usage' ->> 'current')::numeric = $limit)"
check "counted decisions recorded in another period than the month" "
    SELECT DISTINCT quota_period FROM kaireon.decisions WHERE tenant_id = 'stress' AND quota_period IS NOT NULL
    AND quota_period <> date_trunc('month', '$clock'::timestamptz, 'UTC')"
check "counted decisions without an offer, or empty ones counted" "
    SELECT quota_period IS NOT NULL AS counted, offers = '[]'::jsonb AS empty, count(*) FROM kaireon.decisions
    WHERE tenant_id = 'stress' AND (quota_period IS NOT NULL) = (offers = '[]'::jsonb) GROUP BY 1, 2"
check "empty decisions recorded != logged" "
    SELECT r.empty, l.empty FROM
        (SELECT count(*) AS empty FROM kaireon.decisions WHERE tenant_id = 'stress' AND quota_period IS NULL) r,
        (SELECT coalesce(sum(empty), 0) AS empty FROM public.stress_log) l
    WHERE r.empty <> l.empty OR l.empty = 0"
check "a decision answered a count past the limit" "
    SELECT kind, at_count FROM public.stress_log WHERE at_count > $limit"
check "no refusal logged (the load did not pass the limit?)" "
    SELECT 'none' WHERE NOT EXISTS (SELECT 1 FROM public.stress_log WHERE outcome = 'refused')"
check "kaireon.stats counts fewer refusals than the clients logged" "
    SELECT s.quota_refusals, l.refused FROM kaireon.stats s,
        (SELECT count(*) AS refused FROM public.stress_log WHERE outcome = 'refused') l
    WHERE s.tenant_id = 'stress' AND s.quota_refusals < l.refused
    UNION ALL SELECT NULL, NULL WHERE NOT EXISTS (SELECT 1 FROM kaireon.stats WHERE tenant_id = 'stress')"
check "quota alerts not exactly once each" "
    SELECT t.type, count(e.type) FROM unnest(ARRAY['quota.warning', 'quota.admin_notified', 'quota.exceeded']) AS t (type)
    LEFT JOIN kaireon.events e ON e.tenant_id = 'stress' AND e.type = t.type GROUP BY t.type HAVING count(e.type) <> 1
    UNION ALL SELECT type, count(*) FROM kaireon.events WHERE tenant_id = 'stress' AND type LIKE 'quota.%'
    AND type NOT IN ('quota.warning', 'quota.admin_notified', 'quota.exceeded') GROUP BY type"

read -r counted empties refused batches refused_batches <<<"$(psql -qXAt -F ' ' -d "$db" -c "
    SELECT coalesce(sum(counted), 0), coalesce(sum(empty), 0), count(*) FILTER (WHERE outcome = 'refused'),
           count(*) FILTER (WHERE kind = 'batch' AND outcome = 'ok'),
           count(*) FILTER (WHERE kind = 'batch' AND outcome = 'refused')
    FROM public.stress_log")"
stat_refusals=$(psql -qXAt -d "$db" -c "SELECT quota_refusals FROM kaireon.stats WHERE tenant_id = 'stress'")
status_before=$(psql -qXAt -F ' ' -d "$db" -c "$status_sql" | tail -n 1)
elapsed_load=$(($(date +%s) - started))

# A restart: the count comes back from the decision records.
kr_cluster_restart
status_after=$(psql -qXAt -F ' ' -d "$db" -c "$status_sql" | tail -n 1)
[ "$status_after" = "$limit $limit exceeded" ] ||
    fail "after the restart quota_status() says '$status_after', expected '$limit $limit exceeded'"
after_out=$(psql -qXAt -U kr_stress_app -d "$db" 2>&1 <<'SQL' || true
\set VERBOSITY sqlstate
SET kaireon.tenant = 'stress';
SELECT 'decided ' || (kaireon_recommend(jsonb_build_object('customerId', 'c1', 'flow', 'home')) -> 'quota' -> 'usage' ->> 'current');
SELECT 'empty ' || jsonb_array_length(kaireon_recommend(jsonb_build_object('customerId', 'c5', 'flow', 'home')) -> 'offers');
SQL
)
grep -q 'ERROR:  KR429$' <<<"$after_out" || fail "after the restart a decision was not refused with KR429: $(tr '\n' ' ' <<<"$after_out")"
grep -q '^decided' <<<"$after_out" && fail "after the restart a decision past the limit was accepted: $(tr '\n' ' ' <<<"$after_out")"
grep -q '^empty 0$' <<<"$after_out" || fail "after the restart an empty decision was not accepted: $(tr '\n' ' ' <<<"$after_out")"
check "after the restart: counted decisions are not the limit" "
    SELECT count(*) FROM kaireon.decisions WHERE tenant_id = 'stress' AND quota_period IS NOT NULL HAVING count(*) <> $limit"

# The rebuilt count goes on exactly: the limit raised by 50, another round
# of load counts exactly 50 more.
raised=$((limit + 50))
psql -qX -v ON_ERROR_STOP=1 -d "$db" -c "SET kaireon.tenant = 'stress'" \
    -c "SELECT kaireon.set_override('decisions_per_month', jsonb_build_object('limit', $raised)) IS NOT NULL" >/dev/null
rc=0
pgbench -n -U kr_stress_app -c "$clients" -j 2 -t 40 -f "$work/decide.sql@4" -f "$work/batch.sql@1" -f "$work/hold.sql@1" \
    "$db" >"$work/pgbench2.out" 2>"$work/pgbench2.err" || rc=$?
[ $rc -eq 0 ] || fail "pgbench after the restart exited with $rc: $(tail -n 3 "$work/pgbench2.err" | tr '\n' ' ')"
check "after the restart and more load: counted decisions are not the raised limit" "
    SET kaireon.tenant = 'stress'; SET kaireon.test_clock = '$clock';
    SELECT r.counted, (q -> 'usage' ->> 'current')::numeric FROM kaireon.quota_status() AS q,
        (SELECT count(*) AS counted FROM kaireon.decisions WHERE tenant_id = 'stress' AND quota_period IS NOT NULL) r
    WHERE r.counted <> $raised OR (q -> 'usage' ->> 'current')::numeric <> $raised"

elapsed=$(($(date +%s) - started))
if [ ${#failures[@]} -gt 0 ]; then
    echo "quota_stress: FAILED ($clients clients x $per_client transactions, limit $limit):" >&2
    printf '  - %s\n' "${failures[@]}" >&2
    echo "  (pgbench output: $(grep -E 'processed|failed|tps' "$work/pgbench.out" | tr '\n' ' '))" >&2
    exit 1
fi
echo "quota_stress: $clients clients x $per_client transactions in ${elapsed_load}s (${elapsed}s with the restart):" \
    "$counted counted decisions = records = quota_status ($status_before) = the limit $limit;" \
    "$empties empty decisions not counted; $refused refusals logged ($refused_batches of them batches;" \
    "$batches batches accepted), $stat_refusals in kaireon.stats; one alert of each kind;" \
    "after a restart still $limit and KR429, and exactly $raised once the limit is raised"
