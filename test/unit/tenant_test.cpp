// tenant_test.cpp - tenant id validation: 1 to 63 characters from [a-z0-9_-],
// starting with a letter or digit.
#include "core/tenant.h"

#include "core/error.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace kaireon {
namespace {

bool valid(std::string_view id) { return tenant_id_problem(id).empty(); }

TEST(TenantId, MaxLengthIs63) { EXPECT_EQ(kMaxTenantIdLength, 63U); }

TEST(TenantId, AcceptsValidIds) {
    for (std::string_view id :
         {"a", "z", "0", "9", "acme", "acme-corp", "acme_corp", "a-", "a_", "0-0", "tenant42", "a--b", "a__b", "123"}) {
        EXPECT_TRUE(valid(id)) << "'" << id << "': " << tenant_id_problem(id);
        EXPECT_NO_THROW(validate_tenant_id(id)) << id;
    }
}

TEST(TenantId, LengthBoundary) {
    const std::string max(63, 'a');
    EXPECT_TRUE(valid(max));
    EXPECT_TRUE(valid("0" + std::string(62, '-')));

    const std::string over(64, 'a');
    EXPECT_EQ(tenant_id_problem(over), "tenant id is longer than 63 characters");
    EXPECT_EQ(tenant_id_problem(std::string(100000, 'a')), "tenant id is longer than 63 characters");
    // A 64-character id with bad characters gets the length error first.
    EXPECT_EQ(tenant_id_problem(std::string(64, 'A')), "tenant id is longer than 63 characters");
    // Length counts bytes: 62 ASCII + one 2-byte character is 64 bytes.
    EXPECT_EQ(tenant_id_problem(std::string(62, 'a') + "\xc3\xa9"), "tenant id is longer than 63 characters");
}

TEST(TenantId, EmptyIsRefused) {
    EXPECT_EQ(tenant_id_problem(""), "tenant id is empty");
    EXPECT_EQ(tenant_id_problem(std::string_view()), "tenant id is empty");
}

TEST(TenantId, FirstCharacterMustBeLowercaseLetterOrDigit) {
    for (std::string_view id : {"-acme", "_acme", "-", "_", "Acme", " acme", ".acme", "\xc3\xa9t\xc3\xa9"}) {
        EXPECT_EQ(tenant_id_problem(id), "tenant id must start with a lowercase letter or a digit") << id;
    }
}

TEST(TenantId, BadCharacterIsReportedWithItsPosition) {
    EXPECT_EQ(tenant_id_problem("acmE"),
              "tenant id may contain only a-z, 0-9, '_' and '-' (bad character at position 4)");
    EXPECT_EQ(tenant_id_problem("acme corp"),
              "tenant id may contain only a-z, 0-9, '_' and '-' (bad character at position 5)");
    // Positions count bytes from 1: 'é' starts at byte 4 of "café".
    EXPECT_EQ(tenant_id_problem("caf\xc3\xa9"),
              "tenant id may contain only a-z, 0-9, '_' and '-' (bad character at position 4)");
    for (std::string_view id : {"acme.corp", "acme/../x", "a'b", "a;drop", "a\nb", "acme\n", "a b", "a%2e", "a\\b",
                                "\xe6\x97\xa5\xe6\x9c\xac", "a\xe6\x97\xa5", "a\xff", "a\x80", "ACME", "acme!"}) {
        EXPECT_FALSE(valid(id)) << "'" << id << "' was accepted";
    }
}

TEST(TenantId, NulByteInsideTheViewIsRefused) {
    // The whole string_view counts; a C-string reading would see only "ab".
    const std::string_view id("ab\0c", 4);
    ASSERT_EQ(id.size(), 4U);
    EXPECT_EQ(tenant_id_problem(id), "tenant id may contain only a-z, 0-9, '_' and '-' (bad character at position 3)");
    EXPECT_FALSE(valid(std::string_view("ab\0", 3)));
    EXPECT_FALSE(valid(std::string_view("\0", 1)));
    EXPECT_FALSE(valid(std::string(63, 'a') + std::string(1, '\0')));
    // And a view that ends before bad bytes in the buffer only sees its own.
    const std::string buffer = "acme!";
    EXPECT_TRUE(valid(std::string_view(buffer).substr(0, 4)));
}

TEST(TenantId, EveryByteIsClassified) {
    for (int b = 0; b < 256; ++b) {
        const char c = static_cast<char>(b);
        const bool lower_alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        const bool allowed = lower_alnum || c == '_' || c == '-';
        EXPECT_EQ(valid(std::string(1, c)), lower_alnum) << "first byte " << b;
        EXPECT_EQ(valid(std::string("a") + c), allowed) << "second byte " << b;
        EXPECT_EQ(valid(std::string("a") + c + "z"), allowed) << "middle byte " << b;
    }
}

TEST(TenantId, ValidateThrowsBadRequestNamingTheField) {
    try {
        validate_tenant_id("Acme");
        FAIL() << "validate_tenant_id accepted 'Acme'";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::BadRequest);
        EXPECT_STREQ(e.what(), "tenant id must start with a lowercase letter or a digit");
        EXPECT_EQ(e.detail_text(),
                  R"({"error":"tenant id must start with a lowercase letter or a digit","code":"BAD_REQUEST",)"
                  R"("field":"tenantId"})");
    }
    EXPECT_THROW(validate_tenant_id(""), Error);
    EXPECT_THROW(validate_tenant_id(std::string(64, 'a')), Error);
    EXPECT_THROW(validate_tenant_id(std::string_view("a\0", 2)), Error);
    EXPECT_NO_THROW(validate_tenant_id(std::string(63, 'z')));
}

}  // namespace
}  // namespace kaireon
