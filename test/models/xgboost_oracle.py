#!/usr/bin/python3
# xgboost_oracle.py - the core's XGBoost evaluator (through the xgb_predict
# CLI) against XGBoost's own predict.
#
#   /usr/bin/python3 test/models/xgboost_oracle.py path/to/xgb_predict
#
# Trains models at test time with Debian's python3-xgboost on generated data
# (fixed numpy seeds), saves each with Booster.save_model("x.json") into a
# temporary directory, writes the test rows as CSV, runs xgb_predict and
# compares every row with Booster.predict: the prediction (the default,
# transformed output) within 1e-6 absolute, the margin (output_margin=True)
# within 1e-5 relative + absolute. Models the core must refuse (multi-class,
# dart, gblinear, a ranking objective, truncated or garbage text) must make
# xgb_predict exit 2 with "error: ..." naming the problem.
#
# Only the standard library, numpy and xgboost: /usr/bin/python3 sees
# python3-xgboost, a python3 earlier on PATH may not.
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import xgboost as xgb

PRED_ABS = 1e-6
MARGIN_TOL = 1e-5
# One thread: OpenMP threads spin when ctest runs other tests on the same
# cores (2 threads on a busy 2-core machine took 50 s instead of 3 s).
NTHREAD = 1
FLT_MAX = float(np.finfo(np.float32).max)


