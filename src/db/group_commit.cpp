#include "db/group_commit.hpp"

#include <chrono>

#include "core/thread_name.hpp"
#include "db/commit_actions.hpp"
#include "db/database.hpp"
#include "db/deferred_writes.hpp"
#include "db/statement_cache.hpp"

namespace db {

namespace {
constexpr std::size_t kMaxBatch = 256;
}

GroupCommitter::GroupCommitter(Connect connect, long long busy_timeout_ms)
    : connect_(std::move(connect)), busy_timeout_ms_(busy_timeout_ms), thread_([this] { loop(); }) {}

GroupCommitter::~GroupCommitter() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  work_ready_.notify_all();
  thread_.join();
  if (session_) forget_cached(*session_);
}

void GroupCommitter::run(const Work& work) {
  Job job{&work, nullptr, false};
  std::unique_lock lock(mutex_);
  queue_.push_back(&job);
  work_ready_.notify_one();
  work_done_.wait(lock, [&] { return job.done; });
  if (job.error) std::rethrow_exception(job.error);
}

void GroupCommitter::loop() {
  core::name_this_thread("sqlite-writer");
  std::unique_lock lock(mutex_);
  while (true) {
    work_ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, nothing left
    std::deque<Job*> batch;
    while (!queue_.empty() && batch.size() < kMaxBatch) {
      batch.push_back(queue_.front());
      queue_.pop_front();
    }
    lock.unlock();
    commit_batch(batch);
    lock.lock();
    for (auto* job : batch) job->done = true;
    work_done_.notify_all();
  }
}

void GroupCommitter::begin_immediate(soci::session& sql) const {
  // Another process (a second instance on the same file, the CLI) may hold
  // the write lock for a moment: wait for it up to the busy timeout.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(busy_timeout_ms_);
  for (int attempt = 1;; ++attempt) {
    try {
      sql << "BEGIN IMMEDIATE";
      return;
    } catch (const std::exception& error) {
      if (classify(error) != Failure::retryable || std::chrono::steady_clock::now() > deadline) throw;
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min(attempt, 20)));
    }
  }
}

void GroupCommitter::run_job(soci::session& sql, Job& job) {
  const auto actions_before = commit_actions::pending();
  const auto writes_before = deferred_writes::mark();
  sql << "SAVEPOINT job";
  try {
    (*job.work)(sql);
    sql << "RELEASE job";
  } catch (...) {
    commit_actions::drop_from(actions_before);
    deferred_writes::roll_back_to(writes_before);
    job.error = current_without_bound_values(sql);
    try {
      sql << "ROLLBACK TO job";
      sql << "RELEASE job";
    } catch (...) {
      // SQLite already rolled the whole transaction back (a full disk, an I/O
      // error, RAISE(ROLLBACK)): the batch fails with this job's error, not
      // with "no such savepoint", which hid the cause of a failed migrate.
      std::rethrow_exception(job.error);
    }
  }
}

void GroupCommitter::commit_batch(const std::deque<Job*>& batch) {
  try {
    if (!session_) session_ = connect_();
    begin_immediate(*session_);
    for (auto* job : batch) run_job(*session_, *job);
    *session_ << "COMMIT";
    commit_actions::run_all();  // before any job is marked done (db::after_commit)
  } catch (...) {
    // The batch as a whole failed (no connection, lock timeout, I/O error):
    // nothing of it is durable, so every job reports the failure.
    commit_actions::drop_all();
    const auto error = std::current_exception();
    if (session_) {
      try {
        *session_ << "ROLLBACK";
      } catch (...) {
        forget_cached(*session_);
        session_.reset();  // reopened for the next batch
      }
    }
    for (auto* job : batch) job->error = error;
  }
}

}  // namespace db
