#include <gtest/gtest.h>
#include <soci/soci.h>

#include <chrono>
#include <future>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "db/deferred_writes.hpp"
#include "events/event_log.hpp"
#include "mail_test_support.hpp"

namespace {

constexpr std::int64_t kNow = 1'800'000'000'000;

class EventLog : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    if (GetParam() && std::getenv("REFERRALD_TEST_POSTGRES_URL") == nullptr) {
      GTEST_SKIP() << "set REFERRALD_TEST_POSTGRES_URL to run against PostgreSQL";
    }
    // tests/api/test_event_spine.py runs these with a fresh PostgreSQL database.
    database_ = std::make_unique<mail_test::TempDatabase>(
        GetParam(), std::vector<std::string>{"domain_events", "event_cursors"});
  }

  db::Database& db() { return database_->get(); }

  static events::NewEvent referral(const std::string& id) {
    return {"referral.created", id, R"({"id":")" + id + R"("})"};
  }

  void publish(const std::string& aggregate_id) {
    db().write([&](soci::session& sql) { events::publish(sql, referral(aggregate_id), kNow); });
    if (GetParam()) wait_for_older_transactions_elsewhere();
  }

  // On PostgreSQL a reader takes only the events of transactions older than
  // every transaction still running in the whole cluster, so a write that
  // began elsewhere (another test's server, an autovacuum ANALYZE) before this
  // commit holds the event back until it ends: one CI run read none of two
  // events published just before. Wait for those (at most 10 s); the test's
  // own open transactions, which some cases hold on purpose, do not count.
  void wait_for_older_transactions_elsewhere() {
    for (int attempt = 0; attempt < 1000; ++attempt) {
      const long long running = db().read([](soci::session& sql) {
        long long count = 0;
        sql << "SELECT COUNT(*) FROM pg_stat_activity WHERE backend_xid IS NOT NULL AND NOT "
               "(datname = current_database() AND backend_type = 'client backend')",
            soci::into(count);
        return count;
      });
      if (running == 0) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  // Reads one batch and advances past it in the same transaction, as a consumer does.
  std::vector<std::string> consume(const std::string& consumer, int limit = 100) {
    return db().write([&](soci::session& sql) {
      std::vector<std::string> aggregates;
      const auto batch = events::read_next(sql, consumer, limit);
      for (const auto& event : batch) aggregates.push_back(event.aggregate_id);
      if (!batch.empty()) events::advance(sql, consumer, batch.back().seq);
      return aggregates;
    });
  }

  std::unique_ptr<mail_test::TempDatabase> database_;
};

using Names = std::vector<std::string>;

// Publishes and writes the event at once, as the transaction's commit would:
// the cases with two transactions open need its seq taken at this step.
void publish_now(soci::session& sql, const events::NewEvent& event) {
  events::publish(sql, event, kNow);
  db::deferred_writes::write_all(sql);
}

// A write transaction on its own thread that stops at the points the test
// chooses: each step runs, then the transaction waits for the next go().
class HeldTransaction {
 public:
  using Step = std::function<void(soci::session&)>;

  HeldTransaction(db::Database& database, std::vector<Step> steps) : steps_(std::move(steps)) {
    for (std::size_t i = 0; i <= steps_.size(); ++i) {
      gates_.emplace_back();
      done_.emplace_back();
    }
    thread_ = std::thread([this, &database] {
      database.write([this](soci::session& sql) {
        for (std::size_t i = 0; i < steps_.size(); ++i) {
          gates_[i].get_future().wait();
          steps_[i](sql);
          done_[i].set_value();
        }
        gates_.back().get_future().wait();
      });
      done_.back().set_value();
    });
  }
  ~HeldTransaction() {
    if (thread_.joinable()) thread_.join();
  }
  HeldTransaction(const HeldTransaction&) = delete;
  HeldTransaction& operator=(const HeldTransaction&) = delete;

  // Runs the next step (the one after the last is the commit) and waits for it.
  void go() {
    gates_[next_].set_value();
    done_[next_].get_future().wait();
    ++next_;
  }

 private:
  std::vector<Step> steps_;
  std::vector<std::promise<void>> gates_;
  std::vector<std::promise<void>> done_;
  std::size_t next_ = 0;
  std::thread thread_;
};

}  // namespace

TEST_P(EventLog, PublishesEventsAConsumerReadsInOrder) {
  db().write([](soci::session& sql) {
    events::publish(sql, {"user.verified", "usr_1", R"({"id":"usr_1"})"}, kNow + 1);
  });
  publish("ref_2");
  const auto batch =
      db().write([](soci::session& sql) { return events::read_next(sql, "hooks", 10); });
  ASSERT_EQ(batch.size(), 2U);
  EXPECT_EQ(batch[0].type, "user.verified");
  EXPECT_EQ(batch[0].aggregate_id, "usr_1");
  EXPECT_EQ(batch[0].data_json, R"({"id":"usr_1"})");
  EXPECT_EQ(batch[0].created_at_ms, kNow + 1);
  EXPECT_TRUE(batch[0].id.starts_with("evt_")) << batch[0].id;
  EXPECT_EQ(batch[0].id.size(), 4U + 36U) << batch[0].id;  // evt_ + a UUID
  EXPECT_LT(batch[0].seq, batch[1].seq);
  EXPECT_EQ(batch[1].aggregate_id, "ref_2");
  EXPECT_NE(batch[0].id, batch[1].id);
}

