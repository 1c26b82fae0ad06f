-- (b) baseline without kaireon: the naive hot-row counter, one UPDATE of
-- the same row per impression (every client queues on its row lock).
UPDATE perf_counters SET n = n + 1 WHERE id = 1;
