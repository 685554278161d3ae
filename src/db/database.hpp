#pragma once
#include <soci/session.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "db/database_error.hpp"
#include "db/deferred_writes.hpp"
#include "db/failure.hpp"

namespace db {

class GroupCommitter;

enum class Engine { sqlite, postgresql };

struct Options {
  std::string url;  // sqlite://PATH or postgresql://...
  int pool_size = 8;
  std::int64_t busy_timeout_ms = 5000;
  std::string sqlite_synchronous = "FULL";
  // A read replica (DATABASE_READ_URL): a schema older than the binary's
  // (replication lags behind a migration) is an outage of the replica, 503.
  bool replica = false;
  // PostgreSQL: false sends every statement unnamed (db/unnamed_statements.hpp).
  bool prepared_statements = true;
};

struct PoolStats {
  int size = 0;
  int in_use = 0;
};

// A fixed set of lazily opened sessions. A session whose connection broke is
// dropped and reopened on its next lease, so the server recovers by itself
// when PostgreSQL comes back.
class Database {
 public:
  explicit Database(Options options);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  Engine engine() const { return engine_; }
  PoolStats stats() const;

  // Runs `work(session)` outside a transaction (autocommit reads). Inside
  // this database's write transaction on this thread it reads through that
  // transaction instead: it sees the writes made so far (SQLite's other
  // connections would not), and on the writer thread it needs no lease.
  template <class Work>
  auto read(Work&& work) {
    if (auto* open = open_transaction()) return work(*open);
    Lease lease(*this);
    try {
      return work(lease.session());
    } catch (const std::exception& error) {
      lease.check_after(error);
      std::rethrow_exception(current_without_bound_values(lease.session()));
    }
  }

  // Runs `work(session)` in one transaction and commits. PostgreSQL: retries
  // the whole transaction on serialization failures and deadlocks. SQLite:
  // the one writer thread runs it inside a group commit (see GroupCommitter).
  // Called inside a write transaction of this database on the same thread,
  // it joins that transaction under a savepoint (an error rolls back only
  // its own part, then propagates): so a decorator such as the
  // Idempotency-Key one can commit its own row with the handler's effect.
  template <class Work>
  auto write(Work&& work) {
    using Result = std::invoke_result_t<Work&, soci::session&>;
    if (auto* open = open_transaction()) return nested_write(*open, work);
    if (engine_ == Engine::sqlite) {
      // The deferred writes go at the end of the job, inside its savepoint,
      // so a job that fails takes them back with the rest of its work.
      if constexpr (std::is_void_v<Result>) {
        write_grouped([&](soci::session& sql) {
          const Joinable joinable(*this, sql);
          work(sql);
          before_committing(sql);
        });
        return;
      } else {
        std::optional<Result> result;
        write_grouped([&](soci::session& sql) {
          const Joinable joinable(*this, sql);
          result.emplace(work(sql));
          before_committing(sql);
        });
        return std::move(*result);
      }
    }
    for (int attempt = 1;; ++attempt) {
      Lease lease(*this);
      try {
        begin(lease.session());
        const Joinable joinable(*this, lease.session());
        if constexpr (std::is_void_v<decltype(work(lease.session()))>) {
          work(lease.session());
          before_committing(lease.session());
          commit(lease.session());
          after_committed();
          return;
        } else {
          auto result = work(lease.session());
          before_committing(lease.session());
          commit(lease.session());
          after_committed();
          return result;
        }
      } catch (const std::exception& error) {
        // Taken first: ROLLBACK becomes the session's last statement.
        const auto safe = current_without_bound_values(lease.session());
        rollback(lease.session());
        after_rolled_back();
        lease.check_after(error);
        if (classify(error) != Failure::retryable || attempt >= kMaxAttempts)
          std::rethrow_exception(safe);
      }
      backoff(attempt);
    }
  }

  bool ping();

 private:
  static constexpr int kMaxAttempts = 8;

  // Marks `session` as this thread's open write transaction of `database`
  // for as long as it lives (see write and read).
  class Joinable {
   public:
    Joinable(const Database& database, soci::session& session);
    ~Joinable();
    Joinable(const Joinable&) = delete;
    Joinable& operator=(const Joinable&) = delete;

   private:
    const Database* previous_database_;
    soci::session* previous_session_;
  };

  soci::session* open_transaction() const;
  // Writes what db::before_commit deferred, as the transaction's last writes.
  static void before_committing(soci::session& sql);
  // The ends of an outermost PostgreSQL transaction, for db::after_commit.
  static void after_committed() noexcept;
  static void after_rolled_back();

  template <class Work>
  auto nested_write(soci::session& sql, Work& work) {
    const Savepoint savepoint(sql);
    try {
      if constexpr (std::is_void_v<decltype(work(sql))>) {
        work(sql);
        savepoint.release();
      } else {
        auto result = work(sql);
        savepoint.release();
        return result;
      }
    } catch (const std::exception&) {
      const auto safe = current_without_bound_values(sql);
      savepoint.roll_back();
      std::rethrow_exception(safe);
    }
  }

  // A named savepoint per nesting depth, so a write nested twice unwinds
  // to its own.
  class Savepoint {
   public:
    explicit Savepoint(soci::session& sql);
    ~Savepoint();
    Savepoint(const Savepoint&) = delete;
    Savepoint& operator=(const Savepoint&) = delete;
    void release() const;
    void roll_back() const noexcept;

   private:
    soci::session& sql_;
    std::string name_;
    std::size_t actions_before_;           // db::after_commit's, dropped by roll_back
    deferred_writes::Mark writes_before_;  // db::before_commit's, likewise
  };

  struct Slot {
    std::unique_ptr<soci::session> session;
    bool in_use = false;
  };

  class Lease {
   public:
    explicit Lease(Database& database);
    ~Lease();
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    soci::session& session() { return *slot_->session; }
    // Drops a broken connection and turns the error into 503 when the
    // database is gone (or, on a replica, its schema is behind).
    void check_after(const std::exception& error);

   private:
    Database& database_;
    Slot* slot_;
  };

  Slot& acquire();
  void release(Slot& slot);
  std::unique_ptr<soci::session> connect() const;
  void write_grouped(const std::function<void(soci::session&)>& work);
  void begin(soci::session& session);
  void commit(soci::session& session);
  void rollback(soci::session& session) noexcept;
  static void backoff(int attempt);

  Options options_;
  Engine engine_;
  mutable std::mutex mutex_;
  std::condition_variable available_;
  std::vector<Slot> slots_;
  std::once_flag writer_started_;
  std::unique_ptr<GroupCommitter> writer_;
};

[[noreturn]] void throw_unavailable();

// Runs `action` once the write transaction open on this thread commits, before
// Database::write returns to its caller (on SQLite: after the group's COMMIT,
// before any of its callers returns). Dropped when the transaction rolls back,
// or the nested write or group job that registered it does. Registered twice
// in one transaction, it runs once. Outside a write transaction it runs at
// once. For in-process notices of a change that must not be seen before it
// is durable and visible to other sessions (analytics' leaderboard cache).
void after_commit(void (*action)() noexcept);

// Has `write` write what its domain kept (see DeferredWrite) as the last
// writes of the write transaction open on this thread, just before its
// COMMIT (on SQLite: at the end of the group-commit job); forgotten when the
// transaction, or the nested write or job that registered it, rolls back.
// Outside a write transaction it writes at once, through `sql`.
void before_commit(const DeferredWrite& write, soci::session& sql);

}  // namespace db
