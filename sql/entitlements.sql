-- Entitlements (SPEC section 3): the tiers' table, boolean, numeric and
-- config features, overrides > licence claims > tier, preflight checks,
-- hard, soft and grace limits, and the audit of every evaluation.
\set SHOW_CONTEXT never
\set ECHO none
\i test/license/fixtures.sql
\set ECHO all
SET timezone = 'UTC';
SET kaireon.test_clock = '2026-06-01T00:00:00Z';
CREATE ROLE regress_ent_app IN ROLE kaireon_app;
SELECT kaireon.create_tenant('lic-a', 'Entitled A', 'a@ent.test') ->> 'tenantId' AS tenant,
       kaireon.create_tenant('lic-b', 'Entitled B', 'b@ent.test') ->> 'tenantId' AS tenant;
SELECT kaireon.grant_tenant('regress_ent_app', 'lic-a');
SELECT kaireon.add_license_key('rsa-1', 'RS256', :'pem_rsa') ->> 'kid' AS key;

-- The tiers ship with the seed's table.
SELECT feature, type,
       string_agg(tier || '=' || coalesce(value::text, '-'), '  ' ORDER BY tier = 'enterprise', tier = 'professional') AS tiers
FROM kaireon.plans GROUP BY feature, type ORDER BY feature;
SELECT key, options FROM kaireon.features WHERE key IN ('decisions_per_month', 'decision_traces_per_day') ORDER BY key;

-- A tenant without a licence is Community.
SET kaireon.tenant = 'lic-a';
SELECT kaireon.entitlement('decisions_per_month');
SELECT kaireon.entitlement('journeys');
SELECT kaireon.entitlement('support');
SELECT kaireon.entitlement('autoscaling');
SELECT kaireon.has_feature('scoring.scorecard') AS scorecard, kaireon.has_feature('scoring.bayesian') AS bayesian;
SELECT kaireon.require_feature('ranking.top_n');
SELECT kaireon.require_feature('journeys');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon.require_feature('experiments.ab');
SELECT kaireon.entitlement('no.such.feature');
SELECT kaireon.entitlement(NULL);

-- A licence applies in the installing transaction: professional now.
SELECT kaireon.install_license(:'tok_pro') ->> 'tier' AS installed;
SELECT kaireon.has_feature('scoring.bayesian') AS bayesian, kaireon.has_feature('experiments.bandit') AS bandit;
SELECT kaireon.entitlement('decisions_per_month') ->> 'limit' AS decisions_limit;
-- The licence's own limits and features override its tier.
SELECT kaireon.install_license(:'tok_with_claims') ->> 'tier' AS installed;
SELECT kaireon.entitlement('decisions_per_month') ->> 'limit' AS decisions_limit,
       kaireon.has_feature('experiments.bandit') AS bandit;

-- An override wins over the licence until it expires; one per feature,
-- replaced by the next call; a past expiry is accepted and not in force.
SELECT kaireon.set_override('decisions_per_month', '{"limit": 1000000}', '2026-06-15T00:00:00Z');
SELECT kaireon.entitlement('decisions_per_month') ->> 'limit' AS with_override;
SET kaireon.test_clock = '2026-06-15T00:00:00Z';
SELECT kaireon.entitlement('decisions_per_month') ->> 'limit' AS after_expiry;
SET kaireon.test_clock = '2026-06-01T00:00:00Z';
SELECT kaireon.set_override('journeys', '{"enabled": true}', '2026-01-01T00:00:00Z');
SELECT kaireon.has_feature('journeys') AS journeys_expired_trial;
SELECT kaireon.set_override('journeys', '{"enabled": true}');
SELECT kaireon.has_feature('journeys') AS journeys_trial;
SELECT feature, value, expires_at FROM kaireon.entitlement_overrides ORDER BY feature;
SELECT kaireon.clear_override('journeys') AS cleared, kaireon.clear_override('journeys') AS again;
SELECT kaireon.has_feature('journeys') AS journeys_after_clear;
SELECT kaireon.set_override('journeys', NULL);
SELECT kaireon.set_override('journeys', '{"limit": 5}');
SELECT kaireon.set_override('autoscaling', '{"config": {"minReplicas": 1, "maxReplicas": 200}}');
SELECT kaireon.set_override('autoscaling', '{"config": {"minReplicas": 2, "maxReplicas": 20}}') ->> 'inForce' AS in_force;
SELECT kaireon.entitlement('autoscaling');

-- Features of one's own: numeric with hard, grace and soft limits.
SELECT kaireon.define_feature('api_calls', 'numeric', '{"aggregation": "sum", "period": "month", "unit": "calls"}');
SELECT kaireon.define_feature('storage_gb', 'numeric', '{"aggregation": "max", "gracePercent": 10}') ->> 'key' AS key;
SELECT kaireon.define_feature('seats', 'numeric', '{"aggregation": "latest", "limitType": "soft"}') ->> 'key' AS key;
SELECT kaireon.set_plan_entitlement('professional', 'api_calls', '{"limit": 100}');
SELECT kaireon.set_plan_entitlement('professional', 'storage_gb', '{"limit": 100}') ->> 'source' AS source;
SELECT kaireon.set_plan_entitlement('professional', 'seats', '{"limit": 5}') ->> 'source' AS source;
SELECT kaireon.entitlement('api_calls');
SELECT kaireon.check_usage('api_calls', 60);
SELECT kaireon.check_usage('api_calls', 100) ->> 'status' AS exactly_the_limit,
       kaireon.check_usage('api_calls', 100.5) ->> 'status' AS past_the_limit;
