#include <gtest/gtest.h>

#include "link/attribution_token.hpp"
#include "link/visitor.hpp"

namespace {

using links::agent_family;
using links::AgentFamily;
using links::referrer_host;

TEST(LinkAgentFamily, CrawlersAndLinkPreviewsAreBots) {
  for (const char* agent :
       {"Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)", "Slackbot 1.0",
        "facebookexternalhit/1.1", "Twitterbot/1.0", "WhatsApp/2.23.20.0 A",
        "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
        "TelegramBot (like TwitterBot)",
        "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", "curl/8.4.0",
        "python-requests/2.31.0", "Wget/1.21", "Go-http-client/1.1"}) {
    EXPECT_EQ(agent_family(agent), AgentFamily::bot) << agent;
  }
}

TEST(LinkAgentFamily, BrowsersAndOthers) {
  EXPECT_EQ(
      agent_family("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36"),
      AgentFamily::browser);
  EXPECT_EQ(agent_family("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148"),
            AgentFamily::browser);
  EXPECT_EQ(agent_family("Opera/9.80 (Windows NT 6.1)"), AgentFamily::browser);
  EXPECT_EQ(agent_family("SomeApp/1.0"), AgentFamily::other);
  EXPECT_EQ(agent_family(""), AgentFamily::other);
}

TEST(LinkReferrerHost, KeepsOnlyTheHost) {
  EXPECT_EQ(referrer_host("https://News.Example.com:8443/a/b?c=d#e"), "news.example.com");
  EXPECT_EQ(referrer_host("http://user:pw@example.org/x"), "example.org");
  EXPECT_EQ(referrer_host("https://[2001:db8::1]:443/"), "[2001:db8::1]");
  EXPECT_EQ(referrer_host("android-app://com.slack/"), "");
  EXPECT_EQ(referrer_host("https://bad host/"), "");
  EXPECT_EQ(referrer_host(""), "");
}

TEST(LinkAttributionToken, RoundTripsAndRefusesTamperingExpiryAndOtherSecrets) {
  const links::AttributionSigner signer("server secret of at least thirty-two bytes");
  const auto token = signer.sign({"REF-ABCD2345", "click-1", 2000});
  const auto claim = signer.verify(token, 1999);
  ASSERT_TRUE(claim);
  EXPECT_EQ(claim->code, "REF-ABCD2345");
  EXPECT_EQ(claim->click_id, "click-1");
  EXPECT_EQ(claim->expires_at, 2000);
  EXPECT_FALSE(signer.verify(token, 2000));  // expired
  EXPECT_FALSE(
      links::AttributionSigner("another secret of at least thirty-two bytes").verify(token, 0));
  auto altered = token;
  altered[2] = altered[2] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(signer.verify(altered, 0));
  EXPECT_FALSE(signer.verify("", 0));
  EXPECT_FALSE(signer.verify("no-dot", 0));
  EXPECT_FALSE(signer.verify(".", 0));
}

}  // namespace
