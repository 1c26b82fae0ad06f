#!/usr/bin/env bash
# The scheduled jobs really run under pg_cron (SPEC section 7). pg_cron lives
# in one database of a cluster (cron.database_name, "postgres" in the test
# clusters) and kaireon may live in another:
#   1. on a cluster without pg_cron preloaded, kaireon.schedule_jobs() is
#      KR400 with a hint;
#   2. on a cluster with pg_cron (scripts/lib/cluster.sh), kaireon lives in
#      database kr_cron, whose clock (kaireon.test_clock, set for the
#      database, so pg_cron's sessions have it too) is 2026-02-01T00:10:00Z,
#      with a tenant that made 2 decisions in January. schedule_jobs() there
#      schedules nothing and returns the statements (with a NOTICE saying
#      where to run them); they are run in "postgres", twice: still four
#      jobs. kaireon also lives in "postgres", where schedule_jobs()
#      schedules its jobs itself, twice: four more jobs, not eight;
#   3. within 130 seconds (pg_cron 1.4 starts jobs at the minute),
#      cron.job_run_details shows a succeeded run of both databases' tick
#      jobs, and the job's effect is visible in kr_cron: January recorded in
#      kaireon.quota_periods with its 2 decisions, and one quota.reset for
#      February;
#   4. the jobs are unscheduled at the end: none is left.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../../scripts/lib/cluster.sh
source "$here/scripts/lib/cluster.sh"

db=kr_cron
clock=2026-02-01T00:10:00Z
deadline_seconds=130

trap kr_cluster_stop EXIT
fail() {
    echo "pg_cron_job: $*" >&2
    exit 1
}

# 1. Without pg_cron: a clear error, class KR, with a hint.
KR_PRELOAD="kaireon" kr_cluster_start >/dev/null
createdb "$db"
out=$(psql -X -d "$db" -v VERBOSITY=verbose -c 'CREATE EXTENSION kaireon' -c 'SELECT * FROM kaireon.schedule_jobs()' 2>&1 || true)
if ! grep -q 'ERROR:  KR400: pg_cron is not loaded' <<<"$out" ||
    ! grep -q 'HINT:  Add pg_cron to shared_preload_libraries' <<<"$out"; then
    echo "$out" >&2
    fail "without pg_cron, schedule_jobs() did not answer KR400 with a hint"
fi
echo "pg_cron_job: without pg_cron, schedule_jobs() is KR400 with a hint"
kr_cluster_stop

# 2. With pg_cron in "postgres" and kaireon in kr_cron (and in "postgres").
kr_cluster_start >/dev/null
started=$(date +%s)
psql -qX -v ON_ERROR_STOP=1 -d postgres -c 'CREATE EXTENSION pg_cron' >/dev/null
createdb "$db"
psql -qX -v ON_ERROR_STOP=1 -d "$db" -v clock="$clock" >/dev/null <<'SQL'
CREATE EXTENSION kaireon;
ALTER DATABASE kr_cron SET kaireon.test_clock = :'clock';
SET kaireon.test_clock = '2026-01-20T10:00:00Z';
SELECT kaireon.create_tenant('cron-t', 'Cron', 'ops@cron.test');
SET kaireon.tenant = 'cron-t';
SELECT kaireon.apply_catalog('{"channels": [{"id": "web", "type": "web"}], "offers": [{"id": "o1"}],
  "creatives": [{"id": "o1-web", "offerId": "o1", "channelId": "web"}],
  "customers": [{"id": "c1"}, {"id": "c2"}], "flows": [{"id": "home", "channelId": "web"}]}');
SELECT kaireon_recommend('{"customerId": "c1", "flow": "home"}');
SELECT kaireon_recommend('{"customerId": "c2", "flow": "home"}');
SQL

# schedule_jobs() in kr_cron: the statements to run in pg_cron's database.
notice=$(psql -qX -v ON_ERROR_STOP=1 -d "$db" -At -c 'SELECT count(*) FROM kaireon.schedule_jobs() WHERE job_id IS NULL' 2>&1 >/dev/null)
grep -q 'NOTICE:  pg_cron runs in database "postgres": run these statements there' <<<"$notice" ||
    fail "schedule_jobs() in $db did not say where to run its statements: $notice"
statements=$(psql -qX -v ON_ERROR_STOP=1 -d "$db" -At -c 'SET client_min_messages = warning' \
    -c 'SELECT statement FROM kaireon.schedule_jobs()')
