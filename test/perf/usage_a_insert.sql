-- (a) baseline without kaireon: one INSERT per event into an ordinary table
-- (bigserial id, no other index). test/perf/usage.sh runs it with pgbench.
INSERT INTO perf_usage_events (tenant, feature, value, occurred_at) VALUES ('perf', 'api_calls', 1, now());
