#!/usr/bin/python3
"""test/perf/anatomy.py - what each part of a call costs, run by
test/perf/anatomy.sh (docs/performance.md, "The same rows in plain SQL, and
why the ratio targets are out of reach here").

On the suite's database (test/perf/harness.py, the plain SQL's tables too):
a ladder of statements from the suite's baselines to kaireon's paths, each
adding one thing a call needs (more WAL, more indexes, a second row, the
API's JSON, the spec's rows), measured in rounds with them (pgbench, 8
clients) and divided by the baseline of the same round; then what the
backends wait for during a run of the write paths (pg_stat_activity
sampled every 5 ms). Prints two tables; a benchmark, never a test.
"""
import argparse
import collections
import os
import subprocess
import sys
import tempfile
import types

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

S = harness.SUPERUSER
# (name, script, user, builtin, baseline): in the order they run in a round.
LADDER = [
    ("INSERT (baseline)", "respond_a_insert.sql", S, None, None),
    ("INSERT, 576 bytes more", "anatomy_insert_wide.sql", S, None, "INSERT (baseline)"),
    ("INSERT, 3 more indexes", "anatomy_insert_indexed.sql", S, None, "INSERT (baseline)"),
    ("two INSERTs (two tables)", "anatomy_insert_two_rows.sql", S, None, "INSERT (baseline)"),
    ("INSERT, jsonb in and out", "anatomy_insert_json.sql", S, None, "INSERT (baseline)"),
    ("interaction alone, jsonb", "anatomy_interaction.sql", S, None, "INSERT (baseline)"),
    ("interaction keyed, unpartitioned", "anatomy_interaction_keyed.sql", S, None, "INSERT (baseline)"),
    ("plain SQL: respond's rows", "plain_sql_respond.sql", S, None, "INSERT (baseline)"),
    ("kaireon_respond", "respond_c_respond.sql", harness.RESPONDER, None, "INSERT (baseline)"),
    ("usage event alone, jsonb", "anatomy_usage_event.sql", S, None, "INSERT (baseline)"),
    ("usage event + audit record", "anatomy_usage_audited.sql", S, None, "INSERT (baseline)"),
    ("plain SQL: report_usage's rows", "plain_sql_usage.sql", S, None, "INSERT (baseline)"),
    ("report_usage", "usage_c_report.sql", harness.APP, None, "INSERT (baseline)"),
    ("select-only (baseline)", None, harness.APP, "select-only", None),
    ("customer by key", "anatomy_customer.sql", S, None, "select-only (baseline)"),
    ("customer by key, jsonb in and out", "anatomy_customer_json.sql", S, None, "select-only (baseline)"),
    ("plain SQL: dry run's reads", "plain_sql_dry_run.sql", S, None, "select-only (baseline)"),
    ("kaireon_recommend dryRun", "decisions_d_dry_run.sql", harness.ADMIN, None, "select-only (baseline)"),
]
WAITED = [("INSERT", "respond_a_insert.sql", S), ("kaireon_respond", "respond_c_respond.sql", harness.RESPONDER),
          ("plain SQL: respond's rows", "plain_sql_respond.sql", S), ("report_usage", "usage_c_report.sql", harness.APP),
          ("kaireon_recommend", "decisions_c_recommend.sql", harness.APP)]
SAMPLE = ("SELECT coalesce(wait_event_type, 'CPU') || ':' || coalesce(wait_event, '-') FROM pg_stat_activity "
          "WHERE backend_type = 'client backend' AND datname = current_database() AND state = 'active' "
          "AND pid <> pg_backend_pid();")


