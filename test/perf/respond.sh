#!/usr/bin/env bash
# test/perf/respond.sh - kaireon_respond throughput with pgbench: impressions
# all counted on one hot frequency cap, against what an application does
# without kaireon. Runs against the cluster in PGHOST/PGPORT as its superuser
# (scripts/perf.sh starts a throw-away one); creates and drops its own
# database and role.
#
# Three runs of the same length, 8 clients on 2 threads, as the application
# role:
#
#   (a) baseline single-row INSERT   test/perf/respond_a_insert.sql
#   (b) baseline naive hot-row UPDATE test/perf/respond_b_hot_update.sql
#       (UPDATE perf_counters SET n = n + 1 WHERE id = 1)
#   (c) kaireon_respond impressions  test/perf/respond_c_respond.sql
#       (a fresh idempotency key each; 5 offers on the web channel, one cap
#       on the channel - every impression counts on it)
#
# Prints tps and the ratios (c)/(a) and (c)/(b) (the performance issue's
# targets: at least 0.8 and 2), and checks that the cap's current_count
# equals the impressions kaireon.interactions holds for its period and that
# every transaction pgbench committed in (c) recorded one. Exits non-zero
# when a run failed or a check did not hold (never on speed).
#
#   KR_PERF_SECONDS   seconds per run (default 20)
#   KR_PERF_LOGS      where the pgbench output goes (default build/perf-logs)
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)

seconds=${KR_PERF_SECONDS:-20}
clients=8
threads=2
logs=${KR_PERF_LOGS:-$root/build/perf-logs}
db=kr_perf_respond
app=kr_perf_responder
tenant=perf
export PGUSER=${PGUSER:-postgres}
mkdir -p "$logs"

drop_all() {
    dropdb --if-exists "$db" >/dev/null 2>&1 || true
    psql -qX -d postgres -c "DROP ROLE IF EXISTS $app" >/dev/null 2>&1 || true
}
trap drop_all EXIT

