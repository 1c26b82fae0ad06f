#!/usr/bin/env bash
# A randomized property test of metering on a throw-away cluster: several
# sessions at once report random usage (negative values, late and slightly
# future events, ties on occurred_at, replays and conflicting reuses of
# shared idempotency keys, open transactions that commit or roll back, bulk
# INSERT ... SELECT) to features of every aggregation and period, and to
# features with hard limits. Afterwards:
#   - every row of kaireon.usage_totals equals an independent computation
#     over kaireon.usage_events (latest by (occurred_at, id)), both ways;
#   - no idempotency key is counted twice: events = distinct keys + unkeyed
#     events, each key's event has the fields of the calls that succeeded
#     with it, and every successful call with a key got the same answer;
#   - what was accepted is exactly what was recorded (per the clients' own
#     log, written in the same transactions);
#   - hard limits held (a sampler watched committed usage during the run)
#     and were exact: a refused value did not fit next to the final usage;
#   - threshold events: one per threshold the final usage reached, no other
#     (features whose usage only grows, also across rolled-back reports).
# The workload is fixed by the seed (KR_PROP_SEED); the interleaving is not.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../../scripts/lib/cluster.sh
source "$here/scripts/lib/cluster.sh"

seed=${KR_PROP_SEED:-20260601}
workers=${KR_PROP_WORKERS:-4}
ops=${KR_PROP_OPS:-500}
db=kr_usage_prop
cap_sum=400
cap_cnt=60
cap_neg=60
cap_thr=250

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
psql -qX -v ON_ERROR_STOP=1 -d "$db" -v cap_sum=$cap_sum -v cap_cnt=$cap_cnt -v cap_neg=$cap_neg -v cap_thr=$cap_thr \
    >/dev/null <<'SQL'
CREATE EXTENSION kaireon;
CREATE ROLE kr_prop_app LOGIN IN ROLE kaireon_app;
SELECT kaireon.create_tenant('prop-a', 'Property A', 'a@prop.test'), kaireon.create_tenant('prop-b', 'Property B', 'b@prop.test');
SELECT kaireon.grant_tenant('kr_prop_app', 'prop-a'), kaireon.grant_tenant('kr_prop_app', 'prop-b');
CREATE TEMP TABLE prop_features (key, agg, period, lim) AS VALUES
    ('p_sum', 'sum', 'hour', NULL), ('p_count', 'count', 'day', NULL), ('p_max', 'max', 'week', NULL),
    ('p_min', 'min', 'month', NULL), ('p_avg', 'average', 'never', NULL), ('p_latest', 'latest', 'day', NULL),
    ('p_cap_sum', 'sum', 'never', :cap_sum), ('p_cap_cnt', 'count', 'never', :cap_cnt),
    ('p_cap_neg', 'sum', 'never', :cap_neg), ('p_thr', 'sum', 'never', :cap_thr);
-- One kaireon call per statement: a define_feature answer printed after a
-- set_plan_entitlement call in the same target list is freed memory.
SELECT count(kaireon.define_feature(key, 'numeric', jsonb_build_object('aggregation', agg, 'period', period)
                                   || CASE key WHEN 'p_thr' THEN '{"limitType": "soft"}'::jsonb ELSE '{}' END))
FROM prop_features;
SELECT count(kaireon.set_plan_entitlement('community', key, jsonb_build_object('limit', lim))) FROM prop_features;

-- The clients' own log, written in the transaction of each call.
CREATE TABLE public.prop_log (worker int, tenant text, feature text, value numeric, key text, outcome text, answer jsonb);
CREATE TABLE public.prop_bulk (worker int, tenant text, n int, keyed int);
CREATE TABLE public.prop_done (worker int);
GRANT INSERT, SELECT ON public.prop_log, public.prop_bulk, public.prop_done TO kr_prop_app;