class Oracle:
    def __init__(self, binary, workdir):
        self.binary = binary
        self.workdir = workdir
        self.failures = []
        self.cases = 0

    def fail(self, name, message):
        self.failures.append(f"{name}: {message}")
        print(f"FAIL {name}: {message}")

    # --- running the CLI ------------------------------------------------------

    def write_csv(self, path, X):
        # A missing cell is written as an empty field or as "nan" in turn;
        # +/-inf as "inf"/"-inf"; a float32 with 9 significant digits, which
        # strtof reads back to the same float.
        with open(path, "w") as f:
            for i, row in enumerate(X):
                fields = []
                for j, v in enumerate(row):
                    v = float(v)
                    if np.isnan(v):
                        fields.append("" if (i + j) % 2 == 0 else "nan")
                    elif np.isinf(v):
                        fields.append("inf" if v > 0 else "-inf")
                    else:
                        fields.append("%.9g" % v)
                f.write(",".join(fields) + "\n")

    def run(self, model_path, X):
        csv = model_path[:-5] + ".csv"
        self.write_csv(csv, X)
        proc = subprocess.run([self.binary, model_path, csv], capture_output=True, text=True, timeout=60)
        return proc.returncode, proc.stdout, proc.stderr

    # --- a model that must load and match -------------------------------------

    def check(self, name, booster, X, feature_types=None, note=""):
        """Compares xgb_predict with booster.predict on the rows X (float32,
        NaN missing, +/-inf allowed)."""
        self.cases += 1
        X = np.asarray(X, dtype=np.float32)
        path = os.path.join(self.workdir, name + ".json")
        booster.save_model(path)
        size_kb = os.path.getsize(path) / 1024.0
        with open(path) as f:
            model = json.load(f)  # Python reads XGBoost's NaN and Infinity
        trees = model["learner"]["gradient_booster"]["model"]["trees"]
        nodes = sum(len(tree["left_children"]) for tree in trees)

        # XGBoost's DMatrix refuses inf, so XGBoost's predictions for the
        # rows with +/-inf are taken with +/-FLT_MAX in their place: the same
        # branch at every numerical split (no finite condition is above
        # FLT_MAX) and an invalid category at every categorical one.
        # inplace_predict, which takes inf as it is, must agree.
        finite = np.where(np.isposinf(X), FLT_MAX, np.where(np.isneginf(X), -FLT_MAX, X)).astype(np.float32)
        kwargs = {}
        if feature_types is not None:
            kwargs = {"feature_types": feature_types, "enable_categorical": True}
        dm = xgb.DMatrix(finite, missing=np.nan, nthread=NTHREAD, **kwargs)
        want_pred = booster.predict(dm).astype(np.float64)
        want_margin = booster.predict(dm, output_margin=True).astype(np.float64)
        if np.isinf(X).any():
            inplace = booster.inplace_predict(X, missing=np.nan).astype(np.float64)
            bad = np.flatnonzero(np.abs(inplace - want_pred) > PRED_ABS)
            if bad.size:
                self.fail(name, f"oracle self-check: inplace_predict with inf differs from predict with "
                                f"+/-FLT_MAX at row {bad[0]}: {inplace[bad[0]]!r} vs {want_pred[bad[0]]!r}")
                return

        rc, out, err = self.run(path, X)
        if rc != 0:
            self.fail(name, f"xgb_predict exited {rc}: {out.strip()} {err.strip()}")
            return
        lines = out.splitlines()
        if len(lines) != len(X):
            self.fail(name, f"xgb_predict printed {len(lines)} lines for {len(X)} rows")
            return
        got = np.array([[float(v) for v in line.split()] for line in lines], dtype=np.float64)
        got_pred, got_margin = got[:, 0], got[:, 1]

        pred_diff = np.abs(got_pred - want_pred)
        margin_diff = np.abs(got_margin - want_margin)
        bad_pred = np.flatnonzero(~(pred_diff <= PRED_ABS))
        bad_margin = np.flatnonzero(~(margin_diff <= MARGIN_TOL + MARGIN_TOL * np.abs(want_margin)))
        for kind, bad, g, w in (("prediction", bad_pred, got_pred, want_pred),
                                ("margin", bad_margin, got_margin, want_margin)):
            if bad.size:
                i = bad[0]
                self.fail(name, f"{bad.size} of {len(X)} rows differ in the {kind}; first row {i} "
                                f"{X[i].tolist()}: xgb_predict {g[i]!r}, XGBoost {w[i]!r}")
        if bad_pred.size or bad_margin.size:
            return
        exact = int(np.sum(got_pred.astype(np.float32) == want_pred.astype(np.float32)))
        print(f"ok   {name}: {len(X)} rows, {len(trees)} trees, {nodes} nodes, {size_kb:.1f} KB, "
              f"max |diff| prediction {pred_diff.max():.1e} margin {margin_diff.max():.1e}, "
              f"{exact}/{len(X)} predictions bit-identical{note}")

    # --- a model that must be refused -----------------------------------------

    def refuse(self, name, text, words):
        """xgb_predict must exit 2 and print "error: ..." containing every
        word of `words`."""
        self.cases += 1
        path = os.path.join(self.workdir, name + ".json")
        with open(path, "w") as f:
            f.write(text)
        rc, out, err = self.run(path, np.zeros((1, 1), dtype=np.float32))
        message = out.strip()
        if rc != 2 or not message.startswith("error: "):
            self.fail(name, f"expected exit 2 with 'error: ...', got exit {rc}: {message[:200]} {err.strip()[:200]}")
            return
        missing = [w for w in words if w.lower() not in message.lower()]
        if missing:
            self.fail(name, f"refusal does not name {missing}: {message}")
            return
        print(f"ok   {name}: refused: {message[len('error: '):][:150]}")


# --- data ------------------------------------------------------------------------


def features(rng, n, p, nan_frac=0.15):
    """n rows of p standard-normal float32 features, and a copy with about
    nan_frac of the cells missing."""
    full = rng.normal(size=(n, p)).astype(np.float32)
    X = full.copy()
    X[rng.random(size=(n, p)) < nan_frac] = np.nan
    return full, X


