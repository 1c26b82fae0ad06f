#!/usr/bin/python3
"""test/perf/harness.py - the benchmark suite of issue 15, run by test/perf/run.

Against the throw-away cluster in PGHOST/PGPORT (its superuser): one
database, one run. Plain-PostgreSQL baselines with pgbench (the built-in
select-only test, a single-row INSERT, a naive hot-row UPDATE), then
kaireon's paths with pgbench custom scripts, and the same reads and writes
in plain SQL without kaireon (plain_sql_*.sql), every path 8 clients,
measured `--runs` times in rounds (each path's first run, then each one's
second, ...) and the median taken; then the core's Google Benchmark
numbers. Prints a table and writes results.json (rows: path, tps, p50_ms,
p99_ms, baseline, ratio, target, holds) and an SVG chart of the ratios.

The checks that must hold whatever the speed (counts exact after the
respond run, every committed decision recorded) fail the run; a missed
target never does: benchmarks are not tests.
"""
import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PERF = os.path.join(ROOT, "test", "perf")
DB = "kr_perf"
APP, ADMIN, RESPONDER = "kr_perf_app", "kr_perf_admin", "kr_perf_responder"
SUPERUSER = "postgres"  # the plain SQL's tables are granted to no one
TENANT = "perf"
CLIENTS, THREADS = 8, 2


def psql(sql, db=DB, user=None, variables=None):
    cmd = ["psql", "-qXAt", "-v", "ON_ERROR_STOP=1", "-d", db]
    if user:
        cmd += ["-U", user]
    for name, value in (variables or {}).items():
        cmd += ["-v", f"{name}={value}"]
    out = subprocess.run(cmd, input=sql, capture_output=True, text=True)
    if out.returncode != 0:
        # Not the SQL: it may hold licences.
        sys.exit(f"harness: psql failed:\n{out.stderr}")
    return out.stdout.strip()


def setup(args):
    """The database: kaireon with the demo tenant (enterprise licence, demo
    catalog: 100 offers, 11 contact policies, 5 frequency caps, a scorecard
    flow), the baselines' tables, pgbench's own tables."""
    psql(f"DROP DATABASE IF EXISTS {DB}", db="postgres")
    psql(f"DROP ROLE IF EXISTS {APP}; DROP ROLE IF EXISTS {ADMIN}; DROP ROLE IF EXISTS {RESPONDER}", db="postgres")
    psql(f"CREATE DATABASE {DB}", db="postgres")
    psql(f"""
CREATE EXTENSION kaireon;
CREATE ROLE {APP} LOGIN IN ROLE kaireon_app;
CREATE ROLE {ADMIN} LOGIN IN ROLE kaireon_admin;
SELECT kaireon.add_license_key('perf-key', 'RS256', :'public_key') IS NOT NULL;
SELECT kaireon.create_tenant('{TENANT}', 'Benchmarks', 'perf@example.test') IS NOT NULL;
SELECT kaireon.grant_tenant('{APP}', '{TENANT}');
ALTER ROLE {APP} IN DATABASE {DB} SET kaireon.tenant = '{TENANT}';
ALTER ROLE {ADMIN} IN DATABASE {DB} SET kaireon.tenant = '{TENANT}';
SET kaireon.tenant = '{TENANT}';
SELECT kaireon.install_license(:'license') ->> 'state';
\\i {ROOT}/demo/catalog.sql
-- report_usage's feature: a sum without a limit.
SELECT kaireon.define_feature('perf_unlimited', 'numeric', '{{"aggregation": "sum", "period": "month"}}') IS NOT NULL;
SELECT kaireon.set_plan_entitlement('enterprise', 'perf_unlimited', '{{"limit": null}}') IS NOT NULL;
-- respond's tenant (test/perf/respond_c_respond.sql): 5 offers, 1,000
-- customers, one hot cap that every impression on web counts on.
CREATE ROLE {RESPONDER} LOGIN IN ROLE kaireon_app;
SELECT kaireon.create_tenant('perfresp', 'Responses', 'perf@example.test') IS NOT NULL;
SELECT kaireon.grant_tenant('{RESPONDER}', 'perfresp');
ALTER ROLE {RESPONDER} IN DATABASE {DB} SET kaireon.tenant = 'perfresp';
SET kaireon.tenant = 'perfresp';
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
-- The baselines (test/perf/respond_a_insert.sql, respond_b_hot_update.sql):
-- what an application writes without kaireon.
CREATE TABLE public.perf_responses (
    idempotency_key text PRIMARY KEY,
    customer_id     text NOT NULL,
    offer_id        text NOT NULL,
    outcome         text NOT NULL,
    recorded_at     timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE public.perf_counters (id int PRIMARY KEY, n bigint NOT NULL);
INSERT INTO public.perf_counters VALUES (1, 0);
GRANT INSERT, SELECT ON public.perf_responses TO {APP};
GRANT SELECT, UPDATE ON public.perf_counters TO {APP};
""", variables={"public_key": args.public_key_text, "license": args.licenses[0]})
    # pgbench's tables for its built-in select-only test (scale 10: 1M accounts).
    out = subprocess.run(["pgbench", "-i", "-q", "-s", "10", DB], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"harness: pgbench -i failed:\n{out.stderr}")
    psql(f"GRANT SELECT ON pgbench_accounts, pgbench_branches, pgbench_tellers, pgbench_history TO {APP}; "
         "VACUUM ANALYZE")


