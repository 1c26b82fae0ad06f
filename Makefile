# PGXS build of the kaireon extension: `make && make install`, then
# `make installcheck` against a running server (scripts/test.sh does it all on
# a throw-away cluster).

# kaireon_router and kaireon_shard are SQL-only companions for a tenant-sharded
# deployment with PL/Proxy (docs/scale-out.md).
EXTENSION = kaireon kaireon_router kaireon_shard
MODULE_big = kaireon

CORE_SRCS = $(sort $(wildcard src/core/*.cpp))
PG_SRCS = $(sort $(wildcard src/pg/*.cpp))
OBJS = $(CORE_SRCS:.cpp=.o) $(PG_SRCS:.cpp=.o)

# The extension ships a base script and the chain of upgrade scripts; a new
# install runs the chain, so fresh installs and upgrades cannot drift apart.
DATA = $(sort $(wildcard src/sql/kaireon--*.sql)) src/router/kaireon_router--0.1.sql src/router/kaireon_router--0.1--0.2.sql src/router/kaireon_router--0.2--0.3.sql src/router/kaireon_router--0.3--0.4.sql src/router/kaireon_shard--0.1.sql src/router/kaireon_shard--0.1--0.2.sql

# pg_regress: every sql/*.sql is a test; isolationtester: every spec.
REGRESS = $(sort $(basename $(notdir $(wildcard sql/*.sql))))
REGRESS_OPTS = --inputdir=. --load-extension=kaireon
ISOLATION = $(sort $(basename $(notdir $(wildcard test/isolation/specs/*.spec))))
ISOLATION_OPTS = --inputdir=test/isolation --outputdir=test/isolation/output --load-extension=kaireon

# Warnings are errors: CI builds with KAIREON_WERROR=1 (the default); set it to
# 0 to build with a newer compiler that warns about something new.
KAIREON_WERROR ?= 1
PG_CXXFLAGS = -std=c++20 -fPIC -Isrc -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers \
	-Wno-cast-function-type -Wno-register
ifeq ($(KAIREON_WERROR),1)
PG_CXXFLAGS += -Werror
endif
SHLIB_LINK = -lstdc++ -lssl -lcrypto

# KAIREON_SANITIZE=1 builds the library with AddressSanitizer + UBSan; the
# server must then run with the ASan runtime preloaded
# (scripts/lib/cluster.sh does it when KR_ASAN=1).
ifeq ($(KAIREON_SANITIZE),1)
PG_CXXFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer
SHLIB_LINK += -fsanitize=address,undefined
endif

# Debian's PGXS compiles every source to LLVM bitcode with clang and without
# PG_CXXFLAGS; the extension has no use for JIT-inlining its C++, so skip it.
# (`override` must come before the include to win over Makefile.global.)
override with_llvm = no
# Track header dependencies (.deps/), so a changed header rebuilds its users.
override autodepend = yes

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)
