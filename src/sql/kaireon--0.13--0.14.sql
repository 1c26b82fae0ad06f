-- kaireon 0.13 -> 0.14: the rest of the automation work (SPEC 6.7, issue 14,
-- docs/automation.md): journeys advanced by events and kaireon.tick(), and
-- the signed, retried delivery of the outbox to webhook endpoints.
\echo Use "ALTER EXTENSION kaireon UPDATE TO '0.14'" to load this file. \quit

-- ---------------------------------------------------------------------------
-- Journeys
-- (to come)

-- ---------------------------------------------------------------------------
-- Webhook delivery
-- (to come)

SELECT kaireon._revoke_public();