# The same rows in plain SQL (test/perf/plain_sql_*.sql): each path's reads
# and writes as an application would make them without kaireon, into copies
# of the tables the paths write.
PLAIN_SQL_TABLES = ("interactions", "interaction_keys", "usage_events", "usage_rollups", "audit_log", "decisions")


def setup_plain_sql():
    """Schema plain_sql: a copy of each table the paths write (the same
    columns, defaults, identities and checks; the same partitioning, with
    a default partition; the indexes of kaireon's leaf), without kaireon's
    triggers, and plain_sql.dry_run_answer(), a real dry run's answer (the
    plain SQL decisions give an answer of the same size)."""
    tables = ", ".join(f"'{t}'" for t in PLAIN_SQL_TABLES)
    psql(f"""
CREATE SCHEMA plain_sql;
DO $$
DECLARE
    t text;
    partition_key text;
    leaf text;
    definition text;
BEGIN
    FOREACH t IN ARRAY ARRAY[{tables}] LOOP
        partition_key := pg_get_partkeydef(format('kaireon.%I', t)::regclass);
        EXECUTE format('CREATE TABLE plain_sql.%I (LIKE kaireon.%I INCLUDING DEFAULTS INCLUDING IDENTITY '
                       'INCLUDING CONSTRAINTS INCLUDING GENERATED)', t, t)
                || coalesce(' PARTITION BY ' || partition_key, '');
        leaf := t;
        IF partition_key IS NOT NULL THEN
            leaf := t || '_default';
            EXECUTE format('CREATE TABLE plain_sql.%I PARTITION OF plain_sql.%I DEFAULT', leaf, t);
        END IF;
        FOR definition IN SELECT pg_get_indexdef(indexrelid) FROM pg_index
                          WHERE indrelid = format('kaireon.%I', leaf)::regclass LOOP
            EXECUTE replace(definition, ' ON kaireon.', ' ON plain_sql.');
        END LOOP;
    END LOOP;
END $$;
""")
    answer = psql("SELECT kaireon_recommend(jsonb_build_object('customerId', 'cust-0001', 'flow', 'homepage', "
                  "'context', '{\"channel\": \"web\"}'::jsonb, 'dryRun', true))", user=ADMIN)
    psql("SELECT format('CREATE FUNCTION plain_sql.dry_run_answer() RETURNS jsonb IMMUTABLE LANGUAGE sql AS %L', "
         "'SELECT ' || quote_literal(:'answer') || '::jsonb') \\gexec", variables={"answer": answer})
    # The request and answer shapes the plain SQL statements share: SQL
    # functions of one expression, which the planner inlines into the
    # statements' plans (no call at run time).
    psql("""
CREATE FUNCTION plain_sql.respond_request(r bigint, client int) RETURNS jsonb STABLE LANGUAGE sql AS $$
    SELECT jsonb_build_object('customerId', 'c' || r % 1000, 'offerId', 'o' || r % 5 + 1, 'channel', 'web',
                              'outcome', 'impression', 'idempotencyKey', client::text || '-' || r)
$$;
CREATE FUNCTION plain_sql.respond_answer(id uuid, customer_id text, offer_id text, outcome text) RETURNS jsonb
STABLE LANGUAGE sql AS $$
    SELECT jsonb_build_object('recorded', true, 'duplicate', false, 'interactionId', id, 'decisionId', null,
                              'customerId', customer_id, 'offerId', offer_id, 'outcome', outcome, 'kind', 'impression',
                              'caps', jsonb_build_array(jsonb_build_object('capId', 'web-hot', 'name', 'Web',
                                                                           'maxVolume', 1000000000, 'currentCount', 1,
                                                                           'exhausted', false,
                                                                           'resetAt', '2026-12-08T00:00:00Z')))
$$;
CREATE FUNCTION plain_sql.usage_audit_details(total numeric) RETURNS jsonb STABLE LANGUAGE sql AS $$
    SELECT jsonb_build_object('events', 1, 'keyedEvents', 0,
                              'features', jsonb_build_object('perf_unlimited', jsonb_build_object('events', 1, 'total', total)))
$$;
CREATE FUNCTION plain_sql.usage_answer(current_usage numeric) RETURNS jsonb STABLE LANGUAGE sql AS $$
    SELECT jsonb_build_object('entitlement', 'perf_unlimited', 'type', 'numeric', 'enabled', true, 'limit', null,
                              'currentUsage', current_usage, 'percentageUsed', null, 'status', 'ACCEPTED')
$$;
""")
    psql("VACUUM ANALYZE")


