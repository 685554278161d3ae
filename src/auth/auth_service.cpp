#include "core/text.hpp"
#include "auth/auth_service.hpp"

#include <algorithm>

#include "auth/auth_mail.hpp"
#include "auth/email_address.hpp"
#include "auth/jwt.hpp"
#include "core/api_error.hpp"
#include "core/clock.hpp"
#include "core/random.hpp"
#include "core/utf8.hpp"

namespace auth {

using core::ApiError;

namespace {

using core::trim;

constexpr int kMaxOtpAttempts = 5;
constexpr long long kLastSeenGranularityMs = core::kMsPerMinute;
constexpr long long kMaxLockoutMs = 15 * core::kMsPerMinute;
constexpr int kMaxSessionsListed = 200;
// The user agent is kept with the session and listed back as JSON: cut to
// this many bytes on a character boundary, with invalid bytes replaced.
constexpr std::size_t kMaxUserAgentBytes = 512;

ApiError invalid_credentials() {
  return ApiError(401, "invalid_credentials", "Invalid email or password.");
}

ApiError unauthorized(const std::string& code, const std::string& message) {
  return ApiError(401, code, message);
}

}  // namespace

void AuthService::throw_for(OtpCheck check) {
  switch (check) {
    case OtpCheck::ok: return;
    case OtpCheck::invalid: throw ApiError(400, "invalid_otp", "Invalid OTP.");
    case OtpCheck::expired: throw ApiError(400, "otp_expired", "The OTP has expired; request a new one.");
    case OtpCheck::exhausted:
      throw core::too_many_requests("otp_attempts_exceeded", "Too many wrong codes; request a new one.",
                                    60);
  }
}

AuthService::AuthService(const core::Config& config, db::Database& database, const Secrets& secrets,
                         const mail::Outbox& outbox, std::function<void()> mail_queued)
    : config_(config),
      database_(database),
      secrets_(secrets),
      outbox_(outbox),
      mail_queued_(std::move(mail_queued)),
      hash_params_{config.argon2_ops, config.argon2_memory_kib} {}

std::string AuthService::email_or_throw(const std::string& raw) const {
  auto email = normalize_email(raw);
  if (!email) throw core::validation_error("'email' must be a valid email address.");
  return *email;
}

void AuthService::check_password_rules(const std::string& password, const std::string& email,
                                       const std::string& field) const {
  const auto length = utf8_length(password);
  if (length < 8 || length > 128) {
    throw core::validation_error("'" + field + "' must be 8 to 128 characters long.");
  }
  std::string lowered = password;
  std::transform(lowered.begin(), lowered.end(), lowered.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  // normalize_email catches the address typed with its domain in Unicode.
  if (lowered == email || normalize_email(password) == email) {
    throw core::validation_error("'" + field + "' must not be the email address.");
  }
}

void AuthService::check_cooldown(soci::session& sql, const std::string& email,
                                 const std::string& purpose) const {
  const auto now = core::now_ms();
  const auto last = store::last_code_request(sql, email, purpose);
  if (last && now - *last < config_.otp_resend_cooldown_ms) {
    const auto wait_ms = *last + config_.otp_resend_cooldown_ms - now;
    throw core::too_many_requests("otp_cooldown", "A code was sent recently; wait before asking again.",
                                  (wait_ms + 999) / 1000);
  }
}

std::string AuthService::code_hash(const std::string& user_id, const std::string& purpose,
                                   const std::string& code) const {
  const auto mac = core::hmac_sha256(secrets_.otp_key, purpose + ":" + user_id + ":" + code);
  return core::base64url_encode(mac);
}

void AuthService::issue_code(soci::session& sql, const store::User& user, const std::string& purpose) {
  const auto now = core::now_ms();
  char digits[8];
  std::snprintf(digits, sizeof digits, "%06u", core::random_below(1000000));
  store::put_otp(sql, user.id, purpose, code_hash(user.id, purpose, digits), now,
                 now + config_.otp_ttl_ms);
  store::record_code_request(sql, user.email, purpose, now);
  const auto kind = purpose == "signup" ? CodePurpose::signup : CodePurpose::password_reset;
  outbox_.enqueue(sql, code_email(kind, user.email, user.name, digits,
                                  std::max<long long>(1, config_.otp_ttl_ms / core::kMsPerMinute)));
}

AuthService::OtpCheck AuthService::consume_code(soci::session& sql, const std::string& user_id,
                                                const std::string& purpose, const std::string& code) {
  const auto attempt = store::take_otp_attempt(sql, user_id, purpose, kMaxOtpAttempts);
  if (!attempt) {
    return store::otp_exhausted(sql, user_id, purpose, kMaxOtpAttempts) ? OtpCheck::exhausted
                                                                        : OtpCheck::invalid;
  }
  if (core::now_ms() >= attempt->expires_at) return OtpCheck::expired;
  if (!core::constant_time_equal(attempt->code_hash, code_hash(user_id, purpose, code))) {
    return OtpCheck::invalid;
  }
  store::mark_otp_used(sql, user_id, purpose, core::now_ms());
  return OtpCheck::ok;
}

store::User AuthService::new_user(const SignupRequest& request, const std::string& email) const {
  store::User user;
  user.id = core::new_id();
  user.name = trim(request.name);
  user.email = email;
  user.canonical_email = canonical_mailbox(email, config_.referral_strip_plus_tags);
  user.password_hash = hash_password(request.password, hash_params_);
  user.created_at = core::now_ms();
  if (request.referral_code) user.signup_referral_code = trim(*request.referral_code);
  return user;
}

void AuthService::signup(const SignupRequest& request) {
  const auto email = email_or_throw(request.email);
  const auto name_length = utf8_length(trim(request.name));
  if (name_length < 1 || name_length > 100) {
    throw core::validation_error("'name' must be 1 to 100 characters long.");
  }
  check_password_rules(request.password, email, "password");
  const auto existing = database_.read([&](soci::session& sql) {
    if (request.referral_code && referral_hooks_.check_code) {
      referral_hooks_.check_code(sql, trim(*request.referral_code));
    }
    return store::find_user_by_email(sql, email);
  });
  if (existing && existing->is_verified) {
    throw ApiError(409, "user_exists", "An account with this email already exists.");
  }
  const auto user = new_user(request, email);  // hashing: outside any transaction
  database_.write([&](soci::session& sql) {
    check_cooldown(sql, email, "signup");
    const auto current = store::find_user_by_email(sql, email);
    if (current && current->is_verified) {
      throw ApiError(409, "user_exists", "An account with this email already exists.");
    }
    // As the original did: an unverified signup is replaced, codes included.
    if (current) store::delete_user(sql, current->id);
    store::insert_user(sql, user);
    issue_code(sql, user, "signup");
  });
  mail_queued_();
}

std::optional<SignupReferralOutcome> AuthService::verify_email(const std::string& raw_email,
                                                               const std::string& otp,
                                                               const std::string& client_ip) {
  const auto email = email_or_throw(raw_email);
  std::optional<store::User> verified;
  const auto check = database_.write([&](soci::session& sql) {
    auto user = store::find_user_by_email(sql, email);
    if (!user || user->is_verified) return OtpCheck::invalid;
    const auto result = consume_code(sql, user->id, "signup", trim(otp));
    if (result == OtpCheck::ok) {
      store::mark_verified(sql, user->id, core::now_ms());
      verified = user;
    }
    return result;  // a wrong guess commits its spent attempt
  });
  throw_for(check);
  if (!verified->signup_referral_code || !referral_hooks_.apply) return std::nullopt;
  return referral_hooks_.apply(verified->id, *verified->signup_referral_code, client_ip);
}

void AuthService::resend_code(const std::string& raw_email) {
  const auto email = email_or_throw(raw_email);
  database_.write([&](soci::session& sql) {
    check_cooldown(sql, email, "signup");
    store::record_code_request(sql, email, "signup", core::now_ms());
    const auto user = store::find_user_by_email(sql, email);
    if (user && !user->is_verified) issue_code(sql, *user, "signup");
  });
  mail_queued_();
}

void AuthService::refuse_if_locked(const store::User& user) const {
  const auto now = core::now_ms();
  if (user.locked_until > now) {
    throw core::too_many_requests("too_many_attempts", "Too many failed logins; try again later.",
                                  (user.locked_until - now + 999) / 1000);
  }
}

void AuthService::record_failed_login(const store::User& user) {
  const long long failures = user.failed_logins + 1;
  long long locked_until = 0;
  if (failures >= config_.login_max_failures) {
    // Growing backoff: 1 s, 2 s, 4 s ... after the allowed failures, capped.
    const auto exponent = std::min<long long>(failures - config_.login_max_failures, 20);
    locked_until = core::now_ms() + std::min<long long>(kMaxLockoutMs, core::kMsPerSecond << exponent);
  }
  database_.write([&](soci::session& sql) { store::record_login_failure(sql, user.id, locked_until); });
}

LoginResult AuthService::login(const std::string& raw_email, const std::string& password,
                               const std::string& ip, const std::string& user_agent) {
  const auto email = normalize_email(raw_email);
  const auto user = email ? database_.read([&](soci::session& sql) {
    return store::find_user_by_email(sql, *email);
  }) : std::nullopt;
  if (!user) {
    burn_verification_time(hash_params_);
    throw invalid_credentials();
  }
  refuse_if_locked(*user);
  if (!verify_password(password, user->password_hash)) {
    record_failed_login(*user);
    throw invalid_credentials();
  }
  if (!user->is_verified) {
    throw ApiError(403, "email_not_verified", "Verify your email before logging in.");
  }
  // Imported bcrypt hashes and older Argon2 parameters are upgraded now
  // that the plain password is at hand.
  std::optional<std::string> upgraded_hash;
  if (needs_rehash(user->password_hash, hash_params_)) upgraded_hash = hash_password(password, hash_params_);
  return open_session(*user, ip, user_agent, upgraded_hash);
}

LoginResult AuthService::open_session(const store::User& user, const std::string& ip,
                                      const std::string& user_agent,
                                      const std::optional<std::string>& upgraded_hash) {
  const auto now = core::now_ms();
  store::Session session{core::new_id(), user.id, now, now + config_.session_ttl_ms, now, ip,
                         core::to_valid_utf8(user_agent, kMaxUserAgentBytes)};
  database_.write([&](soci::session& sql) {
    store::clear_login_failures(sql, user.id);
    if (upgraded_hash) store::set_password_hash(sql, user.id, *upgraded_hash);
    store::insert_session(sql, session);
  });
  TokenClaims claims{user.id, session.id, core::new_id(), now / 1000, session.expires_at / 1000};
  return {user, sign_token(claims, secrets_.jwt_secret)};
}

Authenticated AuthService::authenticate(const std::string& token) {
  if (token.empty()) throw unauthorized("missing_token", "Authentication required.");
  TokenClaims claims;
  const auto now = core::now_ms();
  switch (verify_token(token, secrets_.jwt_secret, now / 1000, claims)) {
    case TokenError::invalid: throw unauthorized("invalid_token", "The token is not valid.");
    case TokenError::expired: throw unauthorized("token_expired", "The token has expired.");
    case TokenError::none: break;
  }
  const auto check = database_.read([&](soci::session& sql) { return store::check_session(sql, claims.sid); });
  if (!check || check->user.id != claims.sub || check->expires_at <= now) {
    throw unauthorized("session_invalid", "The session has ended; log in again.");
  }
  if (now - check->last_seen_at >= kLastSeenGranularityMs) {
    database_.write([&](soci::session& sql) {
      store::touch_session(sql, claims.sid, now, now - kLastSeenGranularityMs);
    });
  }
  return {{claims.sub, claims.sid, check->user.is_admin}, check->user};
}

void AuthService::logout(const Identity& identity) {
  database_.write([&](soci::session& sql) {
    store::delete_session(sql, identity.session_id, identity.user_id);
  });
}

void AuthService::logout_everywhere(const std::string& user_id) {
  database_.write([&](soci::session& sql) { store::delete_sessions_of(sql, user_id); });
}

std::vector<store::Session> AuthService::sessions(const std::string& user_id) {
  return database_.read([&](soci::session& sql) {
    return store::list_live_sessions(sql, user_id, core::now_ms(), kMaxSessionsListed);
  });
}

void AuthService::revoke_session(const std::string& user_id, const std::string& session_id) {
  const bool deleted = database_.write([&](soci::session& sql) {
    return store::delete_session(sql, session_id, user_id);
  });
  if (!deleted) throw ApiError(404, "session_not_found", "No such session.");
}

void AuthService::forgot_password(const std::string& raw_email) {
  const auto email = email_or_throw(raw_email);
  database_.write([&](soci::session& sql) {
    // Silent cooldown: the answer is the same whether or not the account exists.
    const auto last = store::last_code_request(sql, email, "password_reset");
    if (last && core::now_ms() - *last < config_.otp_resend_cooldown_ms) return;
    store::record_code_request(sql, email, "password_reset", core::now_ms());
    const auto user = store::find_user_by_email(sql, email);
    if (user && user->is_verified) issue_code(sql, *user, "password_reset");
  });
  mail_queued_();
}

void AuthService::reset_password(const std::string& raw_email, const std::string& otp,
                                 const std::string& new_password) {
  const auto email = email_or_throw(raw_email);
  check_password_rules(new_password, email, "new_password");
  const auto hash = hash_password(new_password, hash_params_);
  const auto check = database_.write([&](soci::session& sql) {
    const auto user = store::find_user_by_email(sql, email);
    if (!user) return OtpCheck::invalid;
    const auto result = consume_code(sql, user->id, "password_reset", trim(otp));
    if (result == OtpCheck::ok) {
      store::set_password_hash(sql, user->id, hash);
      store::clear_login_failures(sql, user->id);
      store::delete_sessions_of(sql, user->id);
    }
    return result;
  });
  throw_for(check);
}

bool AuthService::create_admin(const std::string& raw_email, const std::string& name,
                               const std::string& password) {
  const auto email = email_or_throw(raw_email);
  check_password_rules(password, email, "password");
  const auto user = new_user(SignupRequest{name, email, password, std::nullopt}, email);
  return database_.write([&](soci::session& sql) {
    const auto existing = store::find_user_by_email(sql, email);
    if (existing) {
      store::set_admin(sql, existing->id, true);
      store::mark_verified(sql, existing->id, core::now_ms());
      return false;
    }
    auto admin = user;
    admin.is_admin = true;
    admin.is_verified = true;
    store::insert_user(sql, admin);
    return true;
  });
}

void AuthService::set_admin(const std::string& raw_email, bool is_admin) {
  const auto email = email_or_throw(raw_email);
  database_.write([&](soci::session& sql) {
    const auto user = store::find_user_by_email(sql, email);
    if (!user) throw ApiError(404, "user_not_found", "No account with email " + email + ".");
    store::set_admin(sql, user->id, is_admin);
  });
}

}  // namespace auth