[ "$(wc -l <<<"$statements")" -eq 4 ] || fail "expected 4 statements, got: $statements"
for _ in 1 2; do
    psql -qX -v ON_ERROR_STOP=1 -d postgres -At >/dev/null <<<"$statements"
done

# kaireon in pg_cron's own database: schedule_jobs() schedules directly.
psql -qX -v ON_ERROR_STOP=1 -d postgres >/dev/null <<'SQL'
CREATE EXTENSION kaireon;
SELECT * FROM kaireon.schedule_jobs();
SELECT * FROM kaireon.schedule_jobs();
SQL
scheduled=$(psql -qX -v ON_ERROR_STOP=1 -d postgres -At -c "
    SELECT string_agg(format('%s %s %s %s', jobname, schedule, database, command), E'\n' ORDER BY jobname)
    FROM cron.job WHERE jobname LIKE 'kaireon-%'")
expected="kaireon-kr_cron-partition-maintenance 41 * * * * kr_cron SELECT kaireon.partition_maintenance()
kaireon-kr_cron-purge-idempotency-keys 17 3 * * * kr_cron SELECT kaireon.purge_idempotency_keys()
kaireon-kr_cron-seal-audit * * * * * kr_cron SELECT kaireon.seal_audit()
kaireon-kr_cron-tick * * * * * kr_cron SELECT kaireon.tick()
kaireon-postgres-partition-maintenance 41 * * * * postgres SELECT kaireon.partition_maintenance()
kaireon-postgres-purge-idempotency-keys 17 3 * * * postgres SELECT kaireon.purge_idempotency_keys()
kaireon-postgres-seal-audit * * * * * postgres SELECT kaireon.seal_audit()
kaireon-postgres-tick * * * * * postgres SELECT kaireon.tick()"
if [ "$scheduled" != "$expected" ]; then
    printf 'scheduled:\n%s\nexpected:\n%s\n' "$scheduled" "$expected" >&2
    fail "cron.job does not hold exactly the eight jobs (scheduling twice must not duplicate them)"
fi
echo "pg_cron_job: eight jobs scheduled (kr_cron through its statements, postgres directly), each once"

# 3. Wait for pg_cron to run the tick jobs, and for their effect.
succeeded() {
    psql -qX -d postgres -At -c "
        SELECT count(DISTINCT j.jobname) FROM cron.job_run_details d JOIN cron.job j USING (jobid)
        WHERE j.jobname IN ('kaireon-kr_cron-tick', 'kaireon-postgres-tick') AND d.status = 'succeeded'"
}
recorded() {
    psql -qX -d "$db" -At -c "
        SELECT (SELECT string_agg(format('%s %s %s', period_start::date, period_end::date, decisions), ',')
                FROM kaireon.quota_periods WHERE tenant_id = 'cron-t')
               || ' ' || (SELECT count(*) FROM kaireon.events
                          WHERE tenant_id = 'cron-t' AND dedupe_key = 'quota.reset:2026-02-01T00:00:00Z')"
}
while :; do
    runs=$(succeeded)
    effect=$(recorded)
    if [ "$runs" = 2 ] && [ "$effect" = "2026-01-01 2026-02-01 2 1" ]; then
        break
    fi
    if [ $(($(date +%s) - started)) -ge $deadline_seconds ]; then
        psql -qX -d postgres -c "SELECT j.jobname, d.status, d.return_message, d.start_time
                                 FROM cron.job_run_details d JOIN cron.job j USING (jobid) ORDER BY d.runid" >&2 || true
        fail "after ${deadline_seconds}s: tick jobs succeeded: ${runs:-0} of 2; kr_cron's quota_periods and events: '$effect'"
    fi
    sleep 2
done
echo "pg_cron_job: pg_cron ran both tick jobs; kr_cron recorded January (2 decisions) and sent quota.reset once ($(($(date +%s) - started)) s)"
failed=$(psql -qX -d postgres -At -c "SELECT count(*) FROM cron.job_run_details WHERE status = 'failed'")
[ "$failed" = 0 ] || fail "$failed job runs failed"

# 4. Clean up: no job left.
psql -qX -v ON_ERROR_STOP=1 -d postgres -At >/dev/null -c \
    "SELECT cron.unschedule(jobid) FROM cron.job WHERE jobname LIKE 'kaireon-%'"
left=$(psql -qX -d postgres -At -c "SELECT count(*) FROM cron.job")
[ "$left" = 0 ] || fail "$left jobs left after unscheduling"
echo "pg_cron_job: ok"
