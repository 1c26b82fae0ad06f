#!/usr/bin/env bash
# Webhook delivery end to end (docs/webhooks.md): kaireon_webhookd, connected
# as a login role that is only a member of kaireon_deliverer, delivers the
# outbox of three tenants to a receiver on 127.0.0.1
# (test/cluster/webhook_receiver.py) that checks every signature and
# timestamp and fails, times out and recovers on cue. Runs against the
# cluster in PGHOST/PGPORT. Backoff 100 ms doubling to 1 s, 10 attempts
# (an outage of a few seconds is ridden out, a permanent one dead-letters).
#   - t1: /healthy (every type) and /quota (quota.warning only);
#     t2: /flaky (every type): answers 500 for a while, then sleeps past the
#     daemon's 1 s timeout, then recovers; t3: /dead (license.expiring
#     only, 3 events): always 500.
#   - 300 events emitted in small transactions while the daemon runs; the
#     daemon is killed with SIGKILL mid-stream and started again; at the end
#     it is stopped with SIGTERM and must exit 0.
# Proves: every event meant for an endpoint arrives at least once, with a
# valid signature and a fresh timestamp, and no other arrives; first
# arrivals per endpoint are in seq order; a second arrival of a delivery
# only follows a failed or timed-out one or the crash; /dead's deliveries
# are dead letters after exactly 10 attempts, each in the attempt log (as is
# every attempt of every delivery); /healthy kept receiving while /flaky
# failed; no secret in the daemon's log. Kept under a minute.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
db=kr_webhook_delivery
python=/usr/bin/python3
work=$(mktemp -d)
chmod 755 "$work"
receiver_pid=""
daemon_pid=""
cleanup() {
    [ -n "$daemon_pid" ] && kill -9 "$daemon_pid" 2>/dev/null || true
    [ -n "$receiver_pid" ] && kill "$receiver_pid" 2>/dev/null || true
    dropdb --if-exists "$db" >/dev/null 2>&1 || true
    psql -qX -d postgres -c "DROP ROLE IF EXISTS kr_webhookd_test" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

# The daemon: KR_WEBHOOKD, else the CMake build's (built if missing).
daemon=${KR_WEBHOOKD:-$root/build/core/kaireon_webhookd}
if [ ! -x "$daemon" ]; then
    cmake -S "$root" -B "$root/build/core" >/dev/null
    cmake --build "$root/build/core" --target kaireon_webhookd -j2 >/dev/null
fi

psql_q() { psql -qAtX -v ON_ERROR_STOP=1 -d "$db" "$@"; }

dropdb --if-exists "$db" >/dev/null 2>&1
createdb "$db"
psql -qX -d postgres -c "DROP ROLE IF EXISTS kr_webhookd_test" >/dev/null 2>&1
psql -qX -v ON_ERROR_STOP=1 -d postgres -c "CREATE ROLE kr_webhookd_test LOGIN IN ROLE kaireon_deliverer" >/dev/null
psql_q >/dev/null <<SQL
CREATE EXTENSION kaireon;
SELECT kaireon.create_tenant('t1', 'One', 'ops@t1.test'), kaireon.create_tenant('t2', 'Two', 'ops@t2.test'),
       kaireon.create_tenant('t3', 'Three', 'ops@t3.test');
ALTER DATABASE $db SET kaireon.webhook_backoff_base = '100ms';
ALTER DATABASE $db SET kaireon.webhook_backoff_max = '1s';
ALTER DATABASE $db SET kaireon.webhook_max_attempts = 10;
SQL

"$python" "$root/test/cluster/webhook_receiver.py" "$work/secrets.json" "$work/arrivals.jsonl" "$work/port" &
receiver_pid=$!
for _ in $(seq 50); do [ -f "$work/port" ] && break; sleep 0.1; done
port=$(cat "$work/port")
base="http://127.0.0.1:$port"
# mode PATH MODE: tells the receiver how to answer PATH (no curl binary needed).
mode() {
    "$python" -c 'import json, sys, urllib.request
urllib.request.urlopen(sys.argv[1] + "/_mode", json.dumps({"path": sys.argv[2], "mode": sys.argv[3]}).encode()).read()' \
        "$base" "$1" "$2"
}

# Endpoints; the secrets (shown once) go to the receiver.
psql_q >"$work/endpoints.txt" <<SQL
SET kaireon.tenant = 't1';
SELECT '/healthy ' || (kaireon.add_webhook_endpoint('$base/healthy') ->> 'secret');
SELECT '/quota ' || (kaireon.add_webhook_endpoint('$base/quota', ARRAY['quota.warning']) ->> 'secret');
SET kaireon.tenant = 't2';
SELECT '/flaky ' || (kaireon.add_webhook_endpoint('$base/flaky') ->> 'secret');
SET kaireon.tenant = 't3';
SELECT '/dead ' || (kaireon.add_webhook_endpoint('$base/dead', ARRAY['license.expiring']) ->> 'secret');
SQL
"$python" -c '
import json, sys
pairs = [line.split() for line in open(sys.argv[1]) if line.strip()]
json.dump({p: s for p, s in pairs}, open(sys.argv[2], "w"))' "$work/endpoints.txt" "$work/secrets.json"
mode /dead fail

start_daemon() {
    "$daemon" --dsn "host=$PGHOST port=$PGPORT dbname=$db user=kr_webhookd_test" --worker "$1" \
        --batch 10 --lease 3 --timeout 1 --poll 0.2 2>>"$work/daemon.log" &
    daemon_pid=$!
}
start_daemon d1

# emit N FROM: events FROM..FROM+N-1 in one transaction, round robin over
# the tenants; every 50th of t3 is license.expiring (for /dead), t1
# alternates quota.warning and usage.threshold_reached.
emit() {
    psql_q -c "SELECT count(kaireon._emit_event_once(
                   (ARRAY['t1', 't2', 't3'])[1 + i % 3],
                   CASE WHEN i % 3 = 2 AND i % 50 = 2 THEN 'license.expiring'
                        WHEN i % 2 = 0 THEN 'quota.warning' ELSE 'usage.threshold_reached' END,
                   jsonb_build_object('n', i), 'cluster:' || i))
               FROM generate_series($2, $2 + $1 - 1) i" >/dev/null
}
arrivals() { [ -f "$work/arrivals.jsonl" ] && wc -l <"$work/arrivals.jsonl" || echo 0; }
now() { date +%s.%N; }

