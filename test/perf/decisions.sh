#!/usr/bin/env bash
# test/perf/decisions.sh - kaireon_recommend throughput with pgbench on the
# demo catalog (demo/catalog.sql: 100 offers, 413 creatives, 1,000 customers,
# scorecard flows) against what an application does without kaireon. Runs
# against the cluster in PGHOST/PGPORT as its superuser (scripts/perf.sh
# starts a throw-away one); creates and drops its own database and roles.
#
# Four runs of the same length, 8 clients on 2 threads, under an enterprise
# licence minted with a throw-away key:
#
#   (a) baseline INSERT              test/perf/decisions_a_insert.sql   (application role)
#   (b) baseline primary-key SELECT  test/perf/decisions_b_select.sql   (application role)
#   (c) kaireon_recommend            test/perf/decisions_c_recommend.sql (application role)
#   (d) kaireon_recommend dryRun     test/perf/decisions_d_dry_run.sql  (administrator)
#
# Prints tps and the ratios (c)/(a) and (d)/(b) (the performance issue's
# targets: 0.7 and 0.5), and checks that kaireon.decisions holds exactly the
# decisions pgbench committed in (c) and none from (d). Exits non-zero when a
# run failed or a check did not hold (never on speed).
#
#   KR_PERF_SECONDS   seconds per run (default 20)
#   KR_PERF_LOGS      where the pgbench output goes (default build/perf-logs)
#   KR_PERF_IN_LOOP   set: instead, time (c) and (d) as 1,000 calls in one
#                     statement (the function's own CPU, for A/B of a change)
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../../scripts/lib/license.sh
source "$root/scripts/lib/license.sh"

seconds=${KR_PERF_SECONDS:-20}
clients=8
threads=2
logs=${KR_PERF_LOGS:-$root/build/perf-logs}
db=kr_perf_decisions
app=kr_perf_decider
admin=kr_perf_admin
tenant=perf
export PGUSER=${PGUSER:-postgres}
mkdir -p "$logs"
work=$(mktemp -d)

drop_all() {
    dropdb --if-exists "$db" >/dev/null 2>&1 || true
    psql -qX -d postgres -c "DROP ROLE IF EXISTS $app" -c "DROP ROLE IF EXISTS $admin" >/dev/null 2>&1 || true
}
trap 'drop_all; rm -rf "$work"' EXIT

