#include "auth/auth_store.hpp"

#include <soci/soci.h>

#include <cctype>

#include "auth/user_counter.hpp"
#include "db/counter_store.hpp"
#include "db/statement_cache.hpp"
#include "db/statements.hpp"

namespace auth::store {

using soci::into;
using soci::use;

namespace {

// The users columns every lookup reads, in the order UserRow binds them.
std::string user_columns(const std::string& table_prefix) {
  std::string columns;
  for (const char* name :
       {"id", "name", "email", "canonical_email", "password_hash", "is_verified", "is_admin",
        "created_at", "signup_referral_code", "signup_id", "signup_superseded"}) {
    columns += (columns.empty() ? "" : ", ") + table_prefix + name;
  }
  return columns;
}

// A nullable text column's landing place.
struct NullableText {
  std::string value;
  soci::indicator indicator = soci::i_null;

  std::optional<std::string> get() const {
    return indicator == soci::i_ok ? std::optional<std::string>(value) : std::nullopt;
  }
};

// Where a users row lands; booleans and the nullable texts need staging.
struct UserRow {
  User user;
  int verified = 0;
  int admin = 0;
  int superseded = 0;
  NullableText referral_code;
  NullableText signup_id;

  void bind(soci::details::prepare_temp_type& query) {
    query, into(user.id), into(user.name), into(user.email), into(user.canonical_email),
        into(user.password_hash), into(verified), into(admin), into(user.created_at),
        into(referral_code.value, referral_code.indicator),
        into(signup_id.value, signup_id.indicator), into(superseded);
  }
  User take() const {
    User out = user;
    out.is_verified = verified != 0;
    out.is_admin = admin != 0;
    out.signup_superseded = superseded != 0;
    out.signup_referral_code = referral_code.get();
    out.signup_id = signup_id.get();
    return out;
  }
};

// A prepared single-row lookup by one text key, kept per pooled session.
struct UserLookup {
  UserLookup(soci::session& sql, const std::string& query_text) : statement(prepare(sql, query_text)) {}

  std::optional<User> run(const std::string& value) {
    key = value;
    statement.execute(true);
    if (!statement.got_data()) return std::nullopt;
    auto user = row.take();
    db::finish_row(statement);
    return user;
  }

  std::string key;
  UserRow row;
  soci::statement statement;

 private:
  soci::details::prepare_temp_type prepare(soci::session& sql, const std::string& query_text) {
    auto query = (sql.prepare << query_text, use(key));
    row.bind(query);
    return query;
  }
};

struct UserByEmail : UserLookup {
  explicit UserByEmail(soci::session& sql)
      : UserLookup(sql, "SELECT " + user_columns("") + " FROM users WHERE email = :email") {}
};

struct UserById : UserLookup {
  explicit UserById(soci::session& sql) : UserLookup(sql, "SELECT " + user_columns("") + " FROM users WHERE id = :id") {}
};

// Every authenticated request runs this: the session and its user in one read.
struct SessionLookup {
  explicit SessionLookup(soci::session& sql) : statement(prepare(sql)) {}

  std::string id;
  UserRow row;
  long long expires_at = 0;
  long long last_seen_at = 0;
  soci::statement statement;

