#include "bulk_insert.hpp"

#include <soci/soci.h>

namespace seed {

BulkInsert::BulkInsert(soci::session& sql, std::string_view table, std::string_view columns)
    : sql_(sql), head_("INSERT INTO " + std::string(table) + " (" + std::string(columns) + ") VALUES ") {}

BulkInsert& BulkInsert::row() {
  if (row_open_) buffer_ += "),";
  buffer_ += '(';
  row_open_ = true;
  first_value_ = true;
  ++pending_;
  return *this;
}

void BulkInsert::separate() {
  if (!first_value_) buffer_ += ',';
  first_value_ = false;
}

BulkInsert& BulkInsert::text(std::string_view value) {
  separate();
  buffer_ += '\'';
  for (const char c : value) {
    if (c == '\'') buffer_ += '\'';
    buffer_ += c;
  }
  buffer_ += '\'';
  return *this;
}

BulkInsert& BulkInsert::number(long long value) {
  separate();
  buffer_ += std::to_string(value);
  return *this;
}

BulkInsert& BulkInsert::null() {
  separate();
  buffer_ += "NULL";
  return *this;
}

void BulkInsert::flush() {
  if (pending_ == 0) return;
  sql_ << head_ + buffer_ + ")";
  written_ += static_cast<long long>(pending_);
  buffer_.clear();
  pending_ = 0;
  row_open_ = false;
}

}  // namespace seed
