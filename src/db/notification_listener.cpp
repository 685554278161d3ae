#include "db/notification_listener.hpp"

#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <chrono>

#include "core/clock.hpp"
#include "core/log.hpp"
#include "core/random.hpp"
#include "core/thread_name.hpp"

namespace db {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr long long kMaxBackoffMs = 2000;
// A late ping only lets the feed lapse (the consumer stops trusting it at the
// deadline); a ping this late means a dead or stuck connection: reconnect.
constexpr long long kReconnectAfterMs = 2000;

std::string conninfo(const std::string& url, const std::string& application_name) {
  // The URI form's parameters; a short connect timeout keeps stop() prompt.
  return url + (url.find('?') == std::string::npos ? "?" : "&") +
         "connect_timeout=2&application_name=" + application_name;
}

std::string lowercase_hex_token() {
  std::string token;
  for (const unsigned char c : core::random_token(6)) token += "0123456789abcdef"[c % 16];
  return token;
}

void report(const char* level, const std::string& message, const std::string& detail) {
  core::log::event(level, {{"msg", message}, {"detail", detail}});
}

// The ping NOTIFY this connection sent and is waiting for.
struct Ping {
  bool outstanding = false;
  long long sent_at_ms = 0;  // core::now_ms(), the clock of the fresh deadline
  Clock::time_point sent;
  Clock::time_point next;
};

}  // namespace

struct NotificationListener::Connection {
  explicit Connection(const std::string& info) : conn(PQconnectdb(info.c_str())) {}
  ~Connection() { PQfinish(conn); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  std::string error() const { return PQerrorMessage(conn); }

  bool run(const std::string& command) {
    PGresult* result = PQexec(conn, command.c_str());
    const bool ok = PQresultStatus(result) == PGRES_COMMAND_OK;
    PQclear(result);
    return ok;
  }

  bool send_ping(const std::string& channel, Ping& ping) {
    ping = {true, core::now_ms(), Clock::now(), {}};
    return PQsendQuery(conn, ("NOTIFY " + channel).c_str()) == 1;
  }

  // Waits for input at most `timeout`; false when the connection failed.
  bool receive(milliseconds timeout) {
    pollfd readable{PQsocket(conn), POLLIN, 0};
    if (poll(&readable, 1, static_cast<int>(timeout.count())) < 0 && errno != EINTR) return false;
    if (PQconsumeInput(conn) != 1) return false;
    while (PQisBusy(conn) == 0) {  // the ping's command result
      PGresult* result = PQgetResult(conn);
      if (result == nullptr) break;
      const bool ok = PQresultStatus(result) == PGRES_COMMAND_OK;
      PQclear(result);
      if (!ok) return false;
    }
    return true;
  }

  PGconn* conn;
};

NotificationListener::NotificationListener(Options options, Feed feed)
    : options_(std::move(options)),
      feed_(std::move(feed)),
      ping_channel_(options_.channel + "_ping_" + lowercase_hex_token()) {}

NotificationListener::~NotificationListener() {
  stop();
}

void NotificationListener::start() {
  thread_ = std::thread([this] { run(); });
}

void NotificationListener::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void NotificationListener::run() {
  core::name_this_thread("db-listener");
  int failures = 0;
  while (!stopping_) {
    const auto outcome = serve_connection();
    feed_.lost();
    if (outcome == Outcome::misdirected) return;
    failures = outcome == Outcome::worked ? 0 : failures + 1;
    if (!wait_before_retry(failures)) return;
  }
  feed_.lost();
}

// At once after a connection that worked, then 100 ms doubling up to 2 s.
bool NotificationListener::wait_before_retry(int failures) {
  const long long delay =
      failures == 0 ? 0 : std::min(kMaxBackoffMs, 50LL << std::min(failures, 6));
  std::unique_lock lock(mutex_);
  return !wake_.wait_for(lock, milliseconds(delay), [this] { return stopping_.load(); });
}

NotificationListener::Outcome NotificationListener::serve_connection() {
  Connection connection(conninfo(options_.url, options_.application_name));
  if (PQstatus(connection.conn) != CONNECTION_OK) {
    report("warn", "notification listener cannot connect", connection.error());
    return Outcome::failed;
  }
  if (!connection.run("LISTEN " + options_.channel + "; LISTEN " + ping_channel_)) {
    report("warn", "notification listener cannot LISTEN", connection.error());
    return Outcome::failed;
  }
  const int own_pid = PQbackendPID(connection.conn);
  bool ever_fresh = false;
  Ping ping;
  ping.next = Clock::now();
  while (!stopping_) {
    const auto now = Clock::now();
    if (!ping.outstanding && now >= ping.next && !connection.send_ping(ping_channel_, ping)) break;
    if (ping.outstanding && now - ping.sent > milliseconds(kReconnectAfterMs)) {
      report("warn", "notification listener: ping not answered; reconnecting",
             std::to_string(kReconnectAfterMs) + " ms");
      return ever_fresh ? Outcome::worked : Outcome::failed;
    }
    if (!connection.receive(milliseconds(kPingIntervalMs))) break;
    while (PGnotify* notice = PQnotifies(connection.conn)) {
      const std::string channel = notice->relname;
      const std::string payload = notice->extra;
      const int sender = notice->be_pid;
      PQfreemem(notice);
      if (channel != ping_channel_) {
        feed_.message(payload);
      } else if (sender != own_pid) {
        report("error",
               "notification listener does not reach PostgreSQL directly (a pooler?): it stops, "
               "and sessions are read from the database on every request",
               "set DATABASE_LISTEN_URL to the PostgreSQL server itself");
        return Outcome::misdirected;
      } else {
        ever_fresh = true;
        ping.outstanding = false;
        ping.next = ping.sent + milliseconds(kPingIntervalMs);
        feed_.fresh(ping.sent_at_ms + kFreshForMs);
      }
    }
  }
  if (!stopping_) report("warn", "notification listener lost its connection", connection.error());
  return ever_fresh ? Outcome::worked : Outcome::failed;
}

}  // namespace db
