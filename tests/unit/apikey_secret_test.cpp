#include <gtest/gtest.h>

#include <set>

#include "apikey/api_key_secret.hpp"

TEST(ApiKeySecret, IsRkAnd40Base62Characters) {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    const auto secret = apikey::new_secret();
    ASSERT_EQ(secret.size(), 43U);
    ASSERT_EQ(secret.substr(0, 3), "rk_");
    ASSERT_TRUE(apikey::looks_like_secret(secret)) << secret;
    seen.insert(secret);
  }
  EXPECT_EQ(seen.size(), 200U);
}

TEST(ApiKeySecret, EveryBase62CharacterTurnsUp) {
  std::set<char> characters;
  for (int i = 0; i < 100; ++i) {
    const auto secret = apikey::new_secret();
    characters.insert(secret.begin() + 3, secret.end());
  }
  EXPECT_EQ(characters.size(), 62U);
}

TEST(ApiKeySecret, OtherShapesAreRefused) {
  const std::string good = "rk_" + std::string(40, 'a');
  EXPECT_TRUE(apikey::looks_like_secret(good));
  EXPECT_FALSE(apikey::looks_like_secret("rk_" + std::string(39, 'a')));
  EXPECT_FALSE(apikey::looks_like_secret("rk_" + std::string(41, 'a')));
  EXPECT_FALSE(apikey::looks_like_secret("xx_" + std::string(40, 'a')));
  EXPECT_FALSE(apikey::looks_like_secret("rk_" + std::string(39, 'a') + "-"));
  EXPECT_FALSE(apikey::looks_like_secret(""));
}

TEST(ApiKeySecret, HashIsHexSha256) {
  EXPECT_EQ(apikey::hash_secret("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}
