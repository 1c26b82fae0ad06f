-- kaireon 0.10 -> 0.11: scheduling (SPEC section 7). The periodic jobs, for
-- every tenant of the database at once: rollover_periods() records each
-- closed decision-quota period and sends quota.reset for the month rollover,
-- reset_expired_caps() records each closed frequency-cap period's final
-- count, tick() runs what is due, schedule_jobs() installs them with pg_cron.
-- Quota and caps are counted lazily (docs/quota.md, docs/frequency-caps.md):
-- correctness never depends on these jobs, only the history they keep does.
-- docs/operations.md ("Scheduled jobs") says what each job does.
\echo Use "ALTER EXTENSION kaireon UPDATE TO '0.11'" to load this file. \quit

-- ---------------------------------------------------------------------------
-- The history the jobs keep: one row per closed period, written once.

-- A closed decision-quota period: the calendar month (UTC), or its part
-- before or after a licence upgrade (docs/quota.md). period_end is exclusive
-- (the next period's start). decisions counts the decisions that counted in
-- it (kaireon.decisions.quota_period = period_start). tier and quota_limit
-- are what quota_status() said when the row was recorded, kept only when
-- that is known to be the period's own (recorded by the first run after the
-- period closed, with no licence, override or plan change since its end):
-- tier NULL = not known; tier set and quota_limit NULL = unlimited.
CREATE TABLE kaireon.quota_periods (
    tenant_id    text NOT NULL REFERENCES kaireon.tenants ON DELETE CASCADE,
    period_start timestamptz NOT NULL,
    period_end   timestamptz NOT NULL,
    ended_by     text NOT NULL CHECK (ended_by IN ('month', 'upgrade')),
    decisions    bigint NOT NULL CHECK (decisions >= 0),
    tier         text CHECK (tier IN ('community', 'professional', 'enterprise')),
    quota_limit  numeric,
    recorded_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, period_start),
    CHECK (period_end > period_start)
);
COMMENT ON TABLE kaireon.quota_periods IS
    'Closed decision-quota periods with the decisions counted in each, recorded once by rollover_periods().';

-- A closed period of a frequency cap with its final count: the impressions
-- recorded in [period_start, period_end) matching the cap's scope, as
-- current_count showed them. The cap's definition is copied as it was when
-- the row was recorded (a cap may be edited or removed later).
CREATE TABLE kaireon.cap_periods (
    tenant_id    text NOT NULL REFERENCES kaireon.tenants ON DELETE CASCADE,
    cap_id       text NOT NULL,
    period_start timestamptz NOT NULL,
    period_end   timestamptz NOT NULL,
    period       text NOT NULL,
    scope        text NOT NULL,
    scope_id     text NOT NULL,
    impressions  bigint NOT NULL CHECK (impressions >= 0),
    max_volume   integer NOT NULL,
    exhausted    boolean NOT NULL,
    recorded_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, cap_id, period_start),
    CHECK (period_end > period_start)
);
COMMENT ON TABLE kaireon.cap_periods IS
    'Closed frequency-cap periods with their final impression counts, recorded once by reset_expired_caps().';

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['quota_periods', 'cap_periods'] LOOP
        EXECUTE format('ALTER TABLE kaireon.%I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant_isolation ON kaireon.%I USING (tenant_id = kaireon.visible_tenant())', t);
        PERFORM pg_catalog.pg_extension_config_dump(format('kaireon.%I', t), '');
        INSERT INTO kaireon.tenant_tables VALUES (format('kaireon.%I', t)::regclass, 'delete', 5);
        EXECUTE format('GRANT SELECT ON kaireon.%I TO kaireon_admin, kaireon_app, kaireon_reader', t);
    END LOOP;
END
$$;

-- ---------------------------------------------------------------------------
-- Helpers (no role may call them; the jobs run them as the extension owner).

-- _iso_utc returns an instant as kaireon writes it in JSON: 2026-07-01T00:00:00Z.
CREATE FUNCTION kaireon._iso_utc(at timestamptz) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
$$;

