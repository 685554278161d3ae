#include "mail/mail_sender.hpp"

#include <gtest/gtest.h>
#include <soci/soci.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "core/clock.hpp"
#include "http/metrics.hpp"
#include "mail_test_support.hpp"

namespace {

// Delivers into memory; the first `failures` sends throw like a mail server that is down.
class MemoryBackend final : public mail::Backend {
 public:
  struct Box {
    std::mutex mutex;
    std::vector<mail::Email> delivered;
    std::atomic<int> failures{0};
    std::atomic<int> calls{0};
    std::chrono::milliseconds delay{0};  // how long each send takes
  };
  explicit MemoryBackend(std::shared_ptr<Box> box) : box_(std::move(box)) {}
  void send(const mail::Email& email) override {
    ++box_->calls;
    std::this_thread::sleep_for(box_->delay);
    if (box_->failures-- > 0) throw std::runtime_error("smtp: Couldn't connect to server");
    std::lock_guard lock(box_->mutex);
    box_->delivered.push_back(email);
  }

 private:
  std::shared_ptr<Box> box_;
};

struct Row {
  std::string status;
  int attempts = 0;
  std::string last_error;
};

class MailSender : public ::testing::Test {
 protected:
  MailSender() {
    config_.email_retry_base_ms = 0;
    config_.email_max_attempts = 3;
  }

  std::string enqueue(const std::string& to) {
    db().write([&](soci::session& sql) {
      outbox_.enqueue(sql, {to, "Your code", "Your code is 123456.", ""});
    });
    return to;
  }

  Row row_for(const std::string& to) {
    return db().read([&](soci::session& sql) {
      Row row;
      soci::indicator error_null = soci::i_ok;
      sql << "SELECT status, attempts, last_error FROM outbox WHERE recipient = :to", soci::use(to),
          soci::into(row.status), soci::into(row.attempts), soci::into(row.last_error, error_null);
      return row;
    });
  }

