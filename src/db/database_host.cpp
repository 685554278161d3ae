#include "db/database_host.hpp"

#include <libpq-fe.h>

#include <memory>
#include <optional>
#include <string_view>

#include "core/ip_network.hpp"

namespace db {

namespace {

// The URL's `host` ("" when it names none), by libpq's own parser, so a host
// given as `?host=` or as a list is read as libpq reads it when it connects;
// nullopt when libpq refuses the URL.
std::optional<std::string> host_of(const std::string& url) {
  char* error = nullptr;
  std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)> options(
      PQconninfoParse(url.c_str(), &error), PQconninfoFree);
  PQfreemem(error);
  if (!options) return std::nullopt;
  for (const auto* option = options.get(); option->keyword != nullptr; ++option) {
    if (std::string_view(option->keyword) == "host" && option->val != nullptr) return option->val;
  }
  return std::string();
}

// One entry of libpq's comma-separated host list (libpq has taken an IPv6
// address out of its brackets already).
bool on_this_host(std::string_view host) {
  if (host.empty() || host.front() == '/' || host.front() == '@') return true;  // Unix socket
  return core::is_loopback_host(host);
}

}  // namespace

bool postgresql_on_this_host(const std::string& url) {
  if (!url.starts_with("postgresql://") && !url.starts_with("postgres://")) return false;
  const auto hosts = host_of(url);
  if (!hosts) return false;
  std::string_view rest = *hosts;
  while (true) {
    const auto comma = rest.find(',');
    if (!on_this_host(rest.substr(0, comma))) return false;
    if (comma == std::string_view::npos) return true;
    rest.remove_prefix(comma + 1);
  }
}

}  // namespace db
