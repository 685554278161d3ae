#include "auth/verified_tokens.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

constexpr std::int64_t kNow = 1'764'640'000;

auth::TokenClaims claims_for(const std::string& sid, std::int64_t exp = kNow + 3600) {
  return {"user-" + sid, sid, "jti-" + sid, kNow, exp};
}

}  // namespace

TEST(VerifiedTokens, AnswersOnlyTheExactTokenItWasGiven) {
  auth::VerifiedTokens tokens(8);
  tokens.remember("header.payload.signature", claims_for("s1"), kNow);
  const auto found = tokens.find("header.payload.signature");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->sid, "s1");
  EXPECT_EQ(found->sub, "user-s1");
  EXPECT_EQ(found->exp, kNow + 3600);
  EXPECT_FALSE(tokens.find("header.payload.signaturf"));
  EXPECT_FALSE(tokens.find("header.payload.signatur"));
  EXPECT_FALSE(tokens.find("header.payload.signature."));
  EXPECT_FALSE(tokens.find(""));
}

TEST(VerifiedTokens, KeepsExpiredClaimsForTheCallerToRefuse) {
  auth::VerifiedTokens tokens(8);
  tokens.remember("old", claims_for("s1", kNow - 1), kNow - 10);
  const auto found = tokens.find("old");
  ASSERT_TRUE(found);
  EXPECT_LE(found->exp, kNow);
}

TEST(VerifiedTokens, MakesRoomByDroppingExpiredTokensFirst) {
  auth::VerifiedTokens tokens(3);
  tokens.remember("a", claims_for("a", kNow + 10), kNow);
  tokens.remember("b", claims_for("b", kNow + 1000), kNow);
  tokens.remember("c", claims_for("c", kNow + 1000), kNow);
  tokens.remember("d", claims_for("d", kNow + 1000), kNow + 20);  // "a" has expired by now
  EXPECT_EQ(tokens.size(), 3U);
  EXPECT_FALSE(tokens.find("a"));
  EXPECT_TRUE(tokens.find("b"));
  EXPECT_TRUE(tokens.find("d"));
}

TEST(VerifiedTokens, StaysWithinItsBoundWhenEveryTokenIsLive) {
  auth::VerifiedTokens tokens(3);
  for (const auto* token : {"a", "b", "c", "d", "e", "f", "g"}) {
    tokens.remember(token, claims_for(token), kNow);
    EXPECT_LE(tokens.size(), 3U);
  }
  EXPECT_TRUE(tokens.find("g"));
}

TEST(VerifiedTokens, KeepsHalfOfItsLiveTokensWhenFull) {
  auth::VerifiedTokens tokens(8);
  const std::vector<std::string> live = {"a", "b", "c", "d", "e", "f", "g", "h"};
  for (const auto& token : live) tokens.remember(token, claims_for(token), kNow);
  tokens.remember("i", claims_for("i"), kNow);
  EXPECT_EQ(tokens.size(), 5U);
  EXPECT_TRUE(tokens.find("i"));
  int kept = 0;
  for (const auto& token : live) kept += tokens.find(token) ? 1 : 0;
  EXPECT_EQ(kept, 4);
}

TEST(VerifiedTokens, ABoundOfZeroKeepsNothing) {
  auth::VerifiedTokens tokens(0);
  tokens.remember("a", claims_for("a"), kNow);
  EXPECT_EQ(tokens.size(), 0U);
  EXPECT_FALSE(tokens.find("a"));
}