def test_rows(rng, p, n=300, model=None):
    """Test rows: ~15 % missing cells, rows all missing, rows with +/-inf,
    and (given a model) rows whose values equal split conditions exactly."""
    _, X = features(rng, n, p)
    rows = [X]
    rows.append(np.full((4, p), np.nan, dtype=np.float32))
    inf = rng.normal(size=(8, p)).astype(np.float32)
    for i in range(8):
        inf[i, rng.integers(0, p)] = np.inf if i % 2 == 0 else -np.inf
    inf[0, :] = np.inf
    inf[1, :] = -np.inf
    inf[2, 0] = np.nan
    rows.append(inf)
    if model is not None:
        rows.append(threshold_rows(rng, model, p))
    return np.concatenate(rows).astype(np.float32)


def threshold_rows(rng, booster, p, n=40):
    """Rows whose features equal numerical split conditions of the model:
    value == condition must go right, as in XGBoost."""
    model = json.loads(booster.save_raw("json"))
    conditions = [[] for _ in range(p)]
    for tree in model["learner"]["gradient_booster"]["model"]["trees"]:
        for i, left in enumerate(tree["left_children"]):
            if left >= 0 and tree.get("split_type", [0] * len(tree["left_children"]))[i] == 0:
                conditions[tree["split_indices"][i]].append(tree["split_conditions"][i])
    X = rng.normal(size=(n, p)).astype(np.float32)
    for j in range(p):
        if conditions[j]:
            X[:, j] = np.float32(rng.choice(conditions[j], size=n))
    return X


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def train(params, X, y, rounds, **dmatrix_kwargs):
    params = dict(params)
    params.setdefault("nthread", NTHREAD)
    params.setdefault("seed", 7)
    params.setdefault("verbosity", 0)
    return xgb.train(params, xgb.DMatrix(X, label=y, missing=np.nan, nthread=NTHREAD, **dmatrix_kwargs), rounds)


# --- cases -----------------------------------------------------------------------


def objective_cases(oracle):
    rng = np.random.default_rng(20240601)
    p = 6
    full, X = features(rng, 1500, p)
    lin = full[:, 0] + 0.8 * full[:, 1] - 0.6 * full[:, 2] + 0.5 * full[:, 3] * full[:, 4]
    noise = rng.normal(size=len(full))
    binary = (lin + 0.5 * noise > 0).astype(np.float32)
    base = {"max_depth": 4, "eta": 0.3}

    def case(name, params, y, rounds=20):
        booster = train({**base, **params}, X, y, rounds)
        trees = json.loads(booster.save_raw("json"))["learner"]["gradient_booster"]["model"]["trees"]
        deleted = sum(int(t["tree_param"]["num_deleted"]) for t in trees)
        if params.get("gamma") and not deleted:
            oracle.fail(name, "pruning deleted no node: the case tests nothing")
            return
        note = f"; {deleted} deleted (pruned) nodes" if deleted else ""
        oracle.check(name, booster, test_rows(np.random.default_rng(len(name)), p, model=booster), note=note)

    case("binary_logistic", {"objective": "binary:logistic"}, binary)
    case("reg_logistic_base_0.3", {"objective": "reg:logistic", "base_score": 0.3},
         sigmoid(lin + 0.3 * noise).astype(np.float32))
    # binary:logitraw takes base_score as the margin as it is (XGBoost's
    # LogisticRaw::ProbToMargin is the identity), any value.
    case("binary_logitraw", {"objective": "binary:logitraw"}, binary)
    case("binary_logitraw_base_2", {"objective": "binary:logitraw", "base_score": 2.0}, binary, rounds=5)
    case("reg_squarederror", {"objective": "reg:squarederror", "base_score": 1.5},
         (3 * lin + np.sin(3 * full[:, 5]) + noise).astype(np.float32))
    case("count_poisson", {"objective": "count:poisson"},
         rng.poisson(np.exp(0.7 * lin)).astype(np.float32))
    case("reg_gamma", {"objective": "reg:gamma"},
         rng.gamma(2.0, np.exp(0.5 * lin) / 2.0).astype(np.float32) + np.float32(1e-3))
    tweedie = rng.poisson(np.exp(0.5 * lin)) * rng.gamma(2.0, 1.0, size=len(full))
    case("reg_tweedie", {"objective": "reg:tweedie", "tweedie_variance_power": 1.4},
         tweedie.astype(np.float32))
    case("binary_hinge", {"objective": "binary:hinge"}, binary)
    case("reg_absoluteerror", {"objective": "reg:absoluteerror"},
         (2 * lin + rng.laplace(size=len(full))).astype(np.float32))
    case("reg_squaredlogerror", {"objective": "reg:squaredlogerror"},
         np.exp(0.3 * lin + 0.1 * noise).astype(np.float32))
    case("reg_pseudohubererror", {"objective": "reg:pseudohubererror"},
         (lin + noise).astype(np.float32))
    # The exact method's pruner leaves deleted nodes in the saved tree:
    # unreachable leaves with split index 2^31-1.
    case("pruned_exact_gamma", {"objective": "binary:logistic", "tree_method": "exact", "max_depth": 6,
                                "gamma": 2.0}, binary, rounds=10)


