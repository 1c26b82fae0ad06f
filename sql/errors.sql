-- The error catalog (SPEC section 8): every code raises its SQLSTATE with a
-- JSON DETAIL that starts with error and code.
\set SHOW_CONTEXT never
SELECT kaireon._raise('BAD_REQUEST', 'bad request body', '{"field": "flow"}');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon._raise('LICENSE_INVALID', 'licence signature does not verify');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon._raise('TENANT_ACCESS_DENIED', 'no access');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon._raise('FEATURE_NOT_ENTITLED', 'feature "journeys" needs the enterprise tier', '{"requiredTier": "enterprise"}');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon._raise('IDEMPOTENCY_CONFLICT', 'key reused');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon._raise('ENTITLEMENT_LIMIT_REACHED', 'connectors limit reached');
\echo :LAST_ERROR_SQLSTATE
-- Extra fields keep their order; "error" may be replaced for a public body.
SELECT kaireon._raise('QUOTA_EXCEEDED', 'Decision quota exceeded',
    '{"tier": "community", "usage": {"current": 10000, "limit": 10000}}', 'Retry-After: 60');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon._raise('USAGE_LIMIT_REACHED', 'api_calls limit reached');
\echo :LAST_ERROR_SQLSTATE
-- Misuse is an internal error, not a client one.
SELECT kaireon._raise('NO_SUCH_CODE', 'x');
\echo :LAST_ERROR_SQLSTATE
SELECT kaireon._raise(NULL, 'x');
\echo :LAST_ERROR_SQLSTATE
-- A hostile message is carried as data, never as a format string.
SELECT kaireon._raise('BAD_REQUEST', '%s%s%s%n "quoted" \ backslash');