  // Polls until the recipient's row reaches `status`, or 5 s pass.
  bool wait_for_status(const std::string& to, const std::string& status) {
    for (int i = 0; i < 500; ++i) {
      if (row_for(to).status == status) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  std::unique_ptr<mail::Sender> make_sender() {
    return std::make_unique<mail::Sender>(config_, db(), outbox_,
                                          std::make_unique<MemoryBackend>(box_));
  }

  db::Database& db() { return database_.get(); }

  core::Config config_;
  mail_test::TempDatabase database_;
  mail::Outbox outbox_{std::string(32, 'k')};
  std::shared_ptr<MemoryBackend::Box> box_ = std::make_shared<MemoryBackend::Box>();
};

}  // namespace

TEST_F(MailSender, DeliversQueuedMailWhenWoken) {
  auto sender = make_sender();
  sender->start();
  enqueue("first@example.com");
  sender->wake();
  ASSERT_TRUE(wait_for_status("first@example.com", "sent"));
  sender->stop();
  std::lock_guard lock(box_->mutex);
  ASSERT_EQ(box_->delivered.size(), 1U);
  EXPECT_EQ(box_->delivered[0].to, "first@example.com");
  EXPECT_EQ(box_->delivered[0].text, "Your code is 123456.");
}

TEST_F(MailSender, RetriesUntilTheServerIsBack) {
  box_->failures = 2;
  auto sender = make_sender();
  enqueue("retry@example.com");
  sender->start();
  ASSERT_TRUE(wait_for_status("retry@example.com", "sent"));
  sender->stop();
  EXPECT_EQ(box_->calls, 3);
  const auto row = row_for("retry@example.com");
  EXPECT_EQ(row.attempts, 2);
  EXPECT_EQ(row.last_error, "smtp: Couldn't connect to server");
}

TEST_F(MailSender, GivesUpAfterTheLastAttempt) {
  box_->failures = 100;
  auto sender = make_sender();
  enqueue("never@example.com");
  sender->start();
  ASSERT_TRUE(wait_for_status("never@example.com", "failed"));
  sender->stop();
  EXPECT_EQ(box_->calls, 3);
  EXPECT_EQ(row_for("never@example.com").attempts, 3);
}

TEST_F(MailSender, FailsAPayloadThatCannotBeOpenedWithoutSending) {
  enqueue("moved@example.com");
  db().write(
      [](soci::session& sql) { sql << "UPDATE outbox SET recipient = 'thief@example.com'"; });
  auto sender = make_sender();
  sender->start();
  ASSERT_TRUE(wait_for_status("thief@example.com", "failed"));
  sender->stop();
  EXPECT_EQ(box_->calls, 0);
}

TEST_F(MailSender, ReportsMetrics) {
  auto sender = make_sender();
  enqueue("a@example.com");
  const auto before = http::metrics().render();
  EXPECT_NE(before.find("\noutbox_depth 1\n"), std::string::npos) << before;
  sender->start();
  ASSERT_TRUE(wait_for_status("a@example.com", "sent"));
  sender->stop();
  const auto after = http::metrics().render();
  EXPECT_NE(after.find("\nemails_sent_total 1\n"), std::string::npos) << after;
  EXPECT_NE(after.find("\nemails_failed_total 0\n"), std::string::npos);
  EXPECT_NE(after.find("\noutbox_depth 0\n"), std::string::npos);
}

// A sender killed mid-send holds only the message in hand, and only for one
// attempt: another sender takes it over seconds later (a code is valid 5 min).
TEST_F(MailSender, LeasesOneMessageAtATimeForOneAttempt) {
  config_.email_timeout_ms = 4000;
  box_->delay = std::chrono::milliseconds(300);
  for (const auto* to : {"1@example.com", "2@example.com", "3@example.com"}) enqueue(to);
  auto sender = make_sender();
  sender->start();
  while (box_->calls == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const auto now = core::now_ms();
  const auto leases = db().read([](soci::session& sql) {
    std::vector<long long> until(10);
    sql << "SELECT claimed_until FROM outbox WHERE status = 'sending'", soci::into(until);
    return until;
  });
  sender->stop();
  ASSERT_EQ(leases.size(), 1U);
  EXPECT_LE(leases[0] - now, config_.email_timeout_ms + 2000);
  EXPECT_GT(leases[0] - now, config_.email_timeout_ms);
}

TEST_F(MailSender, StopFinishesTheMessageInHandAndLeavesTheRestQueued) {
  box_->delay = std::chrono::milliseconds(300);
  for (const auto* to : {"1@example.com", "2@example.com", "3@example.com"}) enqueue(to);
  auto sender = make_sender();
  sender->start();
  while (box_->calls == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  sender->stop();
  EXPECT_EQ(box_->calls, 1);
  const auto counts =
      mail_test::count_by_status(db());
  EXPECT_EQ(counts, (std::map<std::string, long long>{{"queued", 2}, {"sent", 1}}));
}

TEST_F(MailSender, StopsWithoutStarting) {
  make_sender()->stop();
}

TEST(MailRetryDelay, DoublesWithJitterUpToFiveMinutes) {
  for (int i = 0; i < 50; ++i) {
    const auto first = mail::retry_delay_ms(1, 2000);
    EXPECT_GE(first, 1000);
    EXPECT_LE(first, 2000);
    const auto third = mail::retry_delay_ms(3, 2000);
    EXPECT_GE(third, 4000);
    EXPECT_LE(third, 8000);
    const auto late = mail::retry_delay_ms(40, 2000);
    EXPECT_GE(late, 150000);
    EXPECT_LE(late, 300000);
  }
  EXPECT_EQ(mail::retry_delay_ms(5, 0), 0);
}

TEST(MailFileBackend, WritesOneEmlFilePerMessage) {
  const auto directory =
      std::filesystem::temp_directory_path() / ("referrald-mail-" + core::new_id()) / "nested";
  auto backend = mail::make_file_backend(directory.string(), "App <noreply@example.com>");
  backend->send({"a@example.com", "One", "code 111111", ""});
  backend->send({"b@example.com", "Two", "code 222222", ""});
  std::vector<std::string> contents;
  for (const auto& entry : std::filesystem::directory_iterator(directory)) {
    EXPECT_EQ(entry.path().extension(), ".eml") << entry.path();
    std::ifstream file(entry.path(), std::ios::binary);
    contents.emplace_back(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
  }
  ASSERT_EQ(contents.size(), 2U);
  for (const auto& content : contents) {
    EXPECT_TRUE(content.starts_with("From: \"App\" <noreply@example.com>\r\nTo: "));
  }
  std::filesystem::remove_all(directory.parent_path());
}
