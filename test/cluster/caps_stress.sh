#!/usr/bin/env bash
# kaireon_respond and the system-wide frequency caps under load on a
# throw-away cluster (SPEC 6.4, 6.6): pgbench runs 8 clients against one
# tenant with 5 offers in 2 categories on one channel and four caps that
# every impression may touch: a hot one on the channel (1,000,000 a day:
# every impression counts on it), a small one on offer o5 (50 a day: passed
# early, counting goes on past it), one on the category cards (3,000 a
# week), and one whose scope an administrator moves between offers o1 and
# o2 every second during the load (an edit waits for the responding
# transactions, holds new ones back, and the counts load again from the
# interactions). The workload: impressions with a fresh idempotency key each, five
# at once in one transaction, clicks (count toward no cap), retries of keys
# already committed (must answer duplicate: true), keys shared by all
# clients at once (racing duplicates: one records, the others wait and
# answer duplicate: true), transactions that roll back, savepoints rolled
# back, transactions holding their impressions for a while. Every call logs
# what respond answered in the same transaction (public.stress_log), so the
# log holds exactly what committed. Afterwards:
#   - no error reached a client: no deadlock, no serialization failure, no
#     KR409 (every retry and racing key repeats its outcome), none aborted;
#   - for each cap: current_count (kaireon.frequency_caps) = the committed
#     impressions of its scope in kaireon.interactions = the impressions
#     logged as recorded (not duplicate) in its scope;
#   - every interaction was logged as recorded exactly once, no idempotency
#     key is in kaireon.interactions twice, every retry and every racing
#     call but the first of its key answered duplicate: true;
#   - cap.exhausted: once for the offer cap and once for the category cap
#     (both passed), none for the hot cap and the moving one; every scope
#     edit went through without an error;
#   - after a restart the counts are the same (rebuilt from the
#     interactions), and more load goes on counting exactly.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../../scripts/lib/cluster.sh
source "$here/scripts/lib/cluster.sh"

clients=8
per_client=${KR_CAPS_TX:-1600}
db=kr_caps_stress
clock=2026-06-10T12:00:00Z  # a fixed instant (a Wednesday): the run never straddles a day

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
psql -qX -v ON_ERROR_STOP=1 -d "$db" -v clock="$clock" >/dev/null <<'SQL'
CREATE EXTENSION kaireon;
CREATE ROLE kr_caps_app LOGIN IN ROLE kaireon_app;
SELECT kaireon.create_tenant('stress', 'Stress', 'ops@stress.test');
SELECT kaireon.grant_tenant('kr_caps_app', 'stress');
-- The clock is superuser-only: pinned for the application's role.
ALTER ROLE kr_caps_app SET kaireon.test_clock = :'clock';
SET kaireon.test_clock = :'clock';
SET kaireon.tenant = 'stress';
SELECT kaireon.apply_catalog(jsonb_build_object(
    'categories', jsonb_build_array(jsonb_build_object('id', 'cards', 'name', 'Cards'),
                                    jsonb_build_object('id', 'loans', 'name', 'Loans')),
    'channels', jsonb_build_array(jsonb_build_object('id', 'web', 'type', 'web')),
    'offers', (SELECT jsonb_agg(jsonb_build_object('id', 'o' || i, 'priority', 10 * i,
                                                   'categoryId', CASE WHEN i <= 3 THEN 'cards' ELSE 'loans' END))
               FROM generate_series(1, 5) AS i),
    'creatives', (SELECT jsonb_agg(jsonb_build_object('id', 'o' || i || '-web', 'offerId', 'o' || i, 'channelId', 'web'))
                  FROM generate_series(1, 5) AS i),
    'customers', (SELECT jsonb_agg(jsonb_build_object('id', 'c' || i)) FROM generate_series(1, 100) AS i),
    'outcomeTypes', jsonb_build_array(jsonb_build_object('id', 'impression', 'kind', 'impression'),
                                      jsonb_build_object('id', 'click', 'kind', 'positive')),
    'caps', jsonb_build_array(
        jsonb_build_object('id', 'web-hot', 'name', 'Web', 'scope', 'channel', 'scopeId', 'web',
                           'maxVolume', 1000000, 'period', 'daily'),
        jsonb_build_object('id', 'o5-small', 'name', 'o5', 'scope', 'offer', 'scopeId', 'o5',
                           'maxVolume', 50, 'period', 'daily'),
        jsonb_build_object('id', 'cards-weekly', 'name', 'Cards', 'scope', 'category', 'scopeId', 'cards',
                           'maxVolume', 3000, 'period', 'weekly'),
        jsonb_build_object('id', 'moving', 'name', 'Moving', 'scope', 'offer', 'scopeId', 'o1',
                           'maxVolume', 1000000, 'period', 'daily')),
    'flows', jsonb_build_array(jsonb_build_object('id', 'home', 'channelId', 'web')))) IS NOT NULL;

