// json_fuzz.cpp - libFuzzer target for kaireon::parse_json_object.
//
// Contract under test: for any bytes, parse_json_object either returns an
// object or throws kaireon::Error(BadRequest) whose detail_text() works;
// anything else (another exception, a crash, a sanitizer report) aborts.
// What it accepts must also survive a dump and a re-parse unchanged.
//
// Built by CMakeLists.txt with clang++-14; run by the ctest test fuzz_json, or
// by hand:  build/core/fuzz/json_fuzz -max_total_time=300 /tmp/corpus test/fuzz/corpus/json
#include "core/error.h"
#include "core/json.h"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <limits>
#include <string>
#include <string_view>

namespace {

[[noreturn]] void fail(const char* what, const char* detail) {
    std::fprintf(stderr, "json_fuzz: %s: %s\n", what, detail);
    std::abort();
}

void check_accepted(const kaireon::Json& doc) {
    if (!doc.is_object()) fail("parse_json_object returned a non-object", kaireon::type_name(doc));
    // Accepted documents are valid UTF-8 by construction, so a strict dump
    // must not throw. Floats may print longer than they were written, so the
    // re-parse gets no size limit (the depth is unchanged).
    std::string text = doc.dump();
    kaireon::JsonLimits unlimited_size;
    unlimited_size.max_bytes = std::numeric_limits<size_t>::max();
    kaireon::Json again = kaireon::parse_json_object(text, "dump", unlimited_size);
    if (again != doc) fail("dump does not re-parse to the same document", text.c_str());
}

void check_refused(const kaireon::Error& e) {
    if (e.code() != kaireon::ErrorCode::BadRequest) fail("unexpected error code", e.what());
    std::string detail = e.detail_text();
    if (detail.rfind(R"({"error":)", 0) != 0) fail("detail does not start with error", detail.c_str());
    if (e.detail().at("code") != "BAD_REQUEST") fail("detail code is not BAD_REQUEST", detail.c_str());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        kaireon::Json doc = kaireon::parse_json_object(text);
        try {
            check_accepted(doc);
        } catch (const std::exception& e) {
            fail("accepted document fails its round trip", e.what());
        }
    } catch (const kaireon::Error& e) {
        try {
            check_refused(e);
        } catch (const std::exception& inner) {
            fail("refusal's detail is broken", inner.what());
        }
    } catch (const std::exception& e) {
        fail("exception other than kaireon::Error", e.what());
    } catch (...) {
        fail("non-std exception", "?");
    }
    return 0;
}
