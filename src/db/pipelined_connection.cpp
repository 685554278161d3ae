#include "db/pipelined_connection.hpp"

#include <libpq-fe.h>

#include <cctype>
#include <charconv>
#include <map>
#include <stdexcept>

#include "core/log.hpp"

namespace db {

namespace {

bool starts_name(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) != 0 || c == '_';
}
bool continues_name(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
}

std::string conninfo(const std::string& url) {
  // The URI form's parameters; the name lets an operator (and the tests) tell
  // this connection from the pool's in pg_stat_activity.
  return url + (url.find('?') == std::string::npos ? "?" : "&") +
         "connect_timeout=2&application_name=referrald-pipelined-reads";
}

}  // namespace

std::string numbered_placeholders(std::string_view sql) {
  std::string out;
  std::map<std::string_view, int> numbers;
  bool quoted = false;
  for (std::size_t i = 0; i < sql.size(); ++i) {
    const char c = sql[i];
    if (c == '\'') quoted = !quoted;
    if (quoted || c != ':') {
      out += c;
      continue;
    }
    if (i + 1 < sql.size() && sql[i + 1] == ':') {  // a cast
      out += "::";
      ++i;
      continue;
    }
    if (i + 1 >= sql.size() || !starts_name(sql[i + 1])) {
      out += c;
      continue;
    }
    std::size_t end = i + 1;
    while (end < sql.size() && continues_name(sql[end])) ++end;
    const auto name = sql.substr(i + 1, end - i - 1);
    const auto number = numbers.emplace(name, static_cast<int>(numbers.size()) + 1).first->second;
    out += '$' + std::to_string(number);
    i = end - 1;
  }
  return out;
}

void ResultRows::Clear::operator()(PGresult* result) const {
  PQclear(result);
}

ResultRows::ResultRows(PGresult* result) : result_(result) {}

int ResultRows::size() const {
  return PQntuples(result_.get());
}

bool ResultRows::is_null(int row, int column) const {
  return PQgetisnull(result_.get(), row, column) == 1;
}

std::string_view ResultRows::text(int row, int column) const {
  return {PQgetvalue(result_.get(), row, column),
          static_cast<std::size_t>(PQgetlength(result_.get(), row, column))};
}

long long ResultRows::integer(int row, int column) const {
  const char* value = PQgetvalue(result_.get(), row, column);
  const char* end = value + PQgetlength(result_.get(), row, column);
  long long out = 0;
  const auto [stop, ec] = std::from_chars(value, end, out);
  if (ec != std::errc() || stop != end)
    throw std::runtime_error("a pipelined read's column is not an integer");
  return out;
}

PipelinedConnection::PipelinedConnection(const std::string& url)
    : conn_(PQconnectdb(conninfo(url).c_str())) {
  const bool ready = PQstatus(conn_) == CONNECTION_OK && PQsetnonblocking(conn_, 1) == 0 &&
                     PQenterPipelineMode(conn_) == 1;
  if (!ready) {
    const std::string reason = PQerrorMessage(conn_);
    PQfinish(conn_);
    throw std::runtime_error("pipelined reads: cannot connect: " + reason);
  }
}

PipelinedConnection::~PipelinedConnection() {
  PQfinish(conn_);
}

int PipelinedConnection::socket() const {
  return PQsocket(conn_);
}

std::string PipelinedConnection::prepared_name(const char* sql) {
  const auto known = prepared_.find(sql);
  if (known != prepared_.end()) return known->second;
  auto name = "referrald_read_" + std::to_string(++statements_named_);
  prepared_.emplace(sql, name);
  const auto text = numbered_placeholders(sql);
  if (PQsendPrepare(conn_, name.c_str(), text.c_str(), 0, nullptr) == 1) {
    pending_.push_back({Step::prepare, {}, sql, std::nullopt, false});
  } else {
    broken_ = true;
  }
  return name;
}

void PipelinedConnection::send(const PipelinedQuery& query, Done done) {
  if (broken_) {
    done(std::nullopt);
    return;
  }
  const auto name = prepared_name(query.sql);
  std::vector<const char*> values;
  values.reserve(query.params.size());
  for (const auto& param : query.params) values.push_back(param.c_str());
  // In pipeline mode libpq only buffers this (it writes past 64 KiB).
  const bool queued =
      !broken_ && PQsendQueryPrepared(conn_, name.c_str(), static_cast<int>(values.size()),
                                      values.data(), nullptr, nullptr, 0) == 1;
  if (!queued) {
    done(std::nullopt);
    abandon();
    return;
  }
  pending_.push_back({Step::read, std::move(done), nullptr, std::nullopt, false});
  unsynced_ = true;
}

void PipelinedConnection::sync() {
  if (broken_ || !unsynced_) return;
  unsynced_ = false;
  if (PQpipelineSync(conn_) != 1) {  // it also flushes
    abandon();
    return;
  }
  pending_.push_back({Step::sync, {}, nullptr, std::nullopt, false});
  flush();
}

void PipelinedConnection::flush() {
  const int left = PQflush(conn_);
  wants_write_ = left == 1;
  if (left < 0) abandon();
}

void PipelinedConnection::on_writable() {
  if (!broken_) flush();
}

void PipelinedConnection::on_readable() {
  if (broken_) return;
  if (PQconsumeInput(conn_) != 1) {
    abandon();
    return;
  }
  // In pipeline mode each statement's results end with a null result, and
  // each sync has a result of its own. Two null results in a row: nothing
  // more has arrived.
  bool statement_ended = false;
  while (!pending_.empty() && PQisBusy(conn_) == 0) {
    PGresult* result = PQgetResult(conn_);
    if (result == nullptr && statement_ended) break;
    statement_ended = result == nullptr;
    if (result == nullptr) {
      finish_front();
    } else {
      take_result(result);
    }
  }
  if (PQstatus(conn_) == CONNECTION_BAD) {
    abandon();
  } else if (wants_write_) {
    flush();  // libpq may have needed to read before it could write more
  }
}

void PipelinedConnection::take_result(PGresult* result) {
  ++results_received_;
  auto& front = pending_.front();
  const auto status = PQresultStatus(result);
  if (status == PGRES_PIPELINE_SYNC) {
    PQclear(result);
    pending_.pop_front();  // the sync ending a group of reads
  } else if (status == PGRES_TUPLES_OK && front.step == Step::read) {
    front.rows.emplace(result);
  } else {
    // A preparation's PGRES_COMMAND_OK; else the statement failed, or an
    // earlier failure in its group aborted it (PGRES_PIPELINE_ABORTED): the
    // caller reads another way, where the error is reported as the pool
    // reports it.
    front.failed = front.failed || status != PGRES_COMMAND_OK;
    PQclear(result);
  }
}

void PipelinedConnection::finish_front() {
  auto step = std::move(pending_.front());
  pending_.pop_front();
  if (step.step == Step::prepare) {
    if (step.failed) prepared_.erase(step.prepares);  // prepared again on next use
  } else if (step.step == Step::read) {
    step.done(step.failed ? std::nullopt : std::move(step.rows));
  }
}

void PipelinedConnection::abandon() {
  if (!broken_ && !pending_.empty())
    core::log::warn("pipelined reads: the connection failed; reads go to the pool");
  broken_ = true;
  wants_write_ = false;
  while (!pending_.empty()) {
    auto step = std::move(pending_.front());
    pending_.pop_front();
    if (step.done) step.done(std::nullopt);
  }
}

}  // namespace db
