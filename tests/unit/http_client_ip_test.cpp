#include <gtest/gtest.h>

#include "core/ip_network.hpp"
#include "core/origin.hpp"
#include "http/middleware.hpp"

namespace {

std::vector<core::IpNetwork> networks(std::initializer_list<const char*> texts) {
  std::vector<core::IpNetwork> out;
  for (const char* text : texts) out.push_back(core::IpNetwork::parse(text).value());
  return out;
}

}  // namespace

TEST(IpNetwork, PrefixesCoverTheirRangeOnly) {
  const auto ten = core::IpNetwork::parse("10.0.0.0/8").value();
  EXPECT_TRUE(ten.contains("10.255.0.1"));
  EXPECT_FALSE(ten.contains("11.0.0.1"));
  EXPECT_FALSE(ten.contains("fd00::1"));
  EXPECT_FALSE(ten.contains("not-an-address"));
  const auto odd = core::IpNetwork::parse("192.168.4.0/22").value();
  EXPECT_TRUE(odd.contains("192.168.7.255"));
  EXPECT_FALSE(odd.contains("192.168.8.0"));
  const auto ula = core::IpNetwork::parse("fd00::/8").value();
  EXPECT_TRUE(ula.contains("fdff::1"));
  EXPECT_FALSE(ula.contains("fe80::1"));
  EXPECT_TRUE(core::IpNetwork::parse("0.0.0.0/0").value().contains("203.0.113.9"));
}

TEST(IpNetwork, MappedIpv4IsIpv4) {
  EXPECT_TRUE(core::IpNetwork::parse("10.0.0.0/8").value().contains("::ffff:10.0.0.5"));
  EXPECT_TRUE(core::IpNetwork::parse("::ffff:10.0.0.5").value().contains("10.0.0.5"));
}

TEST(IpNetwork, LoopbackHosts) {
  for (const char* host : {"127.0.0.1", "127.9.9.9", "::1", "localhost", "::ffff:127.0.0.1"}) {
    EXPECT_TRUE(core::is_loopback_host(host)) << host;
  }
  for (const char* host : {"0.0.0.0", "::", "10.0.0.1", "example.com"}) {
    EXPECT_FALSE(core::is_loopback_host(host)) << host;
  }
}

TEST(ClientNetwork, AnIpv4AddressItselfAnIpv6AddressItsSlash64) {
  EXPECT_EQ(core::client_network("203.0.113.9"), "203.0.113.9");
  EXPECT_EQ(core::client_network("::ffff:203.0.113.9"), "203.0.113.9");
  EXPECT_EQ(core::client_network("2001:db8:1:2:aaaa:bbbb:cccc:dddd"), "2001:db8:1:2::/64");
  EXPECT_EQ(core::client_network("2001:DB8:1:2::1"), "2001:db8:1:2::/64");
  EXPECT_EQ(core::client_network("2001:db8:1:3::1"), "2001:db8:1:3::/64");
  EXPECT_EQ(core::client_network("::1"), "::/64");
  EXPECT_EQ(core::client_network("64:ff9b::192.0.2.33"), "192.0.2.33");
  EXPECT_EQ(core::client_network("64:ff9b::c000:222"), "192.0.2.34");
  EXPECT_EQ(core::client_network("64:ff9b:1::c000:222"), "64:ff9b:1::/64");
  EXPECT_EQ(core::client_network(""), "");
  EXPECT_EQ(core::client_network("not-an-address"), "not-an-address");
}

TEST(ClientIp, WalksEveryForwardedHopThroughTrustedRanges) {
  const auto trusted = networks({"10.0.0.0/8", "fd00::/8"});
  EXPECT_EQ(
      http::resolve_client_ip("10.1.1.1", "198.51.100.1, 203.0.113.9, 10.2.2.2, fd00::7", trusted),
      "203.0.113.9");
  EXPECT_EQ(http::resolve_client_ip("192.0.2.1", "203.0.113.9", trusted),
            "192.0.2.1");  // peer not trusted
  EXPECT_EQ(http::resolve_client_ip("::ffff:10.1.1.1", "203.0.113.9", trusted), "203.0.113.9");
}

TEST(WebOrigin, NormalisesAsBrowsersWriteIt) {
  EXPECT_EQ(core::web_origin("HTTPS://Refer.Example:443/admin/?x=1#y"), "https://refer.example");
  EXPECT_EQ(core::web_origin("http://refer.example:80"), "http://refer.example");
  EXPECT_EQ(core::web_origin("http://127.0.0.1:8000"), "http://127.0.0.1:8000");
  EXPECT_EQ(core::web_origin("http://[::1]:8000/"), "http://[::1]:8000");
  for (const char* not_web :
       {"null", "", "/relative", "ftp://refer.example", "https://", "mailto:a@b"}) {
    EXPECT_FALSE(core::web_origin(not_web)) << not_web;
  }
}
