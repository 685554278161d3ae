#pragma once
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>

namespace core {

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Parses the text of a .env file: `KEY=VALUE` lines, optional `export `,
// `#` comments, single- or double-quoted values (double quotes understand
// \n, \" and \\). Throws ConfigError naming the line on malformed input.
std::map<std::string, std::string> parse_env_file(std::string_view text);

}  // namespace core
