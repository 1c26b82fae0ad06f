-- (c) kaireon_recommend on the demo catalog's homepage flow (100 offers,
-- scorecard, top 3) for a random demo customer, recorded.
\set n random(1, 1000)
SELECT kaireon_recommend(jsonb_build_object('customerId', 'cust-' || lpad(:n::text, 4, '0'), 'flow', 'homepage',
                                            'context', '{"channel": "web"}'::jsonb));
