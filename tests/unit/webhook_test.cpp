#include <gtest/gtest.h>

#include <map>

#include "core/api_error.hpp"
#include "core/secret_box.hpp"
#include "webhook/address_guard.hpp"
#include "webhook/dispatcher.hpp"
#include "webhook/signer.hpp"
#include "webhook/webhook_payload.hpp"

namespace {

using webhook::check_url;
using webhook::GuardOptions;
using webhook::is_forbidden_address;

// The signing example of the Standard Webhooks reference libraries
// (github.com/standard-webhooks/standard-webhooks, libraries/go/webhook_test.go, TestSign).
TEST(WebhookSigner, MatchesTheStandardWebhooksTestVector) {
  EXPECT_EQ(webhook::signature_header({"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"},
                                      "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
                                      R"({"test": 2432232314})"),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}

TEST(WebhookSigner, TwoSecretsGiveTwoSpaceSeparatedSignatures) {
  const auto current = webhook::new_secret();
  const auto previous = webhook::new_secret();
  const auto both = webhook::signature_header({current, previous}, "evt_1", 1700000000, "{}");
  EXPECT_EQ(both, webhook::signature_header({current}, "evt_1", 1700000000, "{}") + " " +
                      webhook::signature_header({previous}, "evt_1", 1700000000, "{}"));
}

TEST(WebhookSigner, SecretsAreWhsecAndThirtyTwoRandomBytes) {
  const auto secret = webhook::new_secret();
  ASSERT_TRUE(secret.starts_with("whsec_"));
  const auto key = webhook::secret_key(secret);
  ASSERT_TRUE(key.has_value());
  EXPECT_EQ(key->size(), 32U);
  EXPECT_NE(secret, webhook::new_secret());
  EXPECT_FALSE(webhook::secret_key("whsec_").has_value());
  EXPECT_FALSE(webhook::secret_key("sk_abc").has_value());
  EXPECT_THROW(webhook::signature_header({"not-a-secret"}, "evt_1", 1, "{}"),
               std::invalid_argument);
}

TEST(WebhookAddressGuard, RefusesInternalAddresses) {
  for (const char* address : {"127.0.0.1",
                              "127.8.9.10",
                              "10.0.0.1",
                              "100.64.0.1",
                              "100.127.255.254",
                              "169.254.169.254",
                              "172.16.0.1",
                              "172.31.255.255",
                              "192.168.1.1",
                              "0.0.0.0",
                              "224.0.0.1",
                              "255.255.255.255",
                              "::1",
                              "::",
                              "fe80::1",
                              "fe80::1%eth0",
                              "fc00::1",
                              "fd12:3456::1",
                              "ff02::1",
                              "::ffff:10.0.0.1",
                              "::ffff:169.254.169.254",
                              "::ffff:127.0.0.1",
                              "64:ff9b::a00:1",
                              "2002:a9fe:a9fe::1",
                              "not-an-address"}) {
    EXPECT_TRUE(is_forbidden_address(address)) << address;
  }
}

TEST(WebhookAddressGuard, AllowsPublicAddresses) {
  for (const char* address :
       {"93.184.216.34", "8.8.8.8", "100.128.0.1", "172.32.0.1", "192.169.0.1",
        "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"}) {
    EXPECT_FALSE(is_forbidden_address(address)) << address;
  }
}

// A resolver stub: names resolve to what the test says.
webhook::Resolver stub(std::map<std::string, std::vector<std::string>> names) {
  return [names = std::move(names)](const std::string& host) {
    const auto it = names.find(host);
    return it == names.end() ? std::vector<std::string>{} : it->second;
  };
}

std::string refusal_code(const std::string& url, const GuardOptions& options,
                         const webhook::Resolver& resolve) {
  try {
    check_url(url, options, resolve);
    return "";
  } catch (const core::ApiError& error) {
    return error.code();
  }
}

TEST(WebhookAddressGuard, ANameIsRefusedWhenAnyOfItsAddressesIsInternal) {
  const auto resolve = stub({{"internal.example", {"10.1.2.3"}},
                             {"mixed.example", {"93.184.216.34", "10.0.0.5"}},
                             {"public.example", {"93.184.216.34", "2606:2800:220:1::1"}}});
  const GuardOptions strict;
  EXPECT_EQ(refusal_code("https://internal.example/hook", strict, resolve),
            "webhook_url_forbidden");
  EXPECT_EQ(refusal_code("https://mixed.example/hook", strict, resolve), "webhook_url_forbidden");
  const auto target = check_url("https://public.example:8443/hook", strict, resolve);
  EXPECT_EQ(target.host, "public.example");
  EXPECT_EQ(target.port, 8443);
  EXPECT_EQ(target.address, "93.184.216.34");  // the checked address is the one connected to
  EXPECT_FALSE(target.host_is_address);
  EXPECT_EQ(refusal_code("https://internal.example/hook", GuardOptions{false, true}, resolve), "");
}

TEST(WebhookAddressGuard, LiteralsSchemesAndUnresolvableNames) {
  const auto resolve = stub({});
  const GuardOptions strict;
  EXPECT_EQ(refusal_code("https://127.0.0.1/", strict, resolve), "webhook_url_forbidden");
  EXPECT_EQ(refusal_code("https://[::1]:8443/", strict, resolve), "webhook_url_forbidden");
  EXPECT_EQ(refusal_code("https://169.254.169.254/latest/meta-data/", strict, resolve),
            "webhook_url_forbidden");
  EXPECT_EQ(refusal_code("https://[::ffff:169.254.169.254]/", strict, resolve),
            "webhook_url_forbidden");
  EXPECT_EQ(refusal_code("http://93.184.216.34/", strict, resolve), "webhook_url_forbidden");
  EXPECT_EQ(refusal_code("http://93.184.216.34/", GuardOptions{true, false}, resolve), "");
  EXPECT_EQ(refusal_code("ftp://93.184.216.34/", strict, resolve), "validation_error");
  EXPECT_EQ(refusal_code("not a url", strict, resolve), "validation_error");
  EXPECT_EQ(refusal_code("https://nowhere.invalid/", strict, resolve), "validation_error");
  const auto literal = check_url("https://[2606:4700:4700::1111]/", strict, resolve);
  EXPECT_TRUE(literal.host_is_address);
  EXPECT_EQ(literal.address, "2606:4700:4700::1111");
  EXPECT_EQ(literal.port, 443);
}

TEST(WebhookRetry, DelaysFollowTheScheduleWithinTwentyPercent) {
  const std::vector<std::int64_t> schedule{5000, 300000};
  for (int i = 0; i < 200; ++i) {
    const auto first = webhook::retry_delay_ms(schedule, 1);
    EXPECT_GE(first, 4000);
    EXPECT_LE(first, 6000);
    const auto second = webhook::retry_delay_ms(schedule, 2);
    EXPECT_GE(second, 240000);
    EXPECT_LE(second, 360000);
  }
}

TEST(WebhookPayload, SubscriptionsAndBody) {
  EXPECT_TRUE(webhook::subscribes("*", "reward.created"));
  EXPECT_TRUE(webhook::subscribes("referral.created reward.created", "reward.created"));
  EXPECT_FALSE(webhook::subscribes("referral.created reward.created", "reward"));
  EXPECT_FALSE(webhook::subscribes("referral.created", "referral.flagged"));
  EXPECT_EQ(
      webhook::payload_json("evt_1", "user.verified", 0, R"({"id":"u1"})"),
      R"({"id":"evt_1","type":"user.verified","created_at":"1970-01-01T00:00:00.000Z","data":{"id":"u1"}})");
}

TEST(SecretBox, OpensWhatItSealedAndNothingElse) {
  const core::SecretBox box(std::string(48, 'k') + "0123456789", "test/v1");
  const auto sealed = box.seal("whsec_abc");
  EXPECT_EQ(box.open(sealed), "whsec_abc");
  EXPECT_NE(box.seal("whsec_abc"), sealed);  // a fresh nonce each time
  const core::SecretBox other(std::string(48, 'k') + "0123456789", "test/v2");
  EXPECT_FALSE(other.open(sealed).has_value());
  EXPECT_FALSE(box.open("garbage").has_value());
}

}  // namespace