def categorical_cases(oracle):
    rng = np.random.default_rng(424242)
    n = 2000
    # features: categorical (12 levels), numerical, categorical (4 levels), numerical
    c0 = rng.integers(0, 12, size=n).astype(np.float32)
    q1 = rng.normal(size=n).astype(np.float32)
    c2 = rng.integers(0, 4, size=n).astype(np.float32)
    q3 = rng.normal(size=n).astype(np.float32)
    effect0 = rng.normal(size=12) * 2
    effect2 = np.array([1.0, -1.0, 0.5, -0.5])
    y = effect0[c0.astype(int)] + effect2[c2.astype(int)] * q3 + q1 + 0.3 * rng.normal(size=n)
    X = np.stack([c0, q1, c2, q3], axis=1)
    # Missing categories (their own effect) so that some categorical splits
    # learn a right default direction.
    X[rng.random(size=(n, 4)) < 0.15] = np.nan
    y = np.where(np.isnan(X[:, 0]), 3.0 + q1, y)
    types = ["c", "q", "c", "q"]

    # Test rows: seen and unseen categories, negative, huge (2^24 and past),
    # non-integer values (truncated), NaN, +/-inf.
    m = 400
    T = np.stack([rng.integers(-2, 16, size=m), rng.normal(size=m),
                  rng.integers(-1, 6, size=m), rng.normal(size=m)], axis=1).astype(np.float32)
    T[rng.random(size=(m, 4)) < 0.15] = np.nan
    odd = np.array([-1, -0.5, -3, 0.5, 2.5, 3.99, 7.01, 11.9, 12, 1e9, 16777215, 16777216, 16777217,
                    3e38, -1e9, np.inf, -np.inf, np.nan], dtype=np.float32)
    S = T[: len(odd) * 3].copy()
    S[: len(odd), 0] = odd
    S[len(odd): 2 * len(odd), 2] = odd
    S[2 * len(odd):, 0] = odd
    S[2 * len(odd):, 2] = odd[::-1]
    T = np.concatenate([T, S, np.full((3, 4), np.nan, dtype=np.float32)])

    for name, params, rounds in (
            ("categorical_partition", {"objective": "reg:squarederror", "max_cat_to_onehot": 1}, 15),
            ("categorical_onehot", {"objective": "reg:squarederror", "max_cat_to_onehot": 64}, 15),
            ("categorical_partition_logistic", {"objective": "binary:logistic", "max_cat_to_onehot": 1}, 15)):
        label = y if params["objective"] != "binary:logistic" else (y > np.median(y)).astype(np.float32)
        booster = train({"tree_method": "hist", "max_depth": 4, "eta": 0.3, **params}, X, label, rounds,
                        feature_types=types, enable_categorical=True)
        model = json.loads(booster.save_raw("json"))
        trees = model["learner"]["gradient_booster"]["model"]["trees"]
        splits = [len(t["categories_nodes"]) for t in trees]
        sizes = [s for t in trees for s in t["categories_sizes"]]
        right_default = sum(1 for t in trees for k, node in enumerate(t["split_type"])
                            if node == 1 and t["default_left"][k] == 0)
        if sum(splits) == 0:
            oracle.fail(name, "the model has no categorical split")
            continue
        if params["max_cat_to_onehot"] == 1 and max(sizes) < 2:
            oracle.fail(name, "no partition split (all category sets have one category)")
            continue
        if params["max_cat_to_onehot"] == 64 and max(sizes) != 1:
            oracle.fail(name, f"one-hot model has category sets of {max(sizes)}")
            continue
        oracle.check(name, booster, T, feature_types=types,
                     note=f"; {sum(splits)} categorical splits (largest set {max(sizes)}, "
                          f"{right_default} default right)")


