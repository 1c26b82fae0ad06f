-- (d) the same decision as a dry run by an administrator: nothing recorded.
\set n random(1, 1000)
SELECT kaireon_recommend(jsonb_build_object('customerId', 'cust-' || lpad(:n::text, 4, '0'), 'flow', 'homepage',
                                            'context', '{"channel": "web"}'::jsonb, 'dryRun', true));