def add_tenants(args, count):
    """count - 1 more tenants with the demo tenant's catalog (each its own
    enterprise licence), all granted to the application role."""
    psql(f"SET kaireon.tenant = '{TENANT}'; CREATE TEMP TABLE doc AS SELECT kaireon.export_catalog() AS d; " +
         "".join(f"""
SELECT kaireon.create_tenant('perf{i:03d}', 'Benchmarks {i}', 'perf@example.test') IS NOT NULL;
SELECT kaireon.grant_tenant('{APP}', 'perf{i:03d}');
SET kaireon.tenant = 'perf{i:03d}';
SELECT kaireon.install_license('{args.licenses[i]}') ->> 'state';
SELECT kaireon.apply_catalog(d) IS NOT NULL FROM doc;
SET kaireon.tenant = '{TENANT}';
""" for i in range(1, count)), variables={})


def add_customers(count):
    """Customers m1 .. m<count> in the demo tenant, each a copy of a demo
    customer's attributes and segments (so decisions read alike)."""
    psql(f"""
SET kaireon.tenant = '{TENANT}';
INSERT INTO kaireon.customers (tenant_id, id, attributes, segments, timezone)
SELECT '{TENANT}', 'm' || i, c.attributes, c.segments, c.timezone
FROM generate_series(1, {count}) i
JOIN kaireon.customers c ON c.tenant_id = '{TENANT}' AND c.id = 'cust-' || lpad((i % 1000 + 1)::text, 4, '0');
ANALYZE kaireon.customers;
""")


def cpu_times():
    """The machine's CPU time so far (/proc/stat's first line, in ticks):
    (busy, total); idle and iowait are not busy."""
    with open("/proc/stat") as f:
        ticks = [int(v) for v in f.readline().split()[1:]]
    total = sum(ticks[:8])  # guest time is counted in user already
    return total - ticks[3] - ticks[4], total


def catalog_compiles():
    """Compiled catalogs this cluster's backends built, all tenants."""
    return int(psql("SELECT coalesce(sum(cache_misses), 0) FROM kaireon.stats"))


