-- Scale, 1,000,000 customers (m1 .. m1000000, copies of the demo's): the
-- decision of decisions_c_recommend.sql for a random one of them.
\set n random(1, 1000000)
SELECT kaireon_recommend(jsonb_build_object('customerId', 'm' || :n, 'flow', 'homepage',
                                            'context', '{"channel": "web"}'::jsonb));