n=0
emit 40 $n; n=$((n + 40)); sleep 0.5
# /flaky fails for 1.5 s while events keep coming; /healthy must go on.
fail_from=$(now); mode /flaky fail
for _ in 1 2 3; do emit 10 $n; n=$((n + 10)); sleep 0.5; done
fail_to=$(now)
# Then it answers after the daemon's timeout for a while.
mode /flaky slow
emit 20 $n; n=$((n + 20)); sleep 2.5
mode /flaky ok
emit 40 $n; n=$((n + 40))
# The crash: SIGKILL while deliveries are under way.
for _ in $(seq 50); do [ "$(arrivals)" -ge 100 ] && break; sleep 0.1; done
emit 40 $n; n=$((n + 40)); sleep 0.2
kill -9 "$daemon_pid"
wait "$daemon_pid" 2>/dev/null || true
killed_at=$(now)
emit 60 $n; n=$((n + 60))
sleep 1
start_daemon d2
for _ in 1 2 3 4 5; do emit 20 $n; n=$((n + 20)); sleep 0.3; done
echo "webhook_delivery: $n events emitted"

# Done when the plan has read the whole outbox and nothing is pending.
done_=false
for _ in $(seq 200); do
    if [ "$(psql_q -c "SELECT kaireon._sequence_events() >= 0 AND
                              (SELECT position FROM kaireon.webhook_plan_position) = kaireon._last_event_seq()
                              AND NOT EXISTS (SELECT 1 FROM kaireon.webhook_deliveries WHERE state = 'pending')")" = t ]; then
        done_=true
        break
    fi
    sleep 0.2
