#include "webhook/address_guard.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <array>
#include <boost/url/parse.hpp>
#include <cstring>
#include <memory>

#include "core/api_error.hpp"
#include "core/ip_network.hpp"

namespace webhook {

namespace {

constexpr std::size_t kMaxUrlLength = 2000;

// IANA special-purpose ranges a webhook has no business reaching. IpNetwork
// matches IPv4-mapped IPv6 addresses against the IPv4 rows.
const std::vector<core::IpNetwork>& forbidden_networks() {
  static const auto networks = [] {
    std::vector<core::IpNetwork> list;
    for (const char* range :
         {"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
          "172.16.0.0/12", "192.0.0.0/24", "192.168.0.0/16", "198.18.0.0/15", "224.0.0.0/4",
          "240.0.0.0/4", "::/96", "::1/128", "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8"}) {
      list.push_back(*core::IpNetwork::parse(range));
    }
    return list;
  }();
  return networks;
}

// The IPv4 address carried inside a NAT64 or 6to4 address, which reaches
// that IPv4 host through a gateway.
std::string embedded_ipv4(std::string_view address) {
  std::array<unsigned char, 16> bytes{};
  if (inet_pton(AF_INET6, std::string(address).c_str(), bytes.data()) != 1) return "";
  const unsigned char* v4 = nullptr;
  static constexpr std::array<unsigned char, 12> kNat64{0, 0x64, 0xff, 0x9b, 0, 0,
                                                        0, 0,    0,    0,    0, 0};
  if (std::memcmp(bytes.data(), kNat64.data(), kNat64.size()) == 0) v4 = bytes.data() + 12;
  if (bytes[0] == 0x20 && bytes[1] == 0x02) v4 = bytes.data() + 2;
  if (v4 == nullptr) return "";
  char text[INET_ADDRSTRLEN];
  return inet_ntop(AF_INET, v4, text, sizeof text) ? text : "";
}

[[noreturn]] void forbidden(const std::string& why) {
  throw core::ApiError(400, "webhook_url_forbidden", why);
}

Target parse_target(const std::string& url, const GuardOptions& options) {
  if (url.size() > kMaxUrlLength)
    throw core::validation_error("url must be at most 2000 characters");
  const auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed || !parsed->has_authority() || parsed->host().empty()) {
    throw core::validation_error("url must be an absolute https:// URL");
  }
  const auto scheme = parsed->scheme_id();
  if (scheme == boost::urls::scheme::http && !options.allow_http) {
    forbidden("url must use https:// (http:// needs WEBHOOK_ALLOW_HTTP=true)");
  }
  if (scheme != boost::urls::scheme::https && scheme != boost::urls::scheme::http) {
    throw core::validation_error("url must be an https:// URL");
  }
  Target target;
  switch (parsed->host_type()) {
    case boost::urls::host_type::ipv4:
    case boost::urls::host_type::ipv6:
      target.host = std::string(parsed->host_address());
      target.host_is_address = true;
      break;
    case boost::urls::host_type::name:
      if (parsed->encoded_host().find('%') != boost::core::string_view::npos) {
        throw core::validation_error("url host must not be percent-encoded");
      }
      target.host = std::string(parsed->encoded_host());
      break;
    default:
      throw core::validation_error("url host must be a name or an IP address");
  }
  target.port = parsed->has_port() ? parsed->port_number()
                                   : (scheme == boost::urls::scheme::https ? 443 : 80);
  if (target.port == 0) throw core::validation_error("url port must be 1-65535");
  return target;
}

}  // namespace

std::vector<std::string> system_resolver(const std::string& host) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), nullptr, &hints, &found) != 0) return {};
  const std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> owner(found, freeaddrinfo);
  std::vector<std::string> addresses;
  for (const auto* entry = found; entry != nullptr; entry = entry->ai_next) {
    char text[NI_MAXHOST];
    if (getnameinfo(entry->ai_addr, entry->ai_addrlen, text, sizeof text, nullptr, 0,
                    NI_NUMERICHOST) == 0) {
      addresses.emplace_back(text);
    }
  }
  return addresses;
}

bool is_forbidden_address(std::string_view address) {
  // A scoped address ("fe80::1%eth0") names an interface: link-local by definition.
  if (address.find('%') != std::string_view::npos || !core::is_ip_address(address)) return true;
  for (const auto& network : forbidden_networks()) {
    if (network.contains(address)) return true;
  }
  const auto v4 = embedded_ipv4(address);
  return !v4.empty() && is_forbidden_address(v4);
}

Target check_url(const std::string& url, const GuardOptions& options, const Resolver& resolve) {
  auto target = parse_target(url, options);
  const auto addresses =
      target.host_is_address ? std::vector<std::string>{target.host} : resolve(target.host);
  if (addresses.empty())
    throw core::validation_error("url host '" + target.host + "' does not resolve");
  if (!options.allow_private) {
    for (const auto& address : addresses) {
      if (is_forbidden_address(address)) {
        forbidden(
            "url host resolves to a loopback, private, link-local or otherwise internal address");
      }
    }
  }
  target.address = addresses.front();
  return target;
}

}  // namespace webhook
