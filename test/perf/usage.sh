#!/usr/bin/env bash
# test/perf/usage.sh - metering throughput with pgbench: kaireon.report_usage
# and bulk loads against what an application does without kaireon. Runs
# against the cluster in PGHOST/PGPORT as its superuser (scripts/perf.sh
# starts a throw-away one); creates and drops its own database and role.
#
# Six runs of the same length, 8 clients on 2 threads, one after the other,
# each as an application role (member of kaireon_app, granted the tenant
# "perf", kaireon.tenant set by ALTER ROLE ... SET) under an enterprise
# licence minted with a throw-away key:
#
#   (a) baseline INSERT      test/perf/usage_a_insert.sql
#   (b) baseline hot row     test/perf/usage_b_counter.sql
#   (c) report_usage         test/perf/usage_c_report.sql
#   (d) ... hard limit       test/perf/usage_d_report_hard.sql
#   (e) ... idempotency key  test/perf/usage_e_report_idempotent.sql
#   (f) bulk INSERT x1000    test/perf/usage_f_bulk.sql
#
# Then prints name, tps, rows/s and the ratio of rows/s to (a), and checks
# that what was stored equals what pgbench counted as committed (no lost
# increments): OK or MISMATCH per run. Exits non-zero when a run failed or a
# check did not match.
#
#   KR_PERF_SECONDS   seconds per run (default 20)
#   KR_PERF_LOGS      where the pgbench output goes (default build/perf-logs)
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../../scripts/lib/license.sh
source "$root/scripts/lib/license.sh"

seconds=${KR_PERF_SECONDS:-20}
clients=8
threads=2
logs=${KR_PERF_LOGS:-$root/build/perf-logs}
db=kr_perf_usage
app=kr_perf_app
tenant=perf
export PGUSER=${PGUSER:-postgres}
mkdir -p "$logs"
work=$(mktemp -d)

drop_all() {
    dropdb --if-exists "$db" >/dev/null 2>&1 || true
    psql -qX -d postgres -c "DROP ROLE IF EXISTS $app" >/dev/null 2>&1 || true
}
trap 'drop_all; rm -rf "$work"' EXIT

