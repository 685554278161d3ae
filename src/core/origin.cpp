#include "core/origin.hpp"

#include <algorithm>
#include <boost/url/parse.hpp>
#include <cctype>

namespace core {

namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

std::optional<std::string> web_origin(std::string_view url) {
  const auto parsed = boost::urls::parse_uri(url);
  if (!parsed) return std::nullopt;
  const auto scheme = lower(parsed->scheme());
  if ((scheme != "http" && scheme != "https") || !parsed->has_authority()) return std::nullopt;
  const auto host = lower(parsed->encoded_host());
  if (host.empty()) return std::nullopt;
  std::string origin = scheme + "://" + host;
  const auto port = parsed->port();
  const bool default_port =
      port.empty() || (scheme == "http" && port == "80") || (scheme == "https" && port == "443");
  if (!default_port) origin += ":" + std::string(port);
  return origin;
}

}  // namespace core