# --- setup --------------------------------------------------------------------
drop_all
createdb "$db"
psql -qX -v ON_ERROR_STOP=1 -d "$db" >"$logs/respond-setup.log" 2>&1 <<SQL || {
CREATE EXTENSION kaireon;
CREATE ROLE $app LOGIN IN ROLE kaireon_app;
SELECT kaireon.create_tenant('$tenant', 'Benchmarks', 'perf@example.test') IS NOT NULL;
SELECT kaireon.grant_tenant('$app', '$tenant');
ALTER ROLE $app IN DATABASE $db SET kaireon.tenant = '$tenant';
SET kaireon.tenant = '$tenant';
SELECT kaireon.apply_catalog(jsonb_build_object(
    'channels', jsonb_build_array(jsonb_build_object('id', 'web', 'type', 'web')),
    'offers', (SELECT jsonb_agg(jsonb_build_object('id', 'o' || i, 'priority', 10 * i)) FROM generate_series(1, 5) AS i),
    'creatives', (SELECT jsonb_agg(jsonb_build_object('id', 'o' || i || '-web', 'offerId', 'o' || i, 'channelId', 'web'))
                  FROM generate_series(1, 5) AS i),
    'customers', (SELECT jsonb_agg(jsonb_build_object('id', 'c' || i)) FROM generate_series(0, 999) AS i),
    'outcomeTypes', jsonb_build_array(jsonb_build_object('id', 'impression', 'kind', 'impression')),
    'caps', jsonb_build_array(jsonb_build_object('id', 'web-hot', 'name', 'Web', 'scope', 'channel', 'scopeId', 'web',
                                                 'maxVolume', 1000000000, 'period', 'daily')),
    'flows', jsonb_build_array(jsonb_build_object('id', 'home', 'channelId', 'web')))) IS NOT NULL;
-- The baselines: what an application would do without kaireon.
CREATE TABLE public.perf_responses (
    idempotency_key text PRIMARY KEY,
    customer_id     text NOT NULL,
    offer_id        text NOT NULL,
    outcome         text NOT NULL,
    recorded_at     timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE public.perf_counters (id int PRIMARY KEY, n bigint NOT NULL);
INSERT INTO public.perf_counters VALUES (1, 0);
GRANT INSERT, SELECT ON public.perf_responses TO $app;
GRANT SELECT, UPDATE ON public.perf_counters TO $app;
SQL
    echo "respond.sh: setup failed:" >&2
    cat "$logs/respond-setup.log" >&2
    exit 1
}

# --- runs -----------------------------------------------------------------------
names=(a b c)
declare -A title=(
    [a]="(a) baseline single-row INSERT"
    [b]="(b) baseline hot-row UPDATE"
    [c]="(c) kaireon_respond, one hot cap"
)
declare -A script=([a]=respond_a_insert.sql [b]=respond_b_hot_update.sql [c]=respond_c_respond.sql)
declare -A tx tps latency failed

echo "respond.sh: $clients clients, $threads threads, ${seconds}s per run; pgbench logs in $logs"
for n in "${names[@]}"; do
    # Each run starts alike: the baselines' rows vacuumed and analysed (so
    # autovacuum does not compete with the next run), then a checkpoint.
    # kaireon.interactions is left as a fresh install has it.
    psql -qX -d "$db" -c "VACUUM ANALYZE public.perf_responses, public.perf_counters" -c CHECKPOINT >/dev/null
    log="$logs/respond-$n.log"
    printf '  %-34s ' "${title[$n]}"
    rc=0
    pgbench -n -M prepared -c "$clients" -j "$threads" -T "$seconds" -U "$app" \
        -f "$root/test/perf/${script[$n]}" "$db" >"$log" 2>&1 || rc=$?
    tx[$n]=$(sed -nE 's/^number of transactions actually processed: ([0-9]+).*/\1/p' "$log")
    tps[$n]=$(sed -nE 's/^tps = ([0-9.]+) .*/\1/p' "$log")
    latency[$n]=$(sed -nE 's/^latency average = ([0-9.]+) ms.*/\1/p' "$log")
    tx[$n]=${tx[$n]:-0}
    tps[$n]=${tps[$n]:-0}
    latency[$n]=${latency[$n]:-0}
    if [ $rc -ne 0 ] || grep -qE 'aborted|error:|ERROR' "$log"; then
        failed[$n]=1
        echo "FAILED (pgbench exit $rc):"
        grep -m 3 -E 'aborted|error|ERROR|DETAIL' "$log" | sed 's/^/      /'
    else
        echo "${tx[$n]} transactions"
    fi
done

# --- checks ---------------------------------------------------------------------
# The cap's count against the impressions of its current period (exact even
# if the run straddled midnight UTC), and every committed call recorded once.
read -r current period_impressions impressions <<<"$(psql -qXAt -F ' ' -d "$db" -c "
    SET kaireon.tenant = '$tenant';
    SELECT f.current_count,
           (SELECT count(*) FROM kaireon.interactions i WHERE i.tenant_id = '$tenant' AND i.kind = 'impression'
               AND i.channel = 'web' AND i.recorded_at >= f.reset_at - interval '1 day' AND i.recorded_at < f.reset_at),
           (SELECT count(*) FROM kaireon.interactions i WHERE i.tenant_id = '$tenant')
    FROM kaireon.frequency_caps f WHERE f.tenant_id = '$tenant' AND f.id = 'web-hot'" | tail -n 1)"
status=0
check="OK"
[ -n "$current" ] && [ "$current" = "$period_impressions" ] || { check="MISMATCH"; status=1; }
recorded_check="OK"
[ "$impressions" = "${tx[c]}" ] || { recorded_check="MISMATCH"; status=1; }

echo
printf '%-34s %10s %16s %9s\n' benchmark tps ratio "lat ms"
ratio() { awk -v x="$1" -v y="$2" 'BEGIN { if (y > 0) printf "%.2fx", x / y; else print "-" }'; }
for n in "${names[@]}"; do
    r="-"
    [ "$n" = c ] && r="$(ratio "${tps[c]}" "${tps[a]}") of (a)"
    [ -n "${failed[$n]:-}" ] && status=1
    printf '%-34s %10.0f %16s %9s\n' "${title[$n]}" "${tps[$n]}" "$r" "${latency[$n]}"
done
printf '%-34s %10s %16s\n' "" "" "$(ratio "${tps[c]}" "${tps[b]}") of (b)"
echo
echo "  targets (issue 15): (c) >= 0.8x (a): $(awk -v x="${tps[c]}" -v y="${tps[a]}" 'BEGIN { print (y > 0 && x >= 0.8 * y) ? "holds" : "missed" }');" \
    "(c) >= 2x (b): $(awk -v x="${tps[c]}" -v y="${tps[b]}" 'BEGIN { print (y > 0 && x >= 2 * y) ? "holds" : "missed" }')"
echo "  cap web-hot current_count ${current:-?} = impressions of its period ${period_impressions:-?}: $check;" \
    "interactions ${impressions:-?} = transactions committed by (c) ${tx[c]}: $recorded_check"
exit $status
