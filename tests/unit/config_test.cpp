#include <gtest/gtest.h>

#include "core/config.hpp"

TEST(Config, DefaultsFollowTheSpec) {
  const auto config = core::parse_config({});
  EXPECT_EQ(config.database_url, "sqlite://referrald.db");
  EXPECT_EQ(config.port, 8000);
}

namespace {

// The ConfigError text for `raw`, or "" when it parses.
std::string refusal(const core::RawSettings& raw) {
  try {
    core::parse_config(raw);
  } catch (const core::ConfigError& error) {
    return error.what();
  }
  return "";
}

}  // namespace

TEST(Config, TrustedProxiesTakeAddressesAndCidrRanges) {
  const auto config = core::parse_config({{"TRUSTED_PROXIES", "10.0.0.0/8, fd00::/8,192.0.2.7"}});
  ASSERT_EQ(config.trusted_proxies.size(), 3U);
  EXPECT_TRUE(config.trusted_proxies[0].contains("10.200.3.4"));
  EXPECT_TRUE(config.trusted_proxies[1].contains("fd12:3456::1"));
  EXPECT_TRUE(config.trusted_proxies[2].contains("192.0.2.7"));
  EXPECT_FALSE(config.trusted_proxies[2].contains("192.0.2.8"));
}

TEST(Config, BadTrustedProxyIsRefusedByName) {
  for (const char* bad :
       {"10.0.0.0/33", "fd00::/129", "10.0.0.0/", "10.0.0.0/x", "proxy.internal", "10.0.0/8"}) {
    const auto why = refusal({{"TRUSTED_PROXIES", std::string("127.0.0.1,") + bad}});
    EXPECT_TRUE(why.starts_with("TRUSTED_PROXIES: ")) << bad << ": " << why;
    EXPECT_NE(why.find(bad), std::string::npos) << why;
  }
}

TEST(Config, PublicUrlDefaultsToHostAndPort) {
  EXPECT_EQ(core::parse_config({}).public_url, "http://127.0.0.1:8000");
  EXPECT_EQ(core::parse_config({{"HOST", "::1"}, {"PORT", "9000"}}).public_url,
            "http://[::1]:9000");
  EXPECT_EQ(core::parse_config({{"PUBLIC_URL", "https://refer.example"}}).public_url,
            "https://refer.example");
  EXPECT_TRUE(refusal({{"PUBLIC_URL", "ftp://refer.example"}}).starts_with("PUBLIC_URL: "));
  EXPECT_TRUE(refusal({{"PUBLIC_URL", "refer.example"}}).starts_with("PUBLIC_URL: "));
}

TEST(Config, JwtSecretOfFewDistinctBytesIsRefused) {
  EXPECT_TRUE(refusal({{"JWT_SECRET", std::string(32, 'a')}}).starts_with("JWT_SECRET: "));
  EXPECT_TRUE(refusal({{"JWT_SECRET", std::string(64, 'a')}}).starts_with("JWT_SECRET: "));
  std::string pattern;
  for (int i = 0; i < 8; ++i) pattern += "abcdefg";  // 56 bytes, 7 distinct
  EXPECT_TRUE(refusal({{"JWT-SECRET", pattern}}).starts_with("JWT_SECRET: "));
  EXPECT_EQ(refusal({{"JWT_SECRET", "3f9c2a7b1e4d8c60a5f7e2b9d4c1a8e6"}}), "");  // hex, 32 bytes
}

TEST(Config, SmtpPasswordInClearTextIsRefusedUnlessAllowed) {
  const core::RawSettings plain{
      {"EMAIL_BACKEND", "smtp"}, {"EMAIL_HOST_USER", "mailer"}, {"EMAIL_HOST_PASSWORD", "secret"}};
  EXPECT_TRUE(refusal(plain).starts_with("EMAIL_HOST_PASSWORD: ")) << refusal(plain);
  auto user_only = plain;
  user_only.erase("EMAIL_HOST_PASSWORD");
  EXPECT_TRUE(refusal(user_only).starts_with("EMAIL_HOST_PASSWORD: "));
  for (const char* fix : {"EMAIL_USE_TLS", "EMAIL_USE_SSL", "EMAIL_ALLOW_PLAINTEXT_AUTH"}) {
    auto fixed = plain;
    fixed[fix] = "true";
    EXPECT_EQ(refusal(fixed), "") << fix;
  }
  EXPECT_EQ(refusal({{"EMAIL_BACKEND", "smtp"}}), "");  // no credentials, nothing to leak
  EXPECT_EQ(refusal({{"EMAIL_HOST_USER", "mailer"}, {"EMAIL_HOST_PASSWORD", "secret"}}),
            "");  // console
}

TEST(Config, MetricsTokenMustNotBeShort) {
  EXPECT_TRUE(refusal({{"METRICS_TOKEN", "short"}}).starts_with("METRICS_TOKEN: "));
  EXPECT_EQ(core::parse_config({{"METRICS_TOKEN", "a-long-enough-token-1"}}).metrics_token,
            "a-long-enough-token-1");
  EXPECT_EQ(core::parse_config({}).metrics_token, "");
}

TEST(Config, WebhookSettings) {
  const auto defaults = core::parse_config({});
  EXPECT_EQ(defaults.webhook_timeout_ms, 10000);
  EXPECT_EQ(defaults.webhook_disable_after_ms, 5LL * 24 * 3600 * 1000);
  EXPECT_FALSE(defaults.webhook_allow_http);
  EXPECT_FALSE(defaults.webhook_allow_private);
  EXPECT_EQ(defaults.webhook_retry_schedule_ms.size(), 7U);
  EXPECT_EQ(defaults.webhook_max_in_flight, 256);
  const auto set = core::parse_config({{"WEBHOOK_RETRY_SCHEDULE", "100ms, 2s,1m"}, {"WEBHOOK_ALLOW_HTTP", "true"}});
  EXPECT_EQ(set.webhook_retry_schedule_ms, (std::vector<std::int64_t>{100, 2000, 60000}));
  EXPECT_TRUE(set.webhook_allow_http);
  EXPECT_TRUE(refusal({{"WEBHOOK_RETRY_SCHEDULE", ""}}).starts_with("WEBHOOK_RETRY_SCHEDULE: "));
  EXPECT_TRUE(refusal({{"WEBHOOK_RETRY_SCHEDULE", "5s,soon"}}).starts_with("WEBHOOK_RETRY_SCHEDULE: "));
  EXPECT_TRUE(refusal({{"WEBHOOK_TIMEOUT", "10ms"}}).starts_with("WEBHOOK_TIMEOUT: "));
  EXPECT_TRUE(refusal({{"WEBHOOK_MAX_IN_FLIGHT", "0"}}).starts_with("WEBHOOK_MAX_IN_FLIGHT: "));
  EXPECT_TRUE(refusal({{"WEBHOOK_MAX_IN_FLIGHT", "1001"}}).starts_with("WEBHOOK_MAX_IN_FLIGHT: "));
  EXPECT_EQ(core::parse_config({{"WEBHOOK_MAX_IN_FLIGHT", "1000"}}).webhook_max_in_flight, 1000);
}