done
$done_ || { echo "webhook_delivery: deliveries still pending after the wait" >&2; tail -n 20 "$work/daemon.log" >&2; exit 1; }

kill -TERM "$daemon_pid"
rc=0
wait "$daemon_pid" || rc=$?
daemon_pid=""
[ "$rc" -eq 0 ] || { echo "webhook_delivery: the daemon exited $rc on SIGTERM" >&2; exit 1; }

# The expected deliveries from the outbox itself (not from the delivery
# table), and the state of every delivery and its attempt log.
psql_q -c "SELECT json_agg(json_build_object('id', e.id, 'seq', e.seq, 'tenant', e.tenant_id, 'type', e.type)
           ORDER BY e.seq) FROM kaireon.events e" >"$work/events.json"
psql_q -c "SELECT json_agg(json_build_object('path', substr(w.url, length('$base') + 1), 'id', d.event_id,
               'state', d.state, 'attempts', d.attempts,
               'log', (SELECT json_agg(json_build_object('attempt', a.attempt, 'worker', a.worker,
                                                         'status', a.http_status, 'error', a.error, 'outcome', a.outcome)
                                       ORDER BY a.id)
                       FROM kaireon.webhook_attempts a
                       WHERE a.tenant_id = d.tenant_id AND a.endpoint_id = d.endpoint_id AND a.event_id = d.event_id)))
           FROM kaireon.webhook_deliveries d JOIN kaireon.webhook_endpoints w ON w.tenant_id = d.tenant_id AND w.id = d.endpoint_id" \
    >"$work/deliveries.json"
psql_q -c "SELECT count(*) FROM kaireon.webhook_dead_letters" >"$work/dead_letters.txt"

"$python" - "$work" "$fail_from" "$fail_to" "$killed_at" <<'PY'
import json
import sys
from collections import defaultdict

work, fail_from, fail_to, killed_at = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
events = json.load(open(f"{work}/events.json"))
deliveries = json.load(open(f"{work}/deliveries.json"))
arrivals = [json.loads(line) for line in open(f"{work}/arrivals.jsonl")]
secrets = json.load(open(f"{work}/secrets.json"))
daemon_log = open(f"{work}/daemon.log").read()
dead_letters = int(open(f"{work}/dead_letters.txt").read())
failures = []

def check(ok, message):
    if not ok:
        failures.append(message)

subscriptions = {"/healthy": ("t1", None), "/quota": ("t1", {"quota.warning"}),
                 "/flaky": ("t2", None), "/dead": ("t3", {"license.expiring"})}
expected = {path: [e for e in events if e["tenant"] == tenant and (types is None or e["type"] in types)]
            for path, (tenant, types) in subscriptions.items()}
by_path = defaultdict(list)
for a in arrivals:
    by_path[a["path"]].append(a)

check(all(a["signatureOk"] for a in arrivals), "a request with a bad signature: %s" %
      [a for a in arrivals if not a["signatureOk"]][:3])
