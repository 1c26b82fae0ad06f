// guard.h - the C++/PostgreSQL boundary.
//
// Two directions, one rule: a longjmp never crosses a C++ frame that owns
// resources.
//  - C++ -> PostgreSQL: every SQL-callable function is declared with
//    KAIREON_FUNCTION. Its body runs inside run_guarded, which catches every
//    exception, lets the destructors run, copies the message into palloc'd
//    memory and only then calls ereport(ERROR) from a frame with no C++
//    objects alive.
//  - PostgreSQL -> C++: a call into PostgreSQL that may raise (SPI, palloc,
//    catalog lookups) goes through pg_call, which catches the PostgreSQL error
//    with PG_TRY and rethrows it as PgError. run_guarded re-raises the original
//    ErrorData unchanged, so SQLSTATE, message and position survive.
// A PgError must always reach run_guarded: the PostgreSQL error state was
// flushed, not recovered, so no further PostgreSQL work may follow it except
// cleanup in destructors.
#pragma once
#include "core/error.h"

#include "pg/postgres_headers.h"

#include <exception>
#include <optional>
#include <type_traits>

namespace kaireon::pg {

// PgError carries a PostgreSQL error caught by pg_call.
class PgError : public std::exception {
public:
    explicit PgError(ErrorData* edata) noexcept : edata_(edata) {}
    ErrorData* edata() const noexcept { return edata_; }
    const char* what() const noexcept override;

private:
    ErrorData* edata_;  // palloc'd in the memory context current at pg_call
};

// CaughtError is a caught exception reduced to plain palloc'd strings, so it
// can outlive the C++ exception object it came from.
struct CaughtError {
    ErrorData* pg_error = nullptr;  // set when the exception was a PgError
    int sqlstate = 0;
    const char* message = nullptr;
    const char* detail = nullptr;
    const char* hint = nullptr;
    bool hide_statement = false;  // the statement carried a secret: keep it out of the log
    bool failed() const noexcept { return pg_error != nullptr || message != nullptr; }
};

// capture_current_exception fills `out` from the exception being handled. It
// makes no call that can raise a PostgreSQL error (allocations use
// MCXT_ALLOC_NO_OOM and fall back to static text).
void capture_current_exception(CaughtError& out) noexcept;

// raise_caught reports `err` at `elevel`. With ERROR it does not return. Call
// it only from a frame that owns no C++ objects.
void raise_caught(const CaughtError& err, int elevel);

// run_guarded returns body(fcinfo), or raises the error body threw.
Datum run_guarded(Datum (*body)(FunctionCallInfo), FunctionCallInfo fcinfo);

// run_guarded_void runs body() for hooks and callbacks that have no fcinfo;
// a failure is reported at `elevel` (WARNING in abort callbacks, where ERROR
// is not allowed).
void run_guarded_void(void (*body)(void*), void* arg, int elevel);

// pg_try runs fn(arg) under PG_TRY and returns the PostgreSQL error it raised
// (copied into the caller's memory context, error state flushed), or nullptr.
// fn must not let a C++ exception escape.
ErrorData* pg_try(void (*fn)(void*), void* arg);

// pg_call returns f(), where f calls into PostgreSQL; a PostgreSQL error
// raised inside f becomes a PgError. f must not own C++ objects with
// destructors (the longjmp skips its frame): keep it a thin call.
template <typename F>
auto pg_call(F&& f) -> decltype(f()) {
    using Result = decltype(f());
    struct Call {
        F* f;
        std::conditional_t<std::is_void_v<Result>, bool, std::optional<Result>> result{};
        std::exception_ptr cpp_error;  // a C++ exception must not unwind through PG_TRY
    } call{&f};
    auto trampoline = [](void* raw) {
        auto* c = static_cast<Call*>(raw);
        try {
            if constexpr (std::is_void_v<Result>) {
                (*c->f)();
            } else {
                c->result.emplace((*c->f)());
            }
        } catch (...) {
            c->cpp_error = std::current_exception();
        }
    };
    if (ErrorData* edata = pg_try(trampoline, &call)) throw PgError(edata);
    if (call.cpp_error) std::rethrow_exception(call.cpp_error);
    if constexpr (!std::is_void_v<Result>) return std::move(*call.result);
}

}  // namespace kaireon::pg

// KAIREON_FUNCTION(name) declares the SQL-callable C function `name` and opens
// its C++ body, which runs inside run_guarded:
//
//   KAIREON_FUNCTION(kaireon_current_tenant) {
//       return CStringGetTextDatum(...);
//   }
#define KAIREON_FUNCTION(name)                                                        \
    static Datum name##_body(FunctionCallInfo fcinfo);                                \
    extern "C" {                                                                      \
    PG_FUNCTION_INFO_V1(name);                                                        \
    Datum name(PG_FUNCTION_ARGS) { return ::kaireon::pg::run_guarded(name##_body, fcinfo); } \
    }                                                                                 \
    static Datum name##_body(FunctionCallInfo fcinfo)
