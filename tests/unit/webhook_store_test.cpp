#include "webhook/webhook_store.hpp"

#include <gtest/gtest.h>
#include <soci/soci.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "mail_test_support.hpp"

// The bulk statements of the dispatcher's round (webhook_store.cpp):
// fan-out rows inserted at once, some already leased, and many answers
// recorded in one statement, each only under its own lease.
namespace {

namespace store = webhook::store;

constexpr std::int64_t kNow = 1'800'000'000'000;
constexpr std::int64_t kLease = 15'000;
const std::string kEndpoint = "endpoint-1";

class WebhookStore : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    if (GetParam() && std::getenv("REFERRALD_TEST_POSTGRES_URL") == nullptr) {
      GTEST_SKIP() << "set REFERRALD_TEST_POSTGRES_URL to run against PostgreSQL";
    }
    // tests/api/test_webhooks.py runs these with a fresh PostgreSQL database.
    database_ = std::make_unique<mail_test::TempDatabase>(
        GetParam(), std::vector<std::string>{"webhook_deliveries", "webhook_endpoints"});
    db().write([](soci::session& sql) {
      store::Endpoint endpoint;
      endpoint.id = kEndpoint;
      endpoint.url = "https://example.com/hook";
      endpoint.events = "*";
      endpoint.secret_sealed = "sealed";
      endpoint.created_at = kNow;
      store::insert_endpoint(sql, endpoint);
    });
  }

  db::Database& db() { return database_->get(); }

  static store::NewDelivery row(const std::string& event_id, std::int64_t leased_until = 0) {
    return {kEndpoint,    event_id, "referral.created", "{\"id\":\"" + event_id + "\"}", kNow,
            leased_until, ""};
  }

  long long insert(std::vector<store::NewDelivery>& rows) {
    return db().write([&](soci::session& sql) { return store::insert_deliveries(sql, rows); });
  }

  std::vector<store::Claimed> claim(int limit) {
    return db().write(
        [&](soci::session& sql) { return store::claim_due(sql, kEndpoint, kNow, kLease, limit); });
  }

  std::map<std::string, std::string> status_by_event() {
    return db().read([](soci::session& sql) {
      std::map<std::string, std::string> statuses;
      for (const auto& delivery : store::list_deliveries(sql, {kEndpoint, {}, {}, 100}))
        statuses[delivery.event_id] = delivery.status;
      return statuses;
    });
  }

  std::unique_ptr<mail_test::TempDatabase> database_;
};

TEST_P(WebhookStore, InsertsEachRowOnceAndLeasesTheRowsAskedFor) {
  std::vector<store::NewDelivery> rows{row("evt_a", kNow + kLease), row("evt_b"), row("evt_c")};
  EXPECT_EQ(insert(rows), 3);
  EXPECT_EQ((std::set<std::string>{rows[0].id, rows[1].id, rows[2].id}).size(), 3U);

  std::vector<store::NewDelivery> replayed{row("evt_a"), row("evt_b")};
  EXPECT_EQ(insert(replayed), 0);  // one delivery per (endpoint, event)

  std::set<std::string> claimed;
  for (const auto& delivery : claim(10)) claimed.insert(delivery.event_id);
  EXPECT_EQ(claimed, (std::set<std::string>{"evt_b", "evt_c"}));  // evt_a is leased already
  EXPECT_TRUE(claim(10).empty());
}

