#include "db/database.hpp"

#include <soci/postgresql/soci-postgresql.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <mutex>
#include <random>
#include <thread>

#include "core/api_error.hpp"
#include "core/log.hpp"
#include "db/commit_actions.hpp"
#include "db/group_commit.hpp"
#include "db/statement_cache.hpp"
#include "db/unnamed_statements.hpp"

namespace db {

namespace {

constexpr auto kLeaseTimeout = std::chrono::seconds(5);
constexpr long long kSqliteMmapBytes = 4LL << 30;

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

std::string postgres_connect_string(const std::string& url) {
  // libpq understands URIs; a connect timeout keeps an outage from hanging requests.
  if (url.find("connect_timeout=") != std::string::npos) return url;
  return url + (url.find('?') == std::string::npos ? "?" : "&") + "connect_timeout=3";
}

bool is_retryable_sqlstate(const std::string& state) {
  return state == "40001" || state == "40P01";  // serialization failure, deadlock
}

bool is_connection_sqlstate(const std::string& state) {
  return starts_with(state, "08") || state == "57P01" || state == "57P02" || state == "57P03";
}

// The schema lacks what a statement names: undefined column, function,
// table, object (class 42 "syntax error or access rule violation").
bool is_missing_schema_sqlstate(const std::string& state) {
  return state == "42703" || state == "42883" || state == "42P01" || state == "42704";
}

bool replica_schema_behind(const std::exception& error) {
  const auto* pg = dynamic_cast<const soci::postgresql_soci_error*>(&error);
  return pg != nullptr && is_missing_schema_sqlstate(pg->sqlstate());
}

}  // namespace

void throw_unavailable() {
  core::ApiError error(503, "database_unavailable", "The database is unavailable; retry shortly.");
  error.with_header("Retry-After", "2");
  throw error;
}

Failure classify(const std::exception& error) {
  if (const auto* known = dynamic_cast<const DatabaseError*>(&error)) return known->failure();
  if (const auto* pg = dynamic_cast<const soci::postgresql_soci_error*>(&error)) {
    const auto state = pg->sqlstate();
    if (is_retryable_sqlstate(state)) return Failure::retryable;
    if (state == "23505") return Failure::unique_violation;
    if (is_connection_sqlstate(state)) return Failure::unavailable;
    return Failure::other;
  }
  if (const auto* lite = dynamic_cast<const soci::sqlite3_soci_error*>(&error)) {
    // Extended result codes are on for every connection (connect()), so a
    // unique or primary-key violation has its own number: no message text is read.
    const int extended = lite->result();
    const int code = extended & 0xff;
    if (code == SQLITE_BUSY || code == SQLITE_LOCKED) return Failure::retryable;
    if (extended == SQLITE_CONSTRAINT_UNIQUE || extended == SQLITE_CONSTRAINT_PRIMARYKEY) {
      return Failure::unique_violation;
    }
    return Failure::other;
  }
  if (const auto* api = dynamic_cast<const core::ApiError*>(&error); api && api->status() == 503) {
    return Failure::unavailable;
  }
  return Failure::other;
}

namespace {

// A pooled connection is only ever used by the thread holding its lease (the
// group-commit writer owns its own), so SQLite's per-call connection mutex
// and its memory statistics (a global mutex around every allocation) are
// pure cost: together about 9% of a reward-history request. This must
// happen before SQLite initialises; if it already has, the call fails and
// SQLite keeps its fully serialized default, which is merely slower.
void configure_sqlite_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    // soci-sqlite3.h declares SQLite's API inside this namespace.
    sqlite_api::sqlite3_config(SQLITE_CONFIG_MULTITHREAD);
    sqlite_api::sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  });
}

}  // namespace

Database::Database(Options options)
    : options_(std::move(options)),
      engine_(starts_with(options_.url, "sqlite://") ? Engine::sqlite : Engine::postgresql),
      slots_(static_cast<std::size_t>(options_.pool_size)) {
  if (engine_ == Engine::sqlite) configure_sqlite_once();
}

