#pragma once
#include <soci/session.h>

#include <string>
#include <string_view>
#include <vector>

#include "db/database.hpp"

namespace sqlite_api {
struct sqlite3_stmt;  // as soci-sqlite3.h wraps sqlite3.h
}

namespace seed {

// Collects rows for one table and writes them in batches, each engine its
// fastest way: PostgreSQL gets one `COPY ... FROM STDIN` per batch (one round
// trip instead of one per row: one by one took 11 s per 100k rows on the
// project's 2-core machine); SQLite gets one prepared INSERT re-bound per
// row, so no SQL text is parsed per row or per batch. Both go under SOCI to the native handles,
// because SOCI itself offers neither COPY nor cheap re-binding.
class BulkInsert {
 public:
  BulkInsert(soci::session& sql, db::Engine engine, std::string_view table, std::string_view columns);
  ~BulkInsert();
  BulkInsert(const BulkInsert&) = delete;
  BulkInsert& operator=(const BulkInsert&) = delete;

  BulkInsert& row();  // starts the next row
  BulkInsert& text(std::string_view value);
  BulkInsert& number(long long value);
  BulkInsert& null();

  // Sends the rows collected so far. The caller decides when, so parent rows
  // reach the database before the rows that reference them.
  void flush();
  std::size_t pending() const { return rows_; }
  long long written() const { return written_; }

 private:
  struct Value {
    enum Kind { text, number, null } kind = null;
    std::string text_value;
    long long number_value = 0;
  };

  void flush_copy();
  void flush_prepared();
  void bind_row(std::size_t row);

  soci::session& sql_;
  db::Engine engine_;
  std::string table_;
  std::string columns_;
  std::size_t width_ = 0;
  std::vector<Value> values_;  // rows_ * width_
  std::size_t rows_ = 0;
  long long written_ = 0;
  sqlite_api::sqlite3_stmt* insert_ = nullptr;  // SQLite only, prepared on first flush
};

}  // namespace seed
