// pure.h - included first by every src/core header.
//
// src/core is plain C++20 with no PostgreSQL headers, so that it can be unit
// tested, fuzzed and benchmarked outside the server. Including postgres.h
// before a core header is a compile error.
// Deliberately no include guard: the check runs at every inclusion.

#if defined(POSTGRES_H) || defined(FMGR_H)
static_assert(false, "src/core must not see PostgreSQL headers: include core headers before postgres.h, or move the code to src/pg");
#endif
