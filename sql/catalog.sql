-- The decision catalog (SPEC 6.1): apply_catalog with every document key,
-- export_catalog (defaults filled, arrays sorted by id, a round trip that
-- changes nothing), merge and replace, all or nothing, every kind of
-- document error with its path, the validation of plain SQL writes,
-- check_eligibility and the compiled-catalog cache, forget_customer, the
-- tier-limited counts, tenant isolation, catalog_fields against the tables,
-- and drop_tenant.
\set SHOW_CONTEXT never
SET timezone = 'UTC';
SET kaireon.test_clock = '2026-06-10T12:00:00Z';
CREATE ROLE regress_cat_app IN ROLE kaireon_app;
SELECT kaireon.create_tenant('cat-a', 'Catalog A', 'a@cat.test') ->> 'tenantId' AS tenant,
       kaireon.create_tenant('cat-b', 'Catalog B', 'b@cat.test') ->> 'tenantId' AS tenant,
       kaireon.create_tenant('cat-c', 'Catalog C', 'c@cat.test') ->> 'tenantId' AS tenant;
SELECT kaireon.grant_tenant('regress_cat_app', 'cat-a');

-- Helpers. applied() shows an apply_catalog result one key a line;
-- catalog_snapshot() every catalog row of a tenant with its updated_at and
-- xmin (a rewritten row has a new xmin even when nothing else changed);
-- catalog_counts() the rows per catalog table; outcome() runs a command and
-- says whether it was accepted or refused (SQLSTATE).
CREATE FUNCTION pg_temp.applied(result jsonb)
RETURNS TABLE (mode text, key text, inserted int, updated int, unchanged int, deleted int)
LANGUAGE sql AS $$
    SELECT result ->> 'mode', a.key, (a.value ->> 'inserted')::int, (a.value ->> 'updated')::int,
           (a.value ->> 'unchanged')::int, (a.value ->> 'deleted')::int
    FROM jsonb_each(result -> 'applied') a ORDER BY a.key COLLATE "C"
$$;
CREATE FUNCTION pg_temp.catalog_tables() RETURNS SETOF text LANGUAGE sql AS $$
    SELECT d.t FROM (SELECT DISTINCT f.table_name AS t FROM kaireon.catalog_fields() f) d ORDER BY d.t COLLATE "C"
$$;
CREATE FUNCTION pg_temp.catalog_snapshot(tenant text)
RETURNS TABLE (table_name text, content jsonb, updated_at timestamptz, row_xmin text)
LANGUAGE plpgsql AS $$
DECLARE
    t text;
BEGIN
    FOR t IN SELECT * FROM pg_temp.catalog_tables() LOOP
        RETURN QUERY EXECUTE format(
            'SELECT %L::text, to_jsonb(r) - ''updated_at'', r.updated_at, r.xmin::text FROM kaireon.%I r WHERE r.tenant_id = $1',
            t, t) USING tenant;
    END LOOP;
END
$$;
CREATE FUNCTION pg_temp.catalog_counts(tenant text) RETURNS TABLE (table_name text, n bigint)
LANGUAGE plpgsql AS $$
DECLARE
    t text;
BEGIN
    FOR t IN SELECT * FROM pg_temp.catalog_tables() LOOP
        RETURN QUERY EXECUTE format('SELECT %L::text, count(*) FROM kaireon.%I r WHERE r.tenant_id = $1', t, t)
            USING tenant;
    END LOOP;
