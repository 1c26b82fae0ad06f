-- (f) a bulk load: 1,000 events per statement straight into
-- kaireon.usage_events; one statement-level trigger run aggregates them.
INSERT INTO kaireon.usage_events (feature, value) SELECT 'perf_bulk', 1 FROM generate_series(1, 1000);
