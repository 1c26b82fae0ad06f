// name_table.h - enums read from and written as their names in documents:
// each enum has a table of (name, value) pairs, and these look it up.
#pragma once
#include "core/pure.h"

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>
#include <utility>

namespace kaireon {

template <typename T, size_t N>
using NameTable = std::array<std::pair<std::string_view, T>, N>;

// from_name returns the entry named `text` in `table`, if any.
template <typename T, size_t N>
std::optional<T> from_name(const NameTable<T, N>& table, std::string_view text) {
    for (const auto& [name, entry] : table) {
        if (name == text) return entry;
    }
    return std::nullopt;
}

// name_of returns the text of `value` in `table` (the first entry's when
// absent); a lookup, so a reordered table stays correct.
template <typename T, size_t N>
std::string_view name_of(const NameTable<T, N>& table, T value) {
    for (const auto& [text, entry] : table) {
        if (entry == value) return text;
    }
    return table.front().first;
}

}  // namespace kaireon
