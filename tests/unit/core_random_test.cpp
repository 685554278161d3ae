#include <gtest/gtest.h>

#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/hmac_key.hpp"
#include "core/random.hpp"

namespace {

std::string text_of(const core::UuidText& id) {
  return {id.data(), id.size()};
}

// 8-4-4-4-12 lower-case hex, version 7, RFC 4122 variant. Checked by hand:
// <regex> makes GCC 12 warn (maybe-uninitialized inside std::function) in the
// ASan build, which -Werror turns into a build failure.
bool is_uuid_v7(const std::string& text) {
  if (text.size() != 36) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    const char c = text[i];
    if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return text[14] == '7' && std::string_view("89ab").find(text[19]) != std::string_view::npos;
}

TEST(UniqueId, IsAVersion7UuidInNewIdsFormat) {
  EXPECT_TRUE(is_uuid_v7(text_of(core::new_unique_id())));
  EXPECT_TRUE(is_uuid_v7(core::new_id()));
  EXPECT_FALSE(is_uuid_v7("01a22d27-7e81-43d5-99a4-cbb1da8f2e5c"));
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