Database::~Database() {
  writer_.reset();
  for (auto& slot : slots_) {
    if (slot.session) forget_cached(*slot.session);
  }
}

std::unique_ptr<soci::session> Database::connect() const {
  if (engine_ == Engine::postgresql) {
    const soci::backend_factory& backend =
        options_.prepared_statements ? soci::postgresql : postgresql_unnamed_statements();
    return std::make_unique<soci::session>(backend, postgres_connect_string(options_.url));
  }
  const auto path = options_.url.substr(std::string("sqlite://").size());
  auto session = std::make_unique<soci::session>(
      soci::sqlite3, "db=\"" + path + "\" timeout=" + std::to_string(options_.busy_timeout_ms / 1000 + 1));
  auto* backend = static_cast<soci::sqlite3_session_backend*>(session->get_backend());
  sqlite_api::sqlite3_extended_result_codes(backend->conn_, 1);
  *session << "PRAGMA journal_mode=WAL";
  *session << "PRAGMA synchronous=" + options_.sqlite_synchronous;
  *session << "PRAGMA busy_timeout=" + std::to_string(options_.busy_timeout_ms);
  *session << "PRAGMA foreign_keys=ON";
  // Reads map the file instead of copying pages through read() calls into a
  // 2 MB per-connection cache: at a million referrals a page of history
  // touches pages all over the table (measured: reward history 4.9k -> see
  // docs/PERFORMANCE.md). Address space only; the OS shares the pages.
  *session << "PRAGMA mmap_size=" + std::to_string(kSqliteMmapBytes);
  *session << "PRAGMA cache_size=-16384";
  // Each write of the group commit runs in a SAVEPOINT, whose journal SQLite
  // writes to a temporary file past 64 KiB: an apply's ~20 changed pages went
  // to disk once more (~60 us of CPU per apply under perf). In memory it stays
  // a list of page copies freed at the savepoint's end. (Raising the spill
  // threshold instead, SQLITE_CONFIG_STMTJRNL_SPILL, made migrate's large
  // batches fail with SQLITE_FULL; in memory nothing spills.)
  *session << "PRAGMA temp_store=MEMORY";
  return session;
}

Database::Slot& Database::acquire() {
  std::unique_lock lock(mutex_);
  Slot* free_slot = nullptr;
  const bool got = available_.wait_for(lock, kLeaseTimeout, [&] {
    for (auto& slot : slots_) {
      if (!slot.in_use) {
        free_slot = &slot;
        return true;
      }
    }
    return false;
  });
  if (!got) throw_unavailable();
  free_slot->in_use = true;
  return *free_slot;
}

void Database::release(Slot& slot) {
  {
    std::lock_guard lock(mutex_);
    slot.in_use = false;
  }
  available_.notify_one();
}

Database::Lease::Lease(Database& database) : database_(database), slot_(&database.acquire()) {
  if (slot_->session) return;
  try {
    slot_->session = database_.connect();
  } catch (const std::exception& error) {
    core::log::event("error", {{"msg", "database connection failed"}, {"detail", error.what()}});
    database_.release(*slot_);
    throw_unavailable();
  }
}

Database::Lease::~Lease() { database_.release(*slot_); }

void Database::Lease::check_after(const std::exception& error) {
  if (database_.engine_ != Engine::postgresql) return;
  if (database_.options_.replica && replica_schema_behind(error)) throw_unavailable();
  const bool lost = classify(error) == Failure::unavailable || !slot_->session->is_connected();
  if (!lost) return;
  forget_cached(*slot_->session);
  slot_->session.reset();
  throw_unavailable();
}

