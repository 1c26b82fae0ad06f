#include "pg/custom_scorer.h"

#include "pg/guard.h"
#include "pg/jsonb.h"
#include "pg/spi.h"

#include <algorithm>
#include <regex>

extern "C" {
#include "miscadmin.h"
#include "storage/latch.h"
#include "utils/timeout.h"
#include "utils/timestamp.h"
}

namespace kaireon::pg {
namespace {

int g_timeout_ms = 250;
TimeoutId g_timeout = MAX_TIMEOUTS;  // registered on first use
volatile sig_atomic_t g_timed_out = false;

// on_timeout cancels the running query the way statement_timeout does.
void on_timeout() {
    g_timed_out = true;
    InterruptPending = true;
    QueryCancelPending = true;
    SetLatch(MyLatch);
}

// Timer arms the timeout for one call and always disarms it.
class Timer {
public:
    explicit Timer(int ms) {
        pg_call([&] {
            if (g_timeout == MAX_TIMEOUTS) g_timeout = RegisterTimeout(USER_TIMEOUT, on_timeout);
            g_timed_out = false;
            enable_timeout_after(g_timeout, ms);
        });
    }
    ~Timer() {
        if (g_timeout != MAX_TIMEOUTS) disable_timeout(g_timeout, false);
    }
    Timer(const Timer&) = delete;
    Timer& operator=(const Timer&) = delete;
};

// AsCaller runs a call as `role` in a security-restricted operation (no
// SET ROLE, no temporary objects), and restores the identity after it.
class AsCaller {
public:
    explicit AsCaller(Oid role) {
        GetUserIdAndSecContext(&saved_user_, &saved_context_);
        SetUserIdAndSecContext(role, saved_context_ | SECURITY_RESTRICTED_OPERATION);
    }
    ~AsCaller() { SetUserIdAndSecContext(saved_user_, saved_context_); }
    AsCaller(const AsCaller&) = delete;
    AsCaller& operator=(const AsCaller&) = delete;

private:
    Oid saved_user_ = InvalidOid;
    int saved_context_ = 0;
};

// passes_through tells whether an error raised inside the function is the
// transaction's or the server's rather than the function's: transaction
// rollback (40: serialization failure, deadlock), insufficient resources
// (53), operator intervention (57: cancel, statement timeout), system (58).
bool passes_through(int sqlstate) {
    const int category = ERRCODE_TO_CATEGORY(sqlstate);
    return category == ERRCODE_TO_CATEGORY(ERRCODE_T_R_SERIALIZATION_FAILURE) ||
           category == ERRCODE_TO_CATEGORY(ERRCODE_INSUFFICIENT_RESOURCES) ||
           category == ERRCODE_TO_CATEGORY(ERRCODE_OPERATOR_INTERVENTION) ||
           category == ERRCODE_TO_CATEGORY(ERRCODE_SYSTEM_ERROR);
}

// calling_role is the role that called kaireon_recommend: the session's
// current role (SET ROLE included), not the extension's owner that the
// SECURITY DEFINER API functions run as.
Oid calling_role() { return GetOuterUserId(); }

struct Resolved {
    Oid oid = InvalidOid;
    std::optional<std::string> problem;
};

Resolved resolve(std::string_view name, bool as_caller) {
    static const std::regex qualified("[A-Za-z_][A-Za-z0-9_$]*\\.[A-Za-z_][A-Za-z0-9_$]*");
    const std::string text(name);
    if (!std::regex_match(text, qualified))
        return {InvalidOid, "must be a schema-qualified function name (schema.name, unquoted)"};
    const std::string signature = text + "(jsonb, jsonb, jsonb)";
    SpiSession spi;
    spi.execute(
        "SELECT p.oid, p.prorettype = 'pg_catalog.float8'::pg_catalog.regtype, p.prosecdef, p.prokind = 'f', "
        "       p.proretset, pg_catalog.has_function_privilege(p.oid, 'EXECUTE'), "
        "       pg_catalog.has_schema_privilege(p.pronamespace, 'USAGE') "
        "FROM pg_catalog.pg_proc p "
        "WHERE p.oid = pg_catalog.to_regprocedure($1 || '(pg_catalog.jsonb, pg_catalog.jsonb, pg_catalog.jsonb)')",
        {text_arg(text)}, true);
    if (spi.rows() == 0) return {InvalidOid, "function " + signature + " does not exist"};
    const Oid oid = spi.oid(0, 0).value_or(InvalidOid);
    if (!spi.boolean(0, 3).value_or(false) || spi.boolean(0, 4).value_or(false))
        return {oid, signature + " must be a plain function returning one value"};
    if (!spi.boolean(0, 1).value_or(false)) return {oid, signature + " must return double precision (float8)"};
    if (spi.boolean(0, 2).value_or(false))
        return {oid, signature + " must not be SECURITY DEFINER: custom models run as the calling role"};
    if (as_caller && !(spi.boolean(0, 5).value_or(false) && spi.boolean(0, 6).value_or(false)))
        return {oid, "the calling role may not execute " + signature};
    return {oid, std::nullopt};
}

[[noreturn]] void refuse(const catalog::CompiledModel& model, const std::string& function, const std::string& message,
                         Json extra = Json::object()) {
    extra["modelId"] = model.id;
    extra["function"] = function;
    throw_bad_request("custom model \"" + model.id + "\": " + message, extra);
}

// CustomScorer calls the function once per candidate: score = its value,
// propensity = the value clamped to [0, 1]; null scores 0 (no propensity).
class CustomScorer final : public decision::Scorer {
public:
    CustomScorer(const catalog::CompiledModel& model, Oid oid)
        : model_(model), function_(model.definition.value("function", "")), caller_(calling_role()) {
        pg_call([&] { fmgr_info(oid, &flinfo_); });
    }

