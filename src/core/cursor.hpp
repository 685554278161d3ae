#pragma once
#include <optional>
#include <string>

namespace core {

// Keyset-pagination position: the (created_at, id) of the last item seen.
// Opaque to clients (base64url), so its shape can change.
struct Cursor {
  long long created_at = 0;
  std::string id;
};

std::string encode_cursor(const Cursor& cursor);
// Throws ApiError 400 validation_error for a cursor that was not ours.
Cursor decode_cursor(const std::string& text);

}  // namespace core
