-- kaireon 0.17 -> 0.18: an interaction is recorded no more than 5 minutes
-- before it occurred. kaireon_respond always kept this (it refuses an
-- occurredAt more than 5 minutes ahead of its clock and records at its
-- clock); now the table says so, for every writer. A decision's history
-- (src/pg/policy_state.cpp, customer_history) relies on it: it reads only
-- the time partitions its windows reach (recorded_at from the oldest
-- window's start less 5 minutes), not every partition retention kept.
-- The 5 minutes are respond::kMaxFutureSkew (src/core/respond.h).
\echo Use "ALTER EXTENSION kaireon UPDATE TO '0.18'" to load this file. \quit

-- One pass over the interactions: the constraint's own validation, its
-- refusal explained.
DO $$
BEGIN
    ALTER TABLE kaireon.interactions ADD CONSTRAINT interactions_recorded_after_occurred
        CHECK (recorded_at >= occurred_at - interval '5 minutes');
EXCEPTION WHEN check_violation THEN
    RAISE EXCEPTION 'some interactions were recorded more than 5 minutes before they occurred'
        USING ERRCODE = 'check_violation',
              DETAIL = 'kaireon 0.18 requires recorded_at >= occurred_at - 5 minutes; kaireon_respond never writes '
                       'such rows, so they were inserted directly. A decision''s history would no longer count them.',
              HINT = 'Find them with SELECT * FROM kaireon.interactions WHERE recorded_at < occurred_at - '
                     'interval ''5 minutes''; correct their times or delete them, then update again.';
END
$$;
COMMENT ON CONSTRAINT interactions_recorded_after_occurred ON kaireon.interactions IS
    'kaireon_respond records at its clock and refuses an occurredAt more than 5 minutes ahead; a decision''s history reads only the partitions its windows reach.';

SELECT kaireon._revoke_public();