-- _job_horizon returns when the oldest transaction still open in this
-- database (other than the caller's, autovacuum's and replication's)
-- started, or infinity. kaireon.clock() is the transaction's start, so a
-- period that ended at or before the horizon can get no more decisions or
-- impressions: its count is final. Reading every backend's xact_start needs
-- the extension owner's rights (the jobs are SECURITY DEFINER).
CREATE FUNCTION kaireon._job_horizon() RETURNS timestamptz
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce(min(a.xact_start), 'infinity')
    FROM pg_stat_activity a
    WHERE a.datname = current_database() AND a.pid <> pg_backend_pid()
      AND a.leader_pid IS DISTINCT FROM pg_backend_pid()
      AND a.backend_type NOT IN ('autovacuum worker', 'walsender')
      AND a.xact_start IS NOT NULL
$$;

-- _emit_event_once adds an event with a dedupe key to the outbox unless one
-- with that key is there, and returns whether it added it. Used by the jobs
-- only for events whose uniqueness they already hold by a row of their own
-- (one writer per key): the unique key on (tenant_id, dedupe_key) is the
-- second guard. Queues NOTIFY kaireon_events as the library does (one per
-- transaction: PostgreSQL folds identical notifications).
CREATE FUNCTION kaireon._emit_event_once(tenant_id text, type text, payload jsonb, dedupe_key text) RETURNS boolean
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    INSERT INTO kaireon.events AS e (tenant_id, type, payload, dedupe_key, created_at)
    VALUES (_emit_event_once.tenant_id, _emit_event_once.type, payload, _emit_event_once.dedupe_key, kaireon.clock())
    ON CONFLICT ON CONSTRAINT events_tenant_id_dedupe_key_key DO NOTHING;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    PERFORM pg_notify('kaireon_events', '');
    RETURN true;
END
$$;

-- _quota_terms returns quota_status() of a tenant (the tier and limit in
-- force now), or NULL when the tenant has no decision quota it may read
-- (KR403). The tenant is selected for this call only (SET clause).
CREATE FUNCTION kaireon._quota_terms(tenant_id text) RETURNS jsonb
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET kaireon.tenant = '' AS $$
BEGIN
    PERFORM set_config('kaireon.tenant', tenant_id, true);
    RETURN kaireon.quota_status();
EXCEPTION WHEN SQLSTATE 'KR403' THEN
    RETURN NULL;
END
$$;

-- _quota_terms_unchanged tells whether nothing that sets a tenant's decision
-- limit has changed since `since` (up to `until`): no licence installed, no
-- grace ending in fallback, no override of decisions_per_month set, expired
-- or cleared, no plan change of it (cleared overrides and removed plan
-- values are seen in the audit trail). Then the limit in force now is also
-- the limit the period ending at `since` had.
CREATE FUNCTION kaireon._quota_terms_unchanged(tenant_id text, since timestamptz, until timestamptz) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT NOT EXISTS (SELECT 1 FROM kaireon.licenses l
                       WHERE l.tenant_id = _quota_terms_unchanged.tenant_id
                         AND (l.installed_at >= since
                              OR coalesce(l.first_failure_at, l.expires_at) + interval '7 days' BETWEEN since AND until))
       AND NOT EXISTS (SELECT 1 FROM kaireon.entitlement_overrides o
                       WHERE o.tenant_id = _quota_terms_unchanged.tenant_id AND o.feature = 'decisions_per_month'
                         AND (o.created_at >= since OR o.expires_at BETWEEN since AND until))
       AND NOT EXISTS (SELECT 1 FROM kaireon.plan_entitlements p
                       WHERE p.feature = 'decisions_per_month' AND p.updated_at >= since)
       AND NOT EXISTS (SELECT 1 FROM kaireon.audit_log a
                       WHERE a.tenant_id IN (_quota_terms_unchanged.tenant_id, '') AND a.recorded_at >= since
                         AND a.action IN ('override.delete', 'plan_entitlement.delete')
                         AND a.target = 'decisions_per_month')
$$;

-- ---------------------------------------------------------------------------
-- rollover_periods records, for every tenant, each decision-quota period
-- that has closed and is not recorded yet, and returns how many it
-- recorded. The run that records the period closed by the current month's
-- start also sends quota.reset (dedupe key quota.reset:<month start>), so
-- each tenant gets one such event per month. Which periods:
--   - after the tenant's last recorded period; the first time, from the
--     previous month (or the month the tenant was created, if later; a
--     created_at after kaireon.clock(), i.e. a test clock set back, is
--     ignored);
--   - none that started more than max_months months before the current
--     month (the bound on a run's work when the job did not run for long:
--     older periods are skipped for good);
--   - only periods whose count is final: no other transaction of the
--     database that started before the period's end is still open (else
--     the next run records it).
-- Period boundaries are month starts and upgrade instants: the starts of
-- counted decisions' periods, the tenant's kaireon.licenses.quota_reset_at
-- and the periodStart of the quota.reset events upgrades sent.
-- Concurrent runs (and runs in several sessions) record each period once:
-- the second waits for the first's row and skips it; only the run that
-- inserted the row sends its event. Run in READ COMMITTED (pg_cron does);
-- under REPEATABLE READ a run racing another may fail with a serialization
-- failure (and record nothing twice).
CREATE FUNCTION kaireon.rollover_periods(max_months int DEFAULT 12) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' AS $$
DECLARE
    now_at timestamptz := kaireon.clock();
    this_month timestamptz := date_trunc('month', now_at);
    horizon timestamptz := kaireon._job_horizon();
    t record;
    p record;
    last_end timestamptz;
    open_start timestamptz;
    from_at timestamptz;
    terms jsonb;
    terms_read boolean;
    known boolean;
    counted bigint;
    recorded integer := 0;
