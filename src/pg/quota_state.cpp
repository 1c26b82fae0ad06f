#include "core/entitlements.h"
#include "core/quota.h"
#include "core/usage.h"

#include "pg/quota_state.h"

#include "pg/clock.h"
#include "pg/entitlement_state.h"
#include "pg/events.h"
#include "pg/license_state.h"
#include "pg/limit_gate.h"
#include "pg/shared_state.h"
#include "pg/spi.h"
#include "pg/usage_ingest.h"
#include "pg/xact_state.h"

#include <optional>
#include <utility>
#include <vector>

namespace kaireon::pg {
namespace {

constexpr const char* kFeature = "decisions_per_month";
constexpr const char* kCounter = "decisions";

// Terms are what a tenant's decisions count against now.
struct Terms {
    quota::Snapshot snapshot;   // current still 0
    std::optional<double> cap;  // the hard cap (the limit; a feature grace would add to it)
    FeaturePtr feature;
};

Terms terms_of(const std::string& tenant) {
    Terms terms;
    terms.feature = find_feature(kFeature);
    EffectiveLicense licence = effective_license(tenant);
    entitlements::Evaluation evaluation = evaluate_entitlement(tenant, *terms.feature, 0, false);
    if (!evaluation.enabled) {
        stat_add(tenant, Stat::EntitlementRefusals);
        throw_not_entitled(*terms.feature, evaluation.source);
    }
    terms.snapshot.tier = licence.status.effective_tier;
    terms.snapshot.limit = evaluation.limit;
    terms.snapshot.period = quota::current_period(now_seconds(), licence.quota_reset_at);
    if (evaluation.limit) terms.cap = entitlements::hard_cap(terms.feature->definition, *evaluation.limit);
    return terms;
}

GateKey gate_key(const std::string& tenant, const quota::Snapshot& snapshot) {
    return GateKey{tenant, kCounter, snapshot.period.start};
}

// counted_decisions counts the decisions of a period from their records
// (the gate's slow path, once per period and server lifetime).
CountedRows counted_decisions(const std::string& tenant, int64_t period_start) {
    return count_rows("SELECT count(*)::text FROM kaireon.decisions WHERE tenant_id = $1 AND quota_period = $2",
                      {text_arg(tenant), SpiArg{TIMESTAMPTZOID, TimestampTzGetDatum(timestamp_from_seconds(period_start))}});
}

Admission admit(const std::string& tenant, const Terms& terms, int64_t decisions, bool with_cap) {
    return admit_counted(gate_key(tenant, terms.snapshot), static_cast<double>(decisions),
                         with_cap ? terms.cap : std::nullopt,
                         [&] { return counted_decisions(tenant, terms.snapshot.period.start); });
}

// tenant_contact returns the tenant's name and admin_email.
std::pair<std::string, std::string> tenant_contact(const std::string& tenant) {
    AsExtensionOwner owner;
    SpiSession spi;
    spi.execute("SELECT name, admin_email FROM kaireon.tenants WHERE tenant_id = $1", {text_arg(tenant)}, true);
    if (spi.rows() != 1) return {tenant, ""};
    return {spi.text(0, 0).value_or(tenant), spi.text(0, 1).value_or("")};
}

// emit_alerts sends each alert the count has reached, once per period: the
// transaction that crosses a level sends it; if it rolls back, the next
// decision past the level does. A decision never waits for another
// transaction sending the same alert: it may hold other locks (the trace
// allowance) that the sender waits for.
void emit_alerts(const QuotaCount& count) {
    std::vector<quota::Alert> alerts = quota::reached_alerts(count.snapshot);
    if (alerts.empty()) return;
    const std::string period = license::iso8601(count.snapshot.period.start);
    std::optional<std::pair<std::string, std::string>> contact;
    for (const quota::Alert& alert : alerts) {
        const std::string dedupe = std::string(alert.event_type) + ":" + period;
        if (known_emitted(count.tenant, dedupe)) continue;
        if (!contact) contact = tenant_contact(count.tenant);
        emit_event_once_remembered(count.tenant, std::string(alert.event_type),
                                   quota::alert_payload(alert, count.snapshot, contact->first, contact->second),
                                   dedupe, false);
    }
}

// Tenants whose counts (decision quota, caps) load again when this
// transaction commits.
class ForgetAtCommit final : public XactState {
public:
    std::vector<std::pair<std::string, SubTransactionId>> tenants;
    void reset_at_end(bool committed) noexcept override {
        if (committed) {
            for (const auto& [tenant, subxact] : tenants) {
                try {
                    forget_counted(tenant);
                } catch (...) {
                    // shared memory answered with an error: nothing else to do
                }
            }
        }
        tenants.clear();
    }
    void reset_subxact(SubTransactionId subxact) noexcept override {
        std::erase_if(tenants, [&](const auto& entry) { return entry.second >= subxact; });
    }
};

ForgetAtCommit& forget_at_commit() { return registered_state<ForgetAtCommit>(); }

}  // namespace

QuotaCount quota_now(const std::string& tenant) {
    Terms terms = terms_of(tenant);
    QuotaCount count{terms.snapshot, tenant};
    count.snapshot.current = admit(tenant, terms, 0, false).before;
    return count;
}

QuotaCount count_decisions(const std::string& tenant, int64_t decisions) {
    Terms terms = terms_of(tenant);
    Admission admission = admit(tenant, terms, decisions, true);
    QuotaCount count{terms.snapshot, tenant};
    if (!admission.admitted) {
        stat_add(tenant, Stat::QuotaRefusals);
        count.snapshot.current = admission.before;
        const int64_t wait = quota::retry_after_seconds(count.snapshot, now_seconds());
        // The DETAIL is the seed's body key for key (Error writes `error` and
        // `code` first, as the body does).
        Json body = quota::exceeded_body(count.snapshot);
        body.erase("error");
        body.erase("code");
        throw Error(ErrorCode::QuotaExceeded, "Decision quota exceeded", body, "Retry-After: " + std::to_string(wait));
    }
    count.snapshot.current = admission.before + static_cast<double>(decisions);
    emit_alerts(count);
    if (count.snapshot.limit) {
        emit_thresholds(tenant, *terms.feature, *count.snapshot.limit, count.snapshot.current,
                        timestamp_from_seconds(count.snapshot.period.start), ThresholdCaller::Decision);
    }
    return count;
}

void forget_counts_at_commit(const std::string& tenant) {
    forget_at_commit().tenants.emplace_back(tenant, GetCurrentSubTransactionId());
}

}  // namespace kaireon::pg
