// Positive control: the order src/pg uses (core headers, then postgres.h)
// compiles.
#include "core/error.h"
#include "core/tenant.h"

extern "C" {
#include "postgres.h"
}

int main() { return 0; }
