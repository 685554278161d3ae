#include "auth/auth_service.hpp"

#include <algorithm>

#include "auth/auth_events.hpp"
#include "auth/email_address.hpp"
#include "auth/jwt.hpp"
#include "auth/user_admin_service.hpp"
#include "core/api_error.hpp"
#include "core/clock.hpp"
#include "core/ip_network.hpp"
#include "core/random.hpp"
#include "core/text.hpp"
#include "core/utf8.hpp"
#include "ledger/ledger_store.hpp"

namespace auth {

using core::ApiError;

namespace {

using core::trim;

constexpr long long kLastSeenGranularityMs = core::kMsPerMinute;
constexpr int kMaxSessionsListed = 200;
// The user agent is kept with the session and listed back as JSON: cut to
// this many bytes on a character boundary, with invalid bytes replaced.
constexpr std::size_t kMaxUserAgentBytes = 512;

constexpr std::size_t kSignupIdBytes = 16;

// 1-100 characters after trimming, none of them a control character: the
// name is shown to the referrer and admins, and CR/LF or a bidi override
// in it can make it pass for other text.
void check_name(const std::string& name) {
  const auto trimmed = trim(name);
  const auto length = utf8_length(trimmed);
  if (length < 1 || length > 100)
    throw core::validation_error("'name' must be 1 to 100 characters long.");
  if (core::has_control_characters(trimmed)) {
    throw core::validation_error(
        "'name' must not contain control characters (line breaks, tabs, direction marks).");
  }
}

// Codes match case-insensitively (referral::normalize_code).
bool same_code(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](unsigned char x, unsigned char y) {
    return std::toupper(x) == std::toupper(y);
  });
}

ApiError unauthorized(const std::string& code, const std::string& message) {
  return ApiError(401, code, message);
}

// Unverified accounts earn nothing (an unverified referrer's code is refused),
// but imported ones may hold rewards: deleting such an account would take
// ledger history with it, which the database refuses anyway (no cascade
// reaches ledger_entries). So the address stays taken, as a verified one's.
void refuse_if_holding_value(soci::session& sql, const std::string& user_id) {
  if (ledger::store::holds_value(sql, user_id)) {
    throw ApiError(409, "user_exists", "An account with this email already exists.");
  }
}

}  // namespace

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

void AuthService::replace_unverified(soci::session& sql, const store::User& current,
                                     store::User& attempt) const {
  // A live code of the earlier attempt means two attempts overlap: the
  // mailbox owner may enter the newest code for the other one's password.
  attempt.signup_superseded = has_live_code(sql, current.id, "signup");
  refuse_if_holding_value(sql, current.id);
  // Its codes, sessions and pending referral go with it (cascades).
  store::delete_user(sql, current.id);
}

// An explicit referral_code beats the cookie (keeping the cookie's click
// when both name the same code); without either the signup is not attributed.
std::optional<Attribution> AuthService::attribution_of(const SignupRequest& request) const {
  std::optional<Attribution> cookie;
  if (!request.attribution_cookie.empty() && attribution_hooks_.read_cookie) {
    cookie = attribution_hooks_.read_cookie(request.attribution_cookie);
  }
  if (!request.referral_code || trim(*request.referral_code).empty()) return cookie;
  Attribution explicit_code{trim(*request.referral_code), std::nullopt, false};
  if (cookie && same_code(cookie->code, explicit_code.code)) explicit_code.click_id = cookie->click_id;
  return explicit_code;
}

std::string AuthService::signup(const SignupRequest& request) {
  const auto email = email_or_throw(request.email);
  check_name(request.name);
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
  const auto attribution = attribution_of(request);
  auto attempt = new_user(request, email);  // hashing: outside any transaction
  attempt.signup_id = core::random_token(kSignupIdBytes);
  if (attribution) attempt.signup_referral_code = attribution->code;  // applied at verification
  database_.write([&](soci::session& sql) {
    // First, so concurrent signups of one email queue on this row and all
    // but one hear otp_cooldown (PostgreSQL answered 500 on the unique email).
    if (auto refusal = claim_new_code(sql, email, "signup")) throw *refusal;
    const auto current = store::find_user_by_email(sql, email);
    if (current && current->is_verified) {
      throw ApiError(409, "user_exists", "An account with this email already exists.");
    }
    // As the original did: an unverified signup is replaced, codes included.
    if (current) replace_unverified(sql, *current, attempt);
    store::insert_user(sql, attempt);
    if (attribution && attribution_hooks_.record) attribution_hooks_.record(sql, attempt.id, *attribution);
    issue_code(sql, attempt, "signup", current.has_value());
  });
  mail_queued_();
  return *attempt.signup_id;
}