void Database::write_grouped(const std::function<void(soci::session&)>& work) {
  std::call_once(writer_started_, [this] {
    writer_ = std::make_unique<GroupCommitter>([this] { return connect(); }, options_.busy_timeout_ms);
  });
  try {
    writer_->run(work);
  } catch (const core::ApiError&) {
    throw;
  } catch (const std::exception& error) {
    if (classify(error) == Failure::retryable) throw_unavailable();  // the lock stayed taken
    throw;
  }
}

namespace {
// The write transaction this thread is inside, if any (Database::Joinable).
thread_local const Database* open_database = nullptr;
thread_local soci::session* open_session = nullptr;
thread_local int savepoint_depth = 0;
}  // namespace

Database::Joinable::Joinable(const Database& database, soci::session& session)
    : previous_database_(open_database), previous_session_(open_session) {
  open_database = &database;
  open_session = &session;
}

Database::Joinable::~Joinable() {
  open_database = previous_database_;
  open_session = previous_session_;
}

soci::session* Database::open_transaction() const { return open_database == this ? open_session : nullptr; }

void Database::before_committing(soci::session& sql) {
  deferred_writes::write_all(sql);
}

void Database::after_committed() noexcept {
  commit_actions::run_all();
}

void Database::after_rolled_back() {
  commit_actions::drop_all();
  deferred_writes::forget_all();
}

void before_commit(const DeferredWrite& write, soci::session& sql) {
  if (open_session == nullptr) {
    write.write(sql);
    return;
  }
  deferred_writes::add(write);
}

void after_commit(void (*action)() noexcept) {
  if (open_session == nullptr) {
    action();
    return;
  }
  commit_actions::add(action);
}

Database::Savepoint::Savepoint(soci::session& sql)
    : sql_(sql),
      name_("nested" + std::to_string(savepoint_depth + 1)),
      actions_before_(commit_actions::pending()),
      writes_before_(deferred_writes::mark()) {
  sql_ << "SAVEPOINT " + name_;
  ++savepoint_depth;
}

Database::Savepoint::~Savepoint() { --savepoint_depth; }

void Database::Savepoint::release() const { sql_ << "RELEASE SAVEPOINT " + name_; }

void Database::Savepoint::roll_back() const noexcept {
  commit_actions::drop_from(actions_before_);
  deferred_writes::roll_back_to(writes_before_);
  try {
    sql_ << "ROLLBACK TO SAVEPOINT " + name_;
    sql_ << "RELEASE SAVEPOINT " + name_;
  } catch (...) {
    // The connection is gone: the whole transaction fails with the error
    // that is propagating already.
  }
}

void Database::begin(soci::session& session) { session << "BEGIN"; }

void Database::commit(soci::session& session) { session << "COMMIT"; }

void Database::rollback(soci::session& session) noexcept {
  try {
    session << "ROLLBACK";
  } catch (...) {
    // The transaction is already gone (e.g. the connection dropped).
  }
  // A cached statement whose execution threw never ran SOCI's post-use
  // clean-up: the PostgreSQL backend's parameter buffers of that execution
  // leaked when the statement was used again (LeakSanitizer, api_postgresql_asan:
  // 690 bytes in 30 new[] from libsoci_postgresql after racing config
  // creations). Dropping the session's statements frees them; a failed write
  // is rare enough that preparing again costs nothing measurable.
  forget_cached(session);
}

void Database::backoff(int attempt) {
  thread_local std::minstd_rand jitter{std::random_device{}()};
  const int ceiling_ms = std::min(2 << attempt, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(1 + jitter() % ceiling_ms));
}

PoolStats Database::stats() const {
  std::lock_guard lock(mutex_);
  PoolStats stats{static_cast<int>(slots_.size()), 0};
  for (const auto& slot : slots_) stats.in_use += slot.in_use ? 1 : 0;
  return stats;
}

bool Database::ping() {
  try {
    return read([](soci::session& session) {
      int one = 0;
      session << "SELECT 1", soci::into(one);
      return one == 1;
    });
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace db
