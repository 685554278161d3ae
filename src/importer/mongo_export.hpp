#pragma once
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

// A pure parser for `mongoexport` output: no database, no files, no logging,
// so it can be unit-tested and fuzzed on bytes alone. Accepted layouts:
// JSON lines (the default), concatenated documents (`--pretty`) and one JSON
// array (`--jsonArray`); Extended JSON v2 relaxed and canonical, plus the
// legacy `{"$date": <number>}` form.
namespace importer {

// One document with Extended JSON already turned into plain values:
//   {"$oid": h}                 -> h (lower-case hex string)
//   {"$date": ...}              -> milliseconds since the epoch (int64)
//   {"$numberLong"/"$numberInt"}-> int64;  {"$numberDouble"} -> double
//   {"$numberDecimal": s}       -> s (string; callers parse what they need)
//   {"$uuid"}, UUID {"$binary"} -> "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"
// Other wrappers (DBRef, $regex, non-UUID binary, ...) stay as objects.
struct Document {
  std::size_t line = 0;  // 1-based line where the document starts
  boost::json::object fields;
};

struct ParseFailure {
  std::size_t line = 0;
  std::string reason;
};

struct ParsedExport {
  std::vector<Document> documents;
  std::optional<ParseFailure> failure;  // set: documents holds those before it
};

// A whole export file.
ParsedExport parse_export(std::string_view text);

// One document's text (a JSON object) -> decoded fields, or the reason it
// was refused. The libFuzzer target drives this with raw bytes.
std::variant<boost::json::object, std::string> parse_document(std::string_view bytes);

// Rewrites Extended JSON wrappers in place; returns the reason for the first
// malformed one, or "" when all were fine.
std::string decode_extended_json(boost::json::value& value);

// "2024-01-15T10:30:00.123Z", "+05:30"/"+0530" offsets, no zone = UTC,
// a bare date = midnight UTC. Milliseconds since the epoch.
std::optional<std::int64_t> parse_iso_timestamp(std::string_view text);

// The double as an int64 when it is a whole number that fits.
std::optional<std::int64_t> whole_number(double real);

// The creation time an ObjectId carries (its first 4 bytes, in seconds).
std::optional<std::int64_t> objectid_time_ms(std::string_view hex);

// Runs both parsers over the bytes and never throws: the fuzz entry point.
void fuzz_one_input(const std::uint8_t* data, std::size_t size);

}  // namespace importer
