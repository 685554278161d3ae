#pragma once
#include <string>
#include <string_view>

namespace core {

// `text` without leading and trailing whitespace (space, tab, CR, LF).
inline std::string_view trim_view(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
}

inline std::string trim(std::string_view text) { return std::string(trim_view(text)); }

}  // namespace core