std::optional<SignupReferralOutcome> AuthService::verify_email(const VerifyRequest& request,
                                                               const std::string& client_ip) {
  const auto email = email_or_throw(request.email);
  std::optional<store::User> verified;
  const auto check = database_.write([&](soci::session& sql) {
    auto user = store::find_user_by_email(sql, email);
    if (user && user->is_verified) user.reset();  // nothing left to verify: as if unknown
    auto result = try_code(sql, email, user, "signup", trim(request.otp));
    if (result != OtpCheck::ok) return result;  // a wrong guess commits its spent try
    accept_code(sql, *user, "signup");
    // The right code, but is it this client's attempt? Without a signup_id
    // only an attempt that replaced no live one can tell.
    const bool other_attempt =
        request.signup_id ? request.signup_id != user->signup_id : user->signup_superseded;
    if (other_attempt) return OtpCheck::superseded;
    const auto now = core::now_ms();
    store::mark_verified(sql, user->id, now);
    verified = user;
    verified->is_verified = true;
    publish_verified(sql, *verified, now);
    return OtpCheck::ok;
  });
  throw_for(check);
  if (!verified->signup_referral_code || !referral_hooks_.apply) return std::nullopt;
  return referral_hooks_.apply(verified->id, *verified->signup_referral_code, client_ip);
}

void AuthService::resend_code(const std::string& raw_email) {
  const auto email = email_or_throw(raw_email);
  database_.write([&](soci::session& sql) {
    if (auto refusal = claim_new_code(sql, email, "signup")) throw *refusal;
    const auto user = store::find_user_by_email(sql, email);
    if (user && !user->is_verified) issue_code(sql, *user, "signup", false);
  });
  mail_queued_();
}

LoginResult AuthService::open_session(const store::User& user, const std::string& ip,
                                      const std::string& user_agent,
                                      const std::optional<std::string>& upgraded_hash) {
  const auto now = core::now_ms();
  store::Session session{core::new_id(), user.id, now, now + config_.session_ttl_ms, now, ip,
                         core::to_valid_utf8(user_agent, kMaxUserAgentBytes)};
  database_.write([&](soci::session& sql) {
    store::clear_login_failures(sql, user.email);
    if (upgraded_hash) store::set_password_hash(sql, user.id, *upgraded_hash);
    store::insert_session(sql, session);
    store::record_login_ip(sql, user.id, core::client_network(ip), now);
  });
  TokenClaims claims{user.id, session.id, core::new_id(), now / 1000, session.expires_at / 1000};
  return {user, sign_token(claims, secrets_.jwt_secret)};
}

TokenClaims AuthService::claims_of(const std::string& token, long long now) {
  if (token.empty()) throw unauthorized("missing_token", "Authentication required.");
  const auto now_seconds = now / 1000;
  const auto expired = [] { return unauthorized("token_expired", "The token has expired."); };
  if (auto known = verified_tokens_.find(token)) {
    if (known->exp <= now_seconds) throw expired();
    return *known;
  }
  TokenClaims claims;
  switch (verify_token(token, secrets_.jwt_secret, now_seconds, claims)) {
    case TokenError::invalid: throw unauthorized("invalid_token", "The token is not valid.");
    case TokenError::expired:
      throw expired();
    case TokenError::none: break;
  }
  verified_tokens_.remember(token, claims, now_seconds);
  return claims;
}

namespace {

Authenticated accepted(const TokenClaims& claims, const std::optional<store::SessionCheck>& check,
                       long long now) {
  if (!check || check->user.id != claims.sub || check->expires_at <= now) {
    throw unauthorized("session_invalid", "The session has ended; log in again.");
  }
  return {{claims.sub, claims.sid, check->user.is_admin}, check->user};
}

}  // namespace

void AuthService::check_token(const std::string& token) {
  claims_of(token, core::now_ms());
}

Authenticated AuthService::authenticate(const std::string& token) {
  const auto now = core::now_ms();
  const auto claims = claims_of(token, now);
  const auto check = session_of(claims.sid, now);
  auto result = accepted(claims, check, now);
  if (now - check->last_seen_at >= kLastSeenGranularityMs) {
    database_.write([&](soci::session& sql) {
      store::touch_session(sql, claims.sid, now, now - kLastSeenGranularityMs);
    });
    if (session_cache_) session_cache_->touched(claims.sid, now);
  }
  return result;
}

bool AuthService::sessions_in_memory() const {
  return session_cache_ && session_cache_->fresh_at(core::now_ms());
}

