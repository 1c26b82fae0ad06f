#!/usr/bin/python3
"""test/perf/router_measure.py - the measuring half of test/perf/router.sh,
which starts the router and the shards in WORK/<node> and runs this.

For kaireon_recommend and kaireon.report_usage, 3 runs of each of

    direct     pgbench on shard s1 (database kr_one, 30 tenants), no router
    1 shard    pgbench on the router (router_one), s1 (kr_one) behind it
    3 shards   pgbench on the router (router_three), s1 s2 s3 (kr_three) behind it

with harness.py's pgbench run (8 clients, 2 threads, prepared statements,
tps and latencies of the steady second half), the runs of the three
configurations interleaved; the median run of each is kept. Around each run
it reads the CPU time every cluster spent (the postmaster's own and its
exited children's, from /proc: the run's backends have exited by then) and
pgbench's, to give the CPU per call of the router and of the shards.

Checks after each run that the decisions (or the usage reported) on the
configuration's shard databases grew by exactly the transactions pgbench
committed, and after all runs that each shard of kr_three holds the rows of
its own tenants and no others. Prints a table, the router's overhead, the
3-shard/1-shard ratio on this machine, and a projection per shard count for
shards on machines of their own. Exits non-zero when a run failed or a check
did not hold, never because of speed.
"""
import argparse
import json
import math
import os
import resource
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402  (the suite's pgbench run, so the figures mean the same)

APP = "kr_perf_app"
TENANTS = [f"t{i:02d}" for i in range(1, 31)]
NODES = ("router", "s1", "s2", "s3")
THREE = [("s1", "kr_three"), ("s2", "kr_three"), ("s3", "kr_three")]
# name, the node and database pgbench connects to, the shard databases behind it.
CONFIGS = [("direct", "s1", "kr_one", [("s1", "kr_one")]),
           ("1 shard", "router", "router_one", [("s1", "kr_one")]),
           ("3 shards", "router", "router_three", THREE)]
# path, pgbench script, what a committed transaction adds on the shards.
PATHS = [("recommend", "router_recommend.sql", "SELECT count(*) FROM kaireon.decisions"),
         ("report_usage", "router_report_usage.sql",
          "SELECT coalesce(sum(value), 0)::bigint FROM kaireon.usage_events WHERE feature = 'perf_unlimited'")]
TICK_MS = 1000.0 / os.sysconf("SC_CLK_TCK")


def port(work, node):
    with open(os.path.join(work, node, "port")) as f:
        return f.read().strip()


def psql(work, node, db, sql):
    out = subprocess.run(["psql", "-qXAt", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", port(work, node),
                                  "-U", "postgres", "-d", db, "-c", sql], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"router_measure: psql on {node}/{db} failed: {sql}\n{out.stderr}")
    return out.stdout.strip()


def postmaster(work, node):
    with open(os.path.join(work, node, "data", "postmaster.pid")) as f:
        return int(f.readline())


def stat_fields(pid):
    """/proc/<pid>/stat from the state on (field 3), so that index i is field i + 3."""
    with open(f"/proc/{pid}/stat") as f:
        text = f.read()
    return text[text.rindex(")") + 2:].split()


def cpu_ms(work, node):
    """The cluster's CPU time so far: the postmaster's own and that of its
    children that have exited (utime, stime, cutime, cstime)."""
    fields = stat_fields(postmaster(work, node))
    return sum(int(fields[i]) for i in (11, 12, 13, 14)) * TICK_MS


def client_backends(work, node):
    """The node's backends of the benchmark (the application role's, and the
    router's links on a shard)."""
    parent, found = postmaster(work, node), 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if int(stat_fields(entry)[1]) != parent:
                continue
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read()
        except (OSError, IndexError, ValueError):
            continue  # it exited meanwhile
        if b"kr_perf_app" in cmdline or b"kaireon_router_link" in cmdline:
            found += 1
    return found


def settle(work):
    """Waits until the last run's backends have exited on every node, so that
    their CPU time is in their postmaster's children's time."""
    for _ in range(200):
        if all(client_backends(work, node) == 0 for node in NODES):
            return
        time.sleep(0.05)
    sys.exit("router_measure: the benchmark's backends did not exit within 10 s")


def run_once(args, path, script, count_sql, config, number):
    name, node, db, shards = config
    for shard, shard_db in shards:
        psql(args.work, shard, shard_db, "CHECKPOINT")
    before = sum(int(psql(args.work, shard, shard_db, count_sql)) for shard, shard_db in shards)
    settle(args.work)
    cpu_before = {n: cpu_ms(args.work, n) for n in NODES}
    client_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    harness.DB = db
    os.environ.update(PGHOST="127.0.0.1", PGPORT=port(args.work, node), PGUSER="postgres")
    seconds = args.scale_seconds if path == "recommend" else args.seconds
    r = harness.pgbench(script, APP, seconds, f"router-{path}-{name.replace(' ', '')}-{number}", args.logs)
    client_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    settle(args.work)
    r["cpu_ms"] = {n: cpu_ms(args.work, n) - cpu_before[n] for n in NODES}
    r["cpu_ms"]["pgbench"] = 1000 * (client_after.ru_utime + client_after.ru_stime -
                                     client_before.ru_utime - client_before.ru_stime)
    after = sum(int(psql(args.work, shard, shard_db, count_sql)) for shard, shard_db in shards)
    r["recorded"] = after - before
    print(f"    {path}, {name} run {number}: {r['tps']:.0f} tps steady ({r['tps_whole']:.0f} over the run), "
          f"{r['committed']} committed, {r['recorded']} recorded", flush=True)
    return r


def summary(runs):
    """harness.measure's median run, with the CPU per call over all runs."""
    ordered = sorted(runs, key=lambda r: r["tps"])
    median = dict(ordered[len(ordered) // 2])
    median["runs_tps"] = [round(r["tps"], 1) for r in ordered]
    committed = sum(r["committed"] for r in runs)
    spent = {k: sum(r["cpu_ms"][k] for r in runs) for k in runs[0]["cpu_ms"]}
    median["cpu_ms_per_call"] = {"router": round(spent["router"] / committed, 4),
                                 "shards": round(sum(spent[s] for s in ("s1", "s2", "s3")) / committed, 4),
                                 "pgbench": round(spent["pgbench"] / committed, 4)}
    return median


def main():
    ap = argparse.ArgumentParser(description="the measuring half of test/perf/router.sh")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--work", required=True, help="router.sh's directory of nodes (WORK/<node>/port, data)")
    ap.add_argument("--logs", required=True)
    ap.add_argument("--rows", help="write the rows for harness.py --extra-rows here")
    args = ap.parse_args()
    # The suite's run lengths: recommend over 30 tenants warms 30 catalogs per
    # backend, so it gets the tenant runs' length (harness.py scale_seconds).
    args.seconds = 5 if args.quick else 20
    args.scale_seconds = 20 if args.quick else 40
    args.runs = 3
    os.makedirs(args.logs, exist_ok=True)
    # harness.pgbench checkpoints the database it benchmarks; here that may be
    # the router, so run_once checkpoints the shards itself, before the CPU reading.
    harness.psql = lambda sql, **_: None
    cores = os.cpu_count() or 1

    results, checks = {}, []
    for path, script, count_sql in PATHS:
        seconds = args.scale_seconds if path == "recommend" else args.seconds
        print(f"== router: {path} ({harness.CLIENTS} clients, {seconds}s x {args.runs} runs each; "
              "direct, 1 shard, 3 shards interleaved)", flush=True)
        runs = {config[0]: [] for config in CONFIGS}
        # Interleaved: the load of this shared machine drifts, and each
        # configuration should see the same drift.
        for number in range(1, args.runs + 1):
            for config in CONFIGS:
                r = run_once(args, path, script, count_sql, config, number)
                runs[config[0]].append(r)
                checks.append(("run", f"{path}, {config[0]} run {number}: every committed call recorded once",
                               r["recorded"] == r["committed"], f"{r['recorded']} recorded, {r['committed']} committed"))
        for name in runs:
            results[(path, name)] = summary(runs[name])

    # Each shard of kr_three holds its own tenants' rows and no others
    # (tenant i is on s(1 + (i - 1) % 3)); kr_one all 30.
    for shard, db in THREE + [("s1", "kr_one")]:
        want = " ".join(t for i, t in enumerate(TENANTS) if db == "kr_one" or i % 3 == int(shard[1]) - 1)
        for table in ("decisions", "usage_events"):
            got = psql(args.work, shard, db, f"SELECT string_agg(DISTINCT tenant_id, ' ' ORDER BY tenant_id) "
                                              f"FROM kaireon.{table}")
            checks.append(("placement", f"{shard}/{db}: kaireon.{table} holds exactly the rows of its tenants", got == want,
                           f"tenants {got}" if got != want else f"{len(want.split())} tenants"))

    rows = []

    def label(path, name):
        return f"router: {path}, {name}"

    for path, _, _ in PATHS:
        for name, baseline in (("direct", None), ("1 shard", "direct"), ("3 shards", "1 shard")):
            r = results[(path, name)]
            ratio = r["tps"] / results[(path, baseline)]["tps"] if baseline else None
            rows.append({"path": label(path, name), "tps": round(r["tps"], 1), "tps_whole": r["tps_whole"],
                         "p50_ms": r["p50_ms"], "p99_ms": r["p99_ms"],
                         "baseline": label(path, baseline) if baseline else None,
                         "ratio": round(ratio, 3) if ratio is not None else None, "target": None, "holds": None,
                         "runs_tps": r["runs_tps"], "cpu_ms_per_call": r["cpu_ms_per_call"]})

    print()
    print(f"{'path':32} {'tps':>7} {'p50 ms':>7} {'p99 ms':>7} {'ratio':>6}  {'of':24} "
          f"{'CPU ms per call: router':>23} {'shards':>7} {'pgbench':>7}")
    for r in rows:
        ratio = f"{r['ratio']:.2f}x" if r["ratio"] is not None else "-"
        cpu = r["cpu_ms_per_call"]
        print(f"{r['path']:32} {r['tps']:7.0f} {r['p50_ms']:7.2f} {r['p99_ms']:7.2f} {ratio:>6}  "
              f"{(r['baseline'] or '-')[8:] or '-':24} {cpu['router']:23.3f} {cpu['shards']:7.3f} {cpu['pgbench']:7.3f}")

    # The projection: each shard and each router on a machine of its own, the
    # size of this one. A node's ceiling is its cores over its CPU per call
    # (measured through the router with 1 shard); the floor per shard is the
    # tps measured here through the router with 1 shard, where the shard
    # shares its cores with the router, pgbench and the machine's other work.
    print(f"\n  On this machine all 4 clusters and pgbench share {cores} cores: 3 shards cannot give more than 1 here.")
    for path, _, _ in PATHS:
        direct, one, three = (results[(path, n)] for n in ("direct", "1 shard", "3 shards"))
        shard_ms, router_ms = one["cpu_ms_per_call"]["shards"], one["cpu_ms_per_call"]["router"]
        shard_ceiling = cores * 1000 / shard_ms
        router_ceiling = cores * 1000 / router_ms
        per_router = shard_ms / router_ms
        print(f"  {path}: router overhead {one['tps'] / direct['tps']:.2f}x of direct "
              f"(p50 +{one['p50_ms'] - direct['p50_ms']:.2f} ms); 3 shards {three['tps'] / one['tps']:.2f}x of 1 shard "
              f"on this machine; per call the router spends {router_ms:.3f} ms CPU, the shard {shard_ms:.3f} ms "
              f"(direct: {direct['cpu_ms_per_call']['shards']:.3f} ms)")
        print(f"    projection, each node on its own {cores}-core machine: a shard {one['tps']:.0f} (measured here "
              f"through the router, floor) to {shard_ceiling:.0f} calls/s (CPU ceiling); one router {router_ceiling:.0f} calls/s, "
              f"so one router feeds about {per_router:.1f} shards")
        projection = []
        for n in (1, 2, 3, 4, 8, 16, 32):
            routers = max(1, math.ceil(n * shard_ceiling / router_ceiling))
            projection.append({"shards": n, "tps_floor": round(n * one["tps"]), "tps_ceiling": round(n * shard_ceiling),
                               "routers": routers})
            print(f"      {n:2d} shards: {n * one['tps']:8.0f} to {n * shard_ceiling:8.0f} calls/s, "
                  f"{routers} router{'s' if routers > 1 else ''}")
        for r in rows:
            if r["path"] == label(path, "1 shard"):
                r["projection"] = {"cores": cores, "router_cpu_ms_per_call": router_ms, "shard_cpu_ms_per_call": shard_ms,
                                   "shards_per_router": round(per_router, 2), "per_shard_count": projection}

    print()
    # Every failure in full; the runs that held in one line.
    failed = False
    for kind, name, ok, detail in checks:
        if not ok or kind != "run":
            print(f"  check: {name}: {'OK' if ok else 'FAILED'} ({detail})")
        failed |= not ok
    runs = [ok for kind, _, ok, _ in checks if kind == "run"]
    print(f"  check: {sum(runs)} of {len(runs)} runs recorded exactly what pgbench committed")
    if args.rows:
        with open(args.rows, "w") as f:
            json.dump(rows, f, indent=1)
            f.write("\n")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