def pgbench(script, user, seconds, tag, logs, builtin=None):
    """One pgbench run. tps, p50 and p99 are the steady state: the
    transactions that ended in the second half of the run, from pgbench's
    per-transaction log (the first half warms the new backends: each
    compiles a tenant's catalog at its first decision for it, tens of
    milliseconds, see cold_catalog_ms). tps_whole is pgbench's own figure."""
    psql("CHECKPOINT")
    # WAL written during the run (cluster-wide, so autovacuum's counts too):
    # per committed transaction, and how much of it full-page images.
    wal_before = [float(v) for v in psql("SELECT wal_bytes || ' ' || wal_fpi FROM pg_stat_wal").split()]
    misses_before = catalog_compiles()
    prefix = os.path.join(logs, tag)
    cmd = ["pgbench", "-n", "-M", "prepared", "-c", str(CLIENTS), "-j", str(THREADS), "-T", str(seconds),
           "-U", user, "-l", "--log-prefix", prefix]
    cmd += ["-S"] if builtin == "select-only" else ["-f", os.path.join(PERF, script)]
    cmd.append(DB)
    for old in os.listdir(logs):
        if old.startswith(tag + "."):
            os.remove(os.path.join(logs, old))
    cpu_before = cpu_times()
    out = subprocess.run(cmd, capture_output=True, text=True)
    cpu_after = cpu_times()
    with open(os.path.join(logs, f"pgbench-{tag}.out"), "w") as f:
        f.write(out.stdout + out.stderr)
    if out.returncode != 0 or "aborted" in out.stdout + out.stderr:
        sys.exit(f"harness: pgbench {tag} failed:\n{out.stdout}{out.stderr}")
    wal_after = [float(v) for v in psql("SELECT wal_bytes || ' ' || wal_fpi FROM pg_stat_wal").split()]
    misses_after = catalog_compiles()
    tps_whole = committed = None
    for line in out.stdout.splitlines():
        if line.startswith("tps = "):
            tps_whole = float(line.split()[2])
        if line.startswith("number of transactions actually processed:"):
            committed = int(line.split(":")[1].split()[0])
    # Log lines: client_id transaction_no latency_us script_no epoch_s epoch_us (the end).
    ends = []
    for name in os.listdir(logs):
        if name.startswith(tag + "."):
            with open(os.path.join(logs, name)) as f:
                for line in f:
                    fields = line.split()
                    if len(fields) >= 6:
                        ends.append((int(fields[4]) + int(fields[5]) / 1e6, int(fields[2])))
            os.remove(os.path.join(logs, name))
    if not ends:
        sys.exit(f"harness: pgbench {tag} logged no transaction")
    first = min(end - latency / 1e6 for end, latency in ends)
    last = max(end for end, _ in ends)
    half = first + (last - first) / 2
    steady = sorted(latency for end, latency in ends if end >= half)

    def percentile(p):
        return steady[min(len(steady) - 1, int(math.ceil(p * len(steady))) - 1)] / 1000.0

    per_tx = max(committed or 0, 1)
    return {"tps": len(steady) / (last - half), "tps_whole": tps_whole, "p50_ms": percentile(0.50),
            "p99_ms": percentile(0.99), "committed": committed,
            "wal_bytes_per_tx": round((wal_after[0] - wal_before[0]) / per_tx),
            "wal_fpi_per_tx": round((wal_after[1] - wal_before[1]) / per_tx, 2),
            # Catalogs compiled during the run (kaireon.stats cache_misses):
            # about one per tenant and new backend; more, a cache was dropped.
            "catalog_compiles": misses_after - misses_before,
            # Busy share of all cores over the run (pgbench and the server
            # alike): near 1, the path is bound by the CPU; well below, by
            # waiting (the WAL flush of each commit, a row lock).
            "cpu_busy": round((cpu_after[0] - cpu_before[0]) / max(cpu_after[1] - cpu_before[1], 1), 2)}


def cold_catalog_ms():
    """The first decision of a warm backend for tenants it has not decided
    for yet (each compiles the tenant's catalog), against a second one: the
    median of 20 tenants, in milliseconds (psql's \\timing)."""
    lines = ["\\timing on"]
    for i in range(1, 21):
        tenant = f"perf{i:03d}"
        lines += [f"SET kaireon.tenant = '{tenant}';"] + [
            "SELECT kaireon_recommend(jsonb_build_object('customerId', 'cust-0001', 'flow', 'homepage')) IS NOT NULL;"] * 2
    out = subprocess.run(["psql", "-qXAt", "-U", APP, "-d", DB], input="\n".join(lines) + "\n", capture_output=True,
                         text=True, check=True).stdout
    times = [float(line.split()[1]) for line in out.splitlines() if line.startswith("Time:")]
    # Per tenant: SET, first decision, second decision.
    first = [times[3 * i + 1] for i in range(20)]
    second = [times[3 * i + 2] for i in range(20)]
    return statistics.median(first), statistics.median(second)


def measure_rounds(paths, args, seconds=None, counter=None):
    """Paths measured in rounds: run 1 of each path, one after the other,
    then run 2 of each, ... (a, b, c, a, b, c, ...), so that a path and the
    baseline it is divided by meet the same table sizes, checkpoints and
    phase of this noisy machine (three runs of one path in a row met
    another phase than its baseline's, minutes earlier); each path the
    median of its runs. paths: (name, script, user, builtin) tuples.
    counter: read before and after every run; its differences are summed
    per path, as `counted`."""
    runs = {name: [] for name, *_ in paths}
    counted = {name: 0 for name, *_ in paths}
    for i in range(args.runs):
        for name, script, user, builtin in paths:
            before = counter() if counter else 0
            runs[name].append(pgbench(script, user, seconds or args.seconds, f"{name}-{i + 1}", args.logs, builtin))
            if counter:
                counted[name] += counter() - before
            report_run(name, i, runs[name][-1])
    return {name: dict(median_run(r), counted=counted[name]) for name, r in runs.items()}


def measure_pair(a, b, user, args, seconds=None):
    """Two paths compared with each other (the scale rows), in rounds on the
    same database. a and b are (name, script) pairs."""
    return measure_rounds([(a[0], a[1], user, None), (b[0], b[1], user, None)], args, seconds)


def report_run(path, i, run):
    print(f"    {path} run {i + 1}: {run['tps']:.0f} tps steady ({run['tps_whole']:.0f} over the run), "
          f"WAL {run['wal_bytes_per_tx']} bytes and {run['wal_fpi_per_tx']} full-page images per transaction, "
          f"CPU {run['cpu_busy']:.0%} busy, {run['catalog_compiles']} catalogs compiled",
          flush=True)


