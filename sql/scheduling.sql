-- Scheduling (SPEC section 7): rollover_periods() records each closed
-- decision-quota period once and sends quota.reset for the month rollover;
-- reset_expired_caps() records each closed cap period's final count once;
-- tick() runs both; running them again changes nothing; a licence upgrade
-- closes a period mid-month; the bound on a run's work; caps and quota are
-- right whether or not a job ran (lazy); schedule_jobs() with pg_cron in
-- another database; who may run the jobs and read what they keep;
-- drop_tenant. Concurrency: test/isolation/specs/scheduling_race.spec; a
-- job run by pg_cron: test/cluster/pg_cron_job.sh.
\set SHOW_CONTEXT never
\set ECHO none
\i test/license/fixtures.sql
\set ECHO all
SET timezone = 'UTC';
-- The jobs work on every tenant of the database: the counts they return
-- below are this test's alone when no other tenant is left.
SELECT count(*) AS other_tenants FROM kaireon.tenants;
-- 2026-06-30 is a Tuesday; the ISO week started on Monday 06-29.
SET kaireon.test_clock = '2026-06-30T22:00:00Z';
CREATE ROLE regress_sched_admin IN ROLE kaireon_admin;
CREATE ROLE regress_sched_app IN ROLE kaireon_app;
CREATE ROLE regress_sched_reader IN ROLE kaireon_reader;
-- lic-a is the tenant the test licences are for.
SELECT kaireon.create_tenant('lic-a', 'Scheduled A', 'ops@sched.test') ->> 'tenantId' AS tenant,
       kaireon.create_tenant('sched-b', 'Scheduled B', 'ops@b.sched.test') ->> 'tenantId' AS tenant;
