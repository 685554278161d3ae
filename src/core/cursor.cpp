#include "core/cursor.hpp"

#include <charconv>

#include "core/api_error.hpp"
#include "core/random.hpp"
#include "core/utf8.hpp"

namespace core {

std::string encode_cursor(const Cursor& cursor) {
  return base64url_encode(std::to_string(cursor.created_at) + "|" + cursor.id);
}

Cursor decode_cursor(const std::string& text) {
  std::string raw;
  Cursor cursor;
  const auto bar = base64url_decode(text, raw) ? raw.find('|') : std::string::npos;
  const bool parsed = bar != std::string::npos && bar + 1 < raw.size() &&
                      std::from_chars(raw.data(), raw.data() + bar, cursor.created_at).ptr == raw.data() + bar;
  if (parsed) cursor.id = raw.substr(bar + 1);
  // The id is bound as text: PostgreSQL refuses bytes that are not UTF-8 (a
  // 500 on every paginated route, found by request_fuzz on PostgreSQL).
  if (!parsed || !is_text(cursor.id)) {
    throw validation_error("'cursor' is not a cursor this server gave out.");
  }
  return cursor;
}

}  // namespace core
