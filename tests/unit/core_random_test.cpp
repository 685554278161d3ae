#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/hmac_key.hpp"
#include "core/random.hpp"

namespace {

std::string text_of(const core::UuidText& id) {
  return {id.data(), id.size()};
}

TEST(UniqueId, IsAVersion7UuidInNewIdsFormat) {
  const std::regex uuid7("[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  EXPECT_TRUE(std::regex_match(text_of(core::new_unique_id()), uuid7));
  EXPECT_TRUE(std::regex_match(core::new_id(), uuid7));
}

TEST(UniqueId, NeverRepeatsAcrossThreads) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 50'000;
  std::vector<std::vector<std::string>> made(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&made, t] {
      for (int i = 0; i < kPerThread; ++i) made[t].push_back(text_of(core::new_unique_id()));
    });
  }
  for (auto& thread : threads) thread.join();
  std::set<std::string> distinct;
  for (const auto& ids : made) distinct.insert(ids.begin(), ids.end());
  EXPECT_EQ(distinct.size(), static_cast<std::size_t>(kThreads * kPerThread));
}

TEST(HmacKey, GivesTheSameMacAsAFreshHmac) {
  const core::HmacKey key("a key of some length");
  for (const std::string& message :
       {std::string(), std::string("203.0.113.7"), std::string(300, 'x')}) {
    const auto mac = key.mac(message);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(mac.data()), mac.size()),
              core::hmac_sha256("a key of some length", message));
  }
}

TEST(Base64url, AppendsToWhatIsThere) {
  std::string out = "x.";
  core::append_base64url(out, "\xfb\xff");
  EXPECT_EQ(out, "x.-_8");
  EXPECT_EQ(core::base64url_encode("hello"), "aGVsbG8");
}

}  // namespace