def round_ratios(r, base):
    """Each round's ratio of a path to its baseline (measure_rounds ran them
    one after the other): how far the machine's noise moves the ratio.
    Empty when their rounds do not pair up."""
    path_rounds, base_rounds = r.get("round_tps", []), base.get("round_tps", [])
    if len(path_rounds) != len(base_rounds):
        return []
    return [round(a / b, 3) for a, b in zip(path_rounds, base_rounds) if b]


def median_run(runs):
    """The run with the median tps, with every run's tps and the sum of the
    committed transactions."""
    ordered = sorted(runs, key=lambda r: r["tps"])
    median = dict(ordered[len(ordered) // 2])
    median["runs_tps"] = [round(r["tps"], 1) for r in ordered]
    median["round_tps"] = [r["tps"] for r in runs]  # in the order run
    median["committed_total"] = sum(r["committed"] or 0 for r in ordered)
    return median


def micro(args):
    """The core's Google Benchmark numbers (ns per iteration)."""
    out = {}
    for binary, pattern in (("bench_pipeline", "BM_Run/offers:(100|10000)/arbitration:0/traced:0$"),
                            ("bench_core", "BM_LicenseCheckCached$")):
        exe = os.path.join(args.bench_dir, binary)
        if not os.path.exists(exe):
            print(f"harness: {exe} is missing: its rows are left out", file=sys.stderr)
            continue
        res = subprocess.run([exe, f"--benchmark_filter={pattern}", "--benchmark_format=json",
                              f"--benchmark_min_time={0.2 if args.quick else 1}",
                              f"--benchmark_repetitions={args.runs}", "--benchmark_report_aggregates_only=true"],
                             capture_output=True, text=True)
        if res.returncode != 0:
            sys.exit(f"harness: {binary} failed:\n{res.stderr}")
        for b in json.loads(res.stdout)["benchmarks"]:
            if b.get("aggregate_name") == "median":
                scale = {"ns": 1, "us": 1e3, "ms": 1e6}[b["time_unit"]]
                out[b["run_name"]] = b["real_time"] * scale
    return out


def cache_bytes(args):
    """A backend's private memory grown by loading a 1,000-offer catalog:
    the first decision of a fresh session on a tenant with 1,000 offers
    against a session of a 100-offer tenant (same code, same statements).
    Private_Dirty + Private_Clean of /proc/<pid>/smaps_rollup; an upper
    bound of the compiled catalog and its caches."""
    psql(f"""
SELECT kaireon.create_tenant('perfbig', 'Big catalog', 'perf@example.test') IS NOT NULL;
SELECT kaireon.grant_tenant('{APP}', 'perfbig');
SET kaireon.tenant = 'perfbig';
SELECT kaireon.install_license('{args.licenses[-1]}') ->> 'state';
SELECT kaireon.apply_catalog(jsonb_build_object(
    'channels', '[{{"id": "web", "name": "Web", "type": "web"}}]'::jsonb,
    'categories', '[{{"id": "cat", "name": "Cat"}}]'::jsonb,
    'customers', '[{{"id": "c1", "attributes": {{"age": 30}}}}]'::jsonb,
    'offers', (SELECT jsonb_agg(jsonb_build_object('id', 'o' || i, 'name', 'Offer ' || i, 'categoryId', 'cat',
                                                   'priority', i % 100, 'value', i, 'eligibility', 'customer.age >= 18'))
               FROM generate_series(1, 1000) i),
    'creatives', (SELECT jsonb_agg(jsonb_build_object('id', 'o' || i || '-web', 'offerId', 'o' || i, 'channelId', 'web'))
                  FROM generate_series(1, 1000) i),
    'flows', '[{{"id": "home", "name": "Home", "channelId": "web", "ranking": {{"method": "top_n", "n": 3}}}}]'::jsonb))
  IS NOT NULL;
""")

    def private_after_decision(tenant, customer, flow):
        code = f"""
import subprocess, sys
p = subprocess.Popen(["psql", "-qXAt", "-U", "{APP}", "-d", "{DB}"], stdin=subprocess.PIPE,
                     stdout=subprocess.PIPE, text=True, bufsize=1)
def ask(sql):
    p.stdin.write(sql + "\\n"); p.stdin.flush(); return p.stdout.readline().strip()
def private(pid):
    total = 0
    for line in open(f"/proc/{{pid}}/smaps_rollup"):
        if line.startswith(("Private_Dirty:", "Private_Clean:")):
            total += int(line.split()[1]) * 1024
    return total
pid = ask("SELECT pg_backend_pid();")
ask("SET kaireon.tenant = '{tenant}'; SELECT 1;")
before = private(pid)
ask("SELECT kaireon_recommend(jsonb_build_object('customerId', '{customer}', 'flow', '{flow}')) IS NOT NULL;")
after = private(pid)
print(after - before)
p.stdin.close(); p.wait()
"""
        return int(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)

    small = statistics.median(private_after_decision(TENANT, "cust-0001", "homepage") for _ in range(3))
    big = statistics.median(private_after_decision("perfbig", "c1", "home") for _ in range(3))
    return big, small


def svg_chart(rows, path):
    bars = [r for r in rows if r.get("ratio") is not None]
    height = 40 + 28 * len(bars)
    scale = 260  # px per 1.0x
    most = max([r["ratio"] for r in bars] + [2.2])
    width = 330 + int(scale * most) + 40
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" '
           'font-size="12"><rect width="100%" height="100%" fill="white"/>',
           '<text x="10" y="20" font-weight="bold">kaireon vs plain PostgreSQL: ratio of tps (bar), target '
           '(line; dashed: the band to stay within)</text>']
    for i, r in enumerate(bars):
        y = 36 + 28 * i
        colour = {True: "#2e7d32", False: "#c62828"}.get(r["holds"], "#757575")
        out.append(f'<text x="10" y="{y + 14}">{r["path"]}</text>')
        out.append(f'<rect x="330" y="{y}" width="{max(1, int(scale * r["ratio"]))}" height="18" fill="{colour}"/>')
        out.append(f'<text x="{336 + int(scale * r["ratio"])}" y="{y + 14}">{r["ratio"]:.2f}x</text>')
        if r.get("target_ratio") is not None:
            x = 330 + int(scale * r["target_ratio"])
            out.append(f'<line x1="{x}" y1="{y - 3}" x2="{x}" y2="{y + 21}" stroke="black" stroke-width="2"/>')
        for edge in r.get("target_band") or ():
            x = 330 + int(scale * edge)
            out.append(f'<line x1="{x}" y1="{y - 3}" x2="{x}" y2="{y + 21}" stroke="black" stroke-dasharray="3,2"/>')
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--public-key", required=True)
    ap.add_argument("--licenses", required=True, help="a file: one licence per line, the first for tenant perf")
    ap.add_argument("--bench-dir", required=True)
    ap.add_argument("--logs", required=True)
    ap.add_argument("--out", default=os.path.join(PERF, "results.json"))
    ap.add_argument("--svg", default=os.path.join(PERF, "results.svg"))
    ap.add_argument("--extra-rows", help="a JSON file of rows measured apart (test/perf/router.sh --rows), "
                                         "printed and written with these")
    args = ap.parse_args()
    args.seconds = 5 if args.quick else 20
    args.scale_seconds = 20 if args.quick else 40
    args.runs = 3
    args.public_key_text = open(args.public_key).read()
    args.licenses = open(args.licenses).read().split()
    customers_big = 1_000_000
    tenants = 100
    os.makedirs(args.logs, exist_ok=True)
    started = time.time()

    print("== setup (demo catalog, baselines, plain SQL's tables, pgbench -i -s 10)", flush=True)
    setup(args)
    setup_plain_sql()
    print(f"== baselines and kaireon's paths in rounds ({CLIENTS} clients, {args.seconds}s x {args.runs} runs each)",
          flush=True)

    def decisions():
        return int(psql(f"SELECT count(*) FROM kaireon.decisions WHERE tenant_id = '{TENANT}'"))

    results = measure_rounds([("select-only", None, APP, "select-only"),
                              ("insert", "respond_a_insert.sql", APP, None),
                              ("hot-update", "respond_b_hot_update.sql", APP, None),
                              ("recommend", "decisions_c_recommend.sql", APP, None),
                              ("recommend-dry-run", "decisions_d_dry_run.sql", ADMIN, None),
                              ("respond", "respond_c_respond.sql", RESPONDER, None),
                              ("report-usage", "usage_c_report.sql", APP, None),
                              ("plain-sql-recommend", "plain_sql_recommend.sql", SUPERUSER, None),
                              ("plain-sql-dry-run", "plain_sql_dry_run.sql", SUPERUSER, None),
                              ("plain-sql-respond", "plain_sql_respond.sql", SUPERUSER, None),
                              ("plain-sql-usage", "plain_sql_usage.sql", SUPERUSER, None)], args, counter=decisions)

    # What must hold whatever the speed.
    checks = []
    checks.append(("every committed recommend recorded once",
                   results["recommend"]["counted"] == results["recommend"]["committed_total"],
                   f"{results['recommend']['counted']} recorded, {results['recommend']['committed_total']} committed"))
    others = sum(r["counted"] for name, r in results.items() if name != "recommend")
    checks.append(("dry runs (and the other paths) record nothing", others == 0, f"{others} recorded"))
    cap, impressions, interactions = psql("""
SET kaireon.tenant = 'perfresp';
SELECT f.current_count || ' ' ||
       (SELECT count(*) FROM kaireon.interactions i WHERE i.tenant_id = 'perfresp' AND i.kind = 'impression'
           AND i.channel = 'web' AND i.recorded_at >= f.reset_at - interval '1 day' AND i.recorded_at < f.reset_at) || ' ' ||
       (SELECT count(*) FROM kaireon.interactions i WHERE i.tenant_id = 'perfresp')
FROM kaireon.frequency_caps f WHERE f.tenant_id = 'perfresp' AND f.id = 'web-hot'""").split()[-3:]
    checks.append(("the hot cap's count equals the impressions of its period", cap == impressions, f"{cap} vs {impressions}"))
    checks.append(("every committed respond recorded once", int(interactions) == results["respond"]["committed_total"],
                   f"{interactions} recorded, {results['respond']['committed_total']} committed"))
    usage = psql(f"SELECT coalesce(sum(value), 0)::bigint FROM kaireon.usage_events WHERE tenant_id = '{TENANT}' "
                 "AND feature = 'perf_unlimited'")
    checks.append(("every committed report_usage counted once", int(usage) == results["report-usage"]["committed_total"],
                   f"{usage} counted, {results['report-usage']['committed_total']} committed"))

    print(f"== scale: 1 vs {tenants} tenants ({args.scale_seconds}s runs), 1,000 vs {customers_big:,} customers",
          flush=True)
    # Each scale row against its own comparison, runs interleaved on the
    # same database. Against the recommend runs of minutes earlier, a row
    # also measured the tables grown since and the machine's drift
    # (docs/performance.md, "Scale rows and row ids").
    # Longer runs: 8 new backends compile 100 catalogs each (cold_catalog_ms)
    # before they decide at their steady pace, which the second half shows.
    add_tenants(args, tenants)
    results.update(measure_pair(("recommend-1-tenant", "scale_tenants_1.sql"),
                                (f"recommend-{tenants}-tenants", "scale_tenants_100.sql"),
                                APP, args, seconds=args.scale_seconds))
    cold_ms, warm_ms = cold_catalog_ms()
    add_customers(customers_big)
    results.update(measure_pair(("recommend-1k-customers", "decisions_c_recommend.sql"),
                                ("recommend-1m-customers", "scale_customers_1m.sql"), APP, args))

    print("== per-backend cache, 1,000 offers", flush=True)
    big, small = cache_bytes(args)
    print("== core (Google Benchmark)", flush=True)
    core = micro(args)

    rows = []

    def row(path, r, baseline=None, target_ratio=None, target=None, relation=">="):
        base = results[baseline]["tps"] if baseline else None
        ratio = r["tps"] / base if base else None
        by_round = round_ratios(r, results[baseline]) if baseline else []
        holds = None
        if target_ratio is not None and ratio is not None:
            holds = ratio >= target_ratio if relation == ">=" else abs(ratio - 1) < target_ratio
        rows.append({"path": path, "tps": round(r["tps"], 1), "tps_whole": r.get("tps_whole"),
                     "p50_ms": r["p50_ms"], "p99_ms": r["p99_ms"],
                     "baseline": baseline, "ratio": round(ratio, 3) if ratio is not None else None,
                     "target": target, "holds": holds, "runs_tps": r.get("runs_tps"),
                     "wal_bytes_per_tx": r.get("wal_bytes_per_tx"), "wal_fpi_per_tx": r.get("wal_fpi_per_tx"),
                     "cpu_busy": r.get("cpu_busy"), "catalog_compiles": r.get("catalog_compiles"),
                     "round_ratios": by_round or None,
                     "target_ratio": target_ratio if relation == ">=" else None,
                     "target_band": (1 - target_ratio, 1 + target_ratio) if relation == "within" else None})

    row("select-only (pgbench -S)", results["select-only"])
    row("single-row INSERT", results["insert"])
    row("hot-row UPDATE", results["hot-update"])
    row("kaireon_recommend", results["recommend"], "insert", 0.7, ">= 0.7 x single-row INSERT")
    row("kaireon_recommend dryRun", results["recommend-dry-run"], "select-only", 0.5, ">= 0.5 x select-only")
    row("kaireon_respond, hot cap", results["respond"], "insert", 0.8, ">= 0.8 x single-row INSERT")
    row("kaireon_respond vs hot UPDATE", results["respond"], "hot-update", 2.0, ">= 2 x hot-row UPDATE")
    row("report_usage", results["report-usage"], "insert", 0.8, ">= 0.8 x single-row INSERT")
    # The same reads and writes in plain SQL, against the same baselines:
    # how far the data model itself goes on this machine, without kaireon.
    row("plain SQL: recommend's rows", results["plain-sql-recommend"], "insert")
    row("plain SQL: dry run's reads", results["plain-sql-dry-run"], "select-only")
    row("plain SQL: respond's rows", results["plain-sql-respond"], "insert")
    row("plain SQL: report_usage's rows", results["plain-sql-usage"], "insert")
    row("recommend, 1 tenant (beside 100)", results["recommend-1-tenant"])
    row(f"recommend, {tenants} tenants", results[f"recommend-{tenants}-tenants"], "recommend-1-tenant", 0.2,
        "within 20 % of 1 tenant", relation="within")
    row("recommend, 1,000 customers (beside 1M)", results["recommend-1k-customers"])
    row("recommend, 1M customers", results["recommend-1m-customers"], "recommend-1k-customers", 0.2,
        "within 20 % of 1,000 customers", relation="within")
    for name, target_ns, label in (("BM_Run/offers:100/arbitration:0/traced:0", 30_000, "core pipeline, 100 offers"),
                                   ("BM_Run/offers:10000/arbitration:0/traced:0", 3_000_000, "core pipeline, 10,000 offers"),
                                   ("BM_LicenseCheckCached", 1_000, "cached licence check")):
        if name in core:
            rows.append({"path": label, "tps": None, "p50_ms": core[name] / 1e6, "p99_ms": None, "baseline": None,
                         "ratio": None, "target": f"< {target_ns / 1e6:g} ms", "holds": core[name] < target_ns})
    rows.append({"path": "first decision per tenant and backend", "tps": None, "p50_ms": cold_ms, "p99_ms": None,
                 "baseline": None, "ratio": None, "target": None, "holds": None, "warm_ms": warm_ms})
    rows.append({"path": "per-backend cache, 1,000 offers", "tps": None, "p50_ms": None, "p99_ms": None,
                 "baseline": None, "ratio": None, "target": "< 10 MB",
                 "holds": big < 10 * 1024 * 1024, "bytes": big, "bytes_100_offers": small})

    if args.extra_rows:
        with open(args.extra_rows) as f:
            rows += json.load(f)

    print()
    print(f"{'path':36} {'tps':>9} {'p50 ms':>8} {'p99 ms':>8} {'WAL B/tx':>9} {'CPU':>5} {'ratio':>7}  {'target':32} holds")
    for r in rows:
        tps = f"{r['tps']:.0f}" if r["tps"] is not None else "-"
        p50 = "-" if r["p50_ms"] is None else f"{r['p50_ms']:.3f}" if r["p50_ms"] >= 0.01 else f"{r['p50_ms']:.6f}"
        p99 = f"{r['p99_ms']:.3f}" if r["p99_ms"] is not None else "-"
        ratio = f"{r['ratio']:.2f}x" if r["ratio"] is not None else "-"
        wal = f"{r['wal_bytes_per_tx']}" if r.get("wal_bytes_per_tx") is not None else "-"
        cpu = f"{r['cpu_busy']:.0%}" if r.get("cpu_busy") is not None else "-"
        extra = f" ({r['bytes'] / 1048576:.1f} MB; 100 offers {r['bytes_100_offers'] / 1048576:.1f} MB)" if "bytes" in r else ""
        if "warm_ms" in r:
            extra = f" (the second: {r['warm_ms']:.2f} ms)"
        if r.get("round_ratios"):
            extra = " (by round: " + ", ".join(f"{x:.2f}" for x in r["round_ratios"]) + ")"
        holds = "-" if r["holds"] is None else ("yes" if r["holds"] else "NO")
        # A row without a target says what its ratio is of.
        target = r["target"] or (f"(of {r['baseline']})" if r["baseline"] else "-")
        print(f"{r['path']:36} {tps:>9} {p50:>8} {p99:>8} {wal:>9} {cpu:>5} {ratio:>7}  {target:32} {holds}{extra}")
    print()
    failed = False
    for name, ok, detail in checks:
        print(f"  check: {name}: {'OK' if ok else 'FAILED'} ({detail})")
        failed |= not ok
    svg_chart(rows, args.svg)
    for r in rows:
        r.pop("target_ratio", None)
        r.pop("target_band", None)
    with open(args.out, "w") as f:
        json.dump(rows, f, indent=1)
        f.write("\n")
    print(f"\n  wrote {args.out} and {args.svg} in {time.time() - started:.0f} s")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
