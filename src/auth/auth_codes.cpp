// One-time codes: sending them, and the tries at them, counted per
// (normalized email, purpose) whether or not an account exists, so no answer
// tells a known address from an unknown one.
#include <algorithm>
#include <cstdio>

#include "auth/auth_mail.hpp"
#include "auth/auth_service.hpp"
#include "core/clock.hpp"
#include "core/random.hpp"

namespace auth {

using core::ApiError;

namespace {

// Tries at one code, and at all codes of one email and purpose per window:
// without the second, a new code every minute allowed ~7,200 guesses a day.
constexpr int kMaxTriesPerCode = 5;
constexpr int kMaxWrongTriesPerWindow = 20;
constexpr long long kTriesWindowMs = core::kMsPerDay;
constexpr store::TryLimits kTryLimits{kMaxTriesPerCode, kMaxWrongTriesPerWindow, kTriesWindowMs};

long long seconds_until(long long moment, long long now) {
  return std::max<long long>(1, (moment - now + 999) / 1000);
}

bool window_full(const store::CodeGuard& guard, long long now) {
  return guard.window_started_at > now - kTriesWindowMs &&
         guard.window_tries >= kMaxWrongTriesPerWindow;
}

ApiError window_full_error(const store::CodeGuard& guard, long long now) {
  return core::too_many_requests(
      "otp_daily_limit",
      "Too many wrong codes for this email; try again when the 24-hour window has passed.",
      seconds_until(guard.window_started_at + kTriesWindowMs, now));
}

// Spends one try at the email's codes, or refuses (429) when none is left.
void take_code_try_or_throw(soci::session& sql, const std::string& email,
                            const std::string& purpose) {
  const auto now = core::now_ms();
  store::ensure_code_guard(sql, email, purpose);
  if (store::take_code_try(sql, email, purpose, now, kTryLimits)) return;
  const auto guard = store::code_guard(sql, email, purpose);
  if (window_full(guard, now)) throw window_full_error(guard, now);
  throw core::too_many_requests("otp_attempts_exceeded", "Too many wrong codes; request a new one.",
                                60);
}

}  // namespace

void AuthService::throw_for(OtpCheck check) {
  switch (check) {
    case OtpCheck::ok:
      return;
    case OtpCheck::invalid:
      throw ApiError(400, "invalid_otp", "Invalid OTP.");
    case OtpCheck::expired:
      throw ApiError(400, "otp_expired", "The OTP has expired; request a new one.");
    case OtpCheck::superseded:
      throw ApiError(409, "signup_superseded",
                     "Another signup for this email replaced the one this code was checked "
                     "against; sign up again.");
  }
}

std::optional<ApiError> AuthService::claim_new_code(soci::session& sql, const std::string& email,
                                                    const std::string& purpose) const {
  const auto now = core::now_ms();
  store::ensure_code_guard(sql, email, purpose);
  if (store::claim_code_request(sql, email, purpose, now, now - config_.otp_resend_cooldown_ms,
                                kTryLimits)) {
    return std::nullopt;
  }
  const auto guard = store::code_guard(sql, email, purpose);
  if (window_full(guard, now)) return window_full_error(guard, now);
  return core::too_many_requests(
      "otp_cooldown", "A code was sent recently; wait before asking again.",
      seconds_until(guard.requested_at + config_.otp_resend_cooldown_ms, now));
}

std::string AuthService::code_hash(const std::string& user_id, const std::string& purpose,
                                   const std::string& code) const {
  const auto mac = core::hmac_sha256(secrets_.otp_key, purpose + ":" + user_id + ":" + code);
  return core::base64url_encode(mac);
}

void AuthService::issue_code(soci::session& sql, const store::User& user,
                             const std::string& purpose, bool replaces_earlier_signup) {
  const auto now = core::now_ms();
  char digits[8];
  std::snprintf(digits, sizeof digits, "%06u", core::random_below(1000000));
  store::put_otp(sql, user.id, purpose, code_hash(user.id, purpose, digits), now,
                 now + config_.otp_ttl_ms);
  CodeMail mail{purpose == "signup" ? CodePurpose::signup : CodePurpose::password_reset, user.email,
                digits, std::max<long long>(1, config_.otp_ttl_ms / core::kMsPerMinute),
                replaces_earlier_signup};
  outbox_.enqueue(sql, code_email(mail));
}

bool AuthService::has_live_code(soci::session& sql, const std::string& user_id,
                                const std::string& purpose) const {
  const auto otp = store::unused_otp(sql, user_id, purpose);
  return otp && otp->expires_at > core::now_ms();
}

AuthService::OtpCheck AuthService::try_code(soci::session& sql, const std::string& email,
                                            const std::optional<store::User>& user,
                                            const std::string& purpose,
                                            const std::string& code) const {
  take_code_try_or_throw(sql, email, purpose);
  const auto otp = user ? store::unused_otp(sql, user->id, purpose) : std::nullopt;
  // "Expired" only for the right code: to a guesser an expired code and an
  // address without any account both answer invalid_otp.
  if (!otp || !core::constant_time_equal(otp->code_hash, code_hash(user->id, purpose, code))) {
    return OtpCheck::invalid;
  }
  return core::now_ms() >= otp->expires_at ? OtpCheck::expired : OtpCheck::ok;
}

void AuthService::accept_code(soci::session& sql, const store::User& user,
                              const std::string& purpose) const {
  store::mark_otp_used(sql, user.id, purpose, core::now_ms());
  store::refund_code_try(sql, user.email, purpose);
}

}  // namespace auth
