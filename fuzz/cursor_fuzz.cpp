// Pagination cursors come from clients: decode or 400, and what decodes must
// round-trip.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/api_error.hpp"
#include "core/cursor.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const auto cursor = core::decode_cursor(text);
    const auto again = core::decode_cursor(core::encode_cursor(cursor));
    if (again.created_at != cursor.created_at || again.id != cursor.id) __builtin_trap();
  } catch (const core::ApiError& error) {
    if (error.status() != 400) __builtin_trap();
  }
  return 0;
}