 private:
  soci::details::prepare_temp_type prepare(soci::session& sql) {
    auto query = (sql.prepare << "SELECT " + user_columns("u.") +
                                     ", s.expires_at, s.last_seen_at FROM sessions s JOIN users u ON u.id = s.user_id "
                                     "WHERE s.id = :id",
                  use(id));
    row.bind(query);
    query, into(expires_at), into(last_seen_at);
    return query;
  }
};

// Counts of users and verified users (db/counter_store.hpp).
struct UserCounters {
  static constexpr const char* table = "user_counters";
};

}  // namespace

std::optional<User> find_user_by_email(soci::session& sql, const std::string& email) {
  return db::cached<UserByEmail>(sql).run(email);
}

std::optional<User> find_user_by_id(soci::session& sql, const std::string& id) {
  return db::cached<UserById>(sql).run(id);
}

void insert_user(soci::session& sql, const User& user) {
  const int verified = user.is_verified ? 1 : 0;
  const int admin = user.is_admin ? 1 : 0;
  const int superseded = user.signup_superseded ? 1 : 0;
  soci::indicator referral_indicator = user.signup_referral_code ? soci::i_ok : soci::i_null;
  std::string referral_code = user.signup_referral_code.value_or("");
  soci::indicator signup_indicator = user.signup_id ? soci::i_ok : soci::i_null;
  std::string signup_id = user.signup_id.value_or("");
  sql << "INSERT INTO users (id, name, email, canonical_email, password_hash, is_verified, "
         "is_admin, created_at, signup_referral_code, signup_id, signup_superseded) VALUES (:id, "
         ":name, :email, "
         ":canonical, :hash, :verified, :admin, :created_at, :referral_code, :signup_id, "
         ":superseded)",
      use(user.id), use(user.name), use(user.email), use(user.canonical_email),
      use(user.password_hash), use(verified), use(admin), use(user.created_at),
      use(referral_code, referral_indicator), use(signup_id, signup_indicator), use(superseded);
  count_users(sql, user.id, 1, verified);
}

void delete_user(soci::session& sql, const std::string& id) {
  // RETURNING: the row as deleted, so a concurrent verify cannot make the
  // 'verified' count miss a step.
  int verified = 0;
  soci::statement statement =
      (sql.prepare << "DELETE FROM users WHERE id = :id RETURNING is_verified", use(id), into(verified));
  statement.execute(true);
  if (!statement.got_data()) return;
  count_users(sql, id, -1, verified == 1 ? -1 : 0);
}

void mark_verified(soci::session& sql, const std::string& id, long long now) {
  if (db::affected_rows(sql, "UPDATE users SET is_verified = 1, verified_at = :now WHERE id = :id AND is_verified = 0",
                        use(now), use(id)) > 0) {
    count_users(sql, id, 0, 1);
  }
}

void count_users(soci::session& sql, const std::string& user_id, long long users, long long verified) {
  db::counters::add<UserCounters>(sql, user_counter::kUsers, user_id, users);
  db::counters::add<UserCounters>(sql, user_counter::kVerified, user_id, verified);
}

void set_password_hash(soci::session& sql, const std::string& id, const std::string& hash) {
  sql << "UPDATE users SET password_hash = :hash WHERE id = :id", use(hash), use(id);
}

void set_admin(soci::session& sql, const std::string& id, bool is_admin) {
  const int admin = is_admin ? 1 : 0;
  sql << "UPDATE users SET is_admin = :admin WHERE id = :id", use(admin), use(id);
}

namespace {

// LIKE with the pattern characters of the prefix escaped, so `a_b` matches
// only "a_b...": emails may contain `_` and `%` (docs/API.md, Input rules).
std::string like_prefix(const std::string& prefix) {
  std::string pattern;
  for (const char c : prefix) {
    if (c == '%' || c == '_' || c == '!') pattern += '!';
    pattern += c;
  }
  return pattern + '%';
}

}  // namespace

std::vector<User> users_by_email_prefix(soci::session& sql, const std::string& email_prefix,
                                        const std::optional<core::Cursor>& after, int limit) {
  const auto pattern = like_prefix(email_prefix);
  std::vector<User> out;
  UserRow row;
  auto query =
      (sql.prepare << "SELECT " + user_columns("") +
                          " FROM users WHERE email LIKE :pattern ESCAPE '!'" +
                          (after ? " AND (created_at, id) < (:after_time, :after_id)" : "") +
                          " ORDER BY created_at DESC, id DESC LIMIT :limit",
       use(pattern));
  if (after) query, use(after->created_at), use(after->id);
  query, use(limit);
  row.bind(query);
  soci::statement statement(query);
  statement.execute();
  while (statement.fetch()) out.push_back(row.take());
  return out;
}

std::optional<int> highest_bcrypt_cost(soci::session& sql) {
  // The condition is the partial index's own (migration 0008), so only the
  // rows of imported, not yet upgraded accounts are read.
  std::string cost;
  soci::indicator indicator = soci::i_null;
  sql << "SELECT MAX(substr(password_hash, 5, 2)) FROM users WHERE password_hash LIKE '$2%'",
      into(cost, indicator);
  if (indicator != soci::i_ok || cost.size() != 2 ||
      !std::isdigit(static_cast<unsigned char>(cost[0])) ||
      !std::isdigit(static_cast<unsigned char>(cost[1]))) {
    return std::nullopt;
  }
  return std::stoi(cost);
}

std::optional<int> claim_login_attempt(soci::session& sql, const std::string& email,
                                       long long now) {
  sql << "INSERT INTO login_failures (email, failures, locked_until, updated_at) VALUES (:email, "
         "0, 0, :now) "
         "ON CONFLICT (email) DO NOTHING",
      use(email), use(now);
  int failures = 0;
  sql << "UPDATE login_failures SET failures = failures + 1, updated_at = :now "
         "WHERE email = :email AND locked_until <= :now_again RETURNING failures",
      use(now), use(email), use(now), into(failures);
  if (!sql.got_data()) return std::nullopt;
  return failures;
}

void extend_login_lock(soci::session& sql, const std::string& email, long long locked_until) {
  sql << "UPDATE login_failures SET locked_until = :locked_until WHERE email = :email AND "
         "locked_until < :again",
      use(locked_until), use(email), use(locked_until);
}

long long login_locked_until(soci::session& sql, const std::string& email) {
  long long locked_until = 0;
  sql << "SELECT locked_until FROM login_failures WHERE email = :email", use(email),
      into(locked_until);
  return sql.got_data() ? locked_until : 0;
}

void clear_login_failures(soci::session& sql, const std::string& email) {
  sql << "DELETE FROM login_failures WHERE email = :email", use(email);
}

void record_login_ip(soci::session& sql, const std::string& user_id, const std::string& network,
                     long long now) {
  sql << "INSERT INTO login_ips (user_id, ip, last_login_at) VALUES (:user_id, :ip, :now) "
         "ON CONFLICT (user_id, ip) DO UPDATE SET last_login_at = excluded.last_login_at",
      use(user_id), use(network), use(now);
}

void put_otp(soci::session& sql, const std::string& user_id, const std::string& purpose,
             const std::string& code_hash, long long now, long long expires_at) {
  sql << "INSERT INTO otps (user_id, purpose, code_hash, created_at, expires_at) "
         "VALUES (:user_id, :purpose, :hash, :now, :expires_at) "
         "ON CONFLICT (user_id, purpose) DO UPDATE SET code_hash = excluded.code_hash, "
         "created_at = excluded.created_at, expires_at = excluded.expires_at, used_at = NULL",
      use(user_id), use(purpose), use(code_hash), use(now), use(expires_at);
}

std::optional<Otp> unused_otp(soci::session& sql, const std::string& user_id,
                              const std::string& purpose) {
  Otp otp;
  sql << "SELECT code_hash, expires_at FROM otps WHERE user_id = :user_id AND purpose = :purpose "
         "AND used_at IS NULL",
      use(user_id), use(purpose), into(otp.code_hash), into(otp.expires_at);
  if (!sql.got_data()) return std::nullopt;
  return otp;
}

void mark_otp_used(soci::session& sql, const std::string& user_id, const std::string& purpose,
                   long long now) {
  sql << "UPDATE otps SET used_at = :now WHERE user_id = :user_id AND purpose = :purpose",
      use(now), use(user_id), use(purpose);
}

void ensure_code_guard(soci::session& sql, const std::string& email, const std::string& purpose) {
  sql << "INSERT INTO code_requests (email, purpose, requested_at) VALUES (:email, :purpose, 0) "
         "ON CONFLICT (email, purpose) DO NOTHING",
      use(email), use(purpose);
}

CodeGuard code_guard(soci::session& sql, const std::string& email, const std::string& purpose) {
  CodeGuard guard;
  sql << "SELECT requested_at, code_tries, window_started_at, window_tries FROM code_requests "
         "WHERE email = :email AND purpose = :purpose",
      use(email), use(purpose), into(guard.requested_at), into(guard.code_tries),
      into(guard.window_started_at), into(guard.window_tries);
  return guard;
}

bool claim_code_request(soci::session& sql, const std::string& email, const std::string& purpose,
                        long long now, long long requested_before, const TryLimits& limits) {
  const long long window_start = now - limits.window_ms;
  return db::affected_rows(
             sql,
             "UPDATE code_requests SET requested_at = :now, code_tries = 0 "
             "WHERE email = :email AND purpose = :purpose AND requested_at <= :before "
             "AND (window_started_at <= :window_start OR window_tries < :per_window)",
             use(now), use(email), use(purpose), use(requested_before), use(window_start),
             use(limits.per_window)) > 0;
}

bool take_code_try(soci::session& sql, const std::string& email, const std::string& purpose,
                   long long now, const TryLimits& limits) {
  // One statement, so two guesses at once cannot both take the last try.
  // Every SET expression reads the row as it was (SQL semantics on both
  // engines): a passed window restarts at this try.
  const long long window_start = now - limits.window_ms;
  return db::affected_rows(sql,
                           "UPDATE code_requests SET code_tries = code_tries + 1, "
                           "window_tries = CASE WHEN window_started_at <= :passed THEN 1 ELSE "
                           "window_tries + 1 END, "
                           "window_started_at = CASE WHEN window_started_at <= :passed_again THEN "
                           ":now ELSE window_started_at END "
                           "WHERE email = :email AND purpose = :purpose AND code_tries < :per_code "
                           "AND (window_started_at <= :window_start OR window_tries < :per_window)",
                           use(window_start), use(window_start), use(now), use(email), use(purpose),
                           use(limits.per_code), use(window_start), use(limits.per_window)) > 0;
}

void refund_code_try(soci::session& sql, const std::string& email, const std::string& purpose) {
  sql << "UPDATE code_requests SET window_tries = window_tries - 1 "
         "WHERE email = :email AND purpose = :purpose AND window_tries > 0",
      use(email), use(purpose);
}

void insert_session(soci::session& sql, const Session& session) {
  sql << "INSERT INTO sessions (id, user_id, created_at, expires_at, last_seen_at, ip, user_agent) "
         "VALUES (:id, :user_id, :created_at, :expires_at, :last_seen_at, :ip, :user_agent)",
      use(session.id), use(session.user_id), use(session.created_at), use(session.expires_at),
      use(session.last_seen_at), use(session.ip), use(session.user_agent);
}

std::optional<SessionCheck> check_session(soci::session& sql, const std::string& session_id) {
  auto& query = db::cached<SessionLookup>(sql);
  query.id = session_id;
  query.statement.execute(true);
  if (!query.statement.got_data()) return std::nullopt;
  SessionCheck check{query.row.take(), query.expires_at, query.last_seen_at};
  db::finish_row(query.statement);
  return check;
}

void touch_session(soci::session& sql, const std::string& session_id, long long now,
                   long long stale_before) {
  // Conditional, so many instances refreshing one session write once.
  sql << "UPDATE sessions SET last_seen_at = :now WHERE id = :id AND last_seen_at < :stale_before",
      use(now), use(session_id), use(stale_before);
}

std::vector<Session> list_live_sessions(soci::session& sql, const std::string& user_id,
                                        long long now, int limit) {
  soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT id, created_at, expires_at, last_seen_at, ip, user_agent FROM sessions "
                      "WHERE user_id = :user_id AND expires_at > :now ORDER BY created_at DESC, id DESC "
                      "LIMIT :limit",
       use(user_id), use(now), use(limit));
  std::vector<Session> sessions;
  for (const auto& row : rows) {
    sessions.push_back({row.get<std::string>(0), user_id, row.get<long long>(1),
                        row.get<long long>(2), row.get<long long>(3), row.get<std::string>(4),
                        row.get<std::string>(5)});
  }
  return sessions;
}