-- prop_ok logs a successful call; its answer argument is the report itself,
-- so a refusal fails the statement (no subtransaction involved).
CREATE FUNCTION public.prop_ok(w int, f text, v numeric, k text, answer jsonb) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO public.prop_log VALUES (w, current_setting('kaireon.tenant'), f, v, k, 'ok', answer)
$$;
-- prop_try reports in a subtransaction and logs refusals (KR429) and key
-- conflicts (KR409) instead of failing; any other error propagates.
CREATE FUNCTION public.prop_try(w int, f text, v numeric, k text, at timestamptz) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    answer jsonb;
BEGIN
    BEGIN
        answer := kaireon.report_usage(f, v, k, at);
    EXCEPTION WHEN SQLSTATE 'KR429' OR SQLSTATE 'KR409' THEN
        INSERT INTO public.prop_log VALUES (w, current_setting('kaireon.tenant'), f, v, k, SQLSTATE, NULL);
        RETURN SQLSTATE;
    END;
    INSERT INTO public.prop_log VALUES (w, current_setting('kaireon.tenant'), f, v, k, 'ok', answer);
    RETURN 'ok';
END
$$;
SQL

# The workload: one SQL script per worker, from the seed.
/usr/bin/python3 - "$seed" "$workers" "$ops" "$work" <<'PY'
import datetime, json, random, sys

seed, workers, ops, out = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
free = ['p_sum', 'p_count', 'p_max', 'p_min', 'p_avg', 'p_latest']
now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)

def lit(s):
    return 'NULL' if s is None else "'" + s.replace("'", "''") + "'"

# Shared keys: the same fields every time they are used (per tenant, the
# same key names in both tenants are independent keys).
keys_rng = random.Random(seed)
shared = {}
for n in range(60):
    at = None if keys_rng.random() < 0.5 else (now - datetime.timedelta(seconds=keys_rng.randint(0, 4 * 86400))).isoformat()
    shared['shared-%d' % n] = (keys_rng.choice(free), keys_rng.randint(-20, 60) + keys_rng.choice([0, 0.25, 0.5]),
                               at, json.dumps({'n': n}) if keys_rng.random() < 0.5 else '{}')

def random_value(rng):
    v = rng.randint(-50, 100)
    return v + rng.choice([0, 0, 0.25, 0.5, 0.75])

def random_at(rng):
    r = rng.random()
    if r < 0.35:
        return 'NULL'
    if r < 0.7:
        return "now() - interval '%d seconds'" % rng.randint(0, 6 * 86400)
    if r < 0.8:
        return "now() + interval '%d seconds'" % rng.randint(0, 240)
    # Ties on occurred_at across sessions and statements.
    return "date_trunc('hour', now()) - interval '%d hours'" % rng.randint(0, 30)