SELECT kaireon.grant_tenant('regress_sched_app', 'lic-a');
SELECT kaireon.grant_tenant('regress_sched_reader', 'lic-a');
DELETE FROM kaireon.license_keys;  -- keys an earlier test left
SELECT kaireon.add_license_key('rsa-1', 'RS256', :'pem_rsa') ->> 'kid' AS key;
SET kaireon.tenant = 'lic-a';
SELECT jsonb_object_agg(key, value -> 'inserted') AS inserted FROM jsonb_each(kaireon.apply_catalog('{
  "categories": [{"id": "cards"}],
  "channels": [{"id": "web", "type": "web"}],
  "offers": [{"id": "gold", "categoryId": "cards", "priority": 90}, {"id": "loan", "priority": 50}],
  "creatives": [{"id": "gold-web", "offerId": "gold", "channelId": "web"},
                {"id": "loan-web", "offerId": "loan", "channelId": "web"}],
  "customers": [{"id": "ana"}, {"id": "ben"}, {"id": "cy"}],
  "outcomeTypes": [{"id": "impression", "kind": "impression"}, {"id": "click", "kind": "positive"}],
  "caps": [{"id": "gold-daily", "scope": "offer", "scopeId": "gold", "maxVolume": 2, "period": "daily"},
           {"id": "cards-weekly", "scope": "category", "scopeId": "cards", "maxVolume": 3, "period": "weekly"},
           {"id": "web-monthly", "scope": "channel", "scopeId": "web", "maxVolume": 100, "period": "monthly"},
           {"id": "loan-off", "scope": "offer", "scopeId": "loan", "maxVolume": 1, "period": "daily", "enabled": false}],
  "flows": [{"id": "home", "channelId": "web"}]
}') -> 'applied');

-- decide(customer) makes a counted decision; shown(key, offer) records an
-- impression on the web.
CREATE FUNCTION pg_temp.decide(customer text) RETURNS text LANGUAGE sql AS $$
    SELECT kaireon_recommend(jsonb_build_object('customerId', customer, 'flow', 'home')) -> 'quota' -> 'usage' ->> 'current'
$$;
CREATE FUNCTION pg_temp.shown(key text, offer text, outcome text DEFAULT 'impression') RETURNS boolean LANGUAGE sql AS $$
    SELECT (kaireon_respond(jsonb_build_object('customerId', 'ana', 'offerId', offer, 'channel', 'web',
                                               'outcome', outcome, 'idempotencyKey', key)) ->> 'recorded')::boolean
$$;
-- What the jobs kept, and the quota events, of this test's tenants.
CREATE FUNCTION pg_temp.quota_periods()
RETURNS TABLE (tenant_id text, period_start timestamptz, period_end timestamptz, ended_by text, decisions bigint)
LANGUAGE sql AS $$
    SELECT tenant_id, period_start, period_end, ended_by, decisions FROM kaireon.quota_periods
    WHERE tenant_id IN ('lic-a', 'sched-b') ORDER BY tenant_id, period_start
$$;
CREATE FUNCTION pg_temp.cap_periods()
RETURNS TABLE (cap_id text, period_start timestamptz, period_end timestamptz, impressions bigint, max_volume int,
               exhausted boolean)
LANGUAGE sql AS $$
    SELECT cap_id, period_start, period_end, impressions, max_volume, exhausted FROM kaireon.cap_periods
    WHERE tenant_id = 'lic-a' ORDER BY cap_id, period_start
$$;
CREATE FUNCTION pg_temp.resets() RETURNS TABLE (tenant_id text, dedupe_key text, events bigint, period_start text, tier text)
LANGUAGE sql AS $$
    SELECT tenant_id, dedupe_key, count(*), min(payload ->> 'periodStart'), min(payload ->> 'tier') FROM kaireon.events
    WHERE tenant_id IN ('lic-a', 'sched-b') AND type = 'quota.reset'
    GROUP BY 1, 2 ORDER BY 1, 4
$$;

-- June: three counted decisions; three impressions of gold (its daily cap
-- is 2: counting goes on past it), one of loan (its cap is disabled), and
-- a click (no cap counts clicks).
SELECT pg_temp.decide('ana') AS counted, pg_temp.decide('ben') AS counted, pg_temp.decide('cy') AS counted;
SELECT pg_temp.shown('g1', 'gold'), pg_temp.shown('g2', 'gold'), pg_temp.shown('g3', 'gold'),
       pg_temp.shown('l1', 'loan'), pg_temp.shown('c1', 'gold', 'click');
RESET kaireon.tenant;

-- ===========================================================================
-- 1. The first run. Each tenant starts with the previous month (the
--    tenants' created_at is the real time, after the test clock, so it
--    does not bound them) and each cap with its previous period: closed,
--    not recorded yet. quota.reset for June goes out with May's row.
-- ===========================================================================
SELECT kaireon.tick();
SELECT * FROM pg_temp.quota_periods();
SELECT * FROM pg_temp.cap_periods();
SELECT * FROM pg_temp.resets();
-- The whole event, as consumers get it (sched-b has no licence: Community).
SELECT jsonb_pretty(payload) AS payload FROM kaireon.events WHERE tenant_id = 'sched-b' AND type = 'quota.reset';
-- Idempotent: again, nothing is recorded or sent twice.
SELECT kaireon.tick();
SELECT kaireon.rollover_periods() AS quota_periods, kaireon.reset_expired_caps() AS cap_periods;
SELECT count(*) AS quota_resets FROM kaireon.events WHERE tenant_id IN ('lic-a', 'sched-b') AND type = 'quota.reset';

-- ===========================================================================
-- 2. Across the month and the day: 2026-07-01T00:00:05Z. Nothing needs the
--    job: the quota and the caps count from zero in their new period at
--    once (lazily), before any job ran.
-- ===========================================================================
SET kaireon.test_clock = '2026-07-01T00:00:05Z';
SET kaireon.tenant = 'lic-a';
SELECT q -> 'usage' ->> 'current' AS current, q -> 'usage' ->> 'periodStart' AS period_start
FROM kaireon.quota_status() AS q;
SELECT id, current_count, exhausted, reset_at FROM kaireon.frequency_caps ORDER BY id;
SELECT pg_temp.decide('ana') AS counted, pg_temp.shown('g4', 'gold') AS shown;
RESET kaireon.tenant;
-- The job records June (3 decisions) and sends quota.reset for July; the
-- caps record June 30 (gold passed its 2: exhausted; loan's cap is disabled,
-- never exhausted) and June (web); the week is still open.
SELECT kaireon.tick();
SELECT * FROM pg_temp.quota_periods() WHERE period_start >= '2026-06-01';
SELECT * FROM pg_temp.cap_periods() WHERE period_end > '2026-06-30';
SELECT * FROM pg_temp.resets();
-- sched-b's June closed under the terms in force now (nothing changed
-- them since July 1): they are June's. (Whether May's are known depends
-- on earlier tests, which change the Community plan in June: not shown.)
SELECT period_start, period_end, tier, quota_limit FROM kaireon.quota_periods
WHERE tenant_id = 'sched-b' AND period_start >= '2026-06-01' ORDER BY period_start;
SELECT kaireon.tick();

-- The next day: July 1 closes for the daily caps.
SET kaireon.test_clock = '2026-07-02T00:00:01Z';
SELECT kaireon.tick();
SELECT * FROM pg_temp.cap_periods() WHERE period_start >= '2026-07-01';

