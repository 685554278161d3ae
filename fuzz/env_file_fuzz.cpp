// The .env parser and the settings parser: any text ends in settings or one
// ConfigError, never a crash or another exception.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/config.hpp"
#include "core/env_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const auto values = core::parse_env_file(text);
    (void)core::parse_config(values);
  } catch (const core::ConfigError&) {
  }
  return 0;
}