for w in range(workers):
    rng = random.Random(seed * 1000 + w + 1)
    lines = ['\\set VERBOSITY sqlstate', "SET kaireon.tenant = 'prop-%s';" % ('a' if w % 3 != 2 else 'b')]
    tx = 0
    for op in range(ops):
        if w % 4 == 3 and rng.random() < 0.2:
            lines.append("SET kaireon.tenant = 'prop-%s';" % rng.choice('ab'))
        r = rng.random()
        if r < 0.30:
            f = rng.choice(free)
            v = random_value(rng)
            lines.append("SELECT public.prop_ok(%d, '%s', %s, NULL, kaireon.report_usage('%s', %s, NULL, %s));"
                         % (w, f, v, f, v, random_at(rng)))
        elif r < 0.45:
            k = rng.choice(sorted(shared))
            f, v, at, props = shared[k]
            lines.append("SELECT public.prop_ok(%d, '%s', %s, '%s', kaireon.report_usage('%s', %s, '%s', %s, '%s'));"
                         % (w, f, v, k, f, v, k, lit(at) + '::timestamptz', props))
        elif r < 0.50:
            # The same key with another value: KR409 if the key is taken.
            k = rng.choice(sorted(shared))
            f, v, at, props = shared[k]
            lines.append("SELECT public.prop_try(%d, '%s', %s, '%s', %s::timestamptz);" % (w, f, v + 1, k, lit(at)))
        elif r < 0.62:
            lines.append("SELECT public.prop_try(%d, 'p_cap_sum', %d, NULL, NULL);" % (w, rng.randint(1, 20)))
        elif r < 0.72:
            lines.append("SELECT public.prop_try(%d, 'p_cap_cnt', %d, NULL, NULL);" % (w, rng.randint(0, 9)))
        elif r < 0.92:
            # An open transaction of a few reports (features in a fixed order),
            # committed or rolled back.
            tx += 1
            lines.append('BEGIN;')
            picks = sorted(rng.sample(free + ['p_cap_neg', 'p_thr'], rng.randint(2, 4)))
            for i, f in enumerate(picks):
                key = 'w%d-t%d-%d' % (w, tx, i) if rng.random() < 0.4 else None
                if f == 'p_thr':
                    v = rng.randint(1, 10)
                    lines.append("SELECT public.prop_ok(%d, 'p_thr', %d, %s, kaireon.report_usage('p_thr', %d, %s));"
                                 % (w, v, lit(key), v, lit(key)))
                elif f == 'p_cap_neg':
                    lines.append("SELECT public.prop_try(%d, 'p_cap_neg', %d, %s, NULL);" % (w, rng.randint(-30, 40), lit(key)))
                else:
                    v = random_value(rng)
                    lines.append("SELECT public.prop_ok(%d, '%s', %s, %s, kaireon.report_usage('%s', %s, %s, %s));"
                                 % (w, f, v, lit(key), f, v, lit(key), random_at(rng)))
            if rng.random() < 0.3:
                lines.append('SELECT pg_sleep(0.002);')
            lines.append('ROLLBACK;' if rng.random() < 0.3 else 'COMMIT;')
        else:
            # A bulk load of several features and periods in one statement.
            tx += 1
            n = rng.randint(10, 60)
            a, b, c, d = (rng.randint(1, 97) for _ in range(4))
            every = rng.choice([2, 3, 5, 1000000])
            keyed = n // every
            lines.append('BEGIN;')
            lines.append(
                "INSERT INTO kaireon.usage_events (feature, value, occurred_at, idempotency_key) "
                "SELECT (ARRAY['p_sum', 'p_count', 'p_max', 'p_min', 'p_avg', 'p_latest'])[1 + (i * %d + %d) %% 6], "
                "((i * %d + %d) %% 151 - 50)::numeric / 4, "
                "date_trunc('minute', now()) - ((i * %d) %% 7900) * interval '1 minute', "
                "CASE WHEN i %% %d = 0 THEN 'w%d-b%d-' || i END "
                "FROM generate_series(1, %d) AS i;" % (a, b, c, d, a + c, every, w, tx, n))
            lines.append("INSERT INTO public.prop_bulk VALUES (%d, current_setting('kaireon.tenant'), %d, %d);" % (w, n, keyed))
            lines.append('COMMIT;')
    lines.append('INSERT INTO public.prop_done VALUES (%d);' % w)
    with open('%s/w%d.sql' % (out, w), 'w') as fh:
        fh.write('\n'.join(lines) + '\n')
PY

# The sampler: committed usage of the capped features never passes the cap.
psql -qX -d "$db" -v workers="$workers" -v cap_sum=$cap_sum -v cap_cnt=$cap_cnt -v cap_neg=$cap_neg \
    >"$work/sampler.out" 2>"$work/sampler.err" <<'SQL' &
\set ON_ERROR_STOP 1
SELECT set_config('prop.workers', :'workers', false), set_config('prop.cap_sum', :'cap_sum', false),
       set_config('prop.cap_cnt', :'cap_cnt', false), set_config('prop.cap_neg', :'cap_neg', false);
DO $$
DECLARE
    r record;
    samples int := 0;
    cap_sum numeric := current_setting('prop.cap_sum')::numeric;
    cap_cnt numeric := current_setting('prop.cap_cnt')::numeric;
    cap_neg numeric := current_setting('prop.cap_neg')::numeric;
BEGIN
    FOR i IN 1..6000 LOOP
        FOR r IN SELECT tenant_id, feature, sum, count FROM kaireon.usage_totals
                 WHERE feature IN ('p_cap_sum', 'p_cap_cnt', 'p_cap_neg') LOOP
            IF (r.feature = 'p_cap_sum' AND r.sum > cap_sum) OR (r.feature = 'p_cap_cnt' AND r.count > cap_cnt)
               OR (r.feature = 'p_cap_neg' AND r.sum > cap_neg) THEN
                RAISE EXCEPTION 'sampler: % of tenant % over its cap: sum %, count %', r.feature, r.tenant_id, r.sum, r.count;
            END IF;
        END LOOP;
        samples := samples + 1;
        EXIT WHEN (SELECT count(*) FROM public.prop_done) >= current_setting('prop.workers')::int;
        PERFORM pg_sleep(0.01);
    END LOOP;
    RAISE NOTICE 'samples %', samples;