bool delete_session(soci::session& sql, const std::string& session_id, const std::string& user_id) {
  return db::affected_rows(sql, "DELETE FROM sessions WHERE id = :id AND user_id = :user_id",
                           use(session_id), use(user_id)) > 0;
}

void delete_sessions_of(soci::session& sql, const std::string& user_id) {
  sql << "DELETE FROM sessions WHERE user_id = :user_id", use(user_id);
}

Purged purge_expired(soci::session& sql, const PurgeCutoffs& cutoffs) {
  Purged purged;
  purged.sessions =
      db::affected_rows(sql, "DELETE FROM sessions WHERE expires_at <= :now", use(cutoffs.now));
  purged.otps =
      db::affected_rows(sql, "DELETE FROM otps WHERE expires_at < :cutoff", use(cutoffs.codes));
  purged.code_requests = db::affected_rows(
      sql, "DELETE FROM code_requests WHERE requested_at < :cutoff AND window_started_at < :again",
      use(cutoffs.codes), use(cutoffs.codes));
  purged.login_failures = db::affected_rows(
      sql, "DELETE FROM login_failures WHERE updated_at < :cutoff AND locked_until < :now",
      use(cutoffs.codes), use(cutoffs.now));
  purged.login_ips = db::affected_rows(sql, "DELETE FROM login_ips WHERE last_login_at < :cutoff",
                                       use(cutoffs.login_ips));
  return purged;
}

}  // namespace auth::store
