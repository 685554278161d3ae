#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/env_file.hpp"
#include "core/ip_network.hpp"

namespace core {

enum class EmailBackend { console, file, smtp };

struct RateLimit {
  int count = 0;                  // 0 = off
  std::int64_t window_ms = 60000;
};

// Every setting of the README's table, parsed and checked once at startup.
struct Config {
  std::string database_url = "sqlite://referrald.db";
  std::string database_read_url;  // empty = reads go to the primary
  std::string host = "127.0.0.1";
  int port = 8000;
  // The origin browsers see this server under; cookie-authenticated writes
  // must come from it (or CORS_ALLOWED_ORIGINS). Default http://HOST:PORT.
  std::string public_url;
  std::optional<std::string> jwt_secret;
  std::int64_t session_ttl_ms = 7LL * 24 * 3600 * 1000;
  std::int64_t otp_ttl_ms = 5LL * 60 * 1000;
  std::int64_t otp_resend_cooldown_ms = 60LL * 1000;

  EmailBackend email_backend = EmailBackend::console;
  std::string email_host = "localhost";
  int email_port = 25;
  bool email_use_tls = false;
  bool email_use_ssl = false;
  std::string email_host_user;
  std::string email_host_password;
  bool email_allow_plaintext_auth = false;  // AUTH over an unencrypted connection
  std::string default_from_email = "referrald <noreply@localhost>";
  std::string email_file_path = "./mail";
  int email_max_attempts = 8;
  std::int64_t email_timeout_ms = 10000;
  std::int64_t email_retry_base_ms = 2000;  // first retry delay; doubles per attempt

  std::vector<std::string> cors_allowed_origins;
  std::vector<IpNetwork> trusted_proxies;  // addresses or CIDR ranges
  std::string metrics_token;  // when set, /metrics wants "Authorization: Bearer <it>"

  std::string referral_code_prefix = "REF";
  int referral_max_uses_per_code = 0;
  int referral_apply_window_days = 30;
  int referral_max_uses_per_hour = 10;
  bool referral_strip_plus_tags = false;
  bool referral_block_cycles = true;
  bool referral_block_aliases = true;   // same mailbox behind two addresses = self-referral
  bool referral_flag_same_ip = true;

  RateLimit rate_limit_per_ip{30, 60000};
  RateLimit api_key_rate_limit{100, 1000};  // requests per API key per instance
  int login_max_failures = 10;

  std::string sqlite_synchronous = "FULL";
  int db_pool_size = 0;  // 0 = by engine: cores for SQLite, 4 x cores for PostgreSQL
  // false: no named server-side statements (PgBouncer in transaction mode).
  bool database_prepared_statements = true;
  // PostgreSQL: summary and list reads go through each io thread's own
  // pipelined connection (needs prepared statements; off with them).
  bool database_pipelined_reads = true;
  // The session cache's invalidation feed: empty = DATABASE_URL, "off" = none
  // (no cache). Must reach PostgreSQL itself, not PgBouncer in transaction mode.
  std::string database_listen_url;
  int session_cache_size = 100000;  // 0 = sessions are read from the database every time
  std::int64_t session_cache_ttl_ms = 60000;
  // Longest another instance's change may take to show on the leaderboard;
  // 0 = no cache, every read queries (analytics/leaderboard_cache.hpp).
  std::int64_t leaderboard_max_age_ms = 1000;
  std::int64_t db_busy_timeout_ms = 5000;
  int io_threads = 0;    // 0 = one per core
  int hash_threads = 0;  // 0 = one per core
  int hash_queue_limit = 256;

  std::uint64_t argon2_ops = 2;
  std::uint64_t argon2_memory_kib = 19 * 1024;
  bool allow_weak_password_hashing = false;

  std::size_t max_body_bytes = 64 * 1024;
  std::size_t max_header_bytes = 8 * 1024;
  std::int64_t read_timeout_ms = 15000;
  std::int64_t idle_timeout_ms = 60000;
  std::int64_t shutdown_timeout_ms = 10000;
  std::int64_t sweep_interval_ms = 60000;

  // Share links (src/link/).
  std::string referral_landing_url = "/";
  std::int64_t attribution_window_ms = 30LL * 24 * 3600 * 1000;
  std::int64_t click_flush_interval_ms = 1000;
  std::int64_t click_retention_ms = 400LL * 24 * 3600 * 1000;

  // Webhooks (src/webhook/).
  std::int64_t webhook_timeout_ms = 10000;
  std::int64_t webhook_disable_after_ms = 5LL * 24 * 3600 * 1000;
  bool webhook_allow_http = false;
  bool webhook_allow_private = false;
  // Delay before retry n (1-based) after a failed attempt; one more failure
  // after the last entry marks the delivery failed. About 3 days in all.
  std::vector<std::int64_t> webhook_retry_schedule_ms = {
      5000, 5LL * 60 * 1000, 30LL * 60 * 1000, 2LL * 3600 * 1000,
      5LL * 3600 * 1000, 10LL * 3600 * 1000, 10LL * 3600 * 1000};
  int webhook_max_in_flight = 256;  // per endpoint, per instance

  // Reward rules (src/reward/): how often the hold timer looks for due
  // rewards, and the length of a hold day (shorter only in tests).
  std::int64_t reward_timer_interval_ms = 10000;
  std::int64_t reward_hold_day_ms = 24LL * 3600 * 1000;
};

// Name -> raw value, from lowest to highest precedence: .env file,
// environment, flags. Then parse them into a Config.
using RawSettings = std::map<std::string, std::string>;

// Reads the process environment, keeping only names referrald knows (and
// normalising JWT-SECRET to JWT_SECRET).
RawSettings settings_from_environment();

// Throws ConfigError with one line naming the bad setting.
Config parse_config(const RawSettings& raw);

// "90s", "5m", "2h", "7d", or plain seconds.
std::int64_t parse_duration_ms(const std::string& name, const std::string& value);
bool parse_bool(const std::string& name, const std::string& value);

// Settings names referrald reads; used to pick them out of the environment.
const std::vector<std::string>& known_setting_names();

}  // namespace core