def big_cases(oracle):
    rng = np.random.default_rng(60)
    p = 10
    full, X = features(rng, 6000, p, nan_frac=0.05)
    y = (np.sin(2 * full[:, 0]) + full[:, 1] * full[:, 2] + np.abs(full[:, 3]) + 0.5 * full[:, 4:].sum(axis=1)
         + 0.3 * rng.normal(size=len(full))).astype(np.float32)
    params = {"objective": "reg:squarederror", "tree_method": "hist", "max_depth": 6, "eta": 0.1}
    for rounds in (60, 100):
        booster = train(params, X, y, rounds)
        oracle.check(f"depth6_{rounds}_trees", booster, test_rows(np.random.default_rng(rounds), p, n=600, model=booster))

    # Random forest: num_parallel_tree=3 with row and column sampling, 4
    # rounds (12 trees, all in group 0).
    booster = train({"objective": "binary:logistic", "tree_method": "hist", "max_depth": 5, "eta": 1.0,
                     "num_parallel_tree": 3, "subsample": 0.7, "colsample_bynode": 0.7},
                    X, (y > 0).astype(np.float32), 4)
    oracle.check("random_forest_3_parallel", booster, test_rows(np.random.default_rng(3), p, model=booster))

    # Early stopping: XGBoost keeps the trees past the best iteration and
    # Booster.predict uses them all by default, as xgb_predict does.
    noisy = (y + 2.0 * rng.normal(size=len(y))).astype(np.float32)
    dtrain = xgb.DMatrix(X[:4000], label=noisy[:4000], nthread=NTHREAD)
    dvalid = xgb.DMatrix(X[4000:], label=noisy[4000:], nthread=NTHREAD)
    booster = xgb.train({"objective": "reg:squarederror", "max_depth": 6, "eta": 0.5, "nthread": NTHREAD,
                         "seed": 7, "verbosity": 0}, dtrain, 300, evals=[(dvalid, "valid")],
                        early_stopping_rounds=5, verbose_eval=False)
    rounds, best = booster.num_boosted_rounds(), booster.best_iteration
    if rounds >= 300 or best + 1 >= rounds:
        oracle.fail("early_stopped", f"training did not stop early (rounds {rounds}, best {best})")
        return
    T = test_rows(np.random.default_rng(5), p, model=booster)
    dm = xgb.DMatrix(np.where(np.isinf(T), 0, T).astype(np.float32), nthread=NTHREAD)
    if np.array_equal(booster.predict(dm), booster.predict(dm, iteration_range=(0, best + 1))):
        oracle.fail("early_stopped", "the trees past the best iteration change nothing: the case tests nothing")
        return
    oracle.check("early_stopped", booster, T, note=f"; stopped at {rounds} rounds, best iteration {best}")


