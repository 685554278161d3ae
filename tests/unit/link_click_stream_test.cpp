#include <gtest/gtest.h>
#include <soci/soci.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "core/clock.hpp"
#include "link/click_stream.hpp"
#include "mail_test_support.hpp"

namespace {

using namespace std::chrono_literals;

constexpr long long kMinuteMs = 60'000;
constexpr std::size_t kCapacity = 100;

// A flusher that writes once a minute into a fresh SQLite file holding one
// referral code, "c".
class ClickFlusher : public ::testing::Test {
 protected:
  void SetUp() override {
    database_.get().write([](soci::session& sql) {
      sql << "INSERT INTO users (id, name, email, canonical_email, password_hash, created_at) "
             "VALUES ('boss', 'Boss', 'boss@x.test', 'boss@x.test', 'h', 0)";
      sql << "INSERT INTO referral_codes (id, user_id, code, created_at) "
             "VALUES ('c', 'boss', 'BOSS', 0)";
    });
    stream_.start();
  }

  void record(std::size_t clicks) {
    const auto code_id = std::make_shared<const std::string>("c");
    for (std::size_t i = 0; i < clicks; ++i) {
      links::store::ClickRow click;
      click.id = core::new_unique_id();
      click.code_id = code_id;
      click.at = core::now_ms();
      click.visitor_hash.fill('v');
      ASSERT_TRUE(stream_.record(std::move(click)));
    }
  }

  // Polls the flusher's count until `clicks` are committed or `limit` passes.
  bool flushed_within(long long clicks, std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (stream_.counts().flushed < clicks) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      std::this_thread::sleep_for(5ms);
    }
    return true;
  }

  long long rows() {
    return database_.get().read([](soci::session& sql) {
      long long count = 0;
      sql << "SELECT CAST(COUNT(*) AS BIGINT) FROM link_clicks", soci::into(count);
      return count;
    });
  }

  mail_test::TempDatabase database_{false, {}};
  links::ClickStream stream_{database_.get(), kMinuteMs, kCapacity};
};

// At 63k redirects/s a flusher that waited for its interval let the buffer
// fill and dropped clicks (docs/PERFORMANCE.md): a half-full buffer starts a
// flush at once, whatever the interval.
TEST_F(ClickFlusher, AHalfFullBufferIsWrittenAtOnce) {
  record(kCapacity / 2);
  EXPECT_TRUE(flushed_within(kCapacity / 2, 1s)) << stream_.counts().flushed << " flushed";
  EXPECT_EQ(rows(), static_cast<long long>(kCapacity / 2));
}

// Below half full the clicks wait for the interval (a minute here).
TEST_F(ClickFlusher, FewerClicksWaitForTheInterval) {
  record(kCapacity / 2 - 1);
  EXPECT_FALSE(flushed_within(1, 300ms));
  EXPECT_EQ(rows(), 0);
  stream_.stop();  // SIGTERM's last flush
  EXPECT_EQ(rows(), static_cast<long long>(kCapacity / 2 - 1));
}

}  // namespace
