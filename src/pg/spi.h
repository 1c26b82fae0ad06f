// spi.h - SPI inside the guard: a connection that is always finished, and
// queries whose PostgreSQL errors become PgError.
#pragma once
#include "pg/guard.h"

#include <initializer_list>
#include <optional>
#include <string>

namespace kaireon::pg {

// SpiArg is one query parameter: a type and a value (null when absent).
struct SpiArg {
    Oid type;
    Datum value;
    bool is_null = false;
};

// SpiArg helpers for the common types.
SpiArg text_arg(const std::string& value);
SpiArg oid_arg(Oid value);

// SpiSession connects on construction and finishes on destruction. Results
// live until the next query or the end of the session: copy what you keep.
class SpiSession {
public:
    SpiSession();
    ~SpiSession();
    SpiSession(const SpiSession&) = delete;
    SpiSession& operator=(const SpiSession&) = delete;

    // execute runs `sql` with `args` and returns the number of rows processed.
    uint64 execute(const char* sql, std::initializer_list<SpiArg> args = {}, bool read_only = false);

    // Accessors for the last result (row and column are zero-based).
    uint64 rows() const;
    bool is_null(uint64 row, int column) const;
    std::optional<std::string> text(uint64 row, int column) const;
    std::optional<bool> boolean(uint64 row, int column) const;
    std::optional<Oid> oid(uint64 row, int column) const;

private:
    Datum datum(uint64 row, int column, bool* is_null) const;
    bool connected_ = false;
};

// extension_owner returns the role that owns the kaireon schema (the
// superuser who created the extension).
Oid extension_owner();

// AsUser runs a scope with the privileges of `user` (for the
// extension's own lookups from code that any role may call, e.g. RLS
// policies), restoring the caller's identity when the scope ends, also on
// error.
class AsUser {
public:
    explicit AsUser(Oid user);
    ~AsUser();
    AsUser(const AsUser&) = delete;
    AsUser& operator=(const AsUser&) = delete;

private:
    Oid saved_user_;
    int saved_context_;
};

}  // namespace kaireon::pg
