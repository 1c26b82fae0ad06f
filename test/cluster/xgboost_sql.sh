#!/usr/bin/env bash
# Gradient-boosted models end to end (docs/models.md): XGBoost models
# trained at test time with Debian's python3-xgboost, imported with
# kaireon.apply_catalog, scored by kaireon_recommend, compared with
# XGBoost's own Booster.predict. Runs against the cluster in PGHOST/PGPORT.
#   - a binary:logistic model (40 trees, depth 5) over customer.age,
#     customer.income, offer.value and context.hour, trained on generated
#     data with missing values, imported twice: as the saved file's JSON
#     object (NaN and Infinity, if any, as null) and as the file's text in
#     a JSON string;
#   - a model whose feature 1 is categorical (customer.region; tree_method
#     hist, one category set per split), whose saved text holds NaN,
#     imported as text (and as the object with NaN as null);
#   - 200 customers, some of whose attributes are null, absent, text or
#     booleans (missing, missing, missing, 1/0), regions never seen in
#     training and one that is not a whole number; 6 offers of different
#     values (one left at the default 0);
#   - a dry-run decision per customer and model, with the context's hour
#     given, absent, null or text; every offer's propensity in the
#     response must equal Booster.predict on the same features (NaN for
#     missing) within 1e-6, and every offer must be in the response;
#   - features whose count differs from the model's num_feature are
#     refused with KR400 naming definition.features.
# /usr/bin/python3 (standard library, numpy and xgboost only) runs psql.
set -euo pipefail
db=kr_xgboost_sql
python=/usr/bin/python3
work=$(mktemp -d)
chmod 755 "$work"
cleanup() {
    dropdb --if-exists "$db" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

if ! "$python" -c 'import numpy, xgboost' 2>/dev/null; then
    echo "xgboost_sql: $python cannot import numpy and xgboost (apt-get install python3-xgboost)" >&2
    exit 1
fi

dropdb --if-exists "$db" >/dev/null 2>&1
createdb "$db"
psql -qX -v ON_ERROR_STOP=1 -d "$db" >/dev/null <<'SQL'
CREATE EXTENSION kaireon;
SELECT kaireon.create_tenant('gb', 'Gradient boosted', 'ops@gb.test');
SET kaireon.tenant = 'gb';
SELECT kaireon.set_override('scoring.gradient_boosted', '{"enabled": true}');
SQL

KR_DB=$db "$python" - "$work" <<'PY'
import json
import math
import os
import subprocess
import sys
import time

import numpy as np
import xgboost as xgb

started = time.time()
work = sys.argv[1]
db = os.environ["KR_DB"]
TOLERANCE = 1e-6
failures = []


def fail(message):
    failures.append(message)
    print("FAIL " + message, flush=True)


def psql(sql):
    """Runs SQL (on stdin) as the tenant gb; answers stdout (-At)."""
    proc = subprocess.run(["psql", "-qXAt", "-v", "ON_ERROR_STOP=1", "-d", db],
                          input="SET kaireon.tenant = 'gb';\n" + sql, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        raise SystemExit("xgboost_sql: psql failed: " + proc.stderr.strip()[:2000])
    return proc.stdout


def literal(value):
    """A jsonb literal, dollar-quoted."""
    text = json.dumps(value, allow_nan=False)
    assert "$kr$" not in text
    return "$kr$" + text + "$kr$::jsonb"


def without_nan(value):
    """The JSON object of a saved model with NaN and +/-Infinity as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: without_nan(v) for k, v in value.items()}
    if isinstance(value, list):
        return [without_nan(v) for v in value]
    return value


def feature(value):
    """What a path's value is to the model (scoring.cpp feature_value)."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)):
        return float(np.float32(value))
    return float("nan")


# --- training ----------------------------------------------------------------
rng = np.random.default_rng(20260610)
n = 3000
age = rng.integers(18, 91, n).astype(np.float64)
income = np.round(np.clip(rng.normal(52000, 21000, n), 0, None), 2)
value = rng.choice([0, 10, 50, 150, 500, 1000], n).astype(np.float64)
hour = rng.integers(0, 24, n).astype(np.float64)
region = rng.integers(0, 10, n).astype(np.float64)
for column, rate in ((age, 0.10), (income, 0.10), (value, 0.05), (hour, 0.15), (region, 0.10)):
    column[rng.random(n) < rate] = np.nan
logit = (0.03 * (np.nan_to_num(age, nan=45) - 45) + (np.nan_to_num(income, nan=50000) - 50000) / 20000
         + 0.002 * np.nan_to_num(value) - 0.15 * np.abs(np.nan_to_num(hour, nan=12) - 19) + 0.5)
label = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.float64)
cat_logit = logit + np.where(np.isin(region, [1, 4, 7]), 1.5, 0) - np.where(np.isin(region, [2, 8]), 1.2, 0)
cat_label = (rng.random(n) < 1 / (1 + np.exp(-cat_logit))).astype(np.float64)

numeric_features = ["customer.age", "customer.income", "offer.value", "context.hour"]
X = np.column_stack([age, income, value, hour]).astype(np.float32)
numeric = xgb.train({"objective": "binary:logistic", "max_depth": 5, "eta": 0.3, "nthread": 2, "seed": 1},
                    xgb.DMatrix(X, label=label, missing=np.nan), num_boost_round=40)

cat_features = ["customer.age", "customer.region", "offer.value", "context.hour"]
cat_types = ["q", "c", "q", "q"]
Xc = np.column_stack([age, region, value, hour]).astype(np.float32)
categorical = xgb.train({"objective": "binary:logistic", "max_depth": 5, "eta": 0.3, "nthread": 2, "seed": 1,
                         "tree_method": "hist", "max_cat_to_onehot": 1},
                        xgb.DMatrix(Xc, label=cat_label, missing=np.nan, feature_types=cat_types,
                                    enable_categorical=True),
                        num_boost_round=40)

texts = {}
for name, booster in (("numeric", numeric), ("categorical", categorical)):
    path = os.path.join(work, name + ".json")
    booster.save_model(path)
    with open(path) as f:
        texts[name] = f.read()
    trees = len(json.loads(texts[name])["learner"]["gradient_booster"]["model"]["trees"])
    if trees != 40:
        fail(f"{name}: {trees} trees saved, not 40")
    print(f"{name}: 40 trees of depth 5, {len(texts[name]) // 1024} KB of JSON", flush=True)
if "NaN" not in texts["categorical"]:
    fail("the categorical model's saved text has no NaN: it does not test the text form")
cat_splits = sum(sum(t["split_type"]) for t in json.loads(texts["categorical"])["learner"]["gradient_booster"]["model"]["trees"])
if cat_splits == 0:
    fail("the categorical model has no categorical split")

# --- the catalog -------------------------------------------------------------
offers = [{"id": "o-zero", "value": 0}, {"id": "o-ten", "value": 10}, {"id": "o-fifty", "value": 50},
          {"id": "o-mid", "value": 150}, {"id": "o-high", "value": 1000}, {"id": "o-default"}]
offer_value = {o["id"]: o.get("value", 0) for o in offers}  # an offer's value defaults to 0

crng = np.random.default_rng(7)
customers = []
for i in range(1, 201):
    attributes = {}
    roll = crng.random()
    if roll < 0.08:
        attributes["age"] = None
    elif roll < 0.14:
        pass                                   # absent
    elif roll < 0.16:
        attributes["age"] = "forty"            # text: missing
    elif roll < 0.18:
        attributes["age"] = bool(crng.random() < 0.5)  # a boolean: 1 or 0
    else:
        attributes["age"] = int(crng.integers(16, 95))
    roll = crng.random()
    if roll < 0.08:
        pass
    elif roll < 0.14:
        attributes["income"] = None
    elif roll < 0.16:
        attributes["income"] = "n/a"
    else:
        attributes["income"] = round(float(np.clip(crng.normal(52000, 25000), 0, None)), 2)
    roll = crng.random()
    if roll < 0.10:
        pass
    elif roll < 0.14:
        attributes["region"] = int(crng.integers(10, 20))  # never seen in training
    elif roll < 0.16:
        attributes["region"] = 3.7                          # category 3
    else:
        attributes["region"] = int(crng.integers(0, 10))
    customers.append({"id": f"c{i:03d}", "attributes": attributes})

requests = []
for c in customers:
    request = {"customerId": c["id"], "dryRun": True, "limit": 50}
    roll = crng.random()
    if roll < 0.10:
        pass                                    # no context at all
    elif roll < 0.15:
        request["context"] = {"page": "home"}   # no hour
    elif roll < 0.18:
        request["context"] = {"hour": None}
    elif roll < 0.20:
        request["context"] = {"hour": "7"}      # text: missing
    else:
        request["context"] = {"hour": int(crng.integers(0, 24))}
    requests.append(request)

psql("SELECT kaireon.apply_catalog(" + literal({
    "channels": [{"id": "web", "type": "web"}],
    "offers": [dict(o, priority=50) for o in offers],
    "creatives": [{"id": o["id"] + "-web", "offerId": o["id"], "channelId": "web"} for o in offers],
    "customers": customers}) + ") IS NOT NULL;")

imports = [
    ("gb-object", "numeric", without_nan(json.loads(texts["numeric"])), numeric_features),
    ("gb-text", "numeric", texts["numeric"], numeric_features),
    ("gb-cat-text", "categorical", texts["categorical"], cat_features),
    ("gb-cat-object", "categorical", without_nan(json.loads(texts["categorical"])), cat_features),
]
for model_id, _, model, features in imports:
    answer = json.loads(psql("SELECT kaireon.apply_catalog(" + literal({
        "models": [{"id": model_id, "type": "gradient_boosted",
                    "definition": {"format": "xgboost-json", "model": model, "features": features}}],
        "flows": [{"id": "f-" + model_id, "channelId": "web", "modelId": model_id}]}) + ")::text;"))
    inserted = {k: v["inserted"] for k, v in answer["applied"].items()}
    if inserted != {"models": 1, "flows": 1}:
        fail(f"{model_id}: apply_catalog answered {answer}")

# --- decisions and Booster.predict -------------------------------------------
queries = [dict(r, flow="f-" + model_id) for model_id, *_ in imports for r in requests]
t0 = time.time()
responses = json.loads(psql(
    "SELECT jsonb_agg(jsonb_build_object('flow', r ->> 'flow', 'response', kaireon_recommend(r)) ORDER BY n)::text "
    "FROM jsonb_array_elements(" + literal(queries) + ") WITH ORDINALITY AS q (r, n);"))
decide_seconds = time.time() - t0
by_customer = {c["id"]: c["attributes"] for c in customers}
boosters = {"numeric": (numeric, None), "categorical": (categorical, cat_types)}
kind_of = {"f-" + model_id: (kind, features) for model_id, kind, _, features in imports}

compared = 0
missing_cells = 0
max_diff = {}
for query, answer in zip(queries, responses):
    flow = answer["flow"]
    response = answer["response"]
    kind, features = kind_of[flow]
    booster, types = boosters[kind]
    got = {o["offerId"]: o for o in response.get("offers", [])}
    if sorted(got) != sorted(offer_value):
        fail(f"{flow} {query['customerId']}: offers {sorted(got)}, expected all of {sorted(offer_value)}")
        continue
    attributes = by_customer[query["customerId"]]
    context = query.get("context", {})
    rows, ids = [], []
    for offer_id in sorted(got):
        row = []
        for path in features:
            root, name = path.split(".", 1)
            if root == "customer":
                row.append(feature(attributes.get(name)))
            elif root == "offer":
                row.append(feature(offer_value[offer_id]))
            else:
                row.append(feature(context.get(name)))
        rows.append(row)
        ids.append(offer_id)
    matrix = np.array(rows, dtype=np.float32)
    missing_cells += int(np.isnan(matrix).sum())
    dmatrix = xgb.DMatrix(matrix, missing=np.nan, feature_types=types, enable_categorical=types is not None)
    expected = booster.predict(dmatrix)
    for offer_id, want in zip(ids, expected):
        offer = got[offer_id]
        compared += 1
        if offer.get("propensity") is None:
            fail(f"{flow} {query['customerId']} {offer_id}: no propensity")
            continue
        diff = abs(float(offer["propensity"]) - float(want))
        max_diff[flow] = max(max_diff.get(flow, 0.0), diff)
        if not diff <= TOLERANCE:
            fail(f"{flow} {query['customerId']} {offer_id}: propensity {offer['propensity']}, "
                 f"Booster.predict {float(want)!r} (features {matrix[ids.index(offer_id)].tolist()})")
        if offer.get("score") != offer.get("propensity"):
            fail(f"{flow} {query['customerId']} {offer_id}: score {offer.get('score')} is not the propensity")

if len(responses) != len(queries):
    fail(f"{len(responses)} responses to {len(queries)} decisions")
# A model scores the same whatever form it was imported in.
propensities = {}
for query, answer in zip(queries, responses):
    model_id = answer["flow"][2:]
    form = model_id.rsplit("-", 1)[1]
    for o in answer["response"].get("offers", []):
        propensities[(model_id.rsplit("-", 1)[0], form, query["customerId"], o["offerId"])] = o.get("propensity")
for (model, form, customer, offer), p in propensities.items():
    if form == "text" and propensities.get((model, "object", customer, offer)) != p:
        fail(f"{model} {customer} {offer}: the text form scores {p}, the object form "
             f"{propensities.get((model, 'object', customer, offer))}")

# --- refusals ----------------------------------------------------------------
psql_refusal = """
CREATE FUNCTION pg_temp.refusal(doc jsonb) RETURNS text LANGUAGE plpgsql AS $f$
DECLARE
    state text;
    message text;
BEGIN
    PERFORM kaireon.apply_catalog(doc);
    RETURN 'accepted';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT;
    RETURN state || ' ' || message;
END
$f$;
"""
for count in (3, 5):
    features = (numeric_features + ["context.extra"])[:count]
    answer = psql(psql_refusal + "SELECT pg_temp.refusal(" + literal({
        "models": [{"id": "gb-wrong", "type": "gradient_boosted",
                    "definition": {"format": "xgboost-json", "model": texts["numeric"], "features": features}}]})
        + ");").strip()
    want = f"KR400 models[0].definition.features: names {count} features; the model reads 4"
    if not answer.startswith(want):
        fail(f"{count} features for a 4-feature model: got {answer!r}, expected {want!r}...")
    else:
        print(f"refused ({count} features): {answer}", flush=True)
left = psql("SELECT count(*) FROM kaireon.models WHERE tenant_id = 'gb' AND id = 'gb-wrong';").strip()
if left != "0":
    fail(f"a refused model was stored ({left})")

print(f"{len(queries)} dry-run decisions ({len(requests)} customers x {len(imports)} models) in {decide_seconds:.1f}s; "
      f"{compared} propensities compared with Booster.predict ({missing_cells} missing feature values); "
      "max abs diff " + ", ".join(f"{flow} {d:.3g}" for flow, d in sorted(max_diff.items())), flush=True)
if failures:
    print(f"xgboost_sql: FAILED, {len(failures)} problems (first: {failures[0]})", file=sys.stderr)
    sys.exit(1)
print(f"xgboost_sql: ok in {time.time() - started:.1f}s", flush=True)
PY
