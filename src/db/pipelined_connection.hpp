#pragma once
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

using PGconn = struct pg_conn;
using PGresult = struct pg_result;

namespace db {

// A read for a pipelined connection, in the text the store's SOCI statement
// uses (`:name` placeholders) and its parameters' text values in the order
// the names first appear.
struct PipelinedQuery {
  const char* sql = nullptr;  // a literal: the prepared statement's identity
  std::vector<std::string> params;
};

// `sql` with each `:name` placeholder replaced by `$1`, `$2`, ... in order of
// first appearance, a repeated name keeping its number, as SOCI's PostgreSQL
// backend does; `::` casts and quoted text are left alone.
std::string numbered_placeholders(std::string_view sql);

// One statement's rows in PostgreSQL's text format.
class ResultRows {
 public:
  explicit ResultRows(PGresult* result);
  int size() const;
  bool is_null(int row, int column) const;
  // Valid while these rows live: a page is written from them without a copy.
  std::string_view text(int row, int column) const;
  // A BIGINT or INTEGER column; throws std::runtime_error on anything else.
  long long integer(int row, int column) const;

 private:
  struct Clear {
    void operator()(PGresult* result) const;
  };
  std::unique_ptr<PGresult, Clear> result_;
};

// A PostgreSQL connection that sends reads without waiting for the results
// of the ones before it (libpq's pipeline mode), for one thread's event loop:
// the thread's requests share one backend, which wakes once for several
// statements. The reads queued between two sync() calls (one turn of the
// event loop) go out in one write and run as one implicit transaction; a
// read that fails makes the rest of its group fail too, and their callers
// read another way. Nothing here blocks once connected, and nothing is
// thread-safe.
class PipelinedConnection {
 public:
  // nullopt: the read failed (its statement, or the connection); the caller
  // reads another way.
  using Done = std::function<void(std::optional<ResultRows>)>;

  // Connects (blocking: run it off the event loop) and switches to
  // non-blocking pipeline mode; throws std::runtime_error when it cannot.
  explicit PipelinedConnection(const std::string& url);
  // Drops the reads still pending without calling them: at shutdown their
  // event loop is gone (a broken connection failed them already).
  ~PipelinedConnection();
  PipelinedConnection(const PipelinedConnection&) = delete;
  PipelinedConnection& operator=(const PipelinedConnection&) = delete;

  int socket() const;
  bool broken() const { return broken_; }
  std::size_t pending() const { return pending_.size(); }
  bool wants_write() const { return wants_write_; }
  // Results (and syncs) received so far: a count that stops moving while
  // reads wait means the backend stopped answering.
  unsigned long long results_received() const { return results_received_; }

  // Queues `query`, to be written by the next sync(); `done` runs from a
  // later on_readable, or at once when the connection is broken.
  void send(const PipelinedQuery& query, Done done);
  // Ends the group of reads queued since the last sync and writes what the
  // socket takes.
  void sync();
  void on_writable();
  // Reads what arrived and finishes each read whose result is complete.
  void on_readable();
  // Fails every waiting read and stops using the connection.
  void abandon();

 private:
  enum class Step { prepare, read, sync };
  struct Pending {
    Step step;
    Done done;                       // a read's
    const char* prepares = nullptr;  // a preparation's query
    std::optional<ResultRows> rows;
    bool failed = false;
  };

  // The query's server-side statement, prepared in the pipeline on first use.
  std::string prepared_name(const char* sql);
  void flush();
  void take_result(PGresult* result);
  void finish_front();

  PGconn* conn_ = nullptr;
  std::deque<Pending> pending_;
  std::map<const char*, std::string> prepared_;  // by the query's literal
  int statements_named_ = 0;
  unsigned long long results_received_ = 0;
  bool unsynced_ = false;  // reads queued since the last sync
  bool wants_write_ = false;
  bool broken_ = false;
};

}  // namespace db
