#pragma once
#include <soci/session.h>

#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

namespace db {

// SQLite's write path. With synchronous=FULL every commit waits for an fsync,
// so one commit per request caps writes at the disk's sync rate. One writer
// thread instead runs every waiting write in a single transaction, each in
// its own SAVEPOINT (a job that fails rolls back alone), and commits once:
// the fsync is shared and a caller returns only once its work is durable.
class GroupCommitter {
 public:
  using Work = std::function<void(soci::session&)>;
  using Connect = std::function<std::unique_ptr<soci::session>()>;

  GroupCommitter(Connect connect, long long busy_timeout_ms);
  ~GroupCommitter();
  GroupCommitter(const GroupCommitter&) = delete;
  GroupCommitter& operator=(const GroupCommitter&) = delete;

  // Runs `work` in the next batch; returns once the batch committed, or
  // rethrows the job's own error (or the batch's, when the commit failed).
  void run(const Work& work);

 private:
  struct Job {
    const Work* work = nullptr;
    std::exception_ptr error;
    bool done = false;
  };

  void loop();
  void commit_batch(const std::deque<Job*>& batch);
  void begin_immediate(soci::session& sql) const;
  static void run_job(soci::session& sql, Job& job);

  Connect connect_;
  long long busy_timeout_ms_;
  std::unique_ptr<soci::session> session_;
  std::mutex mutex_;
  std::condition_variable work_ready_;
  std::condition_variable work_done_;
  std::deque<Job*> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace db
