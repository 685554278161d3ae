#pragma once
#include <soci/session.h>

#include <optional>
#include <string>
#include <vector>

#include "core/cursor.hpp"

// SQL for accounts: users, one-time codes, code requests and sessions.
namespace auth::store {

struct User {
  std::string id;
  std::string name;
  std::string email;
  std::string canonical_email;
  std::string password_hash;
  bool is_verified = false;
  bool is_admin = false;
  long long created_at = 0;
  std::optional<std::string> signup_referral_code;
  // The signup attempt that made this unverified account (null for accounts
  // made otherwise), and whether it replaced an attempt with a live code.
  std::optional<std::string> signup_id;
  bool signup_superseded = false;
};

std::optional<User> find_user_by_email(soci::session& sql, const std::string& email);
std::optional<User> find_user_by_id(soci::session& sql, const std::string& id);
// These three keep the user counters (user_counters) in step.
void insert_user(soci::session& sql, const User& user);
void delete_user(soci::session& sql, const std::string& id);
// Verifies an unverified user; a verified one is left as it is.
void mark_verified(soci::session& sql, const std::string& id, long long now);
// Adds to the user counters: for writers of users rows other than the
// functions above (the import), in the same transaction as the rows.
void count_users(soci::session& sql, const std::string& user_id, long long users,
                 long long verified);
void set_password_hash(soci::session& sql, const std::string& id, const std::string& hash);
void set_admin(soci::session& sql, const std::string& id, bool is_admin);
// Accounts whose email starts with `email_prefix` (any account for ""), newest
// first by (created_at, id), after the cursor.
std::vector<User> users_by_email_prefix(soci::session& sql, const std::string& email_prefix,
                                        const std::optional<core::Cursor>& after, int limit);
// The highest cost among bcrypt hashes not yet upgraded (imported
// accounts), nullopt when none is left.
std::optional<int> highest_bcrypt_cost(soci::session& sql);

// Failed logins per normalized email, whether or not an account exists.
// Claims one attempt before the password is checked: counts it as a failure
// and answers the new count, or nullopt while the email is locked (nothing
// counted). Atomic, so parallel logins cannot check more passwords than allowed.
std::optional<int> claim_login_attempt(soci::session& sql, const std::string& email, long long now);
// Moves the lock forward to `locked_until`, never back (a slow caller's
// write cannot shorten a lock set by a later failure).
void extend_login_lock(soci::session& sql, const std::string& email, long long locked_until);
long long login_locked_until(soci::session& sql, const std::string& email);
void clear_login_failures(soci::session& sql, const std::string& email);

// Where a user logged in from: one row per (user, network), the network
// being core::client_network of the login's address (rows written before
// 2026-12-03 hold the whole address), kept 30 days after the last login from
// it whatever happens to the sessions (apply's same-IP rule reads them:
// referral::store::apply_parties).
void record_login_ip(soci::session& sql, const std::string& user_id, const std::string& network,
                     long long now);

// A one-time code; one row per (user, purpose), live until used or expired.
struct Otp {
  std::string code_hash;
  long long expires_at = 0;
};
void put_otp(soci::session& sql, const std::string& user_id, const std::string& purpose,
             const std::string& code_hash, long long now, long long expires_at);
std::optional<Otp> unused_otp(soci::session& sql, const std::string& user_id,
                              const std::string& purpose);
void mark_otp_used(soci::session& sql, const std::string& user_id, const std::string& purpose,
                   long long now);

// Per (email, purpose), known address or not: the last code request and the
// code tries counted since it (`code_tries`) and in the current window.
struct CodeGuard {
  long long requested_at = 0;
  int code_tries = 0;
  long long window_started_at = 0;
  int window_tries = 0;
};
struct TryLimits {
  int per_code = 0;
  int per_window = 0;
  long long window_ms = 0;
};
// Every claim first makes sure the row exists, so it always has one to lock.
void ensure_code_guard(soci::session& sql, const std::string& email, const std::string& purpose);
CodeGuard code_guard(soci::session& sql, const std::string& email, const std::string& purpose);
// A new code may be sent: the last request is older than `requested_before`
// and the window is not full. Records the request and zeroes `code_tries`.
bool claim_code_request(soci::session& sql, const std::string& email, const std::string& purpose,
                        long long now, long long requested_before, const TryLimits& limits);
// Spends one try (of the code and of the window, which restarts once
// passed); false, counting nothing, when either is used up. Atomic.
bool take_code_try(soci::session& sql, const std::string& email, const std::string& purpose,
                   long long now, const TryLimits& limits);
// Gives back the window's try of a right code (the ceiling is on wrong ones).
void refund_code_try(soci::session& sql, const std::string& email, const std::string& purpose);

struct Session {
  std::string id;
  std::string user_id;
  long long created_at = 0;
  long long expires_at = 0;
  long long last_seen_at = 0;
  std::string ip;
  std::string user_agent;
};
struct SessionCheck {
  User user;
  long long expires_at = 0;
  long long last_seen_at = 0;
};

void insert_session(soci::session& sql, const Session& session);
std::optional<SessionCheck> check_session(soci::session& sql, const std::string& session_id);
void touch_session(soci::session& sql, const std::string& session_id, long long now,
                   long long stale_before);
std::vector<Session> list_live_sessions(soci::session& sql, const std::string& user_id,
                                        long long now, int limit);
bool delete_session(soci::session& sql, const std::string& session_id, const std::string& user_id);
void delete_sessions_of(soci::session& sql, const std::string& user_id);

struct Purged {
  long long sessions = 0;
  long long otps = 0;
  long long code_requests = 0;
  long long login_failures = 0;
  long long login_ips = 0;
};
struct PurgeCutoffs {
  long long now = 0;
  long long codes = 0;      // codes, code requests and login failures untouched since
  long long login_ips = 0;  // login addresses last used before
};
// Sessions go once expired. Codes and code requests stay until the codes
// cutoff (well after expiry), so a late try at an expired code still hears
// "expired" rather than "invalid"; a request's row also stays while its
// tries window is open.
Purged purge_expired(soci::session& sql, const PurgeCutoffs& cutoffs);

}  // namespace auth::store
