#include "core/ip_network.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <string>

namespace core {

namespace {

struct Address {
  std::array<unsigned char, 16> bytes{};
  int length = 0;
};

std::optional<Address> parse_address(std::string_view text) {
  const std::string literal(text);
  Address address;
  if (inet_pton(AF_INET, literal.c_str(), address.bytes.data()) == 1) {
    address.length = 4;
    return address;
  }
  if (inet_pton(AF_INET6, literal.c_str(), address.bytes.data()) != 1) return std::nullopt;
  address.length = 16;
  constexpr std::array<unsigned char, 12> kMappedPrefix{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::equal(kMappedPrefix.begin(), kMappedPrefix.end(), address.bytes.begin())) {
    std::copy_n(address.bytes.begin() + 12, 4, address.bytes.begin());
    address.length = 4;
  }
  return address;
}

}  // namespace

std::optional<IpNetwork> IpNetwork::parse(std::string_view text) {
  const auto slash = text.find('/');
  const auto address = parse_address(text.substr(0, slash));
  if (!address) return std::nullopt;
  IpNetwork network;
  network.bytes_ = address->bytes;
  network.length_ = address->length;
  network.prefix_bits_ = address->length * 8;
  if (slash != std::string_view::npos) {
    const auto digits = text.substr(slash + 1);
    const auto [end, ec] =
        std::from_chars(digits.data(), digits.data() + digits.size(), network.prefix_bits_);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() ||
        network.prefix_bits_ < 0 || network.prefix_bits_ > address->length * 8) {
      return std::nullopt;
    }
  }
  return network;
}

bool IpNetwork::contains(std::string_view text) const {
  const auto address = parse_address(text);
  if (!address || address->length != length_) return false;
  const int whole_bytes = prefix_bits_ / 8;
  if (!std::equal(bytes_.begin(), bytes_.begin() + whole_bytes, address->bytes.begin())) {
    return false;
  }
  const int rest = prefix_bits_ % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<unsigned char>(0xff << (8 - rest));
  return (bytes_[whole_bytes] & mask) == (address->bytes[whole_bytes] & mask);
}

bool is_ip_address(std::string_view text) {
  return parse_address(text).has_value();
}

std::string client_network(std::string_view text) {
  auto address = parse_address(text);
  if (!address) return std::string(text);
  // A translator's well-known prefix (RFC 6052, 64:ff9b::/96) carries every
  // IPv4 client it serves in one /64: each is its embedded IPv4 address.
  constexpr std::array<unsigned char, 12> kTranslated{0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
  if (address->length == 16 &&
      std::equal(kTranslated.begin(), kTranslated.end(), address->bytes.begin())) {
    std::copy_n(address->bytes.begin() + 12, 4, address->bytes.begin());
    address->length = 4;
  }
  char printed[INET6_ADDRSTRLEN] = {};
  if (address->length == 4) {
    inet_ntop(AF_INET, address->bytes.data(), printed, sizeof printed);
    return printed;
  }
  std::fill(address->bytes.begin() + 8, address->bytes.end(), 0);
  inet_ntop(AF_INET6, address->bytes.data(), printed, sizeof printed);
  return std::string(printed) + "/64";
}

bool is_loopback_host(std::string_view host) {
  if (host == "localhost") return true;
  const auto address = parse_address(host);
  if (!address) return false;
  if (address->length == 4) return address->bytes[0] == 127;
  return IpNetwork::parse("::1")->contains(host);
}

}  // namespace core
