#include "core/utf8.hpp"

namespace core {

namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

bool continuation(unsigned char byte, unsigned char low = 0x80, unsigned char high = 0xBF) {
  return byte >= low && byte <= high;
}

// The length of the well-formed sequence at `text[at]`, 0 when there is none
// (RFC 3629 §4: the second byte's range depends on the first).
std::size_t sequence_length(std::string_view text, std::size_t at) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[at + i]); };
  const auto lead = byte(0);
  if (lead < 0x80) return 1;
  std::size_t length = 0;
  unsigned char low = 0x80, high = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) length = 2;
  else if (lead >= 0xE0 && lead <= 0xEF) length = 3;
  else if (lead >= 0xF0 && lead <= 0xF4) length = 4;
  else return 0;
  if (lead == 0xE0) low = 0xA0;   // overlong
  if (lead == 0xED) high = 0x9F;  // surrogates
  if (lead == 0xF0) low = 0x90;   // overlong
  if (lead == 0xF4) high = 0x8F;  // past U+10FFFF
  if (text.size() - at < length || !continuation(byte(1), low, high)) return 0;
  for (std::size_t i = 2; i < length; ++i) {
    if (!continuation(byte(i))) return 0;
  }
  return length;
}

}  // namespace

bool is_valid_utf8(std::string_view text) {
  for (std::size_t at = 0; at < text.size();) {
    const auto length = sequence_length(text, at);
    if (length == 0) return false;
    at += length;
  }
  return true;
}

bool is_text(std::string_view text) {
  return is_valid_utf8(text) && text.find('\0') == std::string_view::npos;
}

std::string to_valid_utf8(std::string_view text, std::size_t max_bytes) {
  std::string out;
  for (std::size_t at = 0; at < text.size();) {
    const auto length = sequence_length(text, at);
    const auto piece = length == 0 ? kReplacement : text.substr(at, length);
    if (out.size() + piece.size() > max_bytes) break;
    out += piece;
    at += length == 0 ? 1 : length;
  }
  return out;
}

bool has_control_characters(std::string_view text) {
  const auto byte = [&](std::size_t i) {
    return i < text.size() ? static_cast<unsigned char>(text[i]) : 0;
  };
  for (std::size_t at = 0; at < text.size(); ++at) {
    const auto lead = byte(at);
    if (lead < 0x20 || lead == 0x7F) return true;
    if (lead == 0xC2 && byte(at + 1) >= 0x80 && byte(at + 1) <= 0x9F) return true;  // U+0080-U+009F
    if (lead != 0xE2) continue;
    const auto second = byte(at + 1);
    const auto third = byte(at + 2);
    if (second == 0x80 && (third == 0x8E || third == 0x8F || (third >= 0xA8 && third <= 0xAE)))
      return true;
    if (second == 0x81 && third >= 0xA6 && third <= 0xA9) return true;
  }
  return false;
}

}  // namespace core
