// Must NOT compile: a core header seen after postgres.h trips the
// static_assert in src/core/pure.h (checked by check_compile.cmake).
extern "C" {
#include "postgres.h"
}

#include "core/tenant.h"

int main() { return 0; }
