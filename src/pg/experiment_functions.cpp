// experiment_functions.cpp - kaireon.experiment_report (SPEC 6.5): an A/B
// experiment's results from the decisions recorded in it and the
// interactions answering them (src/core/experiments.cpp computes).
#include "core/catalog_compiled.h"
#include "core/experiments.h"

#include "pg/catalog_state.h"
#include "pg/guard.h"
#include "pg/jsonb.h"
#include "pg/spi.h"
#include "pg/tenant_access.h"

#include <map>
#include <string>

using namespace kaireon;

// kaireon.experiment_report(experiment text) returns jsonb: {"experiment",
// "type", "status", "holdoutPercent", "holdout": {"decisions"}, "variants":
// [{"id", "control", "decisions", "impressions", "positives", "rate",
// "uplift", "interval": {"low", "high"}, "pValue"}]}, variants in the
// catalog's order.
KAIREON_FUNCTION(kaireon_experiment_report) {
    const std::string tenant = pg::require_current_tenant();
    if (PG_ARGISNULL(0)) throw_bad_request("experiment must not be null", Json{{"path", "experiment"}});
    const std::string id = pg::text_from_datum(PG_GETARG_DATUM(0));
    auto compiled = pg::compiled_catalog(tenant);
    auto it = compiled->experiments.find(id);
    if (it == compiled->experiments.end())
        throw_bad_request("unknown experiment \"" + id + "\"", Json{{"path", "experiment"}});
    const experiments::Experiment& experiment = it->second;

    struct Counts {
        double decisions = 0, impressions = 0, positives = 0;
    };
    std::map<std::string, Counts> by_variant;
    {
        pg::AsExtensionOwner owner;
        pg::SpiSession spi;
        spi.execute("SELECT variant, count(*) FILTER (WHERE kind = 'impression')::float8::text, "
                    "       count(*) FILTER (WHERE kind = 'positive')::float8::text "
                    "FROM kaireon.interactions WHERE tenant_id = $1 AND experiment_id = $2 GROUP BY variant",
                    {pg::text_arg(tenant), pg::text_arg(id)}, true);
        for (uint64 i = 0; i < spi.rows(); ++i) {
            Counts& c = by_variant[spi.text(i, 0).value_or("")];
            c.impressions = std::stod(spi.text(i, 1).value_or("0"));
            c.positives = std::stod(spi.text(i, 2).value_or("0"));
        }
        spi.execute("SELECT experiment ->> 'variant', count(*)::float8::text FROM kaireon.decisions "
                    "WHERE tenant_id = $1 AND experiment ->> 'id' = $2 AND experiment IS NOT NULL GROUP BY 1",
                    {pg::text_arg(tenant), pg::text_arg(id)}, true);
        for (uint64 i = 0; i < spi.rows(); ++i)
            by_variant[spi.text(i, 0).value_or("")].decisions = std::stod(spi.text(i, 1).value_or("0"));
    }
    std::vector<experiments::VariantCounts> counts;
    for (const auto& v : experiment.variants) {
        const Counts& c = by_variant[v.id];
        counts.push_back({v.id, v.control, c.impressions, c.positives});
    }
    Json body = experiments::report(id, counts);
    for (auto& row : body["variants"]) row["decisions"] = json_number(by_variant[row["id"].get<std::string>()].decisions);
    Json out = {{"experiment", id},
                {"type", experiment.type},
                {"status", experiment.status},
                {"holdoutPercent", json_number(experiment.holdout_percent)},
                {"holdout", {{"decisions", json_number(by_variant[std::string(experiments::kHoldout)].decisions)}}},
                {"variants", std::move(body["variants"])}};
    return pg::jsonb_datum(out);
}
