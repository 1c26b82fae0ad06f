-- kaireon 0.9 -> 0.10: kaireon_respond (SPEC 6.6) and system-wide frequency
-- caps (SPEC 6.4): recorded interactions, and the caps' exact counts.
\echo Use "ALTER EXTENSION kaireon UPDATE TO '0.10'" to load this file. \quit

-- Every outcome kaireon_respond recorded, once per idempotency key. The
-- impressions are also the durable count of the frequency caps
-- (docs/frequency-caps.md): recorded_at is the database's time of the call
-- and decides the cap period; occurred_at is the client's.
CREATE TABLE kaireon.interactions (
    tenant_id       text NOT NULL REFERENCES kaireon.tenants ON DELETE CASCADE,
    id              uuid NOT NULL DEFAULT gen_random_uuid(),
    idempotency_key text NOT NULL,
    decision_id     uuid,
    customer_id     text NOT NULL,
    offer_id        text NOT NULL,
    category_id     text,
    creative_id     text,
    channel         text,
    placement       text,
    outcome         text NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('impression', 'positive', 'negative', 'neutral')),
    value           numeric,
    occurred_at     timestamptz NOT NULL,
    recorded_at     timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, idempotency_key)
);
-- customer_id leads: with tenant_id first, the planner (no statistics yet on
-- a new table) took this index for the idempotency lookup and filtered
-- every interaction of the tenant.
CREATE INDEX interactions_customer ON kaireon.interactions (customer_id, tenant_id, occurred_at);
CREATE INDEX interactions_impressions ON kaireon.interactions (tenant_id, recorded_at) WHERE kind = 'impression';
COMMENT ON TABLE kaireon.interactions IS 'Outcomes recorded by kaireon_respond (impressions, clicks, conversions, ...), once per idempotency key.';
ALTER TABLE kaireon.interactions ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON kaireon.interactions USING (tenant_id = kaireon.visible_tenant());
SELECT pg_catalog.pg_extension_config_dump('kaireon.interactions', '');
INSERT INTO kaireon.tenant_tables VALUES ('kaireon.interactions', 'delete', 5);
GRANT SELECT ON kaireon.interactions TO kaireon_admin, kaireon_app, kaireon_reader;

CREATE FUNCTION public.kaireon_respond(request jsonb) RETURNS jsonb
AS 'MODULE_PATHNAME', 'kaireon_respond' LANGUAGE C VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION public.kaireon_respond(jsonb) IS
    'Records an outcome of a decision once per idempotencyKey (SPEC 6.6) and counts impressions toward frequency caps.';
GRANT EXECUTE ON FUNCTION public.kaireon_respond(jsonb) TO kaireon_admin, kaireon_app;

-- The caps with their exact counts (SPEC 6.4): current_count is the
-- impressions of the cap's current period matching its scope; reset_at the
-- start of the next period.
CREATE FUNCTION kaireon._cap_state(tenant_id text, cap_id text, OUT current_count bigint, OUT reset_at timestamptz)
AS 'MODULE_PATHNAME', 'kaireon_cap_state' LANGUAGE C VOLATILE STRICT SECURITY DEFINER SET search_path = pg_catalog, pg_temp;
CREATE VIEW kaireon.frequency_caps WITH (security_invoker = true) AS
SELECT c.tenant_id, c.id, c.name, c.scope, c.scope_id, c.max_volume, c.period, s.current_count, s.reset_at, c.enabled,
       c.enabled AND s.current_count >= c.max_volume AS exhausted
  FROM kaireon.caps c, LATERAL kaireon._cap_state(c.tenant_id, c.id) s;
COMMENT ON VIEW kaireon.frequency_caps IS
    'System-wide frequency caps with their exact current_count and reset_at (docs/frequency-caps.md).';
GRANT EXECUTE ON FUNCTION kaireon._cap_state(text, text) TO kaireon_admin, kaireon_app, kaireon_reader;
GRANT SELECT ON kaireon.frequency_caps TO kaireon_admin, kaireon_app, kaireon_reader;

-- The event catalog follows the library: frequency_cap.reached is now
-- cap.exhausted (events follow the rename), and descriptions change.
UPDATE kaireon.event_types SET type = 'cap.exhausted' WHERE type = 'frequency_cap.reached';
INSERT INTO kaireon.event_types SELECT * FROM kaireon._builtin_event_types()
ON CONFLICT (type) DO UPDATE SET category = EXCLUDED.category, description = EXCLUDED.description,
                                 payload_schema = EXCLUDED.payload_schema;

SELECT kaireon._revoke_public();