END
$$;
SQL
sampler=$!

pids=()
for ((w = 0; w < workers; w++)); do
    psql -qX -U kr_prop_app -d "$db" -f "$work/w$w.sql" >/dev/null 2>"$work/w$w.err" &
    pids+=($!)
done
failures=()
fail() { failures+=("$1"); }
for ((w = 0; w < workers; w++)); do
    rc=0
    wait "${pids[$w]}" || rc=$?
    [ $rc -eq 0 ] || fail "worker $w: psql exited with $rc: $(tail -n 3 "$work/w$w.err" | tr '\n' ' ')"
done
sampler_rc=0
wait "$sampler" || sampler_rc=$?

# Errors the clients saw: only refusals at a limit and key conflicts.
unexpected=$(cat "$work"/w*.err | grep -v -E 'ERROR:  (KR429|KR409)$' || true)
if [ -n "$unexpected" ]; then
    fail "unexpected errors in the sessions: $(sort "$work"/w*.err | grep -v -E 'ERROR:  (KR429|KR409)$' | sed -E 's/^psql:[^:]*:[0-9]+: //' | sort | uniq -c | head -n 10 | tr '\n' ';')"
fi
if [ $sampler_rc -ne 0 ]; then
    fail "sampler: $(tr '\n' ' ' <"$work/sampler.err")"
fi
done_workers=$(psql -qXAt -d "$db" -c "SELECT count(*) FROM public.prop_done")
[ "$done_workers" = "$workers" ] || fail "only $done_workers of $workers workers reached their end"

# check NAME SQL: the query returns problem rows; none expected.
check() {
    local name=$1 sql=$2 out
    if ! out=$(psql -qXAt -v ON_ERROR_STOP=1 -F ' | ' -d "$db" -c "$sql" 2>&1); then
        fail "$name: query failed: $out"
    elif [ -n "$out" ]; then
        fail "$name: $(head -n 12 <<<"$out" | tr '\n' ';')"
    fi
}

psql -qX -v ON_ERROR_STOP=1 -d "$db" >/dev/null <<'SQL'
CREATE VIEW public.expected_totals AS
SELECT e.tenant_id, e.feature,
       CASE f.options ->> 'period' WHEN 'never' THEN '-infinity'::timestamptz
            ELSE date_trunc(f.options ->> 'period', e.occurred_at, 'UTC') END AS period_start,
       sum(e.value) AS sum, count(*) AS count, max(e.value) AS max, min(e.value) AS min,
       sum(e.value) / count(*) AS average,
       (array_agg(e.value ORDER BY e.occurred_at DESC, e.id DESC))[1] AS latest
FROM kaireon.usage_events e JOIN kaireon.features f ON f.key = e.feature
GROUP BY 1, 2, 3;
SQL

check "usage_totals rows not computed from usage_events" "
    SELECT 'usage_totals', tenant_id, feature, period_start, sum, count, max, min, average, latest FROM kaireon.usage_totals
    EXCEPT SELECT 'usage_totals', * FROM public.expected_totals"
check "usage_events groups missing from usage_totals" "
    SELECT 'expected', * FROM public.expected_totals
    EXCEPT SELECT 'expected', tenant_id, feature, period_start, sum, count, max, min, average, latest FROM kaireon.usage_totals"
check "rollups with a NULL or inconsistent merge" "
    SELECT tenant_id, feature, period_start FROM kaireon.usage_totals
    WHERE count <= 0 OR sum IS NULL OR max < min OR latest IS NULL"
check "idempotency keys counted twice" "
    SELECT tenant_id, idempotency_key, count(*) FROM kaireon.usage_events
    WHERE idempotency_key IS NOT NULL GROUP BY 1, 2 HAVING count(*) > 1"
