-- (c) kaireon_respond: an impression under a fresh idempotency key, counted
-- on the one hot cap (the channel's: every impression touches it); the key
-- decides the request, so a (vanishingly rare) repeated key is a duplicate,
-- never a conflict.
\set r random(1, 1000000000000000)
SELECT kaireon_respond(jsonb_build_object('customerId', 'c' || :r::bigint % 1000, 'offerId', 'o' || :r::bigint % 5 + 1,
                                          'channel', 'web', 'outcome', 'impression',
                                          'idempotencyKey', :client_id::text || '-' || :r::bigint));
