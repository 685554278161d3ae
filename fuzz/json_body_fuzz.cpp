// Request bodies: any bytes must end in a parsed object or an ApiError (400),
// never a crash, and the field helpers must hold for whatever parsed.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/api_error.hpp"
#include "core/json_body.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  try {
    const auto object = core::parse_json_object(body);
    for (const char* field : {"email", "password", "name", "referral_code", "reward_value", "auto_credit"}) {
      try {
        (void)core::optional_string(object, field);
        (void)core::optional_bool(object, field);
        (void)core::required_positive_integer(object, field);
      } catch (const core::ApiError& error) {
        if (error.status() != 400) __builtin_trap();
      }
    }
  } catch (const core::ApiError& error) {
    if (error.status() != 400) __builtin_trap();
  }
  return 0;
}