check(all(a["timestampOk"] for a in arrivals), "a request with a stale timestamp")
check(all(a["eventId"] == str(a["id"]) for a in arrivals), "Kaireon-Event-Id differs from the body's id")
for path, wanted in expected.items():
    got = by_path[path]
    wanted_ids = [e["id"] for e in wanted]
    check(len(wanted_ids) > 0, f"{path}: no events meant for it (test setup)")
    check({a["id"] for a in got} == set(wanted_ids),
          f"{path}: arrived {len({a['id'] for a in got})} distinct events, expected {len(wanted_ids)}; "
          f"missing {sorted(set(wanted_ids) - {a['id'] for a in got})[:5]}, "
          f"unexpected {sorted({a['id'] for a in got} - set(wanted_ids))[:5]}")
    # First arrivals in seq order.
    seen, first_seqs = set(), []
    for a in sorted(got, key=lambda a: a["at"]):
        if a["id"] not in seen:
            seen.add(a["id"])
            first_seqs.append(a["seq"])
    check(first_seqs == sorted(first_seqs), f"{path}: first arrivals out of seq order")
    # A second arrival only after a failed or timed-out one, or the crash.
    per_event = defaultdict(list)
    for a in sorted(got, key=lambda a: (a["at"], a["attempt"])):
        per_event[a["id"]].append(a)
    for event_id, tries in per_event.items():
        for before, after in zip(tries, tries[1:]):
            explained = (before["status"] != 200 or before["mode"] == "slow"
                         or (before["at"] <= killed_at <= after["at"]))
            check(explained, f"{path}: event {event_id} arrived again without a failure, timeout or crash: {before} {after}")
            check(after["attempt"] > before["attempt"], f"{path}: event {event_id}: attempt did not grow")
    if path != "/dead":
        check(all(len(tries) >= 1 and tries[-1]["status"] == 200 for tries in per_event.values()),
              f"{path}: an event's last arrival was not answered 200")

flaky_failed = [a for a in by_path["/flaky"] if a["mode"] == "fail"]
flaky_slow = [a for a in by_path["/flaky"] if a["mode"] == "slow"]
check(len(flaky_failed) > 0 and len(flaky_slow) > 0, "/flaky never failed or timed out (test timing)")
healthy_during = [a for a in by_path["/healthy"] if fail_from <= a["at"] <= fail_to]
check(len(healthy_during) > 0, "/healthy received nothing while /flaky was failing")

state = {(d["path"], d["id"]): d for d in deliveries}
for path, wanted in expected.items():
    for e in wanted:
        d = state.get((path, e["id"]))
        if d is None:
            failures.append(f"{path}: no delivery row for event {e['id']}")
            continue
        log = d["log"] or []
        check(len(log) == d["attempts"], f"{path}: event {e['id']}: {d['attempts']} attempts but {len(log)} logged: {log}")
        check([x["attempt"] for x in log] == list(range(1, len(log) + 1)), f"{path}: attempts logged out of order: {log}")
        arrived = sum(1 for a in by_path[path] if a["id"] == e["id"])
        check(arrived <= d["attempts"], f"{path}: event {e['id']} arrived {arrived} times in {d['attempts']} attempts")
        if path == "/dead":
            check(d["state"] == "dead" and d["attempts"] == 10 and log and log[-1]["outcome"] == "dead",
                  f"/dead: event {e['id']} not dead after 10 attempts: {d}")
        else:
            check(d["state"] == "delivered" and log[-1]["outcome"] == "delivered", f"{path}: event {e['id']}: {d}")
check(len(state) == sum(len(w) for w in expected.values()), "deliveries to no endpoint's liking")
check(dead_letters == len(expected["/dead"]), f"{dead_letters} dead letters, expected {len(expected['/dead'])}")
check(not any(s in daemon_log for s in secrets.values()), "a secret in the daemon's log")
check("outcome=dead" in daemon_log and "outcome=retry" in daemon_log, "the daemon's log lacks retry or dead lines")

crash_dups = sum(1 for p in by_path.values() for a in p if a["attempt"] > 1 and a["at"] > killed_at)
print(f"webhook_delivery: {len(events)} events, {len(arrivals)} requests "
      f"({', '.join(f'{p}: {len(v)}' for p, v in sorted(by_path.items()))}), "
      f"{len(flaky_failed)} failed and {len(flaky_slow)} timed out at /flaky, "
      f"{len(healthy_during)} arrivals at /healthy meanwhile, {dead_letters} dead letters, "
      f"{crash_dups} retries after the crash")
if failures:
    for f in failures[:20]:
        print("FAILED:", f, file=sys.stderr)
    sys.exit(1)
print("webhook_delivery: ok")
PY