BEGIN
    IF max_months IS NULL OR max_months NOT BETWEEN 1 AND 120 THEN
        PERFORM kaireon._raise('BAD_REQUEST', 'max_months must be between 1 and 120', '{"path": "max_months"}');
    END IF;
    FOR t IN SELECT tn.tenant_id, tn.created_at FROM kaireon.tenants tn ORDER BY tn.tenant_id LOOP
        -- The period open now: this month's, or the latest upgrade's within it.
        open_start := greatest(this_month,
                               (SELECT to_timestamp(floor(extract(epoch FROM l.quota_reset_at)))
                                FROM kaireon.licenses l
                                WHERE l.tenant_id = t.tenant_id AND l.quota_reset_at <= now_at));
        SELECT q.period_end INTO last_end FROM kaireon.quota_periods q
        WHERE q.tenant_id = t.tenant_id ORDER BY q.period_start DESC LIMIT 1;
        CONTINUE WHEN last_end >= open_start;  -- everything closed is recorded
        from_at := greatest(coalesce(last_end, this_month - interval '1 month'),
                            this_month - make_interval(months => max_months),
                            CASE WHEN t.created_at <= now_at THEN date_trunc('month', t.created_at) END);
        CONTINUE WHEN from_at >= open_start;
        terms_read := false;
        FOR p IN
            WITH RECURSIVE decided (s) AS (
                -- the distinct period starts of counted decisions (a skip scan)
                SELECT min(d.quota_period) FROM kaireon.decisions d
                WHERE d.tenant_id = t.tenant_id AND d.quota_period > from_at AND d.quota_period < open_start
                UNION ALL
                SELECT (SELECT min(d.quota_period) FROM kaireon.decisions d
                        WHERE d.tenant_id = t.tenant_id AND d.quota_period > c.s AND d.quota_period < open_start)
                FROM decided c WHERE c.s IS NOT NULL
            ),
            bounds (s) AS (
                SELECT from_at
                UNION SELECT open_start
                UNION SELECT m FROM generate_series(date_trunc('month', from_at) + interval '1 month', open_start,
                                                    interval '1 month') AS m
                UNION SELECT c.s FROM decided c WHERE c.s IS NOT NULL
                UNION SELECT to_timestamp(floor(extract(epoch FROM l.quota_reset_at))) FROM kaireon.licenses l
                      WHERE l.tenant_id = t.tenant_id
                UNION SELECT (e.payload ->> 'periodStart')::timestamptz FROM kaireon.events e
                      WHERE e.tenant_id = t.tenant_id AND e.type = 'quota.reset' AND e.dedupe_key IS NULL
                        AND e.payload ->> 'periodStart' ~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$'
            ),
            periods AS (
                SELECT b.s AS period_start, lead(b.s) OVER (ORDER BY b.s) AS period_end
                FROM bounds b WHERE b.s >= from_at AND b.s <= open_start
            )
            SELECT pe.period_start, pe.period_end FROM periods pe
            WHERE pe.period_end IS NOT NULL ORDER BY pe.period_start
        LOOP
            EXIT WHEN p.period_end > horizon;  -- a transaction that may count in it is still open
            -- The tier and limit in force now are the period's own when it is
            -- the one just closed and nothing changed them since; the month's
            -- quota.reset carries the tier in force now.
            known := p.period_end = open_start AND kaireon._quota_terms_unchanged(t.tenant_id, p.period_end, now_at);
            IF (known OR p.period_end = this_month) AND NOT terms_read THEN
                terms := kaireon._quota_terms(t.tenant_id);
                terms_read := true;
            END IF;
            INSERT INTO kaireon.quota_periods AS q (tenant_id, period_start, period_end, ended_by, decisions, tier,
                                                   quota_limit, recorded_at)
            SELECT t.tenant_id, p.period_start, p.period_end,
                   CASE WHEN p.period_end = date_trunc('month', p.period_end) THEN 'month' ELSE 'upgrade' END,
                   (SELECT count(*) FROM kaireon.decisions d
                    WHERE d.tenant_id = t.tenant_id AND d.quota_period = p.period_start),
                   CASE WHEN known THEN terms ->> 'tier' END,
                   CASE WHEN known THEN (terms -> 'usage' ->> 'limit')::numeric END,
                   now_at
            ON CONFLICT (tenant_id, period_start) DO NOTHING
            RETURNING q.decisions INTO counted;
            CONTINUE WHEN NOT FOUND;  -- another run recorded it
            recorded := recorded + 1;
            IF p.period_end = this_month THEN
                PERFORM kaireon._emit_event_once(t.tenant_id, 'quota.reset', jsonb_build_object(
                    'tier', coalesce(terms ->> 'tier',
                                     (SELECT l.verified_tier FROM kaireon.licenses l WHERE l.tenant_id = t.tenant_id),
                                     'community'),
                    'periodStart', kaireon._iso_utc(this_month),
                    'reason', 'month',
                    'previousPeriod', jsonb_build_object(
                        'periodStart', kaireon._iso_utc(p.period_start),
                        'periodEnd', kaireon._iso_utc(p.period_end - interval '1 second'),
                        'decisions', counted)),
                    'quota.reset:' || kaireon._iso_utc(this_month));
            END IF;
        END LOOP;
    END LOOP;
    RETURN recorded;
