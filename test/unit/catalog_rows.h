// catalog_rows.h - for unit tests: a catalog built row by row, each row
// validated as apply_catalog would, then compiled. A test's own builder
// derives from it (CRTP, so that its own additions chain too).
#pragma once
#include "core/catalog.h"
#include "core/catalog_compiled.h"
#include "core/json.h"

#include <stdexcept>
#include <string>
#include <string_view>

namespace kaireon::test_support {

template <class Self>
class CatalogRows {
public:
    // add_json validates `object` as an entity of document key `key`.
    Self& add_json(std::string_view key, const Json& object) {
        const catalog::Entity* entity = catalog::find_entity(key);
        if (entity == nullptr) throw std::logic_error("no entity " + std::string(key));
        auto& list = rows_[std::string(key)];
        list.push_back(catalog::validate(*entity, object, std::string(key) + "[" + std::to_string(list.size()) + "]").row);
        return self();
    }
    Self& add(std::string_view key, std::string_view text) { return add_json(key, Json::parse(text)); }

    // offer adds an offer {"id": id, ...fields}.
    Self& offer(const std::string& id, Json fields = Json::object()) {
        Json o = {{"id", id}};
        for (const auto& [k, v] : fields.items()) o[k] = v;
        return add_json("offers", o);
    }
    // creative adds a creative of `offer` on `channel` (and `placement`).
    Self& creative(const std::string& id, const std::string& offer, const std::string& channel,
                   const std::string& placement = "") {
        Json c = {{"id", id}, {"offerId", offer}, {"channelId", channel}};
        if (!placement.empty()) c["placementId"] = placement;
        return add_json("creatives", c);
    }

    const catalog::RowsByKey& rows() const { return rows_; }
    catalog::CompiledCatalog build() const { return catalog::compile_catalog(rows_); }

private:
    Self& self() { return static_cast<Self&>(*this); }
    catalog::RowsByKey rows_;
};

}  // namespace kaireon::test_support