-- The clients' log, written in the transaction of each call.
CREATE TABLE public.stress_log (id bigserial PRIMARY KEY, kind text NOT NULL, key text NOT NULL,
                                customer text NOT NULL, offer text NOT NULL, outcome text NOT NULL,
                                recorded boolean NOT NULL, duplicate boolean NOT NULL, caps jsonb);
CREATE SEQUENCE public.stress_keys;
GRANT INSERT, SELECT ON public.stress_log TO kr_caps_app;
GRANT USAGE ON public.stress_log_id_seq, public.stress_keys TO kr_caps_app;

-- stress_respond responds (a fresh key unless one is given) and logs what
-- respond answered; any error reaches the client.
CREATE FUNCTION public.stress_respond(kind text, customer int, offer int, outcome text, key text DEFAULT NULL)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    answer jsonb;
BEGIN
    key := coalesce(key, 'k' || nextval('public.stress_keys'));
    answer := kaireon_respond(jsonb_build_object('customerId', 'c' || customer, 'offerId', 'o' || offer,
                                                 'channel', 'web', 'outcome', outcome, 'idempotencyKey', key));
    INSERT INTO public.stress_log (kind, key, customer, offer, outcome, recorded, duplicate, caps)
    VALUES (kind, key, 'c' || customer, 'o' || offer, outcome, (answer ->> 'recorded')::boolean,
            (answer ->> 'duplicate')::boolean, answer -> 'caps');
    RETURN key;
END
$$;
-- stress_race responds under one of a few hundred keys shared by all
-- clients; the key decides customer and offer, so every call under it is
-- the same outcome.
CREATE FUNCTION public.stress_race(n int) RETURNS text LANGUAGE sql AS $$
    SELECT public.stress_respond('race', n % 100 + 1, n % 5 + 1, 'impression', 'race-' || n)
$$;
-- stress_retry repeats a committed call (a client retrying after a lost
-- answer): it must answer duplicate: true.
CREATE FUNCTION public.stress_retry(pick float8) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    l public.stress_log;
BEGIN
    SELECT * INTO l FROM public.stress_log
    WHERE id >= (SELECT floor(max(id) * pick)::bigint FROM public.stress_log) AND recorded ORDER BY id LIMIT 1;
    IF NOT FOUND THEN
        RETURN 'nothing yet';
    END IF;
    RETURN public.stress_respond('retry', substr(l.customer, 2)::int, substr(l.offer, 2)::int, l.outcome, l.key);
END
$$;
SQL

# The workload: pgbench scripts, weighted.
cat >"$work/impress.sql" <<'SQL'
SET kaireon.tenant = 'stress';
\set c random(1, 100)
\set o random(1, 5)
SELECT public.stress_respond('single', :c, :o, 'impression');
SQL
cat >"$work/five.sql" <<'SQL'
\set c random(1, 100)
BEGIN;
SET LOCAL kaireon.tenant = 'stress';
SELECT public.stress_respond('five', :c, o, 'impression') FROM generate_series(1, 5) AS o;
COMMIT;
SQL
cat >"$work/click.sql" <<'SQL'
SET kaireon.tenant = 'stress';
\set c random(1, 100)
\set o random(1, 5)
SELECT public.stress_respond('click', :c, :o, 'click');
SQL
cat >"$work/retry.sql" <<'SQL'
SET kaireon.tenant = 'stress';
SELECT public.stress_retry(random());
SQL
cat >"$work/race.sql" <<'SQL'
SET kaireon.tenant = 'stress';
\set n random(1, 400)
SELECT public.stress_race(:n);
SQL
cat >"$work/rollback.sql" <<'SQL'
\set a random(1, 100)
\set b random(1, 5)
BEGIN;
SET LOCAL kaireon.tenant = 'stress';
SELECT public.stress_respond('rolled-back', :a, :b, 'impression');
SELECT public.stress_respond('rolled-back', :a, 5, 'impression');
ROLLBACK;
SQL
cat >"$work/savepoint.sql" <<'SQL'
\set a random(1, 100)
\set b random(1, 5)
BEGIN;
SET LOCAL kaireon.tenant = 'stress';
SELECT public.stress_respond('savepoint', :a, :b, 'impression');
SAVEPOINT undo;
SELECT public.stress_respond('undone', :a, 5, 'impression');
ROLLBACK TO SAVEPOINT undo;
SELECT public.stress_respond('savepoint', :a, 5, 'impression');
COMMIT;
SQL
cat >"$work/hold.sql" <<'SQL'
\set a random(1, 100)
\set b random(1, 5)
BEGIN;
SET LOCAL kaireon.tenant = 'stress';
SELECT public.stress_respond('hold', :a, :b, 'impression');
\sleep 1 ms
SELECT public.stress_respond('hold', :a, 5, 'impression');
COMMIT;
SQL

