#include <gtest/gtest.h>
#include <soci/soci.h>

#include <stdexcept>

#include "mail/outbox.hpp"
#include "mail_test_support.hpp"

namespace {

const std::string kSecret(40, 's');

struct Row {
  std::string recipient;
  std::string payload;
  std::string status;
};

Row only_row(db::Database& database) {
  return database.read([](soci::session& sql) {
    Row row;
    sql << "SELECT recipient, payload, status FROM outbox", soci::into(row.recipient),
        soci::into(row.payload), soci::into(row.status);
    return row;
  });
}

mail::Email sample() {
  return {"user@example.com", "Your code", "Your code is 482913.", "<b>482913</b>"};
}

class MailOutbox : public ::testing::Test {
 protected:
  Row enqueue(const mail::Email& email) {
    database_.get().write([&](soci::session& sql) { outbox_.enqueue(sql, email); });
    return only_row(database_.get());
  }

  mail_test::TempDatabase database_;
  mail::Outbox outbox_{kSecret};
};

}  // namespace

TEST_F(MailOutbox, SealsThePayloadAndOpensItAgain) {
  const auto row = enqueue(sample());
  EXPECT_EQ(row.recipient, "user@example.com");
  EXPECT_EQ(row.status, "queued");
  EXPECT_EQ(row.payload.find("482913"), std::string::npos);
  const auto email = outbox_.open(row.recipient, row.payload);
  EXPECT_EQ(email.to, "user@example.com");
  EXPECT_EQ(email.subject, "Your code");
  EXPECT_EQ(email.text, "Your code is 482913.");
  EXPECT_EQ(email.html, "<b>482913</b>");
}

TEST_F(MailOutbox, RefusesATamperedPayload) {
  const auto row = enqueue(sample());
  auto tampered = row.payload;
  tampered[tampered.size() / 2] = tampered[tampered.size() / 2] == 'A' ? 'B' : 'A';
  EXPECT_THROW(outbox_.open(row.recipient, tampered), std::runtime_error);
  EXPECT_THROW(outbox_.open(row.recipient, row.payload.substr(0, 30)), std::runtime_error);
  EXPECT_THROW(outbox_.open(row.recipient, "not base64url!"), std::runtime_error);
}

TEST_F(MailOutbox, RefusesAPayloadMovedToAnotherRecipient) {
  const auto row = enqueue(sample());
  EXPECT_THROW(outbox_.open("attacker@example.com", row.payload), std::runtime_error);
}

TEST_F(MailOutbox, RefusesAPayloadSealedWithAnotherSecret) {
  const auto row = enqueue(sample());
  const mail::Outbox other(std::string(40, 't'));
  EXPECT_THROW(other.open(row.recipient, row.payload), std::runtime_error);
}

TEST_F(MailOutbox, RefusesARecipientWithALineBreak) {
  auto email = sample();
  email.to = "user@example.com\r\nRCPT TO:<other@example.com>";
  EXPECT_THROW(database_.get().write([&](soci::session& sql) { outbox_.enqueue(sql, email); }),
               std::invalid_argument);
}

TEST(MailOutboxKey, AcceptsLongSecretsAndRefusesShortOnes) {
  const mail::Outbox long_secret(std::string(200, 'k'));
  EXPECT_THROW(mail::Outbox(std::string(8, 'k')), std::invalid_argument);
}
