#include "importer/mongo_export.hpp"

#include <sodium.h>

#include <algorithm>
#include <boost/json/parse_options.hpp>
#include <boost/json/stream_parser.hpp>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>

namespace importer {

namespace {

using boost::json::object;
using boost::json::value;

// Real exports are flat; the limit only keeps hostile input from recursing deep.
constexpr std::size_t kMaxDepth = 64;
constexpr std::int64_t kMsPerDay = 86'400'000;

// ---------------------------------------------------------------------------
// Finding where each document starts and ends, so every error names a line.

struct Scan {
  std::string_view text;
  std::size_t pos = 0;
  std::size_t line = 1;

  bool done() const { return pos >= text.size(); }
  char peek() const { return text[pos]; }
};

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

void skip_space(Scan& at) {
  for (; !at.done() && is_space(at.peek()); ++at.pos) {
    if (at.peek() == '\n') ++at.line;
  }
}

std::size_t count_lines(std::string_view text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

// Moves past the document that opens at `at` (on '{'). Braces inside strings
// do not count; a line break inside a string is refused here because JSON
// forbids it and, in JSON lines, it means the line was cut short.
std::optional<ParseFailure> skip_document(Scan& at) {
  const auto start_line = at.line;
  int depth = 0;
  bool in_string = false;
  for (; !at.done(); ++at.pos) {
    const char c = at.peek();
    if (c == '\n') {
      if (in_string)
        return ParseFailure{at.line, "a string is not closed before the end of the line"};
      ++at.line;
    } else if (in_string) {
      if (c == '"') in_string = false;
      if (c != '\\') continue;
      ++at.pos;  // the escaped character cannot end the string
      if (!at.done() && at.peek() == '\n') {
        return ParseFailure{at.line, "a string is not closed before the end of the line"};
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if ((c == '}' || c == ']') && --depth == 0) {
      ++at.pos;
      return std::nullopt;
    }
  }
  return ParseFailure{start_line, "the document is never closed (a '}' is missing)"};
}

std::variant<object, ParseFailure> parse_slice(std::string_view slice, std::size_t first_line) {
  boost::json::parse_options options;
  options.max_depth = kMaxDepth;
  boost::json::stream_parser parser({}, options);
  boost::system::error_code error;
  const auto used = parser.write(slice.data(), slice.size(), error);
  if (!error) parser.finish(error);
  if (error) {
    return ParseFailure{first_line + count_lines(slice.substr(0, std::min(used, slice.size()))),
                        "invalid JSON: " + error.message()};
  }
  value document = parser.release();
  if (!document.is_object()) return ParseFailure{first_line, "expected a document ({...})"};
  // Field by field: a document is never itself a wrapper, even one that
  // looks like {"$oid": ...}.
  for (auto& field : document.as_object()) {
    if (auto reason = decode_extended_json(field.value()); !reason.empty()) {
      return ParseFailure{first_line, std::string(field.key()) + ": " + reason};
    }
  }
  return std::move(document.as_object());
}

std::optional<ParseFailure> read_document(Scan& at, std::vector<Document>& out) {
  if (at.done()) return ParseFailure{at.line, "expected a document ('{') but the text ends"};
  if (at.peek() != '{') {
    return ParseFailure{at.line,
                        "expected a document ('{') but found '" + std::string(1, at.peek()) + "'"};
  }
  const auto start = at.pos;
  const auto line = at.line;
  if (auto failure = skip_document(at)) return failure;
  auto parsed = parse_slice(at.text.substr(start, at.pos - start), line);
  if (auto* failure = std::get_if<ParseFailure>(&parsed)) return *failure;
  out.push_back({line, std::move(std::get<object>(parsed))});
  return std::nullopt;
}

// `[doc, doc, ...]` as written by --jsonArray (one line, or many with --pretty).
std::optional<ParseFailure> read_array(Scan& at, std::vector<Document>& out) {
  ++at.pos;  // '['
  skip_space(at);
  if (!at.done() && at.peek() == ']') {
    ++at.pos;
  } else {
    for (;;) {
      skip_space(at);
      if (auto failure = read_document(at, out)) return failure;
      skip_space(at);
      if (at.done()) return ParseFailure{at.line, "the array is never closed (a ']' is missing)"};
      const char next = at.text[at.pos++];
      if (next == ']') break;
      if (next != ',') return ParseFailure{at.line, "expected ',' or ']' after a document"};
    }
  }
  skip_space(at);
  if (!at.done()) return ParseFailure{at.line, "unexpected text after the closing ']'"};
  return std::nullopt;
}

// ---------------------------------------------------------------------------
// Extended JSON

// nullopt: not a wrapper rewritten here; otherwise the plain value or the
// reason the wrapper is malformed.
using Unwrapped = std::optional<std::variant<value, std::string>>;

bool is_hex(std::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](unsigned char c) { return std::isxdigit(c) != 0; });
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return out;
}

template <class Number, class... Base>
std::optional<Number> number_from(std::string_view text, Base... base) {
  Number number{};
  const auto [end, error] =
      std::from_chars(text.data(), text.data() + text.size(), number, base...);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return number;
}

Unwrapped object_id(const value& inner) {
  const auto* text = inner.if_string();
  if (!text || text->size() != 24 || !is_hex(*text))
    return std::string("$oid must be 24 hex digits");
  return value(lower(*text));
}

Unwrapped integer_in(const value& inner, std::int64_t low, std::int64_t high, const char* name) {
  std::optional<std::int64_t> number;
  if (const auto* text = inner.if_string())
    number = number_from<std::int64_t>(*text);
  else if (const auto* plain = inner.if_int64())
    number = *plain;
  if (!number || *number < low || *number > high)
    return std::string(name) + " must hold an integer in range";
  return value(*number);
}

Unwrapped long_integer(const value& inner) {
  return integer_in(inner, std::numeric_limits<std::int64_t>::min(),
                    std::numeric_limits<std::int64_t>::max(), "$numberLong");
}

Unwrapped floating(const value& inner) {
  const auto* text = inner.if_string();
  if (!text) return std::string("$numberDouble must hold a string");
  const auto number = number_from<double>(*text);
  if (!number) return std::string("$numberDouble must hold a number");
  return value(*number);
}

Unwrapped decimal(const value& inner) {
  if (!inner.is_string()) return std::string("$numberDecimal must hold a string");
  return value(inner.as_string());
}

}  // namespace

std::optional<std::int64_t> whole_number(double real) {
  // Range first: converting a double outside int64 is undefined behaviour.
  // 2^63 is the first double that no longer fits (NaN fails both tests).
  constexpr double kLimit = 9223372036854775808.0;
  if (!(real >= -kLimit && real < kLimit) || std::trunc(real) != real) return std::nullopt;
  return static_cast<std::int64_t>(real);
}

namespace {

std::optional<std::int64_t> integral(const value& number) {
  if (const auto* whole = number.if_int64()) return *whole;
  if (const auto* big = number.if_uint64()) {
    if (*big <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      return static_cast<std::int64_t>(*big);
    }
  }
  if (const auto* real = number.if_double()) return whole_number(*real);
  return std::nullopt;
}

Unwrapped date(const value& inner) {
  if (const auto* text = inner.if_string()) {
    const auto ms = parse_iso_timestamp(*text);
    if (!ms) return "$date is not an ISO 8601 timestamp: '" + std::string(*text) + "'";
    return value(*ms);
  }
  if (const auto* wrapped = inner.if_object()) {
    if (wrapped->size() == 1 && wrapped->contains("$numberLong"))
      return long_integer(wrapped->at("$numberLong"));
    return std::string("$date must hold a string, a number or {\"$numberLong\": ...}");
  }
  if (const auto ms = integral(inner)) return value(*ms);
  return std::string("$date must hold a string, a number or {\"$numberLong\": ...}");
}

std::optional<std::string> uuid_from_hex(std::string_view hex) {
  if (hex.size() != 32 || !is_hex(hex)) return std::nullopt;
  const auto text = lower(hex);
  return text.substr(0, 8) + "-" + text.substr(8, 4) + "-" + text.substr(12, 4) + "-" +
         text.substr(16, 4) + "-" + text.substr(20);
}

Unwrapped uuid_text(const value& inner) {
  const auto* text = inner.if_string();
  if (!text) return std::string("$uuid must hold a string");
  std::string hex(*text);
  hex.erase(std::remove(hex.begin(), hex.end(), '-'), hex.end());
  const auto uuid = uuid_from_hex(hex);
  if (!uuid || (text->size() != 32 && text->size() != 36))
    return std::string("$uuid is not a UUID");
  return value(*uuid);
}

// Binary subtypes 3 (legacy UUID) and 4 (UUID) of 16 bytes become UUID text;
// other binary data is left alone, the importer never reads it.
Unwrapped binary(const value& base64, const value& subtype) {
  const auto* text = base64.if_string();
  const auto* kind = subtype.if_string();
  if (!text || !kind) return std::string("$binary needs a base64 string and a subType string");
  const auto type = kind->size() <= 2 ? number_from<int>(*kind, 16) : std::nullopt;
  if (!type) return std::string("$binary subType must be one or two hex digits");
  if (*type != 3 && *type != 4) return std::nullopt;
  unsigned char bytes[16];
  std::size_t length = 0;
  const char* end = nullptr;
  if (sodium_base642bin(bytes, sizeof bytes, text->data(), text->size(), nullptr, &length, &end,
                        sodium_base64_VARIANT_ORIGINAL) != 0 ||
      end != text->data() + text->size() || length != sizeof bytes) {
    return std::string("$binary UUID must be 16 bytes of base64");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned char byte : bytes) {
    hex.push_back(kHex[byte >> 4]);
    hex.push_back(kHex[byte & 0xF]);
  }
  return value(*uuid_from_hex(hex));
}

Unwrapped binary_v2(const value& inner) {
  const auto* parts = inner.if_object();
  if (!parts || !parts->contains("base64") || !parts->contains("subType")) {
    return std::string("$binary must hold {\"base64\", \"subType\"}");
  }
  return binary(parts->at("base64"), parts->at("subType"));
}

Unwrapped unwrap(const object& wrapper) {
  if (wrapper.size() == 2 && wrapper.contains("$binary") && wrapper.contains("$type")) {
    return binary(wrapper.at("$binary"), wrapper.at("$type"));  // the v1 (legacy) form
  }
  if (wrapper.size() != 1) return std::nullopt;
  const auto& key = wrapper.begin()->key();
  const auto& inner = wrapper.begin()->value();
  if (key == "$oid") return object_id(inner);
  if (key == "$date") return date(inner);
  if (key == "$numberLong") return long_integer(inner);
  if (key == "$numberInt") {
    return integer_in(inner, std::numeric_limits<std::int32_t>::min(),
                      std::numeric_limits<std::int32_t>::max(), "$numberInt");
  }
  if (key == "$numberDouble") return floating(inner);
  if (key == "$numberDecimal") return decimal(inner);
  if (key == "$uuid") return uuid_text(inner);
  if (key == "$binary") return binary_v2(inner);
  return std::nullopt;
}

// ---------------------------------------------------------------------------
// ISO 8601

bool read_digits(std::string_view text, std::size_t& pos, std::size_t count, int& out) {
  if (pos + count > text.size()) return false;
  out = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const char c = text[pos + i];
    if (c < '0' || c > '9') return false;
    out = out * 10 + (c - '0');
  }
  pos += count;
  return true;
}

bool take(std::string_view text, std::size_t& pos, char expected) {
  if (pos >= text.size() || text[pos] != expected) return false;
  ++pos;
  return true;
}

bool leap_year(int year) {
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int days_in_month(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && leap_year(year) ? 29 : kDays[month - 1];
}

// Howard Hinnant's days_from_civil: days since 1970-01-01 (proleptic Gregorian).
std::int64_t days_from_civil(int year, int month, int day) {
  year -= month <= 2 ? 1 : 0;
  const int era = (year >= 0 ? year : year - 399) / 400;
  const int year_of_era = year - era * 400;
  const int day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const int day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return static_cast<std::int64_t>(era) * 146097 + day_of_era - 719468;
}

std::optional<std::int64_t> read_date(std::string_view text, std::size_t& pos) {
  int year = 0, month = 0, day = 0;
  if (!read_digits(text, pos, 4, year) || !take(text, pos, '-') ||
      !read_digits(text, pos, 2, month) || !take(text, pos, '-') ||
      !read_digits(text, pos, 2, day)) {
    return std::nullopt;
  }
  if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month)) return std::nullopt;
  return days_from_civil(year, month, day) * kMsPerDay;
}

std::optional<std::int64_t> read_time(std::string_view text, std::size_t& pos) {
  int hour = 0, minute = 0, second = 0;
  if (!read_digits(text, pos, 2, hour) || !take(text, pos, ':') ||
      !read_digits(text, pos, 2, minute)) {
    return std::nullopt;
  }
  if (take(text, pos, ':') && !read_digits(text, pos, 2, second)) return std::nullopt;
  if (hour > 23 || minute > 59 || second > 59) return std::nullopt;
  std::int64_t ms = ((hour * 60LL + minute) * 60 + second) * 1000;
  if (take(text, pos, '.') || take(text, pos, ',')) {
    int digits = 0, fraction = 0;
    for (; pos < text.size() && text[pos] >= '0' && text[pos] <= '9'; ++pos, ++digits) {
      if (digits < 3) fraction = fraction * 10 + (text[pos] - '0');  // finer than ms is dropped
    }
    if (digits == 0) return std::nullopt;
    for (int i = digits; i < 3; ++i) fraction *= 10;
    ms += fraction;
  }
  return ms;
}

// "Z", "+05:30", "-0800", "+05"; nothing at all means UTC.
std::optional<std::int64_t> read_offset(std::string_view text, std::size_t& pos) {
  if (pos == text.size()) return 0;
  if (take(text, pos, 'Z') || take(text, pos, 'z')) return 0;
  const bool east = text[pos] == '+';
  if (!take(text, pos, '+') && !take(text, pos, '-')) return std::nullopt;
  int hours = 0, minutes = 0;
  if (!read_digits(text, pos, 2, hours)) return std::nullopt;
  if (pos < text.size()) {
    take(text, pos, ':');
    if (!read_digits(text, pos, 2, minutes)) return std::nullopt;
  }
  if (hours > 23 || minutes > 59) return std::nullopt;
  const std::int64_t offset = (hours * 60LL + minutes) * 60'000;
  return east ? offset : -offset;
}

}  // namespace

