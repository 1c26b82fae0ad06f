#include "pg/guard.h"

#include <cstring>
#include <new>

namespace kaireon::pg {
namespace {

// Messages longer than this are cut: an error must never fail to be raised
// because its text is huge.
constexpr size_t kMaxErrorText = 16 * 1024;

// copy_text returns a palloc'd copy of `text` (cut at kMaxErrorText), or
// `fallback` when memory is exhausted. It never raises.
const char* copy_text(const char* text, const char* fallback) noexcept {
    if (text == nullptr) return nullptr;
    size_t length = strnlen(text, kMaxErrorText);
    auto* copy = static_cast<char*>(palloc_extended(length + 1, MCXT_ALLOC_NO_OOM));
    if (copy == nullptr) return fallback;
    memcpy(copy, text, length);
    copy[length] = '\0';
    return copy;
}

// The memory context current when the innermost guard was entered: errors are
// copied there, because it outlives everything the guarded call creates (an
// SPI procedure context, say, which is deleted while the exception unwinds).
MemoryContext g_error_context = nullptr;

// GuardScope sets g_error_context for a guarded call and restores the outer
// one when the call ends (guards nest: SQL -> C++ -> SPI -> SQL -> C++).
class GuardScope {
public:
    GuardScope() noexcept : outer_(g_error_context) { g_error_context = CurrentMemoryContext; }
    ~GuardScope() { g_error_context = outer_; }
    GuardScope(const GuardScope&) = delete;
    GuardScope& operator=(const GuardScope&) = delete;
    MemoryContext context() const noexcept { return g_error_context; }

private:
    MemoryContext outer_;
};

int sqlstate_of(std::string_view code) noexcept {
    if (code.size() != 5) return ERRCODE_INTERNAL_ERROR;
    return MAKE_SQLSTATE(code[0], code[1], code[2], code[3], code[4]);
}

}  // namespace

const char* PgError::what() const noexcept {
    return edata_ != nullptr && edata_->message != nullptr ? edata_->message : "PostgreSQL error";
}

void capture_current_exception(CaughtError& out) noexcept {
    try {
        throw;
    } catch (const PgError& e) {
        out.pg_error = e.edata();
    } catch (const kaireon::Error& e) {
        out.sqlstate = sqlstate_of(e.info().sqlstate);
        out.message = copy_text(e.what(), "kaireon error (out of memory while reporting it)");
        try {
            std::string detail = e.detail_text();
            out.detail = copy_text(detail.c_str(), nullptr);
        } catch (...) {
            out.detail = nullptr;
        }
        out.hint = e.hint().empty() ? nullptr : copy_text(e.hint().c_str(), nullptr);
        out.hide_statement = e.sensitive();
    } catch (const std::bad_alloc&) {
        out.sqlstate = ERRCODE_OUT_OF_MEMORY;
        out.message = "out of memory";
    } catch (const std::exception& e) {
        out.sqlstate = ERRCODE_INTERNAL_ERROR;
        out.message = copy_text(e.what(), "internal error");
    } catch (...) {
        out.sqlstate = ERRCODE_INTERNAL_ERROR;
        out.message = "unknown C++ exception";
    }
}

void raise_caught(const CaughtError& err, int elevel) {
    if (err.pg_error != nullptr) {
        // A kaireon error raised under a query kaireon ran itself (a trigger
        // refusing report_usage's INSERT): its CONTEXT would only show our
        // internal SQL. Keep the error, drop that context.
        const char* state = unpack_sql_state(err.pg_error->sqlerrcode);
        if (state[0] == 'K' && state[1] == 'R') err.pg_error->context = nullptr;
        if (elevel >= ERROR) ReThrowError(err.pg_error);
        // Demoted (e.g. in an abort callback): report it, keep going.
        err.pg_error->elevel = elevel;
        ThrowErrorData(err.pg_error);
        return;
    }
    ereport(elevel, (errcode(err.sqlstate), errmsg_internal("%s", err.message),
                     err.detail ? errdetail_internal("%s", err.detail) : 0,
                     err.hint ? errhint("%s", err.hint) : 0, errhidestmt(err.hide_statement)));
}

ErrorData* pg_try(void (*fn)(void*), void* arg) {
    MemoryContext caller_context = CurrentMemoryContext;
    ErrorData* volatile edata = nullptr;
    PG_TRY();
    {
        fn(arg);
    }
    PG_CATCH();
    {
        MemoryContextSwitchTo(g_error_context != nullptr ? g_error_context : caller_context);
        edata = CopyErrorData();
        FlushErrorState();
        MemoryContextSwitchTo(caller_context);
    }
    PG_END_TRY();
    return edata;
}

Datum run_guarded(Datum (*body)(FunctionCallInfo), FunctionCallInfo fcinfo) {
    CaughtError err;
    {
        GuardScope scope;
        try {
            return body(fcinfo);
        } catch (...) {
            MemoryContextSwitchTo(scope.context());
            capture_current_exception(err);
        }
    }
    // Every C++ object of the call has been destroyed by now.
    raise_caught(err, ERROR);
    pg_unreachable();
}

void run_guarded_void(void (*body)(void*), void* arg, int elevel) {
    CaughtError err;
    {
        GuardScope scope;
        try {
            body(arg);
            return;
        } catch (...) {
            MemoryContextSwitchTo(scope.context());
            capture_current_exception(err);
        }
    }
    raise_caught(err, elevel);
}

}  // namespace kaireon::pg