SELECT kaireon.check_usage('storage_gb', 110) ->> 'status' AS within_grace,
       kaireon.check_usage('storage_gb', 110.01) ->> 'status' AS past_grace;
SELECT kaireon.check_usage('seats', 8);
SELECT kaireon.check_usage('api_calls', -1);
SELECT kaireon.check_usage('api_calls', NULL);
SELECT kaireon.check_usage('api_calls', 'NaN');
-- Unlimited, and not entitled.
SELECT kaireon.check_usage('connectors', 1000000) ->> 'status' AS connectors_unlimited;
SELECT kaireon.check_usage('journeys', 1) ->> 'status' AS journeys;

-- Config features are validated against their schema, errors name the path.
SELECT kaireon.define_feature('branding', 'config', '{"schema": {"type": "object", "required": ["color"],
    "additionalProperties": false, "properties": {"color": {"type": "string", "maxLength": 7},
    "theme": {"enum": ["light", "dark"]}}}}') ->> 'key' AS key;
SELECT kaireon.set_plan_entitlement('professional', 'branding', '{"config": {"color": "#0a84ff", "theme": "dark"}}') ->> 'source' AS source;
SELECT kaireon.set_plan_entitlement('professional', 'branding', '{"config": {"theme": "dark"}}');
SELECT kaireon.set_plan_entitlement('professional', 'branding', '{"config": {"color": 12}}');
SELECT kaireon.set_plan_entitlement('professional', 'branding', '{"config": {"color": "#0a84ff", "theme": "sepia"}}');
SELECT kaireon.set_plan_entitlement('professional', 'branding', '{"config": {"color": "#0a84ff", "font": "x"}}');
SELECT kaireon.entitlement('branding');

-- Bad definitions and values change nothing.
SELECT kaireon.define_feature('Bad Key', 'boolean');
SELECT kaireon.define_feature('gadget', 'string');
SELECT kaireon.define_feature('gadget', 'numeric', '{"period": "fortnight"}');
SELECT kaireon.define_feature('gadget', 'numeric', '{"colour": "red"}');
SELECT kaireon.define_feature('gadget', 'boolean', '{"period": "month"}');
SELECT kaireon.define_feature('gadget', 'config', '{"schema": {"type": "object", "pattern": "x"}}');
SELECT kaireon.define_feature('decisions_per_month', 'numeric');
SELECT kaireon.define_feature('api_calls', 'boolean');
SELECT kaireon.set_plan_entitlement('platinum', 'api_calls', '{"limit": 1}');
SELECT kaireon.set_plan_entitlement('community', 'gadget', '{"limit": 1}');
SELECT kaireon.set_plan_entitlement('community', 'api_calls', '{"limit": -1}');
SELECT kaireon.set_plan_entitlement('community', 'scoring.custom', '{"enabled": "yes"}');
SELECT count(*) AS user_features FROM kaireon.features WHERE NOT builtin;
-- Reverting a tier's change restores the built-in default.
SELECT kaireon.set_plan_entitlement('professional', 'decisions_per_month', '{"limit": 600000}') ->> 'source' AS source;
SELECT kaireon.set_plan_entitlement('professional', 'decisions_per_month', NULL);

-- Thresholds per tenant and feature.
SELECT kaireon.set_thresholds('api_calls', '{50, 80, 100}');
SELECT kaireon.set_thresholds('api_calls', '{80, 50}');
SELECT kaireon.set_thresholds('api_calls', '{0}');
SELECT kaireon.set_thresholds('api_calls', '{}');
SELECT kaireon.set_thresholds('scoring.bayesian', '{50}');
SELECT kaireon.set_thresholds('decisions_per_month', NULL);
SELECT tenant_id, feature, percents FROM kaireon.feature_thresholds ORDER BY feature;

-- A downgrade applies at once.
SELECT kaireon.install_license(:'tok_community') ->> 'tier' AS installed;
SELECT kaireon.has_feature('scoring.bayesian') AS bayesian, kaireon.entitlement('decisions_per_month') ->> 'limit' AS decisions_limit;

-- The application reads its own tenant's entitlements, changes nothing, and
-- sees no other tenant.
SET ROLE regress_ent_app;
SELECT kaireon.has_feature('scoring.scorecard') AS app_scorecard;
SELECT kaireon.set_override('journeys', '{"enabled": true}');
SELECT kaireon.define_feature('x', 'boolean');
SELECT kaireon.set_plan_entitlement('community', 'journeys', '{"enabled": true}');
SET kaireon.tenant = 'lic-b';
SELECT kaireon.entitlement('journeys');
SELECT count(*) AS overrides_visible FROM kaireon.entitlement_overrides;
RESET ROLE;

-- Every API evaluation was recorded; check_usage recorded no usage.
SELECT api, feature, requested, status, role_name FROM kaireon.entitlement_evaluations
WHERE tenant_id = 'lic-a' ORDER BY id;

RESET kaireon.tenant;
RESET kaireon.test_clock;
SELECT d -> 'deleted' -> 'kaireon.entitlement_overrides' AS overrides_deleted,
       d -> 'deleted' -> 'kaireon.feature_thresholds' AS thresholds_deleted,
       (SELECT count(*) FROM kaireon.entitlement_evaluations WHERE tenant_id = 'lic-a') AS evaluations_kept
FROM kaireon.drop_tenant('lic-a') AS d;
SELECT kaireon.drop_tenant('lic-b') ->> 'tenantId' AS dropped;
DELETE FROM kaireon.features WHERE NOT builtin;
DELETE FROM kaireon.license_keys;
DROP ROLE regress_ent_app;