    decision::Score score(const catalog::CompiledOffer& offer, const decision::CustomerView& view, const Json& context,
                          double) const override {
        if (!prepared_) {
            const auto& c = view.customer;
            Json metrics = Json::object();
            for (const auto& [id, value] : c.metrics) metrics[id] = value;
            customer_ = jsonb_datum({{"id", c.id}, {"attributes", c.attributes}, {"segments", c.segments},
                                     {"metrics", std::move(metrics)}});
            context_ = jsonb_datum(context.is_object() ? context : Json::object());
            prepared_ = true;
        }
        const Datum offer_datum = jsonb_datum(offer.row);
        const int remaining = g_timeout_ms - static_cast<int>(spent_ms_);
        if (remaining <= 0) timed_out();
        bool is_null = false;
        double value = 0;
        const TimestampTz started = GetCurrentTimestamp();
        try {
            Timer timer(remaining);
            AsCaller as_caller(caller_);
            value = pg_call([&] {
                LOCAL_FCINFO(call, 3);
                InitFunctionCallInfoData(*call, &flinfo_, 3, InvalidOid, nullptr, nullptr);
                call->args[0] = {customer_, false};
                call->args[1] = {offer_datum, false};
                call->args[2] = {context_, false};
                Datum result = FunctionCallInvoke(call);
                is_null = call->isnull;
                return is_null ? 0.0 : DatumGetFloat8(result);
            });
        } catch (const PgError& e) {
            if (g_timed_out) timed_out();
            // A cancel, a statement timeout, a deadlock, a serialization
            // failure, a lack of resources: not the function's answer, so
            // the client sees it as it is (and may retry).
            if (passes_through(e.edata()->sqlerrcode)) throw;
            refuse(model_, function_, "function " + function_ + " failed: " + e.what(),
                   {{"sqlstate", unpack_sql_state(e.edata()->sqlerrcode)}});
        }
        spent_ms_ += static_cast<double>(GetCurrentTimestamp() - started) / 1000.0;
        if (g_timed_out) timed_out();
        if (is_null) return {0, std::nullopt};
        return {value, std::clamp(value, 0.0, 1.0)};
    }

private:
    [[noreturn]] void timed_out() const {
        refuse(model_, function_,
               "function " + function_ + " took longer than kaireon.custom_model_timeout (" +
                   std::to_string(g_timeout_ms) + " ms for one decision)",
               {{"timeoutMs", g_timeout_ms}});
    }

    const catalog::CompiledModel& model_;
    std::string function_;
    Oid caller_;
    mutable FmgrInfo flinfo_{};
    mutable bool prepared_ = false;
    mutable Datum customer_ = 0, context_ = 0;
    mutable double spent_ms_ = 0;
};

}  // namespace

std::optional<std::string> scoring_function_problem(std::string_view name, bool as_caller) {
    return resolve(name, as_caller).problem;
}

std::unique_ptr<decision::Scorer> custom_scorer(const catalog::CompiledModel& model, const std::string& flow_id) {
    const std::string function = model.definition.value("function", "");
    Resolved resolved;
    {
        AsCaller as_caller(calling_role());
        resolved = resolve(function, true);
    }
    if (resolved.problem) refuse(model, function, *resolved.problem, {{"flow", flow_id}});
    return std::make_unique<CustomScorer>(model, resolved.oid);
}

void custom_scorer_init() {
    DefineCustomIntVariable("kaireon.custom_model_timeout", "How long a custom model's function may run per decision.",
                            "All calls of one decision together; past it the decision fails with KR400.",
                            &g_timeout_ms, 250, 1, 600 * 1000, PGC_SUSET, GUC_UNIT_MS, nullptr, nullptr, nullptr);
}

}  // namespace kaireon::pg
