#include "core/tenant.h"

#include "core/error.h"

namespace kaireon {
namespace {

bool is_lower_alnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

}  // namespace

std::string tenant_id_problem(std::string_view id) {
    if (id.empty()) return "tenant id is empty";
    if (id.size() > kMaxTenantIdLength) {
        return "tenant id is longer than " + std::to_string(kMaxTenantIdLength) + " characters";
    }
    if (!is_lower_alnum(id.front())) return "tenant id must start with a lowercase letter or a digit";
    for (size_t i = 0; i < id.size(); ++i) {
        char c = id[i];
        if (!is_lower_alnum(c) && c != '_' && c != '-') {
            return "tenant id may contain only a-z, 0-9, '_' and '-' (bad character at position " +
                   std::to_string(i + 1) + ")";
        }
    }
    return {};
}

void validate_tenant_id(std::string_view id) {
    std::string problem = tenant_id_problem(id);
    if (!problem.empty()) throw_bad_request(problem, Json{{"field", "tenantId"}});
}

}  // namespace kaireon