def refusal_cases(oracle):
    rng = np.random.default_rng(99)
    full, X = features(rng, 300, 3)
    y = (full[:, 0] > 0).astype(np.float32)

    def saved(booster):
        path = os.path.join(oracle.workdir, "refused_source.json")
        booster.save_model(path)
        with open(path) as f:
            return f.read()

    three = np.digitize(full[:, 0], [-0.5, 0.5]).astype(np.float32)
    oracle.refuse("refuse_multi_softprob",
                  saved(train({"objective": "multi:softprob", "num_class": 3, "max_depth": 2}, X, three, 2)),
                  ["num_class", "multi-class"])
    oracle.refuse("refuse_multi_softmax",
                  saved(train({"objective": "multi:softmax", "num_class": 3, "max_depth": 2}, X, three, 2)),
                  ["num_class"])
    oracle.refuse("refuse_dart",
                  saved(train({"booster": "dart", "objective": "binary:logistic", "max_depth": 2,
                               "rate_drop": 0.1}, X, y, 3)),
                  ["gradient_booster.name", "dart"])
    oracle.refuse("refuse_gblinear",
                  saved(train({"booster": "gblinear", "objective": "binary:logistic"}, X, y, 3)),
                  ["gradient_booster.name", "gblinear"])
    ranker = xgb.DMatrix(X, label=y, nthread=NTHREAD)
    ranker.set_group([100, 100, 100])
    oracle.refuse("refuse_rank_pairwise",
                  saved(xgb.train({"objective": "rank:pairwise", "max_depth": 2, "nthread": NTHREAD}, ranker, 2)),
                  ["objective", "rank:pairwise", "binary:logistic", "reg:squarederror"])

    good = saved(train({"objective": "binary:logistic", "max_depth": 3}, X, y, 3))
    model = json.loads(good)
    trees = model["learner"]["gradient_booster"]["model"]["trees"]
    trees[1]["right_children"] = trees[1]["right_children"][:-1]
    oracle.refuse("refuse_truncated_tree_array", json.dumps(model), ["trees[1].right_children", "entries"])

    model = json.loads(good)
    model["learner"]["gradient_booster"]["model"]["trees"].pop()
    oracle.refuse("refuse_tree_missing_from_trees", json.dumps(model), ["tree_info"])

    model = json.loads(good)
    model["learner"]["gradient_booster"]["model"]["trees"][0]["split_indices"][0] = 3
    oracle.refuse("refuse_split_index_past_num_feature", json.dumps(model), ["trees[0].split_indices[0]"])

    oracle.refuse("refuse_garbage", "this is not a model {]", ["malformed"])
    oracle.refuse("refuse_truncated_text", good[: len(good) // 2], ["malformed"])
    oracle.refuse("refuse_empty", "", [])
    oracle.refuse("refuse_json_not_a_model", '{"learner": []}', ["learner"])


def main():
    if len(sys.argv) != 2:
        print("usage: /usr/bin/python3 xgboost_oracle.py path/to/xgb_predict", file=sys.stderr)
        return 64
    binary = os.path.abspath(sys.argv[1])
    if not os.access(binary, os.X_OK):
        print(f"FAIL: {binary} is not an executable", file=sys.stderr)
        return 1
    start = time.monotonic()
    print(f"XGBoost {xgb.__version__}, numpy {np.__version__}, xgb_predict {binary}")
    with tempfile.TemporaryDirectory(prefix="xgboost_oracle.") as workdir:
        oracle = Oracle(binary, workdir)
        for group in (objective_cases, categorical_cases, big_cases, refusal_cases):
            try:
                group(oracle)
            except Exception as e:  # a broken case must fail the test, not skip it
                oracle.fail(group.__name__, f"{type(e).__name__}: {e}")
    elapsed = time.monotonic() - start
    if oracle.failures:
        failed = len({failure.split(":")[0] for failure in oracle.failures})
        print(f"\nFAILED: {failed} of {oracle.cases} cases ({elapsed:.1f} s):")
        for failure in oracle.failures:
            print(f"  {failure}")
        return 1
    print(f"\nall {oracle.cases} cases pass ({elapsed:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
