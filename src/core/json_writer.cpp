#include "core/json_writer.hpp"

#include <charconv>
#include <cstdint>
#include <cstring>

#include "core/clock.hpp"

namespace core {

namespace {

constexpr char kHex[] = "0123456789abcdef";

constexpr std::uint64_t kOnes = 0x0101010101010101ULL;  // 0x01 in every byte
constexpr std::uint64_t kHighBits = 0x8080808080808080ULL;

// Whether any byte of `word` is below 0x20, a quote or a backslash: the
// classic "has a byte less than n" and "has a zero byte" bit tricks (exact as
// a yes/no answer, for n <= 128). The referral list page escapes ~10 KiB of
// ids, names and keys per answer; a byte at a time, this loop was 8% of
// referrald's samples on PostgreSQL (docs/PERFORMANCE.md).
bool has_byte_to_escape(std::uint64_t word) {
  const auto below_space = (word - kOnes * 0x20) & ~word;
  const auto quotes = word ^ (kOnes * '"');
  const auto backslashes = word ^ (kOnes * '\\');
  const auto quote = (quotes - kOnes) & ~quotes;
  const auto backslash = (backslashes - kOnes) & ~backslashes;
  return ((below_space | quote | backslash) & kHighBits) != 0;
}

// Where the first byte at or after `from` that needs escaping is, or
// text.size(). Eight bytes at a time while none does.
std::size_t next_to_escape(std::string_view text, std::size_t from) {
  std::size_t i = from;
  for (; i + sizeof(std::uint64_t) <= text.size(); i += sizeof(std::uint64_t)) {
    std::uint64_t word = 0;
    std::memcpy(&word, text.data() + i, sizeof word);
    if (has_byte_to_escape(word)) break;
  }
  for (; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == '"' || c == '\\') return i;
  }
  return i;
}

void append_escaped(std::string& out, std::string_view text) {
  out += '"';
  std::size_t plain_from = 0;
  for (std::size_t i = next_to_escape(text, 0); i < text.size();
       i = next_to_escape(text, plain_from)) {
    const auto c = static_cast<unsigned char>(text[i]);
    out.append(text, plain_from, i - plain_from);
    plain_from = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 0xF];
    }
  }
  out.append(text, plain_from, text.size() - plain_from);
  out += '"';
}

}  // namespace

void JsonWriter::before_value() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!first_) out_ += ',';
  first_ = false;
}

JsonWriter& JsonWriter::open(char bracket) {
  before_value();
  out_ += bracket;
  first_ = true;
  return *this;
}

// A container just closed is an element of its parent: the next one needs a comma.
JsonWriter& JsonWriter::close(char bracket) {
  out_ += bracket;
  first_ = false;
  return *this;
}

JsonWriter& JsonWriter::key(std::string_view name) {
  before_value();
  append_escaped(out_, name);
  out_ += ':';
  after_key_ = true;
  return *this;
}

JsonWriter& JsonWriter::value(std::string_view text) {
  before_value();
  append_escaped(out_, text);
  return *this;
}

JsonWriter& JsonWriter::value(std::int64_t number) {
  before_value();
  char digits[24];
  out_.append(digits, std::to_chars(digits, digits + sizeof digits, number).ptr);
  return *this;
}

JsonWriter& JsonWriter::null() {
  before_value();
  out_ += "null";
  return *this;
}

JsonWriter& JsonWriter::json(std::string_view text) {
  before_value();
  out_ += text;
  return *this;
}

// Written from a stack buffer: a std::string per timestamp (24 characters,
// past the small-string buffer) was a malloc and a free per list row. The
// text is digits and punctuation, so it needs no escaping.
JsonWriter& JsonWriter::timestamp(std::optional<std::int64_t> epoch_ms) {
  if (!epoch_ms) return null();
  before_value();
  char text[kTimestampCapacity];
  out_ += '"';
  out_.append(text, put_timestamp(text, *epoch_ms));
  out_ += '"';
  return *this;
}

}  // namespace core