# --- setup --------------------------------------------------------------------
drop_all   # what an interrupted run left behind
kr_demo_key "$work"
license=$(kr_mint_license "$work/demo-key.pem" perf-key "$tenant" enterprise 30)
createdb "$db"
psql -qX -v ON_ERROR_STOP=1 -d "$db" -v public_key="$(cat "$work/demo-key.pub.pem")" -v license="$license" \
    >"$logs/usage-setup.log" 2>&1 <<SQL || {
CREATE EXTENSION kaireon;
CREATE ROLE $app LOGIN IN ROLE kaireon_app;
SELECT kaireon.create_tenant('$tenant', 'Benchmarks', 'perf@example.test') IS NOT NULL;
SELECT kaireon.grant_tenant('$app', '$tenant');
ALTER ROLE $app IN DATABASE $db SET kaireon.tenant = '$tenant';
SELECT kaireon.add_license_key('perf-key', 'RS256', :'public_key') IS NOT NULL;
SELECT kaireon.install_license(:'license') ->> 'state';

-- One feature per run, so that each run's usage can be checked on its own.
SELECT kaireon.define_feature(f, 'numeric', o::jsonb) IS NOT NULL
FROM (VALUES ('perf_unlimited', '{"aggregation": "sum", "period": "month"}'),
             ('perf_hard', '{"aggregation": "sum", "period": "month", "limitType": "hard"}'),
             ('perf_idempotent', '{"aggregation": "sum", "period": "month"}'),
             ('perf_bulk', '{"aggregation": "sum", "period": "month"}')) AS t(f, o);
SELECT kaireon.set_plan_entitlement('enterprise', 'perf_unlimited', '{"limit": null}') IS NOT NULL;
SELECT kaireon.set_plan_entitlement('enterprise', 'perf_hard', '{"limit": 1000000000000}') IS NOT NULL;
SELECT kaireon.set_plan_entitlement('enterprise', 'perf_idempotent', '{"limit": null}') IS NOT NULL;
SELECT kaireon.set_plan_entitlement('enterprise', 'perf_bulk', '{"limit": null}') IS NOT NULL;

-- The baselines: what an application would write without kaireon.
CREATE TABLE public.perf_usage_events (
    id          bigserial PRIMARY KEY,
    tenant      text NOT NULL,
    feature     text NOT NULL,
    value       numeric NOT NULL,
    occurred_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE public.perf_usage_counter (
    tenant  text,
    feature text,
    value   numeric NOT NULL,
    PRIMARY KEY (tenant, feature)
);
INSERT INTO public.perf_usage_counter VALUES ('$tenant', 'api_calls', 0);
GRANT INSERT, SELECT ON public.perf_usage_events TO $app;
GRANT USAGE ON SEQUENCE public.perf_usage_events_id_seq TO $app;
GRANT UPDATE, SELECT ON public.perf_usage_counter TO $app;
SQL
    echo "usage.sh: setup failed:" >&2
    cat "$logs/usage-setup.log" >&2
    exit 1
}
# The application role sees its tenant and its features before any run.
psql -qXAt -U "$app" -d "$db" -c "SELECT kaireon.entitlement('perf_hard') ->> 'status'" >"$work/probe" 2>&1 || true
if ! grep -qx ACCEPTED "$work/probe"; then
    echo "usage.sh: the application role cannot use perf_hard:" >&2
    cat "$work/probe" >&2
    exit 1
fi

# --- runs -----------------------------------------------------------------------
names=(a b c d e f)
declare -A title=(
    [a]="(a) baseline INSERT"
    [b]="(b) baseline hot-row UPDATE"
    [c]="(c) report_usage unlimited"
    [d]="(d) report_usage hard limit"
    [e]="(e) report_usage idempotency key"
    [f]="(f) bulk INSERT 1000 rows"
)
declare -A script=(
    [a]=usage_a_insert.sql [b]=usage_b_counter.sql [c]=usage_c_report.sql
    [d]=usage_d_report_hard.sql [e]=usage_e_report_idempotent.sql [f]=usage_f_bulk.sql
)
declare -A rows_per_tx=([a]=1 [b]=1 [c]=1 [d]=1 [e]=1 [f]=1000)
declare -A tx tps latency failed

echo "usage.sh: $clients clients, $threads threads, ${seconds}s per run; pgbench logs in $logs"
for n in "${names[@]}"; do
    psql -qX -d "$db" -c CHECKPOINT >/dev/null
    log="$logs/usage-$n.log"
    printf '  %-34s ' "${title[$n]}"
    rc=0
    pgbench -n -M prepared -c "$clients" -j "$threads" -T "$seconds" -D n=0 -U "$app" \
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

# --- checks: stored = committed ----------------------------------------------
# usage_totals merges the per-backend rollup slots; summed over every period in
# case a run crossed a month boundary. The raw events are counted as well.
q() { psql -qXAt -v ON_ERROR_STOP=1 -d "$db" -c "$1"; }
usage_of() {
    q "SELECT coalesce(sum(sum), 0) || ' ' || coalesce(sum(count), 0) FROM kaireon.usage_totals
       WHERE tenant_id = '$tenant' AND feature = '$1'"
}
events_of() {
    q "SELECT count(*) FROM kaireon.usage_events WHERE tenant_id = '$tenant' AND feature = '$1'"
}
declare -A check detail
verdict() { # verdict NAME EXPECTED ACTUAL TEXT
    if [ "$2" = "$3" ]; then check[$1]=OK; else check[$1]=MISMATCH; fi
    detail[$1]=$4
}
stored=$(q "SELECT count(*) FROM public.perf_usage_events")
verdict a "${tx[a]}" "$stored" "rows $stored, committed ${tx[a]} (control: pgbench's own count)"
stored=$(q "SELECT value FROM public.perf_usage_counter")
verdict b "${tx[b]}" "$stored" "counter $stored, committed ${tx[b]}"
for n in c d e f; do
    feature=$(grep -oE "'perf_[a-z]+'" "$root/test/perf/${script[$n]}" | head -n 1 | tr -d "'")
    read -r sum count <<<"$(usage_of "$feature")"
    events=$(events_of "$feature")
    expect=$((tx[$n] * rows_per_tx[$n]))
    # sum and count in usage_totals and the raw events must all equal the
    # number of events pgbench committed (every event has value 1).
    actual=$expect
    for v in "${sum%.*}" "$count" "$events"; do [ "$v" = "$expect" ] || actual="$v"; done
    verdict "$n" "$expect" "$actual" "usage sum $sum, count $count, events $events; committed $expect"
done
keys=$(q "SELECT count(*) FROM kaireon.usage_idempotency WHERE tenant_id = '$tenant' AND feature = 'perf_idempotent'")
if [ "$keys" != "${tx[e]}" ]; then
    check[e]=MISMATCH
fi
detail[e]="${detail[e]}; keys $keys"

# --- report ---------------------------------------------------------------------
echo
printf '%-34s %10s %11s %8s %9s  %s\n' benchmark tps rows/s "vs (a)" "lat ms" check
status=0
for n in "${names[@]}"; do
    rows=$(awk -v t="${tps[$n]}" -v r="${rows_per_tx[$n]}" 'BEGIN { printf "%.0f", t * r }')
    ratio=$(awk -v t="${tps[$n]}" -v r="${rows_per_tx[$n]}" -v a="${tps[a]}" \
        'BEGIN { if (a > 0) printf "%.2fx", t * r / a; else print "-" }')
    result=${check[$n]}
    [ -n "${failed[$n]:-}" ] && result="FAILED"
    [ "$result" = OK ] || status=1
    printf '%-34s %10.0f %11s %8s %9s  %s\n' "${title[$n]}" "${tps[$n]}" "$rows" "$ratio" "${latency[$n]}" "$result"
done
echo
for n in "${names[@]}"; do
    echo "  ${title[$n]}: ${check[$n]}: ${detail[$n]}"
done
exit $status