TEST_P(WebhookStore, RecordsEachAnswerOnlyUnderItsOwnLease) {
  std::vector<store::NewDelivery> rows{row("evt_a"), row("evt_b"), row("evt_c")};
  insert(rows);
  const auto claimed = claim(10);
  ASSERT_EQ(claimed.size(), 3U);
  std::vector<store::Answered> answers;
  for (const auto& delivery : claimed) {
    // evt_b's lease is not the one the row holds: it was lost to another claim.
    const auto lease =
        delivery.event_id == "evt_b" ? delivery.lease_until - 1 : delivery.lease_until;
    answers.push_back({delivery.id, lease, delivery.event_id == "evt_c" ? 204 : 200});
  }
  const auto recorded = db().write(
      [&](soci::session& sql) { return store::mark_delivered(sql, answers, kNow + 10); });
  EXPECT_EQ(recorded, 2);
  EXPECT_EQ(status_by_event(),
            (std::map<std::string, std::string>{
                {"evt_a", "delivered"}, {"evt_b", "pending"}, {"evt_c", "delivered"}}));
  const auto codes = db().read([](soci::session& sql) {
    std::map<std::string, int> by_event;
    for (const auto& delivery : store::list_deliveries(sql, {kEndpoint, {}, {}, 100}))
      by_event[delivery.event_id] = delivery.last_status_code.value_or(0);
    return by_event;
  });
  EXPECT_EQ(codes, (std::map<std::string, int>{{"evt_a", 200}, {"evt_b", 0}, {"evt_c", 204}}));
}

TEST_P(WebhookStore, KeepsOnlyTheBodiesNoEventHolds) {
  auto with_body = row("evt_test");
  with_body.event_type = "webhook.test";
  auto without_body = row("evt_domain");
  without_body.payload.reset();
  std::vector<store::NewDelivery> rows{with_body, without_body};
  insert(rows);
  std::map<std::string, std::string> payloads;
  for (const auto& claimed : claim(10)) payloads[claimed.event_id] = claimed.payload;
  EXPECT_EQ(payloads, (std::map<std::string, std::string>{{"evt_test", *with_body.payload},
                                                          {"evt_domain", ""}}));
  // The schema refuses a test event without its body: nothing could rebuild it.
  auto bodiless_test = row("evt_test_2");
  bodiless_test.event_type = "webhook.test";
  bodiless_test.payload.reset();
  std::vector<store::NewDelivery> refused{bodiless_test};
  EXPECT_THROW(insert(refused), std::exception);
}

TEST_P(WebhookStore, PendingStatsCountEveryEndpointAndAgeOnlyEnabledOnes) {
  db().write([](soci::session& sql) {
    store::Endpoint off;
    off.id = "endpoint-off";
    off.url = "https://example.com/off";
    off.events = "*";
    off.enabled = false;
    off.secret_sealed = "sealed";
    off.created_at = kNow;
    store::insert_endpoint(sql, off);
  });
  auto old_on_disabled = row("evt_old");
  old_on_disabled.endpoint_id = "endpoint-off";
  old_on_disabled.now_ms = kNow - 9'000;
  auto due = row("evt_due");
  due.now_ms = kNow - 2'000;
  auto later = row("evt_later");
  later.now_ms = kNow + 5'000;
  auto delivered = row("evt_delivered");
  delivered.now_ms = kNow - 7'000;
  std::vector<store::NewDelivery> rows{old_on_disabled, due, later, delivered};
  insert(rows);
  const auto claimed = claim(10);
  std::vector<store::Answered> answers;
  for (const auto& delivery : claimed) {
    if (delivery.event_id == "evt_delivered")
      answers.push_back({delivery.id, delivery.lease_until, 200});
  }
  db().write([&](soci::session& sql) { store::mark_delivered(sql, answers, kNow); });
  const auto stats = db().read([](soci::session& sql) { return store::pending_stats(sql, kNow); });
  EXPECT_EQ(stats.depth, 3);  // the disabled endpoint's row waits, but is pending
  EXPECT_EQ(stats.oldest_due_at, std::optional<std::int64_t>(kNow - 2'000));
  const auto none_due =
      db().read([](soci::session& sql) { return store::pending_stats(sql, kNow - 3'000); });
  EXPECT_FALSE(none_due.oldest_due_at.has_value());
  EXPECT_FALSE(db().read([](soci::session& sql) { return store::any_due(sql, kNow); }));  // leased
}

INSTANTIATE_TEST_SUITE_P(Engines, WebhookStore, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "PostgreSQL" : "SQLite"; });

}  // namespace
