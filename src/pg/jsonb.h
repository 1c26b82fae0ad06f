// jsonb.h - conversions between jsonb Datums and kaireon::Json.
#pragma once
#include "pg/guard.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kaireon::pg {

// jsonb_datum returns `value` as a jsonb Datum (palloc'd): the same value
// jsonb_in gives for its dump, built directly for objects and arrays.
Datum jsonb_datum(const Json& value);
// The same for a value the caller is done with (an answer): also frees it,
// leaves first (release_json), cheaper than its destructor would.
Datum jsonb_datum(Json&& value);

// jsonb_datum_via_text is that dump through jsonb_in (the reference the
// boundary test compares jsonb_datum with).
Datum jsonb_datum_via_text(const Json& value);

// json_from_jsonb returns the jsonb Datum `value` as Json; `what` names it in
// errors: the same Json, and the same refusals, as parse_json over the text
// jsonb prints, read directly from the document when nothing can differ.
Json json_from_jsonb(Datum value, const char* what, const JsonLimits& limits = JsonLimits{});

// json_from_jsonb_via_text is that text through parse_json (the reference
// the boundary test compares json_from_jsonb with).
Json json_from_jsonb_via_text(Datum value, const char* what, const JsonLimits& limits = JsonLimits{});

// column_json returns a column's value (of `type`) as to_jsonb(row) holds
// it, read back as json_from_jsonb reads it, without the row's jsonb: for
// text, varchar, boolean, integer, float, jsonb and timestamptz columns in a
// UTF-8 database (a timestamp as the session's time zone prints it); nullopt
// for another type or encoding, whose rows the caller reads through
// to_jsonb. SQL NULL is JSON null.
std::optional<Json> column_json(Oid type, Datum value, bool is_null, const JsonLimits& limits);

// text_datum / text_from_datum convert between text Datums and std::string.
Datum text_datum(std::string_view value);
std::string text_from_datum(Datum value);
// texts_from_datum reads a text[] Datum (its NULL elements skipped).
std::vector<std::string> texts_from_datum(Datum value);

// required_text returns text argument `n` of a SQL-callable function, or
// throws KR400 "<name> must not be null" (DETAIL field = name).
std::string required_text(FunctionCallInfo fcinfo, int n, const char* name);

}  // namespace kaireon::pg