failures=()
fail() { failures+=("$1"); }

# run_load TX: pgbench, TX transactions per client; failures recorded.
run_load() {
    local tx=$1 out=$work/pgbench-$1.out err=$work/pgbench-$1.err rc=0
    pgbench -n -U kr_caps_app -c "$clients" -j 2 -t "$tx" --failures-detailed \
        -f "$work/impress.sql@8" -f "$work/five.sql@4" -f "$work/click.sql@2" -f "$work/retry.sql@2" \
        -f "$work/race.sql@3" -f "$work/rollback.sql@2" -f "$work/savepoint.sql@1" -f "$work/hold.sql@1" \
        "$db" >"$out" 2>"$err" || rc=$?
    [ $rc -eq 0 ] || fail "pgbench exited with $rc: $(grep -v '^pgbench: client [0-9]* executing' "$err" | tail -n 5 | tr '\n' ' ')"
    local processed failed
    processed=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$out")
    failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$out")
    [ "$processed" = $((clients * tx)) ] || fail "pgbench processed ${processed:-?} of $((clients * tx)) transactions"
    [ "${failed:-0}" = 0 ] || fail "pgbench: $failed transactions failed: $(grep -i -E 'failures|deadlock|serializ' "$out" | tr '\n' ' ')"
    if grep -q 'ERROR' "$err"; then
        fail "errors reached the clients: $(grep 'ERROR' "$err" | sort | uniq -c | head -n 5 | tr '\n' ' ')"
    fi
    tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$out" | head -n 1)
}

# check NAME SQL: the query returns problem rows; none expected.
check() {
    local name=$1 sql=$2 out
    if ! out=$(psql -qXAt -v ON_ERROR_STOP=1 -F ' | ' -d "$db" -c "$sql" 2>&1); then
        fail "$name: query failed: $out"
    elif [ -n "$out" ]; then
        fail "$name: $(head -n 12 <<<"$out" | tr '\n' ';')"
    fi
}
setup_sql="SET kaireon.tenant = 'stress'; SET kaireon.test_clock = '$clock';"
# cap_counts: one line per cap: id, current_count, committed impressions of
# its scope (this period), impressions logged as recorded in its scope.
cap_counts_query="
    SELECT f.id, f.current_count,
           (SELECT count(*) FROM kaireon.interactions i
             WHERE i.tenant_id = 'stress' AND i.kind = 'impression' AND i.recorded_at < f.reset_at
               AND CASE f.scope WHEN 'offer' THEN i.offer_id WHEN 'category' THEN i.category_id ELSE i.channel END
                   = f.scope_id) AS interactions,
           (SELECT count(*) FROM public.stress_log l
             WHERE l.outcome = 'impression' AND l.recorded
               AND CASE f.scope WHEN 'offer' THEN l.offer = f.scope_id
                                WHEN 'category' THEN l.offer IN ('o1', 'o2', 'o3') = (f.scope_id = 'cards')
                                ELSE f.scope_id = 'web' END) AS logged
    FROM kaireon.frequency_caps f ORDER BY f.id"
cap_counts_sql="$setup_sql $cap_counts_query"

