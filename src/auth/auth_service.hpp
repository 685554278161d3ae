#pragma once
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "auth/auth_store.hpp"
#include "auth/jwt.hpp"
#include "auth/password.hpp"
#include "auth/session_cache.hpp"
#include "auth/verified_tokens.hpp"
#include "core/api_error.hpp"
#include "core/config.hpp"
#include "db/database.hpp"
#include "mail/outbox.hpp"

namespace auth {

struct Secrets {
  std::string jwt_secret;
  std::string otp_key;  // derived from jwt_secret: keys the OTP hashes
};

// Who a valid token belongs to.
struct Identity {
  std::string user_id;
  std::string session_id;
  bool is_admin = false;
};

struct Authenticated {
  Identity identity;
  store::User user;
};

struct SignupRequest {
  std::string name;
  std::string email;
  std::string password;
  std::optional<std::string> referral_code;
  std::string attribution_cookie;  // the `referral` cookie of a share link, if sent
};

// Which signup attempt a code is meant for: the id signup answered, or none
// (clients that send only email and otp).
struct VerifyRequest {
  std::string email;
  std::string otp;
  std::optional<std::string> signup_id;
};

enum class AdminCreation { created, promoted, replaced_unverified };

struct LoginResult {
  store::User user;
  std::string token;
};

// What became of a referral code given at signup, once the email is verified.
struct SignupReferralOutcome {
  bool applied = false;
  std::string code;  // the refusal's error code when not applied
};

// The referral module plugs in here, so accounts do not depend on it.
struct ReferralHooks {
  // Throws core::ApiError (404 invalid_code) for a code that does not exist.
  std::function<void(soci::session&, const std::string& code)> check_code;
  // Applies the code for a newly verified user (its own transaction).
  // `client_ip` is the verifying request's, for the same-IP fraud flag.
  std::function<SignupReferralOutcome(const std::string& user_id, const std::string& code,
                                      const std::string& client_ip)>
      apply;
};

// Which code (and share-link click) a signup is attributed to.
struct Attribution {
  std::string code;
  std::optional<std::string> click_id;
  bool from_cookie = false;
};

// The share-link module plugs in here, like the referral module above.
struct AttributionHooks {
  // The code and click of a `referral` cookie with a valid signature, unexpired.
  std::function<std::optional<Attribution>(const std::string& cookie)> read_cookie;
  // Records the attribution inside the signup's transaction.
  std::function<void(soci::session&, const std::string& user_id, const Attribution&)> record;
};

class AuthService {
 public:
  AuthService(const core::Config& config, db::Database& database, const Secrets& secrets,
              const mail::Outbox& outbox, std::function<void()> mail_queued);

  void set_referral_hooks(ReferralHooks hooks) { referral_hooks_ = std::move(hooks); }
  void set_attribution_hooks(AttributionHooks hooks) { attribution_hooks_ = std::move(hooks); }
  // Live sessions kept in memory (PostgreSQL with its invalidation feed);
  // without one every request reads its session row.
  void set_session_cache(SessionCache* cache) { session_cache_ = cache; }

  // Answers the attempt's signup_id.
  std::string signup(const SignupRequest& request);
  std::optional<SignupReferralOutcome> verify_email(const VerifyRequest& request,
                                                    const std::string& client_ip);
  void resend_code(const std::string& email);
  LoginResult login(const std::string& email, const std::string& password, const std::string& ip,
                    const std::string& user_agent);
  // The token alone (signature, expiry), from memory: what authenticate
  // checks first. Token errors throw.
  void check_token(const std::string& token);
  // Signature, expiry, then the session and its user: from the session cache,
  // or their row in one read.
  Authenticated authenticate(const std::string& token);
  // For the io lane, which must not wait: the same answer when the session
  // cache can give it without the database, else nullopt. Token errors throw.
  std::optional<Authenticated> authenticate_from_memory(const std::string& token);
  // The session cache is in use now (PostgreSQL, its feed fresh).
  bool sessions_in_memory() const;
  void logout(const Identity& identity);
  void logout_everywhere(const std::string& user_id);
  std::vector<store::Session> sessions(const std::string& user_id);
  void revoke_session(const std::string& user_id, const std::string& session_id);
  void forgot_password(const std::string& email);
  void reset_password(const std::string& email, const std::string& otp, const std::string& new_password);

  // Command line: a verified admin. Promotes a verified account; replaces
  // an unverified one (its owner never proved the address).
  AdminCreation create_admin(const std::string& email, const std::string& name,
                             const std::string& password);
  // Refuses to promote an unverified account (409 user_not_verified).
  void set_admin(const std::string& email, bool is_admin);

 private:
  enum class OtpCheck { ok, invalid, expired, superseded };

  std::string email_or_throw(const std::string& raw) const;
  // `field` is the request field the refusal names (password, new_password).
  void check_password_rules(const std::string& password, const std::string& email,
                            const std::string& field) const;
  // auth_codes.cpp: one-time codes and the tries counted per email.
  std::optional<core::ApiError> claim_new_code(soci::session& sql, const std::string& email,
                                               const std::string& purpose) const;
  void issue_code(soci::session& sql, const store::User& user, const std::string& purpose,
                  bool replaces_earlier_signup);
  bool has_live_code(soci::session& sql, const std::string& user_id,
                     const std::string& purpose) const;
  OtpCheck try_code(soci::session& sql, const std::string& email,
                    const std::optional<store::User>& user, const std::string& purpose,
                    const std::string& code) const;
  void accept_code(soci::session& sql, const store::User& user, const std::string& purpose) const;
  std::string code_hash(const std::string& user_id, const std::string& purpose,
                        const std::string& code) const;
  static void throw_for(OtpCheck check);

  store::User new_user(const SignupRequest& request, const std::string& email) const;
  std::optional<Attribution> attribution_of(const SignupRequest& request) const;
  void replace_unverified(soci::session& sql, const store::User& current,
                          store::User& attempt) const;
  // auth_login.cpp: the per-email lockout and the time a refusal takes.
  void claim_login_or_throw(soci::session& sql, const std::string& email) const;
  void spend_refusal_time(const std::optional<store::User>& user);
  std::optional<int> bcrypt_decoy_cost();
  TokenClaims claims_of(const std::string& token, long long now);
  // The session and its user, from the cache when it can answer.
  std::optional<store::SessionCheck> session_of(const std::string& session_id, long long now);
  LoginResult open_session(const store::User& user, const std::string& ip,
                           const std::string& user_agent,
                           const std::optional<std::string>& upgraded_hash);

  const core::Config& config_;
  db::Database& database_;
  const Secrets& secrets_;
  const mail::Outbox& outbox_;
  std::function<void()> mail_queued_;
  ReferralHooks referral_hooks_;
  AttributionHooks attribution_hooks_;
  SessionCache* session_cache_ = nullptr;
  // About 600 bytes a token: ~10 MB at most.
  static constexpr std::size_t kVerifiedTokensKept = 16384;
  VerifiedTokens verified_tokens_{kVerifiedTokensKept};
  HashParams hash_params_;
  // The highest cost of the bcrypt hashes still stored, re-read at most once
  // a minute (login refusals spend a bcrypt check at it).
  std::mutex bcrypt_cost_mutex_;
  std::optional<int> bcrypt_cost_;
  long long bcrypt_cost_read_at_ = 0;
};

}  // namespace auth