TEST_P(EventLog, AConsumerReadsEachEventOnceAcrossBatches) {
  for (const auto* id : {"a", "b", "c", "d", "e"}) publish(id);
  EXPECT_EQ(consume("hooks", 2), (Names{"a", "b"}));
  EXPECT_EQ(consume("hooks", 2), (Names{"c", "d"}));
  EXPECT_EQ(consume("hooks", 2), (Names{"e"}));
  EXPECT_EQ(consume("hooks", 2), Names{});
  publish("f");
  EXPECT_EQ(consume("hooks"), (Names{"f"}));
}

TEST_P(EventLog, FindsEventsByIdAndLeavesUnknownIdsOut) {
  publish("a");
  publish("b");
  const auto all = db().write([](soci::session& sql) { return events::read_next(sql, "x", 10); });
  ASSERT_EQ(all.size(), 2U);
  const auto found = db().read([&](soci::session& sql) {
    return events::find(sql, {all[1].id, "evt_unknown", all[0].id});
  });
  ASSERT_EQ(found.size(), 2U);
  EXPECT_EQ(found[0].id, all[1].id);
  EXPECT_EQ(found[0].aggregate_id, "b");
  EXPECT_EQ(found[0].data_json, all[1].data_json);
  EXPECT_EQ(found[0].created_at_ms, kNow);
  EXPECT_EQ(found[0].seq, all[1].seq);
  EXPECT_EQ(found[1].aggregate_id, "a");
}

TEST_P(EventLog, EachConsumerKeepsItsOwnCursor) {
  publish("a");
  publish("b");
  EXPECT_EQ(consume("hooks"), (Names{"a", "b"}));
  EXPECT_EQ(consume("mail"), (Names{"a", "b"}));
  publish("c");
  EXPECT_EQ(consume("mail"), (Names{"c"}));
  EXPECT_EQ(consume("hooks"), (Names{"c"}));
}

TEST_P(EventLog, AnEventReadButNotAdvancedPastIsReadAgain) {
  publish("a");
  EXPECT_THROW(db().write([](soci::session& sql) {
    ASSERT_EQ(events::read_next(sql, "hooks", 10).size(), 1U);
    throw std::runtime_error("the consumer failed before advancing");
  }),
               std::runtime_error);
  EXPECT_EQ(consume("hooks"), (Names{"a"}));
}

TEST_P(EventLog, AdvanceNeverMovesTheCursorBack) {
  publish("a");
  publish("b");
  const auto batch =
      db().write([](soci::session& sql) { return events::read_next(sql, "hooks", 10); });
  ASSERT_EQ(batch.size(), 2U);
  db().write([&](soci::session& sql) {
    events::advance(sql, "hooks", batch[1].seq);
    events::advance(sql, "hooks", batch[0].seq);
  });
  EXPECT_EQ(consume("hooks"), Names{});
}

TEST_P(EventLog, ARolledBackPublishIsNeverRead) {
  publish("a");
  EXPECT_THROW(db().write([](soci::session& sql) {
    events::publish(sql, referral("rolled-back"), kNow);
    throw std::runtime_error("the change was refused");
  }),
               std::runtime_error);
  publish("b");
  EXPECT_EQ(consume("hooks"), (Names{"a", "b"}));
  EXPECT_EQ(consume("hooks"), Names{});
}

// Published events wait for the commit and go in one INSERT per up to 64
// (docs/ARCHITECTURE.md, Event spine): none is visible inside the
// transaction, all are after it, in publish order, each with its own id.
TEST_P(EventLog, ATransactionsEventsAreWrittenAtItsCommitInPublishOrder) {
  constexpr int kCount = 64 * 3 + 11;  // three full inserts and the rest
  Names published;
  long long visible_inside = -1;
  db().write([&](soci::session& sql) {
    for (int n = 0; n < kCount; ++n) {
      published.push_back("r" + std::to_string(n));
      events::publish(sql, referral(published.back()), kNow + n);
    }
    sql << "SELECT COUNT(*) FROM domain_events", soci::into(visible_inside);
  });
  EXPECT_EQ(visible_inside, 0);
  Names written;
  std::vector<long long> created_at;
  std::set<std::string> ids;
  db().read([&](soci::session& sql) {
    const soci::rowset<soci::row> rows =
        sql.prepare << "SELECT id, aggregate_id, created_at FROM domain_events ORDER BY seq";
    for (const auto& row : rows) {
      ids.insert(row.get<std::string>(0));
      written.push_back(row.get<std::string>(1));
      created_at.push_back(row.get<long long>(2));
    }
  });
  EXPECT_EQ(written, published);
  ASSERT_EQ(created_at.size(), static_cast<std::size_t>(kCount));
  for (int n = 0; n < kCount; ++n) EXPECT_EQ(created_at[n], kNow + n);
  EXPECT_EQ(ids.size(), static_cast<std::size_t>(kCount));
}