check_counts() {
    local when=$1
    check "$when: current_count, interactions and log differ" "
        $setup_sql SELECT * FROM ($cap_counts_query) c WHERE NOT (current_count = interactions AND interactions = logged)"
    check "$when: interactions not logged as recorded exactly once (or logged and missing)" "
        SELECT coalesce(i.idempotency_key, l.key), count(i.*), count(l.*) FROM kaireon.interactions i
        FULL JOIN (SELECT key FROM public.stress_log WHERE recorded) l ON l.key = i.idempotency_key
        GROUP BY 1 HAVING count(i.*) <> 1 OR count(l.*) <> 1"
    check "$when: an idempotency key twice in kaireon.interactions" "
        SELECT idempotency_key, count(*) FROM kaireon.interactions GROUP BY 1 HAVING count(*) > 1"
    check "$when: a retry or a repeated racing key was not answered duplicate: true" "
        SELECT kind, key, recorded, duplicate FROM public.stress_log
        WHERE (kind = 'retry' AND (recorded OR NOT duplicate)) OR recorded = duplicate"
    check "$when: a racing key recorded more or less than once" "
        SELECT key, count(*) FILTER (WHERE recorded) FROM public.stress_log WHERE kind = 'race'
        GROUP BY key HAVING count(*) FILTER (WHERE recorded) <> 1"
    check "$when: rolled-back calls in the log" "
        SELECT kind, count(*) FROM public.stress_log WHERE kind IN ('rolled-back', 'undone') GROUP BY 1"
    check "$when: a click counted toward a cap" "
        SELECT key, caps FROM public.stress_log WHERE outcome = 'click' AND caps <> '[]'::jsonb"
    check "$when: cap.exhausted not once for o5-small and cards-weekly, or sent for web-hot or moving" "
        SELECT c.id, count(e.id) FROM unnest(ARRAY['o5-small', 'cards-weekly', 'web-hot', 'moving']) AS c (id)
        LEFT JOIN kaireon.events e ON e.tenant_id = 'stress' AND e.type = 'cap.exhausted' AND e.payload ->> 'capId' = c.id
        GROUP BY c.id HAVING count(e.id) <> CASE WHEN c.id IN ('o5-small', 'cards-weekly') THEN 1 ELSE 0 END
        UNION ALL
        SELECT payload ->> 'capId', (payload ->> 'currentCount')::bigint FROM kaireon.events
        WHERE tenant_id = 'stress' AND type = 'cap.exhausted'
          AND (payload ->> 'currentCount')::bigint < (payload ->> 'maxVolume')::bigint"
}

# edit_loop moves the cap "moving" between o1 and o2 until $work/stop
# appears; it counts its edits in $work/edits and its errors in
# $work/edits.err.
edit_loop() {
    local n=0
    while [ ! -f "$work/stop" ]; do
        psql -qXAt -v ON_ERROR_STOP=1 -d "$db" -c "SET kaireon.tenant = 'stress'" \
            -c "UPDATE kaireon.caps SET scope_id = CASE scope_id WHEN 'o1' THEN 'o2' ELSE 'o1' END
                WHERE tenant_id = 'stress' AND id = 'moving'" >/dev/null 2>>"$work/edits.err" ||
            echo "edit $n failed" >>"$work/edits.err"
        n=$((n + 1))
        echo "$n" >"$work/edits"
        sleep 1
    done
}

edit_loop &
editor=$!
run_load "$per_client"
touch "$work/stop"
wait "$editor"
load_tps=$tps
edits=$(cat "$work/edits" 2>/dev/null || echo 0)
[ "$edits" -gt 0 ] || fail "no scope edit ran during the load"
[ ! -s "$work/edits.err" ] || fail "scope edits failed: $(head -n 5 "$work/edits.err" | tr '\n' ' ')"

check_counts "after the load"
before=$(psql -qXAt -F ' ' -d "$db" -c "$cap_counts_sql" | tr '\n' ';')
read -r impressions recorded duplicates races retries clicks <<<"$(psql -qXAt -F ' ' -d "$db" -c "
    SELECT count(*) FILTER (WHERE outcome = 'impression' AND recorded), count(*) FILTER (WHERE recorded),
           count(*) FILTER (WHERE duplicate), count(DISTINCT key) FILTER (WHERE kind = 'race'),
           count(*) FILTER (WHERE kind = 'retry'), count(*) FILTER (WHERE outcome = 'click' AND recorded)
    FROM public.stress_log")"
[ "${duplicates:-0}" -gt 0 ] || fail "no duplicate was answered (the load raced nothing?)"
elapsed_load=$(($(date +%s) - started))

# A restart: the counts come back from the interactions.
kr_cluster_restart
after=$(psql -qXAt -F ' ' -d "$db" -c "$cap_counts_sql" | tr '\n' ';')
[ "$after" = "$before" ] || fail "after the restart the caps say '$after', before it '$before'"
check_counts "after the restart"
# The rebuilt counts go on exactly under more load.
run_load 100
check_counts "after the restart and more load"

elapsed=$(($(date +%s) - started))
if [ ${#failures[@]} -gt 0 ]; then
    echo "caps_stress: FAILED ($clients clients x $per_client transactions):" >&2
    printf '  - %s\n' "${failures[@]}" >&2
    echo "  caps (id current_count interactions logged): $(psql -qXAt -F ' ' -d "$db" -c "$cap_counts_sql" | tr '\n' ';')" >&2
    exit 1
fi
echo "caps_stress: $clients clients x $per_client transactions in ${elapsed_load}s (${load_tps} tps;" \
    "${elapsed}s with the restart): $impressions impressions and $clicks clicks recorded once each," \
    "$duplicates duplicates answered duplicate: true ($retries retries, $races racing keys recorded once);" \
    "caps (id count interactions logged) $before equal, also after a restart and more load;" \
    "$edits scope edits of moving under load; cap.exhausted once for o5-small and cards-weekly, none for the others"