END
$$;
COMMENT ON FUNCTION kaireon.rollover_periods(int) IS
    'Records every tenant''s closed decision-quota periods (kaireon.quota_periods) and sends quota.reset for the month rollover; returns how many periods it recorded.';

-- ---------------------------------------------------------------------------
-- reset_expired_caps records, for every cap of every tenant, each closed
-- period not recorded yet with its final count, and returns how many it
-- recorded. Caps need no reset (a cap's count belongs to its period: a new
-- period counts from zero at once); this keeps their history. Which periods
-- (the bound on a run's work: at most max_periods counts per cap):
--   - after the cap's last recorded period; the first time, the period
--     before the current one (or the period the cap was created in, if
--     later; a created_at after kaireon.clock() is ignored);
--   - none that started more than max_periods periods before the current
--     one (skipped for good when the job did not run for that long);
--   - only periods whose count is final (as rollover_periods).
-- A period is counted with the cap's scope as it is when recorded; after a
-- change of the cap's period (daily to weekly, ...) the first period
-- recorded is the first that starts after the last recorded one. Removed
-- caps keep their rows. Concurrent runs record each period once.
CREATE FUNCTION kaireon.reset_expired_caps(max_periods int DEFAULT 31) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' AS $$
DECLARE
    now_at timestamptz := kaireon.clock();
    horizon timestamptz := kaireon._job_horizon();
    c record;
    unit text;
    step interval;
    current_start timestamptz;
    last_end timestamptz;
    s timestamptz;
    e timestamptz;
    counted bigint;
    recorded integer := 0;
BEGIN
    IF max_periods IS NULL OR max_periods NOT BETWEEN 1 AND 1000 THEN
        PERFORM kaireon._raise('BAD_REQUEST', 'max_periods must be between 1 and 1000', '{"path": "max_periods"}');
    END IF;
    FOR c IN
        SELECT cp.tenant_id, cp.id, cp.scope, cp.scope_id, cp.max_volume, cp.period, cp.enabled, cp.created_at
        FROM kaireon.caps cp ORDER BY cp.tenant_id, cp.id
    LOOP
        unit := CASE c.period WHEN 'daily' THEN 'day' WHEN 'weekly' THEN 'week' ELSE 'month' END;
        step := ('1 ' || unit)::interval;
        current_start := date_trunc(unit, now_at);  -- 'week': ISO, from Monday
        SELECT r.period_end INTO last_end FROM kaireon.cap_periods r
        WHERE r.tenant_id = c.tenant_id AND r.cap_id = c.id ORDER BY r.period_start DESC LIMIT 1;
        CONTINUE WHEN last_end >= current_start;  -- everything closed is recorded
        s := coalesce(last_end, current_start - step);
        IF date_trunc(unit, s) < s THEN
            s := date_trunc(unit, s) + step;  -- the cap's period changed: the next whole one
        END IF;
        s := greatest(s, current_start - max_periods * step,
                      CASE WHEN c.created_at <= now_at THEN date_trunc(unit, c.created_at) END);
        WHILE s < current_start LOOP
            e := s + step;
            EXIT WHEN e > horizon;  -- a transaction that may count in it is still open
            SELECT count(*) INTO counted FROM kaireon.interactions i
            WHERE i.tenant_id = c.tenant_id AND i.kind = 'impression' AND i.recorded_at >= s AND i.recorded_at < e
              AND CASE c.scope WHEN 'offer' THEN i.offer_id WHEN 'category' THEN i.category_id ELSE i.channel END
                  = c.scope_id;
            INSERT INTO kaireon.cap_periods AS r (tenant_id, cap_id, period_start, period_end, period, scope, scope_id,
                                                 impressions, max_volume, exhausted, recorded_at)
            VALUES (c.tenant_id, c.id, s, e, c.period, c.scope, c.scope_id, counted, c.max_volume,
                    c.enabled AND counted >= c.max_volume, now_at)
            ON CONFLICT (tenant_id, cap_id, period_start) DO NOTHING;
            IF FOUND THEN
                recorded := recorded + 1;  -- else another run recorded it
            END IF;
            s := e;
        END LOOP;
    END LOOP;
    RETURN recorded;
END
$$;
COMMENT ON FUNCTION kaireon.reset_expired_caps(int) IS
    'Records every cap''s closed periods with their final impression counts (kaireon.cap_periods); caps reset lazily, so nothing else is needed. Returns how many periods it recorded.';

-- ---------------------------------------------------------------------------
-- tick runs the jobs that are due (every minute; journeys join with issue 14)
-- and returns what they did: {"at", "quotaPeriods", "capPeriods"}.
-- seal_audit() is scheduled on its own (schedule_jobs).
CREATE FUNCTION kaireon.tick() RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    quota_periods integer := kaireon.rollover_periods();
    cap_periods integer := kaireon.reset_expired_caps();
BEGIN
    RETURN jsonb_build_object('at', kaireon._iso_utc(kaireon.clock()), 'quotaPeriods', quota_periods,
                              'capPeriods', cap_periods);
END
$$;
COMMENT ON FUNCTION kaireon.tick() IS
    'Runs the periodic jobs that are due (rollover_periods, reset_expired_caps) for every tenant; returns {at, quotaPeriods, capPeriods}.';

-- ---------------------------------------------------------------------------
-- Scheduling with pg_cron. pg_cron runs in one database of the cluster
-- (cron.database_name) and starts jobs in others with
-- cron.schedule_in_database.

-- _cron_jobs returns the jobs schedule_jobs installs for this database, each
-- with the statement that schedules it, the database pg_cron lives in
-- (cron.database_name) and whether that is this one with pg_cron created
-- (`here`). KR400 with a hint when pg_cron is not loaded
-- (shared_preload_libraries, which only a superuser may read: hence
-- SECURITY DEFINER), or is meant for this database but not created in it.
-- Schedules (pg_cron 1.4 schedules by the minute, in UTC):
--   tick                    every minute  rollover_periods, reset_expired_caps (journeys later)
--   seal-audit              every minute  seal_audit(): new audit records into the hash chain
--   purge-idempotency-keys  03:17 daily   purge_idempotency_keys(): expired usage keys
CREATE FUNCTION kaireon._cron_jobs(OUT job_name text, OUT schedule text, OUT command text, OUT database text,
                                   OUT statement text, OUT cron_database text, OUT here boolean)
RETURNS SETOF record
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    loaded boolean := current_setting('shared_preload_libraries') ~ '(^|[\s,"/])pg_cron(\.so)?($|[\s,"])';
BEGIN
    IF NOT loaded THEN
        PERFORM kaireon._raise('BAD_REQUEST', 'pg_cron is not loaded: kaireon.schedule_jobs() needs it',
                               '{"requires": "pg_cron"}',
                               'Add pg_cron to shared_preload_libraries, restart, and run CREATE EXTENSION pg_cron in '
                               || 'the database cron.database_name names; or have another scheduler call '
                               || 'kaireon.tick() and kaireon.seal_audit() every minute.');
    END IF;
    cron_database := coalesce(current_setting('cron.database_name', true), 'postgres');
    here := cron_database = current_database() AND EXISTS (SELECT 1 FROM pg_extension x WHERE x.extname = 'pg_cron');
    IF cron_database = current_database() AND NOT here THEN
        PERFORM kaireon._raise('BAD_REQUEST',
                               format('pg_cron is loaded for database "%s" but its extension is not created there',
                                      cron_database),
                               jsonb_build_object('requires', 'pg_cron', 'database', cron_database),
                               'Run CREATE EXTENSION pg_cron in this database, then kaireon.schedule_jobs() again.');
    END IF;
    database := current_database();
    FOR job_name, schedule, command IN
        SELECT 'kaireon-' || current_database() || '-' || j.name, j.schedule, j.command
        FROM (VALUES (1, 'tick', '* * * * *', 'SELECT kaireon.tick()'),
                     (2, 'seal-audit', '* * * * *', 'SELECT kaireon.seal_audit()'),
                     (3, 'purge-idempotency-keys', '17 3 * * *', 'SELECT kaireon.purge_idempotency_keys()'))
             AS j (n, name, schedule, command)
        ORDER BY j.n
    LOOP
        statement := format('SELECT cron.schedule_in_database(%L, %L, %L, %L);', job_name, schedule, command, database);
        RETURN NEXT;
    END LOOP;
END
$$;

-- schedule_jobs installs the periodic jobs of this database with pg_cron and
-- returns them, one row each, with the statement that schedules it. When
-- pg_cron lives in this database (cron.database_name), it schedules them
-- itself (job_id set), as the calling role: pg_cron runs them as that role,
-- which therefore needs EXECUTE on cron.schedule_in_database (superusers
-- have it). Otherwise it schedules nothing (job_id NULL) and says in a
-- NOTICE to run the statements in pg_cron's database. Scheduling again is
-- harmless: pg_cron keeps one job per name and role, and updates it.
-- Without pg_cron: KR400 with a hint. Not SECURITY DEFINER, so that the jobs
-- belong to, and run as, the caller.
CREATE FUNCTION kaireon.schedule_jobs()
RETURNS TABLE (job_name text, schedule text, command text, database text, job_id bigint, statement text)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    j record;
    elsewhere text;
    statements text := '';
BEGIN
    FOR j IN SELECT * FROM kaireon._cron_jobs() LOOP
        job_name := j.job_name;
        schedule := j.schedule;
        command := j.command;
        database := j.database;
        statement := j.statement;
        job_id := NULL;
        IF j.here THEN
            EXECUTE 'SELECT cron.schedule_in_database($1, $2, $3, $4)' INTO job_id
                USING j.job_name, j.schedule, j.command, j.database;
        ELSE
            elsewhere := j.cron_database;
            statements := statements || E'\n' || j.statement;
        END IF;
        RETURN NEXT;
    END LOOP;
    IF elsewhere IS NOT NULL THEN
        RAISE NOTICE 'pg_cron runs in database "%": run these statements there, as the role the jobs should run as (a superuser or a member of kaireon_admin allowed to use cron.schedule_in_database):%',
            elsewhere, statements;
    END IF;
END
$$;
COMMENT ON FUNCTION kaireon.schedule_jobs() IS
    'Installs the periodic jobs (tick, seal_audit, purge_idempotency_keys) with pg_cron''s cron.schedule_in_database, or returns the statements to run in pg_cron''s database.';

-- The event catalog follows the library: quota.reset is also sent at the
-- month rollover, with a reason and the closed period.
INSERT INTO kaireon.event_types SELECT * FROM kaireon._builtin_event_types()
ON CONFLICT (type) DO UPDATE SET category = EXCLUDED.category, description = EXCLUDED.description,
                                 payload_schema = EXCLUDED.payload_schema;

GRANT EXECUTE ON FUNCTION kaireon.rollover_periods(int), kaireon.reset_expired_caps(int), kaireon.tick(),
    kaireon.schedule_jobs(), kaireon._cron_jobs() TO kaireon_admin;

SELECT kaireon._revoke_public();