std::optional<Authenticated> AuthService::authenticate_from_memory(const std::string& token) {
  const auto now = core::now_ms();
  const auto claims = claims_of(token, now);
  if (!session_cache_) return std::nullopt;
  const auto check = session_cache_->find(claims.sid, now);
  // Not cached, or last_seen_at is due for its write: the database's turn.
  if (!check || now - check->last_seen_at >= kLastSeenGranularityMs) return std::nullopt;
  return accepted(claims, check, now);
}

std::optional<store::SessionCheck> AuthService::session_of(const std::string& session_id,
                                                           long long now) {
  const auto read_row = [&] {
    return database_.read(
        [&](soci::session& sql) { return store::check_session(sql, session_id); });
  };
  if (!session_cache_) return read_row();
  if (auto cached = session_cache_->find(session_id, now)) return cached;
  const auto ticket = session_cache_->ticket();
  auto check = read_row();
  if (check) session_cache_->store(ticket, session_id, *check, now);
  return check;
}

void AuthService::logout(const Identity& identity) {
  database_.write([&](soci::session& sql) {
    store::delete_session(sql, identity.session_id, identity.user_id);
  });
  if (session_cache_) session_cache_->forget_session(identity.session_id);
}

void AuthService::logout_everywhere(const std::string& user_id) {
  database_.write([&](soci::session& sql) { store::delete_sessions_of(sql, user_id); });
  if (session_cache_) session_cache_->forget_user(user_id);
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
  if (session_cache_) session_cache_->forget_session(session_id);
}

void AuthService::forgot_password(const std::string& raw_email) {
  const auto email = email_or_throw(raw_email);
  database_.write([&](soci::session& sql) {
    // Silent refusals: the answer is the same whether or not the account exists.
    if (claim_new_code(sql, email, "password_reset")) return;
    const auto user = store::find_user_by_email(sql, email);
    if (user && user->is_verified) issue_code(sql, *user, "password_reset", false);
  });
  mail_queued_();
}

void AuthService::reset_password(const std::string& raw_email, const std::string& otp,
                                 const std::string& new_password) {
  const auto email = email_or_throw(raw_email);
  check_password_rules(new_password, email, "new_password");
  const auto hash = hash_password(new_password, hash_params_);
  std::optional<std::string> reset_user;
  const auto check = database_.write([&](soci::session& sql) {
    const auto user = store::find_user_by_email(sql, email);
    const auto result = try_code(sql, email, user, "password_reset", trim(otp));
    if (result == OtpCheck::ok) {
      accept_code(sql, *user, "password_reset");
      store::set_password_hash(sql, user->id, hash);
      store::clear_login_failures(sql, email);
      store::delete_sessions_of(sql, user->id);
      reset_user = user->id;
    }
    return result;
  });
  if (reset_user && session_cache_) session_cache_->forget_user(*reset_user);
  throw_for(check);
}

AdminCreation AuthService::create_admin(const std::string& raw_email, const std::string& name,
                                        const std::string& password) {
  const auto email = email_or_throw(raw_email);
  check_name(name);
  check_password_rules(password, email, "password");
  auto admin = new_user(SignupRequest{name, email, password, std::nullopt, {}}, email);
  admin.is_admin = true;  // verified by mark_verified below, which counts it
  return database_.write([&](soci::session& sql) {
    const auto existing = store::find_user_by_email(sql, email);
    if (existing && existing->is_verified) {
      store::set_admin(sql, existing->id, true);
      return AdminCreation::promoted;
    }
    // An unverified account proves nothing about who made it (anyone can
    // sign up with any address): it goes, and the admin is made afresh
    // with the password given here.
    if (existing) {
      refuse_if_holding_value(sql, existing->id);
      store::delete_user(sql, existing->id);
    }
    store::insert_user(sql, admin);
    store::mark_verified(sql, admin.id, admin.created_at);
    // A copy: `admin` is inserted unverified again if the transaction is retried.
    auto verified = admin;
    verified.is_verified = true;
    publish_verified(sql, verified, admin.created_at);
    return existing ? AdminCreation::replaced_unverified : AdminCreation::created;
  });
}

void AuthService::set_admin(const std::string& raw_email, bool is_admin) {
  const auto email = email_or_throw(raw_email);
  database_.write([&](soci::session& sql) {
    const auto user = store::find_user_by_email(sql, email);
    if (!user) throw ApiError(404, "user_not_found", "No account with email " + email + ".");
    if (is_admin) refuse_unverified_admin(*user);
    store::set_admin(sql, user->id, is_admin);
  });
}

}  // namespace auth
