#include "core/text.hpp"
#include "core/env_file.hpp"

#include <cctype>

namespace core {

namespace {

bool valid_key(std::string_view key) {
  if (key.empty() || std::isdigit(static_cast<unsigned char>(key.front()))) return false;
  for (char c : key) {
    // '-' because the original accepted JWT-SECRET.
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') {
      return false;
    }
  }
  return true;
}

std::string unquote_double(std::string_view body) {
  std::string out;
  for (std::size_t i = 0; i < body.size(); ++i) {
    if (body[i] == '\\' && i + 1 < body.size()) {
      const char next = body[++i];
      out.push_back(next == 'n' ? '\n' : next == 't' ? '\t' : next);
    } else {
      out.push_back(body[i]);
    }
  }
  return out;
}

// Returns the value, given everything after '='.
std::string parse_value(std::string_view raw, std::size_t line_no) {
  raw = trim_view(raw);
  if (raw.empty()) return {};
  const char quote = raw.front();
  if (quote == '"' || quote == '\'') {
    std::size_t close = 1;
    while (close < raw.size() && raw[close] != quote) close += (quote == '"' && raw[close] == '\\') ? 2 : 1;
    if (close >= raw.size()) {
      throw ConfigError(".env line " + std::to_string(line_no) + ": unterminated quoted value");
    }
    const auto rest = trim_view(raw.substr(close + 1));
    if (!rest.empty() && rest.front() != '#') {
      throw ConfigError(".env line " + std::to_string(line_no) + ": text after the closing quote");
    }
    const auto body = raw.substr(1, close - 1);
    return quote == '"' ? unquote_double(body) : std::string(body);
  }
  const auto comment = raw.find(" #");
  return std::string(trim_view(raw.substr(0, comment)));
}

}  // namespace

std::map<std::string, std::string> parse_env_file(std::string_view text) {
  std::map<std::string, std::string> values;
  std::size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    const auto newline = text.find('\n');
    auto line = trim_view(text.substr(0, newline));
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
    if (line.empty() || line.front() == '#') continue;
    if (line.starts_with("export ")) line = trim_view(line.substr(7));
    const auto eq = line.find('=');
    if (eq == std::string_view::npos) {
      throw ConfigError(".env line " + std::to_string(line_no) + ": expected NAME=VALUE");
    }
    const auto key = trim_view(line.substr(0, eq));
    if (!valid_key(key)) {
      throw ConfigError(".env line " + std::to_string(line_no) + ": invalid name '" +
                        std::string(key) + "'");
    }
    values[std::string(key)] = parse_value(line.substr(eq + 1), line_no);
  }
  return values;
}

}  // namespace core