TEST_P(EventLog, ANestedWriteThatRollsBackTakesItsEventsAlong) {
  db().write([&](soci::session& sql) {
    events::publish(sql, referral("kept"), kNow);
    try {
      db().write([&](soci::session& nested) {
        events::publish(nested, referral("dropped"), kNow);
        throw std::runtime_error("refused");
      });
    } catch (const std::runtime_error&) {
      // The outer write goes on and commits.
    }
    events::publish(sql, referral("later"), kNow);
  });
  EXPECT_EQ(consume("hooks"), (Names{"kept", "later"}));
}

TEST_P(EventLog, TheSchemaRefusesAnUnknownType) {
  EXPECT_ANY_THROW(db().write([](soci::session& sql) {
    events::publish(sql, {"referral.deleted", "ref_1", "{}"}, kNow);
  }));
}

TEST_P(EventLog, BacklogIsTheEventsAfterEachCursor) {
  for (const auto* id : {"a", "b", "c"}) publish(id);
  consume("hooks", 1);
  consume("mail", 3);
  const auto backlog = db().read([](soci::session& sql) { return events::backlog(sql); });
  using Backlog = std::vector<std::pair<std::string, std::int64_t>>;
  EXPECT_EQ(backlog, (Backlog{{"hooks", 2}, {"mail", 0}}));
}

// The cases below need two transactions open at once: PostgreSQL only
// (SQLite has one writer, whose commits are in seq order).

// T1 takes the lower seq, T2 the higher; T2 commits first. Reading then must
// not pass T1's seq, or T1's event would be skipped once it commits.
TEST_P(EventLog, EventsCommittedAfterALaterSeqAreNotSkipped) {
  if (!GetParam()) GTEST_SKIP() << "PostgreSQL only";
  HeldTransaction first(db(), {[](soci::session& sql) { publish_now(sql, referral("first")); }});
  first.go();
  {
    HeldTransaction second(db(),
                           {[](soci::session& sql) { publish_now(sql, referral("second")); }});
    second.go();
    second.go();  // commits
  }
  EXPECT_EQ(consume("hooks"), Names{});  // "second" waits: "first" may still commit before it
  first.go();                            // commits
  EXPECT_EQ(consume("hooks"), (Names{"first", "second"}));
}

// T2 starts (takes its transaction id) first but publishes after T1 and
// commits first: it is read at once, and T1's lower seq is still read after.
TEST_P(EventLog, AnOlderTransactionWithAHigherSeqDoesNotHideALowerOne) {
  if (!GetParam()) GTEST_SKIP() << "PostgreSQL only";
  HeldTransaction older(db(), {[](soci::session& sql) { sql << "SELECT pg_current_xact_id()"; },
                               [](soci::session& sql) { publish_now(sql, referral("older")); }});
  older.go();  // has its transaction id
  HeldTransaction younger(db(),
                          {[](soci::session& sql) { publish_now(sql, referral("younger")); }});
  younger.go();  // the lower seq
  older.go();    // the higher seq
  older.go();    // commits
  EXPECT_EQ(consume("hooks"), (Names{"older"}));
  younger.go();  // commits
  EXPECT_EQ(consume("hooks"), (Names{"younger"}));
  EXPECT_EQ(consume("hooks"), Names{});
}

// While one instance reads (its cursor row locked), another instance reading
// for the same consumer gets nothing instead of the same events.
TEST_P(EventLog, ASecondReaderOfTheSameConsumerWaitsItsTurn) {
  if (!GetParam()) GTEST_SKIP() << "PostgreSQL only";
  // Both instances have read before: the cursor row exists. (The first read
  // ever inserts it, and a second first read waits for that insert.)
  EXPECT_EQ(consume("hooks"), Names{});
  publish("a");
  std::vector<events::Event> held;
  HeldTransaction reader(
      db(), {[&held](soci::session& sql) { held = events::read_next(sql, "hooks", 10); }});
  reader.go();
  ASSERT_EQ(held.size(), 1U);
  EXPECT_EQ(consume("hooks"), Names{});
  EXPECT_EQ(consume("other"), (Names{"a"}));
  reader.go();  // commits without advancing
  EXPECT_EQ(consume("hooks"), (Names{"a"}));
}

INSTANTIATE_TEST_SUITE_P(Engines, EventLog, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "PostgreSQL" : "SQLite"; });