ParsedExport parse_export(std::string_view text) {
  ParsedExport out;
  Scan at{text};
  if (text.starts_with("\xEF\xBB\xBF")) at.pos = 3;  // a byte-order mark some editors add
  skip_space(at);
  if (!at.done() && at.peek() == '[') {
    out.failure = read_array(at, out.documents);
    return out;
  }
  // JSON lines and --pretty output alike: documents one after another.
  for (skip_space(at); !at.done(); skip_space(at)) {
    if ((out.failure = read_document(at, out.documents))) break;
  }
  return out;
}

std::variant<object, std::string> parse_document(std::string_view bytes) {
  auto parsed = parse_slice(bytes, 1);
  if (auto* failure = std::get_if<ParseFailure>(&parsed)) return failure->reason;
  return std::move(std::get<object>(parsed));
}

std::string decode_extended_json(value& node) {
  if (auto* array = node.if_array()) {
    for (auto& item : *array) {
      if (auto reason = decode_extended_json(item); !reason.empty()) return reason;
    }
    return {};
  }
  auto* fields = node.if_object();
  if (!fields) return {};
  if (auto unwrapped = unwrap(*fields)) {
    if (auto* reason = std::get_if<std::string>(&*unwrapped)) return *reason;
    node = std::move(std::get<value>(*unwrapped));
    return {};
  }
  for (auto& field : *fields) {
    if (auto reason = decode_extended_json(field.value()); !reason.empty())
      return std::string(field.key()) + ": " + reason;
  }
  return {};
}

std::optional<std::int64_t> parse_iso_timestamp(std::string_view text) {
  std::size_t pos = 0;
  auto day = read_date(text, pos);
  if (!day) return std::nullopt;
  if (pos == text.size()) return day;
  if (!take(text, pos, 'T') && !take(text, pos, 't') && !take(text, pos, ' ')) return std::nullopt;
  const auto time = read_time(text, pos);
  if (!time) return std::nullopt;
  const auto offset = read_offset(text, pos);
  if (!offset || pos != text.size()) return std::nullopt;
  return *day + *time - *offset;
}

std::optional<std::int64_t> objectid_time_ms(std::string_view hex) {
  if (hex.size() != 24 || !is_hex(hex)) return std::nullopt;
  std::uint32_t seconds = 0;
  std::from_chars(hex.data(), hex.data() + 8, seconds, 16);
  return static_cast<std::int64_t>(seconds) * 1000;
}

void fuzz_one_input(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  (void)parse_document(bytes);
  (void)parse_export(bytes);
  (void)parse_iso_timestamp(bytes);
  (void)objectid_time_ms(bytes);
}

}  // namespace importer
