// Positive control: every core header compiles on its own, without PostgreSQL.
#include "core/error.h"
#include "core/json.h"
#include "core/tenant.h"

int main() { return kaireon::kMaxTenantIdLength == 63 ? 0 : 1; }