# --- setup --------------------------------------------------------------------
drop_all
kr_demo_key "$work"
license=$(kr_mint_license "$work/demo-key.pem" perf-key "$tenant" enterprise 30)
createdb "$db"
psql -qX -v ON_ERROR_STOP=1 -d "$db" -v public_key="$(cat "$work/demo-key.pub.pem")" -v license="$license" \
    >"$logs/decisions-setup.log" 2>&1 <<SQL || {
CREATE EXTENSION kaireon;
CREATE ROLE $app LOGIN IN ROLE kaireon_app;
CREATE ROLE $admin LOGIN IN ROLE kaireon_admin;
SELECT kaireon.create_tenant('$tenant', 'Benchmarks', 'perf@example.test') IS NOT NULL;
SELECT kaireon.grant_tenant('$app', '$tenant');
ALTER ROLE $app IN DATABASE $db SET kaireon.tenant = '$tenant';
ALTER ROLE $admin IN DATABASE $db SET kaireon.tenant = '$tenant';
SELECT kaireon.add_license_key('perf-key', 'RS256', :'public_key') IS NOT NULL;
SELECT kaireon.install_license(:'license') ->> 'state';
SET kaireon.tenant = '$tenant';
\i $root/demo/catalog.sql
-- The baselines: what an application would do without kaireon.
CREATE TABLE public.perf_decisions (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    customer_id text NOT NULL,
    offers      jsonb NOT NULL,
    decided_at  timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE public.perf_customers AS SELECT id, attributes, segments FROM kaireon.customers WHERE tenant_id = '$tenant';
ALTER TABLE public.perf_customers ADD PRIMARY KEY (id);
GRANT INSERT, SELECT ON public.perf_decisions TO $app;
GRANT SELECT ON public.perf_customers TO $app;
SQL
    echo "decisions.sh: setup failed:" >&2
    cat "$logs/decisions-setup.log" >&2
    exit 1
}

# --- in one statement (KR_PERF_IN_LOOP=1) ------------------------------------------
# The function's own CPU, for A/B of a change (docs/performance.md, "A
# decision's own work"): 1,000 calls in one statement, five times, the
# minimum and the median per call; no client, protocol or commit. Swap the
# library between runs by installing it as a new file (a copy over the
# mapped one crashes the running server) and restarting.
if [ -n "${KR_PERF_IN_LOOP:-}" ]; then
    for n in c d; do
        dry="" who=$app
        [ "$n" = d ] && dry=", 'dryRun', true" who=$admin
        call="kaireon_recommend(jsonb_build_object('customerId', 'cust-' || lpad((1 + n % 1000)::text, 4, '0'),
              'flow', 'homepage', 'context', '{\"channel\": \"web\"}'::jsonb $dry))"
        per_call=$(psql -qXAt -v ON_ERROR_STOP=1 -U "$who" -d "$db" <<SQL
CREATE TEMP TABLE runs (us float8);
SELECT count($call) FROM generate_series(1, 300) n \g /dev/null
DO \$\$ DECLARE t0 timestamptz; BEGIN FOR i IN 1..5 LOOP t0 := clock_timestamp();
    PERFORM count($call) FROM generate_series(1, 1000) n;
    INSERT INTO runs VALUES (extract(epoch FROM clock_timestamp() - t0) * 1e6 / 1000); END LOOP; END \$\$;
SELECT round(min(us)::numeric, 1) || ' us (median ' || round(percentile_cont(0.5) WITHIN GROUP (ORDER BY us)::numeric, 1) || ')'
FROM runs;
SQL
        )
        [ "$n" = c ] && echo "  (c) kaireon_recommend, per call in one statement:        $per_call"
        [ "$n" = d ] && echo "  (d) kaireon_recommend dryRun, per call in one statement: $per_call"
    done
    exit 0
fi

# --- runs -----------------------------------------------------------------------
names=(a b c d)
declare -A title=(
    [a]="(a) baseline INSERT"
    [b]="(b) baseline primary-key SELECT"
    [c]="(c) kaireon_recommend"
    [d]="(d) kaireon_recommend dryRun"
)
declare -A script=([a]=decisions_a_insert.sql [b]=decisions_b_select.sql [c]=decisions_c_recommend.sql
                   [d]=decisions_d_dry_run.sql)
declare -A role=([a]=$app [b]=$app [c]=$app [d]=$admin)
declare -A tx tps latency failed

echo "decisions.sh: $clients clients, $threads threads, ${seconds}s per run; pgbench logs in $logs"
for n in "${names[@]}"; do
    psql -qX -d "$db" -c CHECKPOINT >/dev/null
    log="$logs/decisions-$n.log"
    printf '  %-34s ' "${title[$n]}"
    rc=0
    pgbench -n -M prepared -c "$clients" -j "$threads" -T "$seconds" -U "${role[$n]}" \
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
recorded=$(psql -qXAt -d "$db" -c "SELECT count(*) FROM kaireon.decisions WHERE tenant_id = '$tenant'")
status=0
check="OK"
[ "$recorded" = "${tx[c]}" ] || { check="MISMATCH"; status=1; }

echo
printf '%-34s %10s %8s %9s\n' benchmark tps ratio "lat ms"
ratio() { awk -v x="$1" -v y="$2" 'BEGIN { if (y > 0) printf "%.2fx", x / y; else print "-" }'; }
for n in "${names[@]}"; do
    r="-"
    [ "$n" = c ] && r="$(ratio "${tps[c]}" "${tps[a]}") of (a)"
    [ "$n" = d ] && r="$(ratio "${tps[d]}" "${tps[b]}") of (b)"
    [ -n "${failed[$n]:-}" ] && status=1
    printf '%-34s %10.0f %8s %9s\n' "${title[$n]}" "${tps[$n]}" "$r" "${latency[$n]}"
done
echo
echo "  decisions recorded $recorded, committed by (c) ${tx[c]}, by (d) none: $check"
exit $status
