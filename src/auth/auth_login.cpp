// Login: the lockout, kept per normalized email whether or not an account
// exists, and the time a refusal takes, alike for every kind of refusal.
#include <algorithm>

#include "auth/auth_service.hpp"
#include "auth/email_address.hpp"
#include "core/clock.hpp"

namespace auth {

using core::ApiError;

namespace {

constexpr long long kMaxLockoutMs = 15 * core::kMsPerMinute;
constexpr long long kBcryptCostTtlMs = core::kMsPerMinute;

ApiError invalid_credentials() {
  return ApiError(401, "invalid_credentials", "Invalid email or password.");
}

}  // namespace

void AuthService::claim_login_or_throw(soci::session& sql, const std::string& email) const {
  const auto now = core::now_ms();
  const auto failures = store::claim_login_attempt(sql, email, now);
  if (!failures) {
    const auto locked_until = store::login_locked_until(sql, email);
    throw core::too_many_requests("too_many_attempts", "Too many failed logins; try again later.",
                                  std::max<long long>(1, (locked_until - now + 999) / 1000));
  }
  if (*failures < config_.login_max_failures) return;
  // The attempt counts as failed until its password proves right, so the
  // lock starts now: parallel guesses find it before they hash anything.
  // Growing backoff: 1 s, 2 s, 4 s ... from the allowed failures on, capped.
  const auto exponent = std::min<long long>(*failures - config_.login_max_failures, 20);
  store::extend_login_lock(
      sql, email, now + std::min<long long>(kMaxLockoutMs, core::kMsPerSecond << exponent));
}

std::optional<int> AuthService::bcrypt_decoy_cost() {
  const auto now = core::now_ms();
  std::lock_guard lock(bcrypt_cost_mutex_);
  if (bcrypt_cost_read_at_ == 0 || now - bcrypt_cost_read_at_ >= kBcryptCostTtlMs) {
    bcrypt_cost_ =
        database_.read([](soci::session& sql) { return store::highest_bcrypt_cost(sql); });
    bcrypt_cost_read_at_ = now;
  }
  return bcrypt_cost_;
}

void AuthService::spend_refusal_time(const std::optional<store::User>& user) {
  // Every refusal costs one Argon2id and, while imported bcrypt hashes are
  // left, one bcrypt check: an unknown email and a wrong password for either
  // kind of account then take equally long (before, a not yet upgraded
  // account answered in bcrypt time and every other refusal in Argon2 time).
  const bool checked_bcrypt = user && is_bcrypt_hash(user->password_hash);
  const bool checked_argon2 = user && !checked_bcrypt;
  if (!checked_argon2) burn_verification_time(hash_params_);
  if (const auto cost = bcrypt_decoy_cost(); cost && !checked_bcrypt) burn_bcrypt_time(*cost);
}

LoginResult AuthService::login(const std::string& raw_email, const std::string& password,
                               const std::string& ip, const std::string& user_agent) {
  const auto email = normalize_email(raw_email);
  if (!email) {
    spend_refusal_time(std::nullopt);
    throw invalid_credentials();
  }
  const auto user = database_.write([&](soci::session& sql) {
    claim_login_or_throw(sql, *email);
    return store::find_user_by_email(sql, *email);
  });
  if (!user || !verify_password(password, user->password_hash)) {
    spend_refusal_time(user);
    throw invalid_credentials();
  }
  if (!user->is_verified) {
    database_.write([&](soci::session& sql) { store::clear_login_failures(sql, *email); });
    throw ApiError(403, "email_not_verified", "Verify your email before logging in.");
  }
  // Imported bcrypt hashes and older Argon2 parameters are upgraded now
  // that the plain password is at hand.
  std::optional<std::string> upgraded_hash;
  if (needs_rehash(user->password_hash, hash_params_))
    upgraded_hash = hash_password(password, hash_params_);
  return open_session(*user, ip, user_agent, upgraded_hash);
}

}  // namespace auth
