#pragma once
#include <soci/session.h>

#include <string>
#include <string_view>

namespace seed {

// Collects rows for one table and writes them as one multi-row
// `INSERT ... VALUES (...), (...)`: one parse and one round trip per batch
// instead of per row, which is what makes a million rows take seconds on
// PostgreSQL (DESIGN.md measured 11 s per 100k rows one by one). Values are
// inlined as literals; the generator makes them, so quoting is all they need.
class BulkInsert {
 public:
  BulkInsert(soci::session& sql, std::string_view table, std::string_view columns);

  BulkInsert& row();  // starts the next row
  BulkInsert& text(std::string_view value);
  BulkInsert& number(long long value);
  BulkInsert& null();

  // Sends the rows collected so far (if any). The caller decides when, so
  // parent rows always reach the database before the rows that reference them.
  void flush();
  std::size_t pending() const { return pending_; }
  long long written() const { return written_; }

 private:
  void separate();

  soci::session& sql_;
  std::string head_;
  std::string buffer_;
  std::size_t pending_ = 0;
  long long written_ = 0;
  bool row_open_ = false;
  bool first_value_ = true;
};

}  // namespace seed
