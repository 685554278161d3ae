#pragma once
#include <optional>
#include <string_view>
#include <vector>

namespace core {

// A file compiled into the binary (migrations, the OpenAPI document).
struct EmbeddedFile {
  std::string_view name;  // "<folder>/<file>", e.g. "migrations/0001_foundation.sql"
  std::string_view content;
};

const std::vector<EmbeddedFile>& embedded_files();  // defined in the generated embedded.cpp
std::optional<std::string_view> embedded_file(std::string_view name);

}  // namespace core
