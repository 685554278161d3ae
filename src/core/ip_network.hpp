#pragma once
#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace core {

// An IPv4 or IPv6 address range: "10.0.0.0/8", "fd00::/8", or one address
// ("10.0.0.5" is 10.0.0.5/32). IPv4-mapped IPv6 addresses (::ffff:10.0.0.5,
// what a dual-stack listener reports for an IPv4 peer) count as IPv4.
class IpNetwork {
 public:
  // nullopt for anything that is not an address with an optional prefix
  // length no longer than the address.
  static std::optional<IpNetwork> parse(std::string_view text);

  bool contains(std::string_view address) const;

 private:
  std::array<unsigned char, 16> bytes_{};
  int length_ = 0;  // bytes used: 4 (IPv4) or 16 (IPv6)
  int prefix_bits_ = 0;
};

// True for an IPv4 or IPv6 address literal.
bool is_ip_address(std::string_view text);

// True for 127.0.0.0/8, ::1 and "localhost".
bool is_loopback_host(std::string_view host);

// The network a client is known by (the per-IP limits, the same-IP fraud
// rule): an IPv4 address itself, an IPv6 address's /64 ("2001:db8:1:2::/64"),
// since a single subscriber or server is given a whole /64 and can send from
// any of its 2^64 addresses. An IPv4 client seen through a translator's
// well-known prefix (64:ff9b::/96) is its IPv4 address. Text that is no
// address comes back as it is.
std::string client_network(std::string_view address);

}  // namespace core
