// mongoexport files come from another system and may be damaged: whatever
// the bytes, the parser must refuse or accept without crashing, and a file
// it accepts must hold documents whose lines are in order.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "importer/mongo_export.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  importer::fuzz_one_input(data, size);
  const auto parsed =
      importer::parse_export(std::string_view(reinterpret_cast<const char*>(data), size));
  std::size_t previous = 0;
  for (const auto& document : parsed.documents) {
    if (document.line < previous || document.line == 0) __builtin_trap();
    previous = document.line;
  }
  return 0;
}
