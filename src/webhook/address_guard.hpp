#pragma once
#include <functional>
#include <string>
#include <string_view>
#include <vector>

// The SSRF guard for webhook URLs: resolve the host once, refuse it when any
// of its addresses is one a server should not be able to reach on an
// operator's behalf (loopback, private, shared, link-local and cloud
// metadata, multicast, unspecified, reserved), and hand the dispatcher the
// checked address to connect to, so no second lookup can answer otherwise.
namespace webhook {

// The numeric addresses of `host` (IPv4 or IPv6 text); empty when it does
// not resolve. Injectable so tests can make a name resolve anywhere.
using Resolver = std::function<std::vector<std::string>(const std::string& host)>;

// getaddrinfo(): blocking, so call it off the io threads.
std::vector<std::string> system_resolver(const std::string& host);

// True for an address in one of the refused ranges, including their
// IPv4-mapped (::ffff:a.b.c.d), NAT64 (64:ff9b::/96) and 6to4 (2002::/16) forms.
bool is_forbidden_address(std::string_view address);

struct GuardOptions {
  bool allow_http = false;     // WEBHOOK_ALLOW_HTTP
  bool allow_private = false;  // WEBHOOK_ALLOW_PRIVATE
};

// Where a checked URL goes: connect to `address` for `host`:`port`.
struct Target {
  std::string host;  // as in the URL, without brackets
  int port = 0;
  std::string address;           // the checked numeric address
  bool host_is_address = false;  // an IP literal: nothing to resolve
};

// Throws core::ApiError 400: validation_error for what is not an http(s) URL
// or does not resolve, webhook_url_forbidden for http:// when not allowed and
// for a host with a refused address.
Target check_url(const std::string& url, const GuardOptions& options, const Resolver& resolve);

}  // namespace webhook