check "events != distinct keys + unkeyed events" "
    SELECT count(*), count(DISTINCT (tenant_id, idempotency_key)) FILTER (WHERE idempotency_key IS NOT NULL),
           count(*) FILTER (WHERE idempotency_key IS NULL)
    FROM kaireon.usage_events
    HAVING count(*) <> count(DISTINCT (tenant_id, idempotency_key)) FILTER (WHERE idempotency_key IS NOT NULL)
                       + count(*) FILTER (WHERE idempotency_key IS NULL)"
check "usage_idempotency and the keyed events differ" "
    (SELECT 'key row', tenant_id, idempotency_key, event_id FROM kaireon.usage_idempotency
     EXCEPT SELECT 'key row', tenant_id, idempotency_key, id FROM kaireon.usage_events WHERE idempotency_key IS NOT NULL)
    UNION ALL
    (SELECT 'keyed event', tenant_id, idempotency_key, id FROM kaireon.usage_events WHERE idempotency_key IS NOT NULL
     EXCEPT SELECT 'keyed event', tenant_id, idempotency_key, event_id FROM kaireon.usage_idempotency)"
check "a key's event has other fields than a call that succeeded with it" "
    SELECT l.tenant, l.key, l.feature, l.value, e.feature, e.value
    FROM public.prop_log l JOIN kaireon.usage_events e ON e.tenant_id = l.tenant AND e.idempotency_key = l.key
    WHERE l.outcome = 'ok' AND (l.feature <> e.feature OR l.value <> e.value)"
check "successful calls with one key got different answers" "
    SELECT tenant, key, count(DISTINCT answer) FROM public.prop_log
    WHERE outcome = 'ok' AND key IS NOT NULL GROUP BY 1, 2 HAVING count(DISTINCT answer) > 1"
check "a successful keyed call has no event" "
    SELECT DISTINCT l.tenant, l.key FROM public.prop_log l
    WHERE l.outcome = 'ok' AND l.key IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM kaireon.usage_events e WHERE e.tenant_id = l.tenant AND e.idempotency_key = l.key)"
check "unkeyed events != accepted unkeyed reports + bulk rows" "
    SELECT t.tenant, t.events, coalesce(l.n, 0) + coalesce(b.n, 0) AS accepted
    FROM (SELECT tenant_id AS tenant, count(*) AS events FROM kaireon.usage_events WHERE idempotency_key IS NULL GROUP BY 1) t
    FULL JOIN (SELECT tenant, count(*) AS n FROM public.prop_log WHERE outcome = 'ok' AND key IS NULL GROUP BY 1) l USING (tenant)
    FULL JOIN (SELECT tenant, sum(n - keyed) AS n FROM public.prop_bulk GROUP BY 1) b USING (tenant)
    WHERE coalesce(t.events, 0) <> coalesce(l.n, 0) + coalesce(b.n, 0)"
check "keyed events != distinct keys accepted + keyed bulk rows" "
    SELECT t.tenant, t.events, coalesce(l.n, 0) + coalesce(b.n, 0) AS accepted
    FROM (SELECT tenant_id AS tenant, count(*) AS events FROM kaireon.usage_events WHERE idempotency_key IS NOT NULL GROUP BY 1) t
    FULL JOIN (SELECT tenant, count(DISTINCT key) AS n FROM public.prop_log WHERE outcome = 'ok' AND key IS NOT NULL GROUP BY 1) l USING (tenant)
    FULL JOIN (SELECT tenant, sum(keyed) AS n FROM public.prop_bulk GROUP BY 1) b USING (tenant)
    WHERE coalesce(t.events, 0) <> coalesce(l.n, 0) + coalesce(b.n, 0)"
check "a key conflict (KR409) on a key nobody recorded" "
    SELECT DISTINCT l.tenant, l.key FROM public.prop_log l
    WHERE l.outcome = 'KR409'
      AND NOT EXISTS (SELECT 1 FROM kaireon.usage_events e WHERE e.tenant_id = l.tenant AND e.idempotency_key = l.key)"
check "capped usage past its cap" "
    SELECT tenant_id, feature, sum, count FROM kaireon.usage_totals
    WHERE (feature = 'p_cap_sum' AND sum > $cap_sum) OR (feature = 'p_cap_cnt' AND count > $cap_cnt)
       OR (feature = 'p_cap_neg' AND sum > $cap_neg)"
