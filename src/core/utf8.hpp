#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace core {

// True when `text` is well-formed UTF-8 (RFC 3629: no overlong forms, no
// surrogates, nothing past U+10FFFF).
bool is_valid_utf8(std::string_view text);

// Well-formed UTF-8 without NUL: what may be bound to SQL as text (PostgreSQL
// refuses both with an error, which would otherwise surface as a 500).
bool is_text(std::string_view text);

// `text` as well-formed UTF-8 of at most `max_bytes` bytes: every byte that
// does not start a valid sequence becomes U+FFFD, and the cut never splits a
// character. For header values that are stored and later sent back as JSON
// (PostgreSQL refuses invalid UTF-8; JSON readers choke on it).
std::string to_valid_utf8(std::string_view text, std::size_t max_bytes);

// True when well-formed UTF-8 `text` holds a character that is not text but
// steers its display: C0 controls (CR, LF, TAB ...), DEL, C1 controls, the
// line and paragraph separators U+2028/U+2029, and the direction marks and
// overrides U+200E/U+200F, U+202A-U+202E, U+2066-U+2069.
bool has_control_characters(std::string_view text);

}  // namespace core