-- ===========================================================================
-- 3. A licence upgrade closes the period mid-month (2026-07-10T12:00:00Z):
--    the upgrade sends its own quota.reset; the job records the part of
--    July before it (ended_by upgrade), without tier and limit (the licence
--    changed since). The days the daily caps missed are caught up, and the
--    week of June 29 closes (gold: 3 + 1 impressions of cards, past 3).
-- ===========================================================================
SET kaireon.test_clock = '2026-07-10T12:00:00Z';
SET kaireon.tenant = 'lic-a';
SELECT kaireon.install_license(:'tok_pro') ->> 'tier' AS installed;
SELECT pg_temp.decide('ben') AS counted;
RESET kaireon.tenant;
SET kaireon.test_clock = '2026-07-10T13:00:00Z';
SELECT kaireon.tick();
SELECT period_start, period_end, ended_by, decisions, tier, quota_limit FROM kaireon.quota_periods
WHERE tenant_id = 'lic-a' AND period_start >= '2026-07-01';
SELECT cap_id, count(*) AS periods, min(period_start), max(period_end), sum(impressions) AS impressions
FROM pg_temp.cap_periods() WHERE period_start >= '2026-07-02' GROUP BY 1 ORDER BY 1;
SELECT * FROM pg_temp.cap_periods() WHERE cap_id = 'cards-weekly';
SELECT * FROM pg_temp.resets();

-- ===========================================================================
-- 4. The bound on a run's work: a cap records at most max_periods periods
--    back from the current one; older ones are skipped for good.
-- ===========================================================================
SET kaireon.test_clock = '2026-07-20T00:00:00Z';
SELECT kaireon.reset_expired_caps(max_periods => 2) AS cap_periods;
SELECT cap_id, period_start, period_end FROM pg_temp.cap_periods() WHERE period_end > '2026-07-10';
SELECT kaireon.reset_expired_caps(0);
SELECT kaireon.rollover_periods(NULL);
\echo :LAST_ERROR_SQLSTATE

-- ===========================================================================
-- 5. The month after the upgrade: the rest of July, counted under
--    Professional, and quota.reset for August with the tier in force.
-- ===========================================================================
SET kaireon.test_clock = '2026-08-01T00:00:30Z';
SELECT kaireon.tick() ->> 'quotaPeriods' AS quota_periods;
SELECT * FROM pg_temp.quota_periods() WHERE period_start >= '2026-07-01';
SELECT * FROM pg_temp.resets();
SELECT period_start, tier, quota_limit FROM kaireon.quota_periods
WHERE tenant_id = 'sched-b' AND period_start >= '2026-06-01' ORDER BY 1;

-- ===========================================================================
-- 6. schedule_jobs(): pg_cron lives in database "postgres" here
--    (cron.database_name), so it returns the statements to run there and
--    says so; it schedules nothing itself (an administrator's call; again,
--    the same). test/cluster/pg_cron_job.sh runs them under pg_cron.
-- ===========================================================================
SET ROLE regress_sched_admin;
SELECT job_name, schedule, command, database, job_id FROM kaireon.schedule_jobs();
SELECT statement FROM kaireon.schedule_jobs();
RESET ROLE;

-- ===========================================================================
-- 7. Who may run the jobs (administrators) and read what they keep (every
--    kaireon role, its own tenant only).
-- ===========================================================================
SET ROLE regress_sched_app;
SELECT kaireon.tick();
SELECT kaireon.rollover_periods();
SELECT kaireon.reset_expired_caps();
SELECT kaireon.schedule_jobs();
SET kaireon.tenant = 'lic-a';
SELECT count(*) AS quota_periods, count(DISTINCT tenant_id) AS tenants FROM kaireon.quota_periods;
SELECT count(*) AS cap_periods, count(DISTINCT tenant_id) AS tenants FROM kaireon.cap_periods;
SET ROLE regress_sched_reader;
SELECT kaireon.tick();
SELECT count(*) AS quota_periods, count(DISTINCT tenant_id) AS tenants FROM kaireon.quota_periods;
SET kaireon.tenant = 'sched-b';
SELECT count(*) AS quota_periods FROM kaireon.quota_periods;
RESET kaireon.tenant;
SET ROLE regress_sched_admin;
SELECT kaireon.tick() ->> 'quotaPeriods' AS quota_periods;
RESET ROLE;

-- ===========================================================================
-- 8. drop_tenant removes what the jobs kept.
-- ===========================================================================
SELECT d -> 'deleted' -> 'kaireon.quota_periods' AS quota_periods, d -> 'deleted' -> 'kaireon.cap_periods' AS cap_periods
FROM kaireon.drop_tenant('lic-a') AS d;
SELECT kaireon.drop_tenant('sched-b') ->> 'tenantId' AS dropped;
SELECT count(*) AS left_behind FROM kaireon.quota_periods WHERE tenant_id IN ('lic-a', 'sched-b');
RESET kaireon.test_clock;
DELETE FROM kaireon.license_keys;
DROP ROLE regress_sched_admin, regress_sched_app, regress_sched_reader;
