-- (a) baseline without kaireon: one INSERT per decision into an ordinary
-- table (uuid key, a jsonb payload). test/perf/decisions.sh runs it.
INSERT INTO perf_decisions (customer_id, offers) VALUES ('cust-0001', '[{"offerId": "x"}]');
