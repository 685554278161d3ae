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
  long long failed_logins = 0;
  long long locked_until = 0;
  std::optional<std::string> signup_referral_code;
};

std::optional<User> find_user_by_email(soci::session& sql, const std::string& email);
std::optional<User> find_user_by_id(soci::session& sql, const std::string& id);
void insert_user(soci::session& sql, const User& user);
void delete_user(soci::session& sql, const std::string& id);
void mark_verified(soci::session& sql, const std::string& id, long long now);
void set_password_hash(soci::session& sql, const std::string& id, const std::string& hash);
void set_admin(soci::session& sql, const std::string& id, bool is_admin);
// Accounts whose email starts with `email_prefix` (any account for ""), newest
// first by (created_at, id), after the cursor.
std::vector<User> users_by_email_prefix(soci::session& sql, const std::string& email_prefix,
                                        const std::optional<core::Cursor>& after, int limit);
void record_login_failure(soci::session& sql, const std::string& id, long long locked_until);
void clear_login_failures(soci::session& sql, const std::string& id);

// A one-time code; one live row per (user, purpose).
struct OtpAttempt {
  std::string code_hash;
  long long expires_at = 0;
};
void put_otp(soci::session& sql, const std::string& user_id, const std::string& purpose,
             const std::string& code_hash, long long now, long long expires_at);
// Spends one of the code's tries atomically (so concurrent guesses cannot
// exceed the cap); nullopt when there is no live code or no try left.
std::optional<OtpAttempt> take_otp_attempt(soci::session& sql, const std::string& user_id,
                                           const std::string& purpose, int max_attempts);
bool otp_exhausted(soci::session& sql, const std::string& user_id, const std::string& purpose,
                   int max_attempts);
void mark_otp_used(soci::session& sql, const std::string& user_id, const std::string& purpose,
                   long long now);

std::optional<long long> last_code_request(soci::session& sql, const std::string& email,
                                           const std::string& purpose);
void record_code_request(soci::session& sql, const std::string& email, const std::string& purpose,
                         long long now);

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
};
// Sessions go once expired. Codes and code requests stay until `codes_cutoff`
// (well after expiry), so a late try at an expired code still hears
// "expired" rather than "invalid".
Purged purge_expired(soci::session& sql, long long now, long long codes_cutoff);

}  // namespace auth::store
