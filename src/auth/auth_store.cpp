#include "auth/auth_store.hpp"

#include <soci/soci.h>

#include "db/statement_cache.hpp"
#include "db/statements.hpp"

namespace auth::store {

using soci::into;
using soci::use;

namespace {

// The users columns every lookup reads, in the order UserRow binds them.
std::string user_columns(const std::string& table_prefix) {
  std::string columns;
  for (const char* name : {"id", "name", "email", "canonical_email", "password_hash", "is_verified", "is_admin",
                           "created_at", "failed_logins", "locked_until", "signup_referral_code"}) {
    columns += (columns.empty() ? "" : ", ") + table_prefix + name;
  }
  return columns;
}

// Where a users row lands; booleans and the nullable code need staging.
struct UserRow {
  User user;
  int verified = 0;
  int admin = 0;
  std::string referral_code;
  soci::indicator referral_indicator = soci::i_null;

  void bind(soci::details::prepare_temp_type& query) {
    query, into(user.id), into(user.name), into(user.email), into(user.canonical_email), into(user.password_hash),
        into(verified), into(admin), into(user.created_at), into(user.failed_logins), into(user.locked_until),
        into(referral_code, referral_indicator);
  }
  User take() const {
    User out = user;
    out.is_verified = verified != 0;
    out.is_admin = admin != 0;
    out.signup_referral_code.reset();
    if (referral_indicator == soci::i_ok) out.signup_referral_code = referral_code;
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
  soci::indicator referral_indicator = user.signup_referral_code ? soci::i_ok : soci::i_null;
  std::string referral_code = user.signup_referral_code.value_or("");
  sql << "INSERT INTO users (id, name, email, canonical_email, password_hash, is_verified, "
         "is_admin, created_at, signup_referral_code) VALUES (:id, :name, :email, :canonical, "
         ":hash, :verified, :admin, :created_at, :referral_code)",
      use(user.id), use(user.name), use(user.email), use(user.canonical_email),
      use(user.password_hash), use(verified), use(admin), use(user.created_at),
      use(referral_code, referral_indicator);
}

void delete_user(soci::session& sql, const std::string& id) {
  sql << "DELETE FROM users WHERE id = :id", use(id);
}

void mark_verified(soci::session& sql, const std::string& id, long long now) {
  sql << "UPDATE users SET is_verified = 1, verified_at = :now WHERE id = :id", use(now), use(id);
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

void record_login_failure(soci::session& sql, const std::string& id, long long locked_until) {
  sql << "UPDATE users SET failed_logins = failed_logins + 1, locked_until = :locked_until "
         "WHERE id = :id",
      use(locked_until), use(id);
}

void clear_login_failures(soci::session& sql, const std::string& id) {
  sql << "UPDATE users SET failed_logins = 0, locked_until = 0 WHERE id = :id AND failed_logins <> 0",
      use(id);
}

void put_otp(soci::session& sql, const std::string& user_id, const std::string& purpose,
             const std::string& code_hash, long long now, long long expires_at) {
  sql << "INSERT INTO otps (user_id, purpose, code_hash, attempts, created_at, expires_at) "
         "VALUES (:user_id, :purpose, :hash, 0, :now, :expires_at) "
         "ON CONFLICT (user_id, purpose) DO UPDATE SET code_hash = excluded.code_hash, "
         "attempts = 0, created_at = excluded.created_at, expires_at = excluded.expires_at, "
         "used_at = NULL",
      use(user_id), use(purpose), use(code_hash), use(now), use(expires_at);
}

std::optional<OtpAttempt> take_otp_attempt(soci::session& sql, const std::string& user_id,
                                           const std::string& purpose, int max_attempts) {
  OtpAttempt attempt;
  sql << "UPDATE otps SET attempts = attempts + 1 WHERE user_id = :user_id AND purpose = :purpose "
         "AND used_at IS NULL AND attempts < :max_attempts RETURNING code_hash, expires_at",
      use(user_id), use(purpose), use(max_attempts), into(attempt.code_hash),
      into(attempt.expires_at);
  if (!sql.got_data()) return std::nullopt;
  return attempt;
}

bool otp_exhausted(soci::session& sql, const std::string& user_id, const std::string& purpose,
                   int max_attempts) {
  int attempts = 0;
  sql << "SELECT attempts FROM otps WHERE user_id = :user_id AND purpose = :purpose "
         "AND used_at IS NULL",
      use(user_id), use(purpose), into(attempts);
  return sql.got_data() && attempts >= max_attempts;
}

void mark_otp_used(soci::session& sql, const std::string& user_id, const std::string& purpose,
                   long long now) {
  sql << "UPDATE otps SET used_at = :now WHERE user_id = :user_id AND purpose = :purpose",
      use(now), use(user_id), use(purpose);
}

std::optional<long long> last_code_request(soci::session& sql, const std::string& email,
                                           const std::string& purpose) {
  long long requested_at = 0;
  sql << "SELECT requested_at FROM code_requests WHERE email = :email AND purpose = :purpose",
      use(email), use(purpose), into(requested_at);
  if (!sql.got_data()) return std::nullopt;
  return requested_at;
}

void record_code_request(soci::session& sql, const std::string& email, const std::string& purpose,
                         long long now) {
  sql << "INSERT INTO code_requests (email, purpose, requested_at) VALUES (:email, :purpose, :now) "
         "ON CONFLICT (email, purpose) DO UPDATE SET requested_at = excluded.requested_at",
      use(email), use(purpose), use(now);
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

Purged purge_expired(soci::session& sql, long long now, long long codes_cutoff) {
  Purged purged;
  purged.sessions = db::affected_rows(sql, "DELETE FROM sessions WHERE expires_at <= :now", use(now));
  purged.otps = db::affected_rows(sql, "DELETE FROM otps WHERE expires_at < :cutoff", use(codes_cutoff));
  purged.code_requests = db::affected_rows(
      sql, "DELETE FROM code_requests WHERE requested_at < :cutoff", use(codes_cutoff));
  return purged;
}

}  // namespace auth::store
