// Positive control: postgres.h compiles as C++ with these flags, so the failure
// of postgres_then_core.cpp comes from src/core/pure.h, not from postgres.h.
extern "C" {
#include "postgres.h"
}

int main() { return 0; }