END
$$;
CREATE FUNCTION pg_temp.outcome(command text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE command;
    RETURN 'accepted';
EXCEPTION WHEN OTHERS THEN
    RETURN 'refused: ' || SQLSTATE;
END
$$;

-- A document with every key (ids deliberately out of order).
CREATE TEMP TABLE docs (name text PRIMARY KEY, doc jsonb NOT NULL);
INSERT INTO docs VALUES ('full', $${
 "categories": [{"id": "premium-cards", "name": "Premium cards", "parentId": "cards"},
                {"id": "loans", "name": "Loans"}, {"id": "cards", "name": "Cards"}],
 "channels": [{"id": "web", "name": "Web", "type": "web"}, {"id": "email", "type": "email", "batch": true}],
 "placements": [{"id": "sidebar", "channelId": "web"}, {"id": "hero", "channelId": "web", "name": "Hero banner", "slots": 2}],
 "outcomeTypes": [{"id": "impression", "kind": "impression"}, {"id": "click", "kind": "positive"},
                  {"id": "dismiss", "kind": "negative"}],
 "offers": [
   {"id": "platinum", "name": "Platinum card", "categoryId": "premium-cards", "priority": 90, "status": "paused"},
   {"id": "gold", "name": "Gold card", "categoryId": "premium-cards", "priority": 80, "value": 120, "lever": 0.5,
    "eligibility": "customer.age >= 30 and has_segment('mass_affluent')", "mandatory": true,
    "budget": {"metric": "impressions", "limit": 1000, "period": "daily"}, "attributes": {"tier": "gold"}},
   {"id": "cashback", "name": "Cashback card", "categoryId": "cards", "eligibility": "customer.income >= 25000",
    "startAt": "2000-01-01T00:00:00Z", "endAt": "2999-12-31T00:00:00Z"},
   {"id": "loan-future", "categoryId": "loans", "startAt": "2999-01-01T00:00:00Z"},
   {"id": "loan-past", "categoryId": "loans", "startAt": "2000-01-01T00:00:00Z", "endAt": "2001-01-01T00:00:00.25Z"},
   {"id": "student", "eligibility": "offer.tier in ['student', 'youth'] and customer.age < 26",
    "attributes": {"tier": "student"}},
   {"id": "basic"}],
 "creatives": [{"id": "gold-web", "offerId": "gold", "channelId": "web", "placementId": "hero", "name": "Gold hero",
                "content": {"title": "Go gold"}},
               {"id": "cashback-email", "offerId": "cashback", "channelId": "email"}],
 "customers": [{"id": "c2", "attributes": {"age": 22, "income": 18000}},
               {"id": "c1", "attributes": {"age": 34, "income": 52000}, "segments": ["mass_affluent"],
                "timezone": "Europe/Paris"}],
 "consents": [{"customerId": "c1", "channelId": "web", "granted": false},
              {"customerId": "c1", "channelId": "email", "granted": true}],
 "metrics": [{"id": "clicks_30d", "name": "Clicks in 30 days",
              "definition": {"outcomeTypes": ["click"], "windowDays": 30, "aggregation": "count"}}],
 "models": [{"id": "score-1", "type": "scorecard",
             "definition": {"base": 10, "rules": [{"when": "customer.age >= 30", "points": 5}]}}],
 "flows": [{"id": "web-home", "channelId": "web", "placementId": "hero", "eligibility": "context.page = 'home'",
            "modelId": "score-1", "ranking": {"method": "top_n", "n": 3}, "groups": [{"placementId": "hero", "slots": 2}],
            "experimentId": "exp-1"}],
 "experiments": [{"id": "exp-1", "flowId": "web-home", "type": "ab", "holdoutPercent": 5,
                  "variants": [{"id": "a", "weight": 50, "control": true}, {"id": "b", "weight": 50}]}],
 "policies": [{"id": "freq", "type": "frequency_cap", "config": {"maxPerDay": 3}},
              {"id": "cool-gold", "type": "cooldown", "scope": "offer", "scopeId": "gold", "config": {"cooldownHours": 24}}],
 "caps": [{"id": "gold-daily", "scope": "offer", "scopeId": "gold", "maxVolume": 1000, "period": "daily"}],
 "journeys": [{"id": "welcome",
               "nodes": [{"id": "n1", "type": "recommend", "flowId": "web-home"}, {"id": "n2", "type": "wait", "waitHours": 24},
                         {"id": "n3", "type": "exit"}],
               "edges": [{"from": "n1", "to": "n2"}, {"from": "n2", "to": "n3"}]}],
 "triggers": [{"id": "on-signup", "eventType": "customer.signup", "action": {"type": "enroll_journey", "journeyId": "welcome"}}],
 "connectors": [{"id": "crm", "type": "salesforce", "config": {"region": "eu"}}],
 "cmsSources": [{"id": "cms-1", "type": "contentful"}]
}$$);
SELECT count(*) AS document_keys FROM docs, jsonb_object_keys(doc) WHERE name = 'full';

-- ===========================================================================
-- 1. apply_catalog and export_catalog
-- ===========================================================================
SET kaireon.tenant = 'cat-a';
-- A new tenant exports every key, empty.
SELECT key, value FROM jsonb_each(kaireon.export_catalog()) ORDER BY key;
SELECT * FROM pg_temp.applied(kaireon.apply_catalog((SELECT doc FROM docs WHERE name = 'full')));
SELECT * FROM pg_temp.catalog_counts('cat-a');

-- The export: every array sorted by id (consents by customerId, channelId).
SELECT e.key, jsonb_agg(coalesce(o.value ->> 'id', (o.value ->> 'customerId') || '/' || (o.value ->> 'channelId'))
                        ORDER BY o.n) AS ids_in_export_order
FROM jsonb_each(kaireon.export_catalog()) e, jsonb_array_elements(e.value) WITH ORDINALITY o(value, n)
GROUP BY e.key ORDER BY e.key;
-- Every object comes back exactly as applied (same_as_applied compares the
-- fields the document gave), plus its defaults (filled); nothing is missing
-- or extra.
WITH applied AS (
    SELECT k.key, o.value AS obj FROM docs, jsonb_each(doc) k, jsonb_array_elements(k.value) o WHERE name = 'full'
), exported AS (
    SELECT k.key, o.value AS obj FROM jsonb_each(kaireon.export_catalog()) k, jsonb_array_elements(k.value) o
), paired AS (
    SELECT coalesce(a.key, e.key) AS key,
           coalesce(a.obj, e.obj) ->> 'id' AS id,
           a.obj AS applied_obj, e.obj AS exported_obj
    FROM applied a FULL JOIN exported e
      ON a.key = e.key AND a.obj -> 'id' IS NOT DISTINCT FROM e.obj -> 'id'
     AND a.obj -> 'customerId' IS NOT DISTINCT FROM e.obj -> 'customerId'
     AND a.obj -> 'channelId' IS NOT DISTINCT FROM e.obj -> 'channelId'
)
SELECT key, coalesce(id, (exported_obj ->> 'customerId') || '/' || (exported_obj ->> 'channelId')) AS id,
       applied_obj IS NOT NULL AS in_doc, exported_obj IS NOT NULL AS in_export,
       (SELECT jsonb_object_agg(x.key, x.value) FROM jsonb_each(exported_obj) x WHERE applied_obj ? x.key) = applied_obj
           AS same_as_applied,
       (SELECT jsonb_object_agg(x.key, x.value) FROM jsonb_each(exported_obj) x WHERE NOT applied_obj ? x.key)
           AS defaults_filled
FROM paired ORDER BY key, id;
-- A few keys in full.
SELECT jsonb_pretty(kaireon.export_catalog() -> 'offers' -> 0) AS basic_offer;
SELECT jsonb_pretty(kaireon.export_catalog() -> 'offers' -> 4) AS loan_past_offer;
SELECT jsonb_pretty(kaireon.export_catalog() -> 'customers') AS customers;
SELECT jsonb_pretty(kaireon.export_catalog() -> 'policies') AS policies;

-- apply_catalog(export_catalog()) reports everything unchanged, rewrites no
-- row and writes nothing to the audit trail.
CREATE TEMP TABLE snap AS SELECT * FROM pg_temp.catalog_snapshot('cat-a');
SELECT count(*) AS audit_before FROM kaireon.audit_log WHERE tenant_id = 'cat-a' \gset
SELECT * FROM pg_temp.applied(kaireon.apply_catalog(kaireon.export_catalog()));
SELECT count(*) AS rows_before,
       (SELECT count(*) FROM pg_temp.catalog_snapshot('cat-a')) AS rows_after,
       (SELECT count(*) FROM (SELECT * FROM snap EXCEPT SELECT * FROM pg_temp.catalog_snapshot('cat-a')) x) AS rows_changed,
       (SELECT count(*) FROM kaireon.audit_log WHERE tenant_id = 'cat-a') - :audit_before AS new_audit_rows
FROM snap;
-- So does the original document, and the export in replace mode.
SELECT * FROM pg_temp.applied(kaireon.apply_catalog((SELECT doc FROM docs WHERE name = 'full')))
WHERE inserted + updated + deleted > 0;
SELECT * FROM pg_temp.applied(kaireon.apply_catalog(kaireon.export_catalog(), 'replace'))
WHERE inserted + updated + deleted > 0;
SELECT (SELECT count(*) FROM (SELECT * FROM snap EXCEPT SELECT * FROM pg_temp.catalog_snapshot('cat-a')) x) AS rows_changed,
       (SELECT count(*) FROM kaireon.audit_log WHERE tenant_id = 'cat-a') - :audit_before AS new_audit_rows;
-- An empty document is a no-op; mode NULL is merge.
SELECT kaireon.apply_catalog('{}') AS empty_document, kaireon.apply_catalog('{}', NULL) AS null_mode;

-- Merge upserts what the document names and leaves every other row alone: a
-- changed offer is updated, a new one inserted, the others untouched.
SELECT * FROM pg_temp.applied(kaireon.apply_catalog(jsonb_build_object('offers', jsonb_build_array(
    jsonb_set(kaireon.export_catalog() -> 'offers' -> 2, '{priority}', '85'),
    '{"id": "new-offer", "name": "New"}'::jsonb,
    kaireon.export_catalog() -> 'offers' -> 0))));
SELECT table_name, content ->> 'id' AS id, content ->> 'priority' AS priority
FROM (SELECT * FROM pg_temp.catalog_snapshot('cat-a') EXCEPT SELECT * FROM snap) changed ORDER BY 1, 2;
SELECT table_name, content ->> 'id' AS id FROM (SELECT * FROM snap EXCEPT SELECT * FROM pg_temp.catalog_snapshot('cat-a')) gone
ORDER BY 1, 2;
-- A merged object is the whole row: a field it omits takes its default.
SELECT * FROM pg_temp.applied(kaireon.apply_catalog('{"offers": [{"id": "new-offer"}]}'));
SELECT id, name, priority FROM kaireon.offers WHERE tenant_id = 'cat-a' AND id = 'new-offer';

-- Replace deletes the rows of the keys the document names that it omits;
-- keys it does not name are untouched (connectors: [] empties connectors).
SELECT * FROM pg_temp.applied(kaireon.apply_catalog(jsonb_build_object(
    'offers', jsonb_path_query_array(kaireon.export_catalog() -> 'offers',
                                     '$[*] ? (@.id == "gold" || @.id == "cashback" || @.id == "basic")'),
    'connectors', '[]'::jsonb), 'replace'));
SELECT b.table_name, b.n AS before, a.n AS after
FROM (SELECT table_name, count(*) AS n FROM snap GROUP BY 1) b
JOIN pg_temp.catalog_counts('cat-a') a USING (table_name)
WHERE a.n <> b.n ORDER BY 1;
SELECT id FROM kaireon.offers WHERE tenant_id = 'cat-a' ORDER BY id COLLATE "C";
-- The full document in replace mode brings the offers and the connector
-- back (gold as it was) and leaves the rest unchanged: the catalog has the
-- content it had after the first apply (created_at aside for the rows
-- deleted and inserted again).
SELECT * FROM pg_temp.applied(kaireon.apply_catalog((SELECT doc FROM docs WHERE name = 'full'), 'replace'))
WHERE inserted + updated + deleted > 0;
SELECT count(*) AS rows_changed_since_first_apply
FROM (SELECT table_name, content - 'created_at' FROM snap
      EXCEPT SELECT table_name, content - 'created_at' FROM pg_temp.catalog_snapshot('cat-a')) x;

-- All or nothing: the 3rd offer is bad, so the new category and channel
-- named before it are not written either.
SELECT kaireon.apply_catalog($${
 "categories": [{"id": "savings"}],
 "channels": [{"id": "sms", "type": "sms"}],
 "offers": [{"id": "save-1", "categoryId": "savings"}, {"id": "save-2", "categoryId": "savings"},
            {"id": "save-3", "categoryId": "savings", "priority": 101}]
}$$);
\echo :LAST_ERROR_SQLSTATE
-- The same when the failure comes while writing (a tier limit on the last
-- key, after categories were written).
SELECT kaireon.apply_catalog($${
 "categories": [{"id": "savings"}],
 "cmsSources": [{"id": "cms-1", "type": "contentful"}, {"id": "cms-2", "type": "contentful"},
                {"id": "cms-3", "type": "contentful"}]
}$$);
\echo :LAST_ERROR_SQLSTATE
SELECT (SELECT count(*) FROM kaireon.categories WHERE tenant_id = 'cat-a' AND id = 'savings') AS savings,
       (SELECT count(*) FROM kaireon.channels WHERE tenant_id = 'cat-a' AND id = 'sms') AS sms,
       (SELECT count(*) FROM kaireon.offers WHERE tenant_id = 'cat-a' AND id LIKE 'save-%') AS save_offers,
       (SELECT count(*) FROM kaireon.cms_sources WHERE tenant_id = 'cat-a') AS cms_sources;

-- ===========================================================================
-- 2. Document errors: KR400, the message and DETAIL name the path
-- (zero-based) in the submitted document.
-- ===========================================================================
SELECT count(*) AS audit_before FROM kaireon.audit_log WHERE tenant_id = 'cat-a' \gset
-- The document itself, its keys, the mode.
SELECT kaireon.apply_catalog('{"offer": []}');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.apply_catalog('{"offers": {"id": "x"}}');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.apply_catalog('[{"offers": []}]');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.apply_catalog(NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.apply_catalog('{}', 'upsert');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.apply_catalog('{"offers": [5]}');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.apply_catalog('{"offers": [{"id": "x"}, null]}');
\echo :LAST_ERROR_SQLSTATE
-- Unknown fields, at the top of an object and inside one.
SELECT kaireon.apply_catalog('{"offers": [{"id": "x", "colour": "red"}]}');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.apply_catalog('{"offers": [{"id": "x", "budget": {"metric": "value", "limit": 5, "period": "daily", "currency": "EUR"}}]}');
\echo :LAST_ERROR_SQLSTATE
-- Wrong types.
SELECT kaireon.apply_catalog('{"offers": [{"id": "x", "priority": "high"}]}');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.apply_catalog('{"offers": [{"id": "x", "mandatory": "yes"}]}');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.apply_catalog('{"offers": [{"id": "x", "attributes": []}]}');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.apply_catalog('{"customers": [{"id": "x", "segments": "gold"}]}');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.apply_catalog('{"offers": [{"id": 7}]}');
\echo :LAST_ERROR_SQLSTATE
-- Required fields, identifiers, enums, timestamps, time zones.
SELECT kaireon.apply_catalog('{"channels": [{"id": "x"}]}');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.apply_catalog('{"offers": [{"name": "no id"}]}');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.apply_catalog('{"offers": [{"id": "bad id"}]}');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.apply_catalog('{"channels": [{"id": "x", "type": "fax"}]}');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.apply_catalog('{"offers": [{"id": "x", "startAt": "tomorrow"}]}');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.apply_catalog('{"offers": [{"id": "x", "startAt": "2030-01-02T00:00:00Z", "endAt": "2030-01-01T00:00:00Z"}]}');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.apply_catalog('{"customers": [{"id": "x", "timezone": "Mars/Olympus_Mons"}]}');
\echo :LAST_ERROR_SQLSTATE
-- Bounds.
SELECT kaireon.apply_catalog('{"offers": [{"id": "x", "priority": 100.5}]}');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.apply_catalog('{"offers": [{"id": "x", "lever": -0.1}]}');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.apply_catalog('{"offers": [{"id": "x", "value": -1}]}');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.apply_catalog('{"placements": [{"id": "x", "channelId": "web", "slots": 0}]}');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.apply_catalog('{"placements": [{"id": "x", "channelId": "web", "slots": 2.5}]}');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.apply_catalog('{"offers": [{"id": "x", "budget": {"metric": "value", "limit": 0, "period": "daily"}}]}');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.apply_catalog('{"caps": [{"id": "x", "scope": "offer", "scopeId": "gold", "maxVolume": 0, "period": "daily"}]}');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.apply_catalog(jsonb_build_object('offers', jsonb_build_array(jsonb_build_object('id', 'x', 'name', repeat('n', 1001)))));
\echo :LAST_ERROR_SQLSTATE
-- Rules across fields.
SELECT kaireon.apply_catalog('{"experiments": [{"id": "x", "flowId": "web-home", "type": "ab", "variants": [{"id": "a", "weight": 1, "control": true}]}]}');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.apply_catalog('{"policies": [{"id": "x", "type": "frequency_cap"}]}');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.apply_catalog('{"policies": [{"id": "x", "type": "cooldown", "scope": "offer", "config": {"cooldownHours": 1}}]}');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.apply_catalog('{"flows": [{"id": "x", "ranking": {"method": "arbitration"}}]}');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.apply_catalog('{"journeys": [{"id": "x", "nodes": [{"id": "n1", "type": "exit"}], "edges": [{"from": "n1", "to": "n9"}]}]}');
\echo :LAST_ERROR_SQLSTATE
-- Duplicate keys.
SELECT kaireon.apply_catalog('{"offers": [{"id": "a"}, {"id": "b"}, {"id": "a"}]}');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.apply_catalog('{"consents": [{"customerId": "c1", "channelId": "web", "granted": true}, {"customerId": "c1", "channelId": "web", "granted": false}]}');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.apply_catalog('{"experiments": [{"id": "x", "flowId": "web-home", "type": "bandit", "bandit": {"algorithm": "thompson"}, "variants": [{"id": "v", "weight": 1}, {"id": "v", "weight": 2}]}]}');
\echo :LAST_ERROR_SQLSTATE
-- References: to rows that neither the document nor the tenant has.
SELECT kaireon.apply_catalog('{"offers": [{"id": "x", "categoryId": "nope"}]}');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.apply_catalog('{"policies": [{"id": "x", "type": "allow_override", "config": {"offerIds": ["gold", "ghost"]}}]}');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.apply_catalog('{"flows": [{"id": "x", "experimentId": "exp-9"}]}');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.apply_catalog('{"caps": [{"id": "x", "scope": "category", "scopeId": "nope", "maxVolume": 1, "period": "daily"}]}');
\echo :LAST_ERROR_SQLSTATE
-- A reference to a row of the same document is fine in merge mode; in
-- replace mode a reference to a row the document deletes is refused.
BEGIN;
SELECT * FROM pg_temp.applied(kaireon.apply_catalog('{"categories": [{"id": "cards"}], "offers": [{"id": "x", "categoryId": "loans"}]}'));
ROLLBACK;
SELECT kaireon.apply_catalog('{"categories": [{"id": "cards"}], "offers": [{"id": "x", "categoryId": "loans"}]}', 'replace');
\echo :LAST_ERROR_SQLSTATE
-- Expressions: the position of the error in the expression.
SELECT kaireon.apply_catalog($${"offers": [{"id": "o0"}, {"id": "o1"}, {"id": "o2", "eligibility": "customer.age >= 18"},
                                            {"id": "o3", "eligibility": "customer.age >> 18"}]}$$);
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.apply_catalog($${"flows": [{"id": "x", "eligibility": "customer.age + 1"}]}$$);
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.apply_catalog($${"flows": [{"id": "x", "ranking": {"relevance": "customer.age > 1"}}]}$$);
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.apply_catalog($${"models": [{"id": "x", "type": "scorecard", "definition": {"rules": [{"when": "cust.age > 1", "points": 1}]}}]}$$);
\echo :LAST_ERROR_SQLSTATE
-- Categories may not loop: within the document, through existing rows, or
-- onto themselves.
SELECT kaireon.apply_catalog('{"categories": [{"id": "a", "parentId": "b"}, {"id": "b", "parentId": "c"}, {"id": "c", "parentId": "a"}]}');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.apply_catalog('{"categories": [{"id": "cards", "parentId": "premium-cards"}]}');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.apply_catalog('{"categories": [{"id": "a", "parentId": "a"}]}');
\echo :LAST_ERROR_SQLSTATE
-- Replace mode cannot delete a row that rows outside the document still
-- need: the offers named by creatives the document does not list.
SELECT kaireon.apply_catalog(jsonb_build_object('offers',
    jsonb_path_query_array(kaireon.export_catalog() -> 'offers', '$[*] ? (@.id != "gold")')), 'replace');
\echo :LAST_ERROR_SQLSTATE
-- ... nor one they refer to without a foreign key (flows.experimentId,
-- metrics' outcomeTypes, caps' and policies' scopeId): every reference must
-- name a row that exists after the apply.
BEGIN;
SELECT pg_temp.outcome($$SELECT kaireon.apply_catalog('{"experiments": []}', 'replace')$$) AS experiments_emptied;
SELECT pg_temp.outcome($$SELECT kaireon.apply_catalog('{"outcomeTypes": [{"id": "impression", "kind": "impression"}]}', 'replace')$$)
    AS click_removed;
SELECT pg_temp.outcome($$SELECT kaireon.apply_catalog(jsonb_build_object(
    'offers', jsonb_path_query_array(kaireon.export_catalog() -> 'offers', '$[*] ? (@.id != "gold")'),
    'creatives', jsonb_path_query_array(kaireon.export_catalog() -> 'creatives', '$[*] ? (@.offerId != "gold")')), 'replace')$$)
    AS gold_removed;
SELECT 'flows' AS table_name, f.id, f.experiment_id AS dangling FROM kaireon.flows f
WHERE f.tenant_id = 'cat-a' AND NOT EXISTS (SELECT FROM kaireon.experiments e WHERE e.tenant_id = f.tenant_id AND e.id = f.experiment_id)
UNION ALL
SELECT 'metrics', m.id, o.value FROM kaireon.metrics m, jsonb_array_elements_text(m.definition -> 'outcomeTypes') o
WHERE m.tenant_id = 'cat-a' AND NOT EXISTS (SELECT FROM kaireon.outcome_types t WHERE t.tenant_id = m.tenant_id AND t.id = o.value)
UNION ALL
SELECT 'caps', c.id, c.scope_id FROM kaireon.caps c
WHERE c.tenant_id = 'cat-a' AND NOT EXISTS (SELECT FROM kaireon.offers o WHERE o.tenant_id = c.tenant_id AND o.id = c.scope_id)
UNION ALL
SELECT 'policies', p.id, p.scope_id FROM kaireon.policies p
WHERE p.tenant_id = 'cat-a' AND p.scope = 'offer'
  AND NOT EXISTS (SELECT FROM kaireon.offers o WHERE o.tenant_id = p.tenant_id AND o.id = p.scope_id)
ORDER BY 1, 2;
ROLLBACK;
-- None of the refused documents wrote anything.
SELECT count(*) AS rows_changed_since_first_apply
FROM (SELECT table_name, content - 'created_at' FROM snap
      EXCEPT SELECT table_name, content - 'created_at' FROM pg_temp.catalog_snapshot('cat-a')) x;
SELECT (SELECT count(*) FROM kaireon.audit_log WHERE tenant_id = 'cat-a') - :audit_before AS new_audit_rows;

-- ===========================================================================
-- 3. Plain SQL on the tables is validated the same way (paths name the row
-- by its key); tenant_id defaults to the current tenant.
-- ===========================================================================
INSERT INTO kaireon.offers (id, priority) VALUES ('y', 150);
\echo :LAST_ERROR_SQLSTATE
INSERT INTO kaireon.offers (id, name) VALUES ('y', 'Plain SQL');
SELECT tenant_id, id, name, priority, value, lever, status, mandatory, attributes FROM kaireon.offers WHERE id = 'y';
UPDATE kaireon.offers SET priority = -1 WHERE id = 'y';
\echo :LAST_ERROR_SQLSTATE
UPDATE kaireon.offers SET eligibility = 'customer.age >> 18' WHERE id = 'y';
\echo :LAST_ERROR_SQLSTATE
UPDATE kaireon.offers SET budget = '{"metric": "clicks", "limit": 1, "period": "daily"}' WHERE id = 'y';
\echo :LAST_ERROR_SQLSTATE
UPDATE kaireon.offers SET attributes = '[1]' WHERE id = 'y';
\echo :LAST_ERROR_SQLSTATE
INSERT INTO kaireon.offers (id) VALUES ('bad id');
\echo :LAST_ERROR_SQLSTATE
INSERT INTO kaireon.channels (id, type) VALUES ('fax', 'fax');
\echo :LAST_ERROR_SQLSTATE
INSERT INTO kaireon.channels (id) VALUES ('fax');
\echo :LAST_ERROR_SQLSTATE
INSERT INTO kaireon.customers (id, segments) VALUES ('c3', '{gold,gold}');
\echo :LAST_ERROR_SQLSTATE
INSERT INTO kaireon.consents (customer_id, channel_id, granted) VALUES ('c2', 'web', NULL);
\echo :LAST_ERROR_SQLSTATE
INSERT INTO kaireon.policies (id, type, config) VALUES ('p', 'time_window', '{"startHour": 20, "endHour": 8}');
\echo :LAST_ERROR_SQLSTATE
-- References are the foreign keys' business in plain SQL.
INSERT INTO kaireon.creatives (id, offer_id, channel_id) VALUES ('cr', 'ghost', 'web');
\echo :LAST_ERROR_SQLSTATE
-- A row cannot move to another tenant.
UPDATE kaireon.offers SET tenant_id = 'cat-b' WHERE id = 'y';
\echo :LAST_ERROR_SQLSTATE
-- updated_at moves on UPDATE (whatever the statement sets); created_at stays.
SELECT created_at AS y_created, updated_at AS y_updated FROM kaireon.offers WHERE id = 'y' \gset
UPDATE kaireon.offers SET priority = 60, updated_at = '2000-01-01', eligibility = 'customer.age >= 18' WHERE id = 'y';
SELECT priority, eligibility, created_at = :'y_created' AS created_kept, updated_at > :'y_updated' AS updated_moved
FROM kaireon.offers WHERE id = 'y';
DELETE FROM kaireon.offers WHERE id = 'y';
-- Without a tenant there is no default tenant_id.
RESET kaireon.tenant;
INSERT INTO kaireon.connectors (id, type) VALUES ('x', 'http');
\echo :LAST_ERROR_SQLSTATE
SET kaireon.tenant = 'cat-a';

-- ===========================================================================
-- 4. check_eligibility and the compiled catalog's cache.
-- ===========================================================================
SELECT cache_hits AS hits0, cache_misses AS misses0 FROM kaireon.stats WHERE tenant_id = 'cat-a' \gset
SELECT * FROM kaireon.check_eligibility('c1', '{"page": "home"}', 'web-home');
SELECT cache_hits - :hits0 AS hits, cache_misses - :misses0 AS misses FROM kaireon.stats WHERE tenant_id = 'cat-a';
-- The flow's eligibility reads the context.
SELECT * FROM kaireon.check_eligibility('c1', '{"page": "cart"}', 'web-home');
SELECT cache_hits - :hits0 AS hits, cache_misses - :misses0 AS misses FROM kaireon.stats WHERE tenant_id = 'cat-a';
-- Without a flow only the offers' own rules count; c2 is young and not
-- affluent.
SELECT * FROM kaireon.check_eligibility('c2');
SELECT * FROM kaireon.check_eligibility('c2', NULL, NULL) WHERE eligible;
-- A change is seen by the next call (a cache miss), and a rolled-back
-- change is forgotten.
UPDATE kaireon.offers SET status = 'retired' WHERE tenant_id = 'cat-a' AND id = 'basic';
SELECT * FROM kaireon.check_eligibility('c2') WHERE offer_id = 'basic';
SELECT cache_hits - :hits0 AS hits, cache_misses - :misses0 AS misses FROM kaireon.stats WHERE tenant_id = 'cat-a';
BEGIN;
UPDATE kaireon.offers SET status = 'active', eligibility = 'customer.age > 99' WHERE tenant_id = 'cat-a' AND id = 'basic';
SELECT * FROM kaireon.check_eligibility('c2') WHERE offer_id = 'basic';
ROLLBACK;
SELECT * FROM kaireon.check_eligibility('c2') WHERE offer_id = 'basic';
SELECT * FROM kaireon.check_eligibility('c2') WHERE offer_id = 'basic';
SELECT cache_hits - :hits0 AS hits, cache_misses - :misses0 AS misses FROM kaireon.stats WHERE tenant_id = 'cat-a';
-- apply_catalog changes are seen too.
SELECT * FROM pg_temp.applied(kaireon.apply_catalog((SELECT doc FROM docs WHERE name = 'full')))
WHERE inserted + updated + deleted > 0;
SELECT * FROM kaireon.check_eligibility('c2') WHERE offer_id = 'basic';
SELECT cache_hits - :hits0 AS hits, cache_misses - :misses0 AS misses FROM kaireon.stats WHERE tenant_id = 'cat-a';
-- Customers and consents are read per call, not compiled: writing them
-- (an application syncing profiles) costs no cache miss, and is still seen.
UPDATE kaireon.customers SET attributes = attributes || '{"age": 99}' WHERE tenant_id = 'cat-a' AND id = 'c2';
SELECT * FROM kaireon.check_eligibility('c2') WHERE offer_id = 'basic';
SELECT cache_hits - :hits0 AS hits, cache_misses - :misses0 AS misses FROM kaireon.stats WHERE tenant_id = 'cat-a';
UPDATE kaireon.customers SET attributes = attributes - 'age' || (SELECT attributes FROM kaireon.customers
    WHERE tenant_id = 'cat-a' AND id = 'c2') - 'age' WHERE tenant_id = 'cat-a' AND id = 'c2';
-- Unknown customer, unknown flow, a context that is not an object.
SELECT * FROM kaireon.check_eligibility('nobody');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM kaireon.check_eligibility('c1', '{}', 'nope');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM kaireon.check_eligibility('c1', '[1]');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM kaireon.check_eligibility(NULL);
\echo :LAST_ERROR_SQLSTATE

-- ===========================================================================
-- 5. forget_customer erases the customer and its consents; customers are
-- not audited, consents are, and so is the erasure.
-- ===========================================================================
SELECT max(id) AS audit_mark FROM kaireon.audit_log \gset
INSERT INTO kaireon.customers (id, attributes) VALUES ('c9', '{"age": 40}');
UPDATE kaireon.customers SET attributes = '{"age": 41}' WHERE id = 'c9';
DELETE FROM kaireon.customers WHERE id = 'c9';
SELECT count(*) AS audit_rows_for_customer_changes FROM kaireon.audit_log WHERE tenant_id = 'cat-a' AND id > :audit_mark;
SELECT kaireon.forget_customer('c1');
SELECT kaireon.forget_customer('c1') AS again;
SELECT kaireon.forget_customer(NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT (SELECT count(*) FROM kaireon.customers WHERE tenant_id = 'cat-a' AND id = 'c1') AS customer,
       (SELECT count(*) FROM kaireon.consents WHERE tenant_id = 'cat-a' AND customer_id = 'c1') AS consents,
       (SELECT count(*) FROM kaireon.customers WHERE tenant_id = 'cat-a') AS customers_left;
SELECT action, target, CASE WHEN action = 'customer.forgotten' THEN details END AS details
FROM kaireon.audit_log WHERE tenant_id = 'cat-a' AND id > :audit_mark ORDER BY id;
-- The whole trail of cat-a: consents' changes, never customers'.
SELECT action, count(*) FROM kaireon.audit_log
WHERE tenant_id = 'cat-a' AND (action ~ '^catalog\.(customer|consent)\.' OR action LIKE 'customer.%')
GROUP BY action ORDER BY action;
SELECT * FROM kaireon.check_eligibility('c1');
\echo :LAST_ERROR_SQLSTATE

-- ===========================================================================
-- 6. Tier-limited counts (tenant cat-c, Community: connectors 5, CMS
-- sources 2, content items 100, behavioral metrics 5).
-- ===========================================================================
SET kaireon.tenant = 'cat-c';
SELECT f AS feature, kaireon.entitlement(f) ->> 'limit' AS community_limit
FROM unnest(ARRAY['connectors', 'cms_sources', 'content_items', 'behavioral_metrics']) f;
INSERT INTO kaireon.connectors (id, type) SELECT 'conn-' || i, 'http' FROM generate_series(1, 5) i;
INSERT INTO kaireon.connectors (id, type) VALUES ('conn-6', 'http');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS connectors FROM kaireon.connectors WHERE tenant_id = 'cat-c';
-- A statement that crosses the limit is refused whole.
DELETE FROM kaireon.connectors WHERE id = 'conn-5';
INSERT INTO kaireon.connectors (id, type) VALUES ('conn-5', 'http'), ('conn-6', 'http');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS connectors FROM kaireon.connectors WHERE tenant_id = 'cat-c';
SELECT * FROM pg_temp.applied(kaireon.apply_catalog('{"connectors": [{"id": "conn-5", "type": "http"}]}'));
SELECT kaireon.apply_catalog('{"connectors": [{"id": "conn-6", "type": "http"}]}');
\echo :LAST_ERROR_SQLSTATE
-- Other tenants' rows do not count: cat-a still adds one.
SET kaireon.tenant = 'cat-a';
SELECT * FROM pg_temp.applied(kaireon.apply_catalog('{"connectors": [{"id": "conn-a2", "type": "http"}]}'));
SET kaireon.tenant = 'cat-c';
-- An override raises the limit ...
SELECT kaireon.set_override('connectors', '{"limit": 7}') ->> 'inForce' AS in_force;
INSERT INTO kaireon.connectors (id, type) VALUES ('conn-6', 'http'), ('conn-7', 'http');
INSERT INTO kaireon.connectors (id, type) VALUES ('conn-8', 'http');
\echo :LAST_ERROR_SQLSTATE
-- ... and lowering it deletes nothing: the rows stay, can change and go,
-- only new ones are refused.
SELECT kaireon.set_override('connectors', '{"limit": 3}') ->> 'inForce' AS in_force;
SELECT count(*) AS connectors FROM kaireon.connectors WHERE tenant_id = 'cat-c';
UPDATE kaireon.connectors SET name = 'Renamed' WHERE id = 'conn-1';
SELECT * FROM pg_temp.applied(kaireon.apply_catalog('{"connectors": [{"id": "conn-2", "type": "http", "name": "Also renamed"}]}'));
INSERT INTO kaireon.connectors (id, type) VALUES ('conn-8', 'http');
\echo :LAST_ERROR_SQLSTATE
DELETE FROM kaireon.connectors WHERE id = 'conn-7';
SELECT count(*) AS connectors FROM kaireon.connectors WHERE tenant_id = 'cat-c';
-- The entitlement counts the rows; they are never reported as usage.
SELECT e ->> 'limit' AS "limit", e ->> 'currentUsage' AS current_usage, e ->> 'status' AS status
FROM kaireon.entitlement('connectors') e;
SELECT kaireon.report_usage('connectors', 1);
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.clear_override('connectors') AS cleared;
-- CMS sources, behavioral metrics (through apply_catalog) and content items.
SELECT kaireon.apply_catalog('{"cmsSources": [{"id": "s1", "type": "cms"}, {"id": "s2", "type": "cms"}, {"id": "s3", "type": "cms"}]}');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM pg_temp.applied(kaireon.apply_catalog('{"cmsSources": [{"id": "s1", "type": "cms"}, {"id": "s2", "type": "cms"}]}'));
SELECT * FROM pg_temp.applied(kaireon.apply_catalog(jsonb_build_object(
    'outcomeTypes', '[{"id": "click", "kind": "positive"}]'::jsonb,
    'metrics', (SELECT jsonb_agg(jsonb_build_object('id', 'm' || i, 'definition',
                                                    '{"outcomeTypes": ["click"], "windowDays": 7}'::jsonb))
                FROM generate_series(1, 5) i))));
INSERT INTO kaireon.metrics (id, definition) VALUES ('m6', '{"outcomeTypes": ["click"], "windowDays": 7}');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM pg_temp.applied(kaireon.apply_catalog(
    '{"channels": [{"id": "web", "type": "web"}], "offers": [{"id": "o"}]}'));
INSERT INTO kaireon.creatives (id, offer_id, channel_id) SELECT 'cr-' || i, 'o', 'web' FROM generate_series(1, 100) i;
INSERT INTO kaireon.creatives (id, offer_id, channel_id) VALUES ('cr-101', 'o', 'web');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM pg_temp.catalog_counts('cat-c') WHERE n > 0;

-- ===========================================================================
-- 7. Tenant isolation: a role granted cat-a that selects cat-b sees none of
-- its catalog rows and cannot act on it.
-- ===========================================================================
SET kaireon.tenant = 'cat-b';
SELECT count(*) AS keys, sum(inserted) AS inserted
FROM pg_temp.applied(kaireon.apply_catalog((SELECT doc FROM docs WHERE name = 'full')));
SET ROLE regress_cat_app;
SELECT (SELECT count(*) FROM kaireon.categories) + (SELECT count(*) FROM kaireon.channels)
     + (SELECT count(*) FROM kaireon.placements) + (SELECT count(*) FROM kaireon.outcome_types)
     + (SELECT count(*) FROM kaireon.offers) + (SELECT count(*) FROM kaireon.creatives)
     + (SELECT count(*) FROM kaireon.customers) + (SELECT count(*) FROM kaireon.consents)
     + (SELECT count(*) FROM kaireon.metrics) + (SELECT count(*) FROM kaireon.models)
     + (SELECT count(*) FROM kaireon.flows) + (SELECT count(*) FROM kaireon.experiments)
     + (SELECT count(*) FROM kaireon.policies) + (SELECT count(*) FROM kaireon.caps)
     + (SELECT count(*) FROM kaireon.journeys) + (SELECT count(*) FROM kaireon.triggers)
     + (SELECT count(*) FROM kaireon.connectors) + (SELECT count(*) FROM kaireon.cms_sources) AS visible_rows_of_cat_b;
SELECT * FROM kaireon.check_eligibility('c1');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.apply_catalog('{"offers": [{"id": "x"}]}');
\echo :LAST_ERROR_SQLSTATE
-- Writing another tenant's rows directly is refused by row-level security.
INSERT INTO kaireon.customers (tenant_id, id) VALUES ('cat-b', 'intruder');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.export_catalog();
\echo :LAST_ERROR_SQLSTATE
-- Its own tenant: its rows only.
SET kaireon.tenant = 'cat-a';
SELECT (SELECT count(*) FROM kaireon.offers) AS offers, (SELECT count(*) FROM kaireon.customers) AS customers,
       (SELECT count(DISTINCT tenant_id) FROM kaireon.customers) AS tenants;
INSERT INTO kaireon.customers (id, segments) VALUES ('c-app', '{new}');
INSERT INTO kaireon.consents (customer_id, channel_id, granted) VALUES ('c-app', 'email', true);
SELECT c.tenant_id, c.id, c.segments, n.tenant_id AS consent_tenant, n.channel_id, n.granted
FROM kaireon.customers c JOIN kaireon.consents n ON n.tenant_id = c.tenant_id AND n.customer_id = c.id
WHERE c.id = 'c-app';
UPDATE kaireon.offers SET priority = 1 WHERE id = 'gold';
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
-- With EXECUTE on apply_catalog, a non-member still gets KR403.
GRANT EXECUTE ON FUNCTION kaireon.apply_catalog(jsonb, text) TO regress_cat_app;
SET ROLE regress_cat_app;
SET kaireon.tenant = 'cat-b';
SELECT kaireon.apply_catalog('{"offers": [{"id": "x"}]}');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
REVOKE EXECUTE ON FUNCTION kaireon.apply_catalog(jsonb, text) FROM regress_cat_app;
SELECT (SELECT count(*) FROM kaireon.offers WHERE tenant_id = 'cat-b' AND id = 'x') AS written_to_cat_b;

-- ===========================================================================
-- 8. catalog_fields() describes the tables: no column missing either way,
-- the same types, NOT NULL exactly for the required fields and those with a
-- default, and the same defaults.
-- ===========================================================================
SELECT count(*) AS fields, count(DISTINCT document_key) AS keys, count(DISTINCT table_name) AS tables,
       count(*) FILTER (WHERE required) AS required, count(default_value) AS with_default
FROM kaireon.catalog_fields();
CREATE FUNCTION pg_temp.default_as_jsonb(expression text) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    result jsonb;
BEGIN
    IF expression IS NULL THEN
        RETURN NULL;
    END IF;
    EXECUTE 'SELECT to_jsonb(' || expression || ')' INTO result;
    RETURN result;
END
$$;
WITH fields AS (
    SELECT * FROM kaireon.catalog_fields()
), columns AS (
    SELECT c.table_name::text, c.column_name::text,
           CASE c.data_type WHEN 'timestamp with time zone' THEN 'timestamptz'
                            WHEN 'ARRAY' THEN ltrim(c.udt_name, '_') || '[]'
                            ELSE c.data_type END AS column_type,
           c.is_nullable = 'NO' AS not_null, c.column_default
    FROM information_schema.columns c
    WHERE c.table_schema = 'kaireon' AND c.table_name IN (SELECT table_name FROM fields)
      AND c.column_name NOT IN ('tenant_id', 'created_at', 'updated_at')
)
SELECT coalesce(f.table_name, c.table_name) AS table_name, coalesce(f.column_name, c.column_name) AS column_name,
       CASE WHEN c.column_name IS NULL THEN 'column missing'
            WHEN f.column_name IS NULL THEN 'column not in catalog_fields'
            WHEN f.column_type <> c.column_type THEN 'type ' || f.column_type || ' vs ' || c.column_type
            WHEN (f.required OR f.default_value IS NOT NULL) <> c.not_null THEN 'NOT NULL differs'
            ELSE 'default ' || coalesce(f.default_value::text, 'none') || ' vs ' || coalesce(c.column_default, 'none')
       END AS mismatch
FROM fields f FULL JOIN columns c ON c.table_name = f.table_name AND c.column_name = f.column_name
WHERE c.column_name IS NULL OR f.column_name IS NULL OR f.column_type <> c.column_type
   OR (f.required OR f.default_value IS NOT NULL) <> c.not_null
   OR f.default_value IS DISTINCT FROM pg_temp.default_as_jsonb(c.column_default)
ORDER BY 1, 2;
-- The comparison above is not vacuous: every default was evaluated and
-- equals the field's.
SELECT count(*) AS defaults_equal
FROM kaireon.catalog_fields() f
JOIN information_schema.columns c ON c.table_schema = 'kaireon' AND c.table_name = f.table_name
     AND c.column_name = f.column_name
WHERE f.default_value = pg_temp.default_as_jsonb(c.column_default);
-- Every table also has tenant_id, created_at and updated_at.
SELECT t AS table_name, count(c.column_name) AS bookkeeping_columns
FROM pg_temp.catalog_tables() t
LEFT JOIN information_schema.columns c ON c.table_schema = 'kaireon' AND c.table_name = t
     AND c.column_name IN ('tenant_id', 'created_at', 'updated_at') AND c.is_nullable = 'NO'
GROUP BY t HAVING count(c.column_name) <> 3 ORDER BY 1;

-- ===========================================================================
-- 9. The round trip holds whatever plain SQL stored: an object stored
-- exactly so already changes nothing and is not checked again (a dangling
-- reference or a category loop written with plain SQL does not stop
-- apply_catalog(export_catalog())); the same instant written in another
-- zone is unchanged; a reader's export leaves personal data out.
-- ===========================================================================
SET kaireon.tenant = 'cat-b';
BEGIN;
INSERT INTO kaireon.categories (id, parent_id) VALUES ('loop-a', 'loop-b'), ('loop-b', 'loop-a'), ('orphan', 'ghost');
INSERT INTO kaireon.policies (id, type, scope, scope_id, config) VALUES ('gone', 'cooldown', 'offer', 'no-such-offer', '{"cooldownHours": 2}');
SELECT * FROM pg_temp.applied(kaireon.apply_catalog(kaireon.export_catalog())) WHERE inserted + updated + deleted > 0;
-- ... but a document that changes such a row is checked.
SELECT kaireon.apply_catalog('{"categories": [{"id": "orphan", "name": "Orphan", "parentId": "ghost"}]}');
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
BEGIN;
SELECT kaireon.apply_catalog('{"offers": [{"id": "tz", "startAt": "2030-01-01T01:00:00+01:00"}]}') -> 'applied' -> 'offers' AS first;
SELECT kaireon.apply_catalog('{"offers": [{"id": "tz", "startAt": "2030-01-01T01:00:00+01:00"}]}') -> 'applied' -> 'offers' AS again;
SELECT kaireon.apply_catalog('{"offers": [{"id": "tz", "startAt": "2030-01-01T00:00:00.000Z"}]}') -> 'applied' -> 'offers' AS utc;
SELECT o -> 'startAt' AS exported FROM jsonb_array_elements(kaireon.export_catalog() -> 'offers') o WHERE o ->> 'id' = 'tz';
ROLLBACK;
-- Catalog rows are read column by column (read_catalog_rows, column_json):
-- what each tenant's first decision in a backend and every export read. The
-- reference is the row through to_jsonb: the same JSON for every entity,
-- dumped alike (3 is not 3.0), also with floats printed with fewer digits
-- and timestamps in another zone.
CREATE SCHEMA kaireon_selftest;
CREATE FUNCTION kaireon_selftest.catalog_rows(entity text) RETURNS int
    AS 'kaireon', 'kaireon_selftest_catalog_rows' LANGUAGE C STRICT;
BEGIN;
INSERT INTO kaireon.offers (id, name, priority, value, lever, start_at, end_at) VALUES
    ('f-big', E'\u00dcn\u00efc\u00f8d\u00e9 "q" \\ \t tab', 3, 1e20, 0.1, '2030-01-01 00:00:00.123456+05:30', NULL),
    ('f-small', '', 99.999999999999, 1e-7, 1, '1999-12-31 23:59:59-08', '2031-06-30 12:00'),
    ('f-whole', NULL, 0, 123456789.125, 0.3333333333333333, NULL, NULL);
SELECT e AS entity, kaireon_selftest.catalog_rows(e) AS agreeing_rows
FROM jsonb_object_keys(kaireon.export_catalog()) e ORDER BY e;
SET LOCAL extra_float_digits = 0;
SET LOCAL TimeZone = 'Asia/Kolkata';
SELECT sum(kaireon_selftest.catalog_rows(e)) AS agreeing_rows_elsewhere FROM jsonb_object_keys(kaireon.export_catalog()) e;
SELECT o - 'id' AS offer FROM jsonb_array_elements(kaireon.export_catalog() -> 'offers') o WHERE o ->> 'id' LIKE 'f-%' ORDER BY o ->> 'id';
ROLLBACK;
DROP SCHEMA kaireon_selftest CASCADE;
CREATE ROLE regress_cat_reader IN ROLE kaireon_reader;
SELECT kaireon.grant_tenant('regress_cat_reader', 'cat-b');
SET ROLE regress_cat_reader;
SELECT array_agg(k ORDER BY k) FILTER (WHERE k IN ('customers', 'consents')) AS personal_keys, count(*) AS keys
FROM jsonb_object_keys(kaireon.export_catalog()) k;
RESET ROLE;
SELECT count(*) AS admin_keys FROM jsonb_object_keys(kaireon.export_catalog()) k;
DROP OWNED BY regress_cat_reader;
DROP ROLE regress_cat_reader;

-- ===========================================================================
-- 10. drop_tenant removes every catalog row of the tenant, and only its.
-- ===========================================================================
CREATE TEMP TABLE counts_before AS
SELECT 'cat-a' AS tenant, * FROM pg_temp.catalog_counts('cat-a')
UNION ALL SELECT 'cat-b', * FROM pg_temp.catalog_counts('cat-b');
SELECT table_name, sum(n) FILTER (WHERE tenant = 'cat-a') AS cat_a, sum(n) FILTER (WHERE tenant = 'cat-b') AS cat_b
FROM counts_before GROUP BY table_name ORDER BY table_name;
SELECT d.key AS table_name, d.value AS deleted
FROM jsonb_each(kaireon.drop_tenant('cat-a') -> 'deleted') d
WHERE d.key IN (SELECT 'kaireon.' || t FROM pg_temp.catalog_tables() t) ORDER BY 1;
SELECT a.table_name, a.n AS cat_a_after, b.n AS cat_b_after, b.n = cb.n AS cat_b_unchanged
FROM pg_temp.catalog_counts('cat-a') a
JOIN pg_temp.catalog_counts('cat-b') b USING (table_name)
JOIN counts_before cb ON cb.tenant = 'cat-b' AND cb.table_name = a.table_name
ORDER BY 1;

-- Clean up.
RESET kaireon.tenant;
SELECT kaireon.drop_tenant('cat-b') ->> 'tenantId' AS dropped, kaireon.drop_tenant('cat-c') ->> 'tenantId' AS dropped;
DROP ROLE regress_cat_app;
