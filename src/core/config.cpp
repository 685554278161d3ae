#include "core/config.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <set>

#include "core/origin.hpp"
#include "core/text.hpp"

namespace core {

namespace {

using core::trim;

const std::vector<std::string> kSettingNames = {
    "DATABASE_URL", "DATABASE_READ_URL", "DATABASE_LISTEN_URL", "DATABASE_PREPARED_STATEMENTS",
    "DATABASE_PIPELINED_READS",
    "SESSION_CACHE_SIZE", "SESSION_CACHE_TTL", "LEADERBOARD_MAX_AGE", "HOST", "PORT", "PUBLIC_URL",
    "METRICS_TOKEN",
    "JWT_SECRET", "SESSION_TTL", "OTP_TTL",
    "OTP_RESEND_COOLDOWN", "EMAIL_BACKEND", "EMAIL_HOST", "EMAIL_PORT", "EMAIL_USE_TLS",
    "EMAIL_USE_SSL", "EMAIL_HOST_USER", "EMAIL_HOST_PASSWORD", "EMAIL_ALLOW_PLAINTEXT_AUTH",
    "DEFAULT_FROM_EMAIL",
    "EMAIL_FILE_PATH", "EMAIL_MAX_ATTEMPTS", "EMAIL_TIMEOUT", "EMAIL_RETRY_BASE",
    "CORS_ALLOWED_ORIGINS",
    "TRUSTED_PROXIES", "REFERRAL_CODE_PREFIX", "REFERRAL_MAX_USES_PER_CODE",
    "REFERRAL_APPLY_WINDOW_DAYS", "REFERRAL_MAX_USES_PER_HOUR", "REFERRAL_STRIP_PLUS_TAGS",
    "REFERRAL_BLOCK_CYCLES", "REFERRAL_BLOCK_ALIASES", "REFERRAL_FLAG_SAME_IP",
    "RATE_LIMIT_PER_IP", "API_KEY_RATE_LIMIT", "LOGIN_MAX_FAILURES", "SQLITE_SYNCHRONOUS", "DB_POOL_SIZE",
    "DB_BUSY_TIMEOUT", "IO_THREADS", "HASH_THREADS", "HASH_QUEUE_LIMIT", "ARGON2_OPS",
    "ARGON2_MEMORY_KIB", "ALLOW_WEAK_PASSWORD_HASHING", "MAX_BODY_BYTES", "MAX_HEADER_BYTES",
    "READ_TIMEOUT", "IDLE_TIMEOUT", "SHUTDOWN_TIMEOUT", "SWEEP_INTERVAL", "MONGO_URI",
    "REFERRAL_LANDING_URL", "ATTRIBUTION_WINDOW", "CLICK_FLUSH_INTERVAL", "CLICK_RETENTION",
    "WEBHOOK_TIMEOUT", "WEBHOOK_DISABLE_AFTER", "WEBHOOK_ALLOW_HTTP", "WEBHOOK_ALLOW_PRIVATE",
    "WEBHOOK_RETRY_SCHEDULE", "WEBHOOK_MAX_IN_FLIGHT", "REWARD_TIMER_INTERVAL", "REWARD_HOLD_DAY"};

[[noreturn]] void bad(const std::string& name, const std::string& why) {
  throw ConfigError(name + ": " + why);
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return s;
}

long long parse_integer(const std::string& name, const std::string& value, long long min,
                        long long max) {
  long long out = 0;
  const auto text = trim(value);
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
    bad(name, "'" + value + "' is not a whole number");
  }
  if (out < min || out > max) {
    bad(name, "must be between " + std::to_string(min) + " and " + std::to_string(max));
  }
  return out;
}

std::vector<std::string> split_list(const std::string& value) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= value.size()) {
    const auto comma = value.find(',', start);
    auto item = trim(value.substr(start, comma - start));
    if (!item.empty()) out.push_back(std::move(item));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

EmailBackend parse_email_backend(const std::string& value) {
  // The original configured Django classes, e.g.
  // django.core.mail.backends.smtp.EmailBackend.
  const auto v = lower(trim(value));
  if (v == "console" || v == "django.core.mail.backends.console.emailbackend") {
    return EmailBackend::console;
  }
  if (v == "file" || v == "django.core.mail.backends.filebased.emailbackend") {
    return EmailBackend::file;
  }
  if (v == "smtp" || v == "django.core.mail.backends.smtp.emailbackend") return EmailBackend::smtp;
  bad("EMAIL_BACKEND", "'" + value + "' is not one of console, file, smtp");
}

RateLimit parse_rate_limit(const std::string& name, const std::string& value) {
  const auto v = trim(value);
  if (v == "0") return RateLimit{0, 60000};
  const auto slash = v.find('/');
  if (slash == std::string::npos) bad(name, "expected COUNT/PERIOD such as 30/m");
  const auto unit = v.substr(slash + 1);
  std::int64_t window = 0;
  if (unit == "s") window = 1000;
  else if (unit == "m") window = 60000;
  else if (unit == "h") window = 3600000;
  else window = parse_duration_ms(name, unit);
  return RateLimit{static_cast<int>(parse_integer(name, v.substr(0, slash), 0, 1000000)), window};
}

std::vector<IpNetwork> parse_networks(const std::string& name, const std::string& value) {
  std::vector<IpNetwork> networks;
  for (const auto& item : split_list(value)) {
    auto network = IpNetwork::parse(item);
    if (!network) {
      bad(name, "'" + item + "' is not an IP address or a CIDR range such as 10.0.0.0/8");
    }
    networks.push_back(*network);
  }
  return networks;
}

std::string default_public_url(const std::string& host, int port) {
  const bool ipv6 = host.find(':') != std::string::npos;
  return "http://" + (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

// A secret of one repeated byte (or a handful) is long enough but guessable.
// 8 distinct bytes is far below what any random 32-byte text has (a
// 32-character hex string has about 14 of its 16 possible), so only
// hand-typed patterns are refused.
constexpr std::size_t kMinDistinctSecretBytes = 8;

void check_jwt_secret(const std::string& secret) {
  if (secret.size() < 32) bad("JWT_SECRET", "must be at least 32 bytes long");
  const std::set<char> distinct(secret.begin(), secret.end());
  if (distinct.size() < kMinDistinctSecretBytes) {
    bad("JWT_SECRET", "has only " + std::to_string(distinct.size()) +
                          " different bytes; use a random value such as `openssl rand -base64 48`");
  }
}

std::string check_database_url(const std::string& name, const std::string& value) {
  if (value.starts_with("sqlite://") && value.size() > 9) return value;
  if (value.starts_with("postgresql://") || value.starts_with("postgres://")) return value;
  bad(name, "expected sqlite://PATH or postgresql://user:pass@host:port/db");
}

// Reads one setting into its field when present; the parser is chosen by the
// field's type so every setting is parsed and reported the same way.
class Reader {
 public:
  explicit Reader(const RawSettings& raw) : raw_(raw) {}

  const std::string* find(const std::string& name) const {
    const auto it = raw_.find(name);
    return it == raw_.end() ? nullptr : &it->second;
  }
  void text(const std::string& name, std::string& field) const {
    if (const auto* v = find(name)) field = *v;
  }
  void integer(const std::string& name, int& field, long long min, long long max) const {
    if (const auto* v = find(name)) field = static_cast<int>(parse_integer(name, *v, min, max));
  }
  void boolean(const std::string& name, bool& field) const {
    if (const auto* v = find(name)) field = parse_bool(name, *v);
  }
  void duration(const std::string& name, std::int64_t& field) const {
    if (const auto* v = find(name)) field = parse_duration_ms(name, *v);
  }
  void list(const std::string& name, std::vector<std::string>& field) const {
    if (const auto* v = find(name)) field = split_list(*v);
  }

 private:
  const RawSettings& raw_;
};

void read_http(const Reader& r, Config& c) {
  r.text("HOST", c.host);
  r.integer("PORT", c.port, 0, 65535);
  r.list("CORS_ALLOWED_ORIGINS", c.cors_allowed_origins);
  if (const auto* v = r.find("TRUSTED_PROXIES")) {
    c.trusted_proxies = parse_networks("TRUSTED_PROXIES", *v);
  }
  r.text("METRICS_TOKEN", c.metrics_token);
  if (!c.metrics_token.empty() && c.metrics_token.size() < 16) {
    bad("METRICS_TOKEN", "must be at least 16 bytes long");
  }
  int max_body = static_cast<int>(c.max_body_bytes);
  int max_header = static_cast<int>(c.max_header_bytes);
  r.integer("MAX_BODY_BYTES", max_body, 1024, 64 * 1024 * 1024);
  r.integer("MAX_HEADER_BYTES", max_header, 1024, 1024 * 1024);
  c.max_body_bytes = static_cast<std::size_t>(max_body);
  c.max_header_bytes = static_cast<std::size_t>(max_header);
  r.duration("READ_TIMEOUT", c.read_timeout_ms);
  r.duration("IDLE_TIMEOUT", c.idle_timeout_ms);
  r.duration("SHUTDOWN_TIMEOUT", c.shutdown_timeout_ms);
  r.integer("IO_THREADS", c.io_threads, 0, 256);
  if (const auto* v = r.find("RATE_LIMIT_PER_IP")) c.rate_limit_per_ip = parse_rate_limit("RATE_LIMIT_PER_IP", *v);
  if (const auto* v = r.find("API_KEY_RATE_LIMIT")) c.api_key_rate_limit = parse_rate_limit("API_KEY_RATE_LIMIT", *v);
  r.text("PUBLIC_URL", c.public_url);
  if (c.public_url.empty()) c.public_url = default_public_url(c.host, c.port);
  if (!web_origin(c.public_url)) {
    bad("PUBLIC_URL", "'" + c.public_url + "' is not an http:// or https:// URL");
  }
}

void read_database(const Reader& r, Config& c) {
  if (const auto* v = r.find("DATABASE_URL")) c.database_url = check_database_url("DATABASE_URL", *v);
  if (const auto* v = r.find("DATABASE_READ_URL"); v && !v->empty()) {
    c.database_read_url = check_database_url("DATABASE_READ_URL", *v);
  }
  if (const auto* v = r.find("SQLITE_SYNCHRONOUS")) {
    c.sqlite_synchronous = upper(trim(*v));
    if (c.sqlite_synchronous != "FULL" && c.sqlite_synchronous != "NORMAL" &&
        c.sqlite_synchronous != "EXTRA" && c.sqlite_synchronous != "OFF") {
      bad("SQLITE_SYNCHRONOUS", "expected FULL, NORMAL, EXTRA or OFF");
    }
  }
  r.integer("DB_POOL_SIZE", c.db_pool_size, 0, 1024);
  r.boolean("DATABASE_PREPARED_STATEMENTS", c.database_prepared_statements);
  r.boolean("DATABASE_PIPELINED_READS", c.database_pipelined_reads);
  if (const auto* v = r.find("DATABASE_LISTEN_URL"); v && !v->empty()) {
    c.database_listen_url =
        trim(*v) == "off" ? "off" : check_database_url("DATABASE_LISTEN_URL", *v);
    if (c.database_listen_url.starts_with("sqlite://")) {
      bad("DATABASE_LISTEN_URL", "expected postgresql://... or off");
    }
  }
  r.integer("SESSION_CACHE_SIZE", c.session_cache_size, 0, 10000000);
  r.duration("SESSION_CACHE_TTL", c.session_cache_ttl_ms);
  r.duration("LEADERBOARD_MAX_AGE", c.leaderboard_max_age_ms);
  if (c.leaderboard_max_age_ms > 60000) {
    bad("LEADERBOARD_MAX_AGE", "must be at most 60s (0 turns the cache off)");
  }
  r.duration("DB_BUSY_TIMEOUT", c.db_busy_timeout_ms);
  r.duration("SWEEP_INTERVAL", c.sweep_interval_ms);
}

void read_auth(const Reader& r, Config& c) {
  if (const auto* v = r.find("JWT_SECRET"); v && !v->empty()) {
    check_jwt_secret(*v);
    c.jwt_secret = *v;
  }
  r.duration("SESSION_TTL", c.session_ttl_ms);
  r.duration("OTP_TTL", c.otp_ttl_ms);
  r.duration("OTP_RESEND_COOLDOWN", c.otp_resend_cooldown_ms);
  r.integer("LOGIN_MAX_FAILURES", c.login_max_failures, 1, 1000000);
  r.integer("HASH_THREADS", c.hash_threads, 0, 256);
  r.integer("HASH_QUEUE_LIMIT", c.hash_queue_limit, 1, 1000000);
  r.boolean("ALLOW_WEAK_PASSWORD_HASHING", c.allow_weak_password_hashing);
  int ops = static_cast<int>(c.argon2_ops);
  int memory = static_cast<int>(c.argon2_memory_kib);
  r.integer("ARGON2_OPS", ops, 1, 100);
  r.integer("ARGON2_MEMORY_KIB", memory, 8, 4 * 1024 * 1024);
  c.argon2_ops = static_cast<std::uint64_t>(ops);
  c.argon2_memory_kib = static_cast<std::uint64_t>(memory);
  // Weaker than OWASP's floor only on purpose (tests), never by accident.
  if ((ops < 2 || memory < 19 * 1024) && !c.allow_weak_password_hashing) {
    bad(ops < 2 ? "ARGON2_OPS" : "ARGON2_MEMORY_KIB",
        "below the OWASP floor (ops 2, 19456 KiB); set ALLOW_WEAK_PASSWORD_HASHING=true to "
        "allow it in tests");
  }
}

void read_email(const Reader& r, Config& c) {
  if (const auto* v = r.find("EMAIL_BACKEND")) c.email_backend = parse_email_backend(*v);
  r.text("EMAIL_HOST", c.email_host);
  r.integer("EMAIL_PORT", c.email_port, 1, 65535);
  r.boolean("EMAIL_USE_TLS", c.email_use_tls);
  r.boolean("EMAIL_USE_SSL", c.email_use_ssl);
  if (c.email_use_tls && c.email_use_ssl) {
    bad("EMAIL_USE_SSL", "EMAIL_USE_TLS and EMAIL_USE_SSL are mutually exclusive");
  }
  r.text("EMAIL_HOST_USER", c.email_host_user);
  r.text("EMAIL_HOST_PASSWORD", c.email_host_password);
  r.boolean("EMAIL_ALLOW_PLAINTEXT_AUTH", c.email_allow_plaintext_auth);
  const bool sends_credentials = !c.email_host_user.empty() || !c.email_host_password.empty();
  const bool encrypted = c.email_use_tls || c.email_use_ssl;
  if (c.email_backend == EmailBackend::smtp && sends_credentials && !encrypted &&
      !c.email_allow_plaintext_auth) {
    bad("EMAIL_HOST_PASSWORD",
        "would be sent in clear text: set EMAIL_USE_TLS or EMAIL_USE_SSL (or "
        "EMAIL_ALLOW_PLAINTEXT_AUTH=true for a trusted local relay)");
  }
  r.text("DEFAULT_FROM_EMAIL", c.default_from_email);
  r.text("EMAIL_FILE_PATH", c.email_file_path);
  r.integer("EMAIL_MAX_ATTEMPTS", c.email_max_attempts, 1, 100);
  r.duration("EMAIL_TIMEOUT", c.email_timeout_ms);
  r.duration("EMAIL_RETRY_BASE", c.email_retry_base_ms);
}

void read_referral(const Reader& r, Config& c) {
  r.text("REFERRAL_CODE_PREFIX", c.referral_code_prefix);
  const auto& prefix = c.referral_code_prefix;
  if (prefix.empty() || prefix.size() > 10 ||
      !std::all_of(prefix.begin(), prefix.end(), [](unsigned char ch) { return std::isalnum(ch); })) {
    bad("REFERRAL_CODE_PREFIX", "must be 1-10 letters or digits");
  }
  c.referral_code_prefix = upper(c.referral_code_prefix);
  r.integer("REFERRAL_MAX_USES_PER_CODE", c.referral_max_uses_per_code, 0, 1000000000);
  r.integer("REFERRAL_APPLY_WINDOW_DAYS", c.referral_apply_window_days, 0, 36500);
  r.integer("REFERRAL_MAX_USES_PER_HOUR", c.referral_max_uses_per_hour, 0, 1000000000);
  r.boolean("REFERRAL_STRIP_PLUS_TAGS", c.referral_strip_plus_tags);
  r.boolean("REFERRAL_BLOCK_CYCLES", c.referral_block_cycles);
  r.boolean("REFERRAL_BLOCK_ALIASES", c.referral_block_aliases);
  r.boolean("REFERRAL_FLAG_SAME_IP", c.referral_flag_same_ip);
}

void read_links(const Reader& r, Config& c) {
  r.text("REFERRAL_LANDING_URL", c.referral_landing_url);
  if (c.referral_landing_url.empty()) bad("REFERRAL_LANDING_URL", "must not be empty");
  r.duration("ATTRIBUTION_WINDOW", c.attribution_window_ms);
  r.duration("CLICK_FLUSH_INTERVAL", c.click_flush_interval_ms);
  if (c.click_flush_interval_ms < 10) bad("CLICK_FLUSH_INTERVAL", "must be at least 10ms");
  r.duration("CLICK_RETENTION", c.click_retention_ms);
}

void read_webhooks(const Reader& r, Config& c) {
  r.duration("WEBHOOK_TIMEOUT", c.webhook_timeout_ms);
  if (c.webhook_timeout_ms < 100) bad("WEBHOOK_TIMEOUT", "must be at least 100ms");
  r.duration("WEBHOOK_DISABLE_AFTER", c.webhook_disable_after_ms);
  r.boolean("WEBHOOK_ALLOW_HTTP", c.webhook_allow_http);
  r.boolean("WEBHOOK_ALLOW_PRIVATE", c.webhook_allow_private);
  if (const auto* v = r.find("WEBHOOK_RETRY_SCHEDULE")) {
    c.webhook_retry_schedule_ms.clear();
    for (const auto& item : split_list(*v)) {
      c.webhook_retry_schedule_ms.push_back(parse_duration_ms("WEBHOOK_RETRY_SCHEDULE", item));
    }
    if (c.webhook_retry_schedule_ms.empty()) bad("WEBHOOK_RETRY_SCHEDULE", "needs at least one delay");
  }
  r.integer("WEBHOOK_MAX_IN_FLIGHT", c.webhook_max_in_flight, 1, 1000);
}

void read_rewards(const Reader& r, Config& c) {
  r.duration("REWARD_TIMER_INTERVAL", c.reward_timer_interval_ms);
  if (c.reward_timer_interval_ms < 10) bad("REWARD_TIMER_INTERVAL", "must be at least 10ms");
  r.duration("REWARD_HOLD_DAY", c.reward_hold_day_ms);
  if (c.reward_hold_day_ms < 1) bad("REWARD_HOLD_DAY", "must be at least 1ms");
}

}  // namespace

const std::vector<std::string>& known_setting_names() { return kSettingNames; }

std::int64_t parse_duration_ms(const std::string& name, const std::string& value) {
  const auto v = trim(value);
  if (v.empty()) bad(name, "empty duration");
  std::int64_t unit_ms = 1000;
  std::string digits = v;
  if (v.ends_with("ms")) {
    unit_ms = 1;
    digits = v.substr(0, v.size() - 2);
  } else if (std::isalpha(static_cast<unsigned char>(v.back()))) {
    switch (v.back()) {
      case 's': unit_ms = 1000; break;
      case 'm': unit_ms = 60 * 1000; break;
      case 'h': unit_ms = 3600 * 1000; break;
      case 'd': unit_ms = 24LL * 3600 * 1000; break;
      default: bad(name, "'" + value + "' is not a duration such as 90s, 5m, 2h, 7d");
    }
    digits = v.substr(0, v.size() - 1);
  }
  return parse_integer(name, digits, 0, 3650LL * 24 * 3600 * 1000 / unit_ms) * unit_ms;
}

bool parse_bool(const std::string& name, const std::string& value) {
  const auto v = lower(trim(value));
  if (v == "true" || v == "1" || v == "yes" || v == "on") return true;
  if (v == "false" || v == "0" || v == "no" || v == "off" || v.empty()) return false;
  bad(name, "'" + value + "' is not a boolean (true/false)");
}

RawSettings settings_from_environment() {
  RawSettings raw;
  for (const auto& name : kSettingNames) {
    if (const char* v = std::getenv(name.c_str())) raw[name] = v;
  }
  if (raw.find("JWT_SECRET") == raw.end()) {
    if (const char* v = std::getenv("JWT-SECRET")) raw["JWT_SECRET"] = v;
  }
  return raw;
}

Config parse_config(const RawSettings& given) {
  RawSettings raw = given;
  if (auto dashed = raw.find("JWT-SECRET"); dashed != raw.end()) {
    raw.try_emplace("JWT_SECRET", dashed->second);
  }
  if (raw.count("MONGO_URI") && !raw.count("DATABASE_URL")) {
    bad("MONGO_URI", "MongoDB is not supported; set DATABASE_URL and move the data over with "
                     "`referrald import-mongo DIR`");
  }
  const Reader reader(raw);
  Config config;
  read_http(reader, config);
  read_database(reader, config);
  read_auth(reader, config);
  read_email(reader, config);
  read_referral(reader, config);
  read_links(reader, config);
  read_webhooks(reader, config);
  read_rewards(reader, config);
  return config;
}

}  // namespace core
