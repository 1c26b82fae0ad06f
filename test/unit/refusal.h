// refusal.h - checking refusals in the core's unit tests: that a call throws
// kaireon::Error(BadRequest) with the expected message and DETAIL path.
#pragma once
#include "core/error.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace kaireon::test_support {

// refusal returns the Error that `call` throws, or nothing (and a test
// failure) when it throws none or something else.
template <typename Call>
std::optional<Error> refusal(Call&& call) {
    try {
        call();
        ADD_FAILURE() << "accepted";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::BadRequest) << e.what();
        return e;
    } catch (const std::exception& e) {
        ADD_FAILURE() << "threw something other than kaireon::Error: " << e.what();
    }
    return std::nullopt;
}

// EXPECT_REFUSED checks that `call` throws BadRequest with message
// "<path>: <message>" and the DETAIL field "path".
#define EXPECT_REFUSED(call, path, message)                                                 \
    do {                                                                                    \
        SCOPED_TRACE(#call);                                                                \
        auto refused_ = refusal([&] { (void)(call); });                                     \
        if (refused_) {                                                                     \
            EXPECT_EQ(std::string(refused_->what()), std::string(path) + ": " + (message)); \
            EXPECT_EQ(refused_->detail().value("path", std::string("<none>")), (path));     \
        }                                                                                   \
    } while (0)

// EXPECT_REFUSED_AT checks only the path.
#define EXPECT_REFUSED_AT(call, path)                                                                       \
    do {                                                                                                    \
        SCOPED_TRACE(#call);                                                                                \
        auto refused_ = refusal([&] { (void)(call); });                                                     \
        if (refused_) {                                                                                     \
            EXPECT_EQ(refused_->detail().value("path", std::string("<none>")), (path)) << refused_->what(); \
        }                                                                                                   \
    } while (0)

}  // namespace kaireon::test_support
