-- kaireon 0.18 -> 0.19: the signal that compiled catalogs changed in a
-- transaction committed elsewhere. Each backend keeps the tenants' catalogs
-- it compiled (src/pg/catalog_state.cpp); a change made through the catalog
-- tables advances the tenant's generation in shared memory when it commits,
-- but COMMIT PREPARED runs none of the extension's code, and rows written
-- with triggers off fire nothing. For those, a relcache invalidation of one
-- relation, carried by the transaction, makes every backend drop what it
-- compiled. Until 0.18 that relation was kaireon.offers, whose statistics
-- VACUUM and ANALYZE (autovacuum's too) update in place, which also sends
-- its relcache invalidation: every backend dropped every tenant's catalog
-- and compiled each again at its next decision (measured: 800 more
-- compiles for 8 backends and 100 tenants, 13 % fewer decisions in that
-- run). This view has no storage, so no vacuum, analyze or write ever
-- touches it.
\echo Use "ALTER EXTENSION kaireon UPDATE TO '0.19'" to load this file. \quit

CREATE VIEW kaireon.catalog_signal AS SELECT NULL::int AS nothing WHERE false;
COMMENT ON VIEW kaireon.catalog_signal IS
    'Never queried: a relcache invalidation of this view makes every backend drop its compiled catalogs (COMMIT PREPARED of a catalog change, rows written with triggers off). It has no rows.';
REVOKE ALL ON kaireon.catalog_signal FROM PUBLIC;

SELECT kaireon._revoke_public();
