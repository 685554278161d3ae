#include "bulk_insert.hpp"

#include <soci/postgresql/soci-postgresql.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <algorithm>
#include <stdexcept>

namespace seed {

namespace {

// COPY's text format: tab-separated, \N for NULL, backslash escapes.
void append_copy_text(std::string& out, std::string_view value) {
  for (const char c : value) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\t': out += "\\t"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      default: out += c;
    }
  }
}

PGconn* pg_connection(soci::session& sql) {
  return static_cast<soci::postgresql_session_backend*>(sql.get_backend())->conn_;
}

sqlite_api::sqlite3* sqlite_connection(soci::session& sql) {
  return static_cast<soci::sqlite3_session_backend*>(sql.get_backend())->conn_;
}

void finish_copy(PGconn* conn, const std::string& table) {
  bool failed = false;
  std::string message;
  while (PGresult* result = PQgetResult(conn)) {
    if (PQresultStatus(result) != PGRES_COMMAND_OK) {
      failed = true;
      message = PQresultErrorMessage(result);
    }
    PQclear(result);
  }
  if (failed) throw std::runtime_error("COPY " + table + ": " + message);
}

}  // namespace

BulkInsert::BulkInsert(soci::session& sql, db::Engine engine, std::string_view table, std::string_view columns)
    : sql_(sql), engine_(engine), table_(table), columns_(columns),
      width_(1 + static_cast<std::size_t>(std::count(columns.begin(), columns.end(), ','))) {}

BulkInsert::~BulkInsert() { sqlite_api::sqlite3_finalize(insert_); }

BulkInsert& BulkInsert::row() {
  ++rows_;
  return *this;
}

BulkInsert& BulkInsert::text(std::string_view value) {
  values_.push_back({Value::text, std::string(value), 0});
  return *this;
}

BulkInsert& BulkInsert::number(long long value) {
  values_.push_back({Value::number, {}, value});
  return *this;
}

BulkInsert& BulkInsert::null() {
  values_.push_back({});
  return *this;
}

void BulkInsert::flush() {
  if (rows_ == 0) return;
  if (values_.size() != rows_ * width_) throw std::logic_error("BulkInsert " + table_ + ": ragged rows");
  if (engine_ == db::Engine::postgresql) {
    flush_copy();
  } else {
    flush_prepared();
  }
  written_ += static_cast<long long>(rows_);
  values_.clear();
  rows_ = 0;
}

void BulkInsert::flush_copy() {
  std::string data;
  for (std::size_t i = 0; i < values_.size(); ++i) {
    const auto& value = values_[i];
    if (value.kind == Value::text) append_copy_text(data, value.text_value);
    else if (value.kind == Value::number) data += std::to_string(value.number_value);
    else data += "\\N";
    data += (i + 1) % width_ == 0 ? '\n' : '\t';
  }
  PGconn* conn = pg_connection(sql_);
  PGresult* start = PQexec(conn, ("COPY " + table_ + " (" + columns_ + ") FROM STDIN").c_str());
  const bool ready = PQresultStatus(start) == PGRES_COPY_IN;
  PQclear(start);
  if (!ready) {
    finish_copy(conn, table_);
    throw std::runtime_error("COPY " + table_ + " did not start: " + PQerrorMessage(conn));
  }
  const bool sent = PQputCopyData(conn, data.data(), static_cast<int>(data.size())) == 1;
  PQputCopyEnd(conn, sent ? nullptr : "seed: sending rows failed");
  finish_copy(conn, table_);
}

void BulkInsert::flush_prepared() {
  auto* db = sqlite_connection(sql_);
  if (insert_ == nullptr) {
    std::string marks = "?";
    for (std::size_t i = 1; i < width_; ++i) marks += ",?";
    const auto text = "INSERT INTO " + table_ + " (" + columns_ + ") VALUES (" + marks + ")";
    if (sqlite_api::sqlite3_prepare_v2(db, text.c_str(), -1, &insert_, nullptr) != SQLITE_OK) {
      throw std::runtime_error("prepare " + table_ + ": " + sqlite_api::sqlite3_errmsg(db));
    }
  }
  for (std::size_t row = 0; row < rows_; ++row) {
    bind_row(row);
    const int step = sqlite_api::sqlite3_step(insert_);
    sqlite_api::sqlite3_reset(insert_);
    if (step != SQLITE_DONE) throw std::runtime_error("insert into " + table_ + ": " + sqlite_api::sqlite3_errmsg(db));
  }
}

void BulkInsert::bind_row(std::size_t row) {
  for (std::size_t column = 0; column < width_; ++column) {
    const auto& value = values_[row * width_ + column];
    const int at = static_cast<int>(column) + 1;
    if (value.kind == Value::text) {
      // The string outlives the step, so SQLite need not copy it (SQLITE_STATIC).
      sqlite_api::sqlite3_bind_text(insert_, at, value.text_value.data(), static_cast<int>(value.text_value.size()),
                                    SQLITE_STATIC);
    } else if (value.kind == Value::number) {
      sqlite_api::sqlite3_bind_int64(insert_, at, value.number_value);
    } else {
      sqlite_api::sqlite3_bind_null(insert_, at);
    }
  }
}

}  // namespace seed