check "refused although the value fitted next to the final usage (sum)" "
    SELECT l.tenant, l.value, coalesce(t.sum, 0) AS final_usage FROM public.prop_log l
    LEFT JOIN kaireon.usage_totals t ON t.tenant_id = l.tenant AND t.feature = 'p_cap_sum'
    WHERE l.outcome = 'KR429' AND l.feature = 'p_cap_sum' AND coalesce(t.sum, 0) + l.value <= $cap_sum"
check "refused although a count fitted next to the final usage (count)" "
    SELECT l.tenant, coalesce(t.count, 0) AS final_count FROM public.prop_log l
    LEFT JOIN kaireon.usage_totals t ON t.tenant_id = l.tenant AND t.feature = 'p_cap_cnt'
    WHERE l.outcome = 'KR429' AND l.feature = 'p_cap_cnt' AND coalesce(t.count, 0) + 1 <= $cap_cnt"
check "refusals at a limit of features without one" "
    SELECT DISTINCT feature FROM public.prop_log WHERE outcome = 'KR429' AND feature NOT LIKE 'p\_cap\_%'"
check "threshold events != the thresholds the final usage reached" "
    WITH final AS (
        SELECT tenant_id, feature, CASE feature WHEN 'p_cap_sum' THEN sum * 100 / $cap_sum
                                                WHEN 'p_thr' THEN sum * 100 / $cap_thr ELSE count * 100.0 / $cap_cnt END AS pct
        FROM kaireon.usage_totals WHERE feature IN ('p_cap_sum', 'p_cap_cnt', 'p_thr')),
    expected AS (
        SELECT tenant_id, feature, p FROM final CROSS JOIN unnest(ARRAY[75, 90, 95, 100]) AS p WHERE pct >= p),
    actual AS (
        SELECT tenant_id, payload ->> 'feature' AS feature, (payload ->> 'threshold')::int AS p
        FROM kaireon.events WHERE type = 'usage.threshold_reached' AND payload ->> 'feature' IN ('p_cap_sum', 'p_cap_cnt', 'p_thr'))
    (SELECT 'missing', * FROM (SELECT * FROM expected EXCEPT ALL SELECT * FROM actual) m)
    UNION ALL (SELECT 'unexpected', * FROM (SELECT * FROM actual EXCEPT ALL SELECT * FROM expected) u)"
check "threshold events of unlimited features or twice" "
    SELECT tenant_id, payload ->> 'feature', payload ->> 'threshold', count(*) FROM kaireon.events
    WHERE type = 'usage.threshold_reached'
    GROUP BY 1, 2, 3, payload ->> 'periodStart'
    HAVING count(*) > 1 OR payload ->> 'feature' NOT IN ('p_cap_sum', 'p_cap_cnt', 'p_cap_neg', 'p_thr')"

stats=$(psql -qXAt -F ' ' -d "$db" -c "
    SELECT (SELECT count(*) FROM public.prop_log WHERE outcome = 'ok'),
           (SELECT count(*) FROM public.prop_log WHERE outcome = 'KR429'),
           (SELECT count(*) FROM public.prop_log WHERE outcome = 'KR409'),
           (SELECT coalesce(sum(n), 0) FROM public.prop_bulk),
           (SELECT count(*) FROM kaireon.usage_events),
           (SELECT count(*) FROM kaireon.usage_totals)")
read -r ok refused conflicts bulk events totals <<<"$stats"
refused_direct=$(cat "$work"/w*.err | grep -c 'ERROR:  KR429$' || true)
conflicts_direct=$(cat "$work"/w*.err | grep -c 'ERROR:  KR409$' || true)
elapsed=$(($(date +%s) - started))

if [ ${#failures[@]} -gt 0 ]; then
    echo "usage_property: FAILED (seed $seed, $workers workers x $ops operations):" >&2
    printf '  - %s\n' "${failures[@]}" >&2
    exit 1
fi
echo "usage_property: seed $seed, $workers sessions, ${elapsed}s: $ok reports accepted, $((refused + refused_direct)) refused at a limit," \
    "$((conflicts + conflicts_direct)) key conflicts, $bulk bulk rows; $events events in $totals usage_totals rows" \
    "equal to usage_events; no key counted twice; caps and thresholds exact"