def setup_anatomy():
    """The ladder's tables: copies of the INSERT baseline's table (wider,
    with 3 more indexes, a second one) and an unpartitioned interactions
    table whose idempotency key is unique in it."""
    harness.psql("""
CREATE TABLE public.perf_anatomy_wide (LIKE public.perf_responses INCLUDING ALL, pad text);  -- 576 bytes a row: under the size that compresses
CREATE TABLE public.perf_anatomy_second (LIKE public.perf_responses INCLUDING ALL);
CREATE TABLE public.perf_anatomy_indexed (LIKE public.perf_responses INCLUDING ALL);
CREATE INDEX ON public.perf_anatomy_indexed (customer_id, recorded_at);
CREATE INDEX ON public.perf_anatomy_indexed (recorded_at);
CREATE INDEX ON public.perf_anatomy_indexed (offer_id, recorded_at);
CREATE TABLE plain_sql.interactions_keyed (LIKE kaireon.interactions INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
CREATE UNIQUE INDEX ON plain_sql.interactions_keyed (tenant_id, idempotency_key);
CREATE INDEX ON plain_sql.interactions_keyed (customer_id, tenant_id, occurred_at);
CREATE INDEX ON plain_sql.interactions_keyed (tenant_id, experiment_id, variant) WHERE experiment_id IS NOT NULL;
CREATE INDEX ON plain_sql.interactions_keyed (tenant_id, recorded_at) WHERE kind = 'impression';
VACUUM ANALYZE;
""")


def waits(name, script, user, args):
    """One pgbench run of `script` while a psql session samples what the
    other backends are doing: the average number of active backends per
    wait event ("CPU:-" for none)."""
    samples = int(args.seconds / 0.005)
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write("\n".join(["SELECT '#';", SAMPLE, "SELECT pg_sleep(0.005);"] * samples) + "\n")
        sampler_script = f.name
    os.chmod(sampler_script, 0o644)
    sampler = subprocess.Popen(["psql", "-qXAt", "-d", harness.DB, "-f", sampler_script],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    run = harness.pgbench(script, user, args.seconds, f"waits-{name.replace(' ', '_')}", args.logs)
    sampler.terminate()
    out = sampler.communicate()[0]
    os.remove(sampler_script)
    lines = [line for line in out.splitlines() if line]
    count = max(lines.count("#"), 1)
    waited = collections.Counter(line for line in lines if line != "#")
    print(f"  {name:28} {run['tps']:8.0f} tps, CPU {run['cpu_busy']:.0%} busy: " +
          ", ".join(f"{event} {n / count:.2f}" for event, n in waited.most_common(5)), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--public-key", required=True)
    ap.add_argument("--licenses", required=True)
    ap.add_argument("--logs", required=True)
    ap.add_argument("--seconds", type=int, default=5)
    cli = ap.parse_args()
    args = types.SimpleNamespace(public_key_text=open(cli.public_key).read(),
                                 licenses=open(cli.licenses).read().split(), runs=3, seconds=cli.seconds,
                                 logs=cli.logs)
    os.makedirs(args.logs, exist_ok=True)
    print("== setup (the suite's database, the plain SQL's and the ladder's tables)", flush=True)
    harness.setup(args)
    harness.setup_plain_sql()
    setup_anatomy()
    print(f"== the ladder in rounds ({harness.CLIENTS} clients, {args.seconds}s x {args.runs} runs each)", flush=True)
    results = harness.measure_rounds([(name, script, user, builtin) for name, script, user, builtin, _ in LADDER],
                                     args)
    print()
    print(f"{'statement':36} {'tps':>8} {'WAL B/tx':>9} {'CPU':>5} {'ratio':>7}  by round")
    for name, _, _, _, baseline in LADDER:
        r = results[name]
        ratio, rounds = "-", ""
        if baseline:
            base = results[baseline]
            ratio = f"{r['tps'] / base['tps']:.2f}x"
            rounds = ", ".join(f"{x:.2f}" for x in harness.round_ratios(r, base))
        print(f"{name:36} {r['tps']:8.0f} {r['wal_bytes_per_tx']:>9} {r['cpu_busy']:>5.0%} {ratio:>7}  {rounds}")
    print(f"\n== what the backends wait for ({args.seconds}s runs; active backends per sample, of {harness.CLIENTS})",
          flush=True)
    for name, script, user in WAITED:
        waits(name, script, user, args)


if __name__ == "__main__":
    main()
