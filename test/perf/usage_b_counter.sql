-- (b) baseline without kaireon: every event increments one counter row, the
-- hot-row pattern: concurrent reporters queue on that row's lock.
UPDATE perf_usage_counter SET value = value + 1 WHERE tenant = 'perf' AND feature = 'api_calls';
