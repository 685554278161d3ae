#include "app/app.hpp"

#include <unistd.h>

#include <iostream>
#include <thread>

#include "analytics/analytics_routes.hpp"
#include "apikey/api_key_routes.hpp"
#include "app/sweeper.hpp"
#include "auth/auth_routes.hpp"
#include "auth/user_admin_routes.hpp"
#include "core/api_error.hpp"
#include "core/log.hpp"
#include "core/random.hpp"
#include "db/database_host.hpp"
#include "db/migrations.hpp"
#include "db/settings_store.hpp"
#include "importer/importer_service.hpp"
#include "ledger/ledger_routes.hpp"
#include "link/link_routes.hpp"
#include "mail/mail_backend.hpp"
#include "ops/ops_routes.hpp"
#include "referral/referral_routes.hpp"
#include "reward/milestone_routes.hpp"
#include "reward/reward_routes.hpp"
#include "webapp/webapp_routes.hpp"
#include "events/event_log.hpp"
#include "webhook/webhook_routes.hpp"

namespace app {

namespace {

// Clicks waiting for the next flush; beyond this they are dropped (and
// counted) rather than held: a few seconds at the measured redirect rate.
constexpr std::size_t kClickBufferLimit = 100000;

int cores() { return static_cast<int>(std::max(1U, std::thread::hardware_concurrency())); }

// SQLite reads are CPU work: more threads than cores only add context
// switches (measured: verify-session 0.66x /healthz with 2 threads, 0.53x
// with 8). A PostgreSQL on another machine is waited for over the network,
// so more calls in flight pay off. A PostgreSQL on this machine runs on the
// same cores: its "wait" is CPU as well, and more transactions in flight than
// cores + 1 only add lock waits and task switches (2 cores, fsync off, apply:
// 1,615-1,693/s with 3 threads per lane, 1,408-1,420 with 2, 1,455-1,508 with
// 5, 1,232-1,314 with 8; PostgreSQL's CPU per apply 780 against 1,120 us;
// docs/PERFORMANCE.md, "How many calls in flight").
int database_threads(const core::Config& config) {
  if (config.db_pool_size > 0) return config.db_pool_size;
  if (config.database_url.starts_with("sqlite://")) return std::max(2, cores());
  return db::postgresql_on_this_host(config.database_url) ? cores() + 1 : std::max(8, 4 * cores());
}

// Writers mostly wait: on SQLite for the shared group commit, which grows
// with the number of writers waiting; on PostgreSQL for the network.
int write_threads(const core::Config& config) {
  return config.database_url.starts_with("sqlite://") ? 32 : database_threads(config);
}

db::Options database_options(const core::Config& config) {
  // Background workers (mail sender, sweeper, webhook dispatcher, hold timer) lease sessions too.
  constexpr int kBackgroundSessions = 4;
  return {config.database_url, database_threads(config) + write_threads(config) + kBackgroundSessions,
          config.db_busy_timeout_ms,
          config.sqlite_synchronous,
          false,
          config.database_prepared_statements};
}

// The analytics database, when its summary and list reads are pipelined:
// PostgreSQL with named statements (a pipelined read is one; PgBouncer in
// transaction mode has neither) and the setting on.
std::string pipelined_reads_url(const core::Config& config) {
  const auto& url =
      config.database_read_url.empty() ? config.database_url : config.database_read_url;
  const bool pipelined = config.database_pipelined_reads && config.database_prepared_statements &&
                         !url.starts_with("sqlite://");
  return pipelined ? url : "";
}

// Waits for the database at startup: containers often start before it.
void wait_for_database(db::Database& database) {
  for (int attempt = 0; attempt < 30; ++attempt) {
    if (database.ping()) return;
    if (attempt == 0) core::log::warn("database not reachable yet; retrying for 30 s");
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  throw std::runtime_error("the database did not answer within 30 s");
}

// The schema migrations, then the ledger's backfill (migration 0015 stages
// rows that need SHA-256, which SQL on SQLite cannot compute).
int migrate_database(db::Database& database) {
  const int applied = db::migrate(database);
  if (const auto hashed = ledger::complete_backfill(database); hashed > 0) {
    core::log::info("ledger entries hashed from earlier rewards: " + std::to_string(hashed));
  }
  return applied;
}

// The webhooks' consumer of the event spine.
webhook::EventFeed webhook_feed() {
  static constexpr std::string_view kConsumer = "webhooks";
  webhook::EventFeed feed;
  feed.may_have_events = [](soci::session& sql) {
    for (const auto& [consumer, behind] : events::backlog(sql)) {
      if (consumer == kConsumer) return behind > 0;
    }
    return true;  // no cursor yet: the first read creates it
  };
  const auto feed_events = [](std::vector<events::Event> read) {
    std::vector<webhook::FeedEvent> out;
    for (auto& event : read) {
      out.push_back({event.seq, std::move(event.id), std::move(event.type),
                     std::move(event.data_json), event.created_at_ms});
    }
    return out;
  };
  feed.read_next = [feed_events](soci::session& sql, int limit) {
    return feed_events(events::read_next(sql, kConsumer, limit));
  };
  feed.advance = [](soci::session& sql, std::int64_t seq) { events::advance(sql, kConsumer, seq); };
  feed.find = [feed_events](soci::session& sql, const std::vector<std::string>& ids) {
    return feed_events(events::find(sql, ids));
  };
  return feed;
}

int report(const core::ApiError& error) {
  std::cerr << "referrald: " << error.what() << '\n';
  return 1;
}

}  // namespace

App::App(core::Config config)
    : config_(std::move(config)), database_(std::make_unique<db::Database>(database_options(config_))) {
  if (!config_.database_read_url.empty()) {
    auto options = database_options(config_);
    options.url = config_.database_read_url;
    options.replica = true;
    read_database_ = std::make_unique<db::Database>(options);
  }
}

App::~App() = default;

http::ServerOptions App::server_options() const {
  http::ServerOptions options;
  options.host = config_.host;
  options.port = config_.port;
  options.io_threads = config_.io_threads > 0 ? config_.io_threads : cores();
  options.db_threads = database_threads(config_);
  options.write_threads = write_threads(config_);
  options.cpu_threads = config_.hash_threads > 0 ? config_.hash_threads : cores();
  options.cpu_queue_limit = config_.hash_queue_limit;
  options.max_body_bytes = config_.max_body_bytes;
  options.max_header_bytes = config_.max_header_bytes;
  options.read_timeout = std::chrono::milliseconds(config_.read_timeout_ms);
  options.idle_timeout = std::chrono::milliseconds(config_.idle_timeout_ms);
  options.shutdown_timeout = std::chrono::milliseconds(config_.shutdown_timeout_ms);
  options.middleware = {config_.cors_allowed_origins, config_.trusted_proxies};
  options.pipelined_reads_url = pipelined_reads_url(config_);
  return options;
}

void App::resolve_secrets() {
  secrets_.jwt_secret = config_.jwt_secret ? *config_.jwt_secret
                                           : db::keep_setting(*database_, "jwt_secret", core::random_token(48));
  secrets_.otp_key = core::hmac_sha256(secrets_.jwt_secret, "referrald otp key");
}

void App::build(bool with_database) {
  if (with_database) {
    wait_for_database(*database_);
    const int applied = migrate_database(*database_);
    if (applied > 0) core::log::info("migrations applied: " + std::to_string(applied));
    resolve_secrets();
  } else {
    // `routes` builds the services only to list their routes: a throwaway
    // secret keeps the database (and the real secret) out of it.
    secrets_.jwt_secret = core::random_token(48);
  }
  outbox_ = std::make_unique<mail::Outbox>(secrets_.jwt_secret);
  mail_sender_ = std::make_unique<mail::Sender>(config_, *database_, *outbox_, mail::make_backend(config_));
  ip_limiter_ = std::make_unique<core::RateLimiter>(config_.rate_limit_per_ip);
  api_key_limiter_ = std::make_unique<core::RateLimiter>(config_.api_key_rate_limit);
  api_keys_ = std::make_unique<apikey::ApiKeyService>(*database_);
  auth_ = std::make_unique<auth::AuthService>(config_, *database_, secrets_, *outbox_,
                                              [this] { mail_sender_->wake(); });
  user_admin_ = std::make_unique<auth::UserAdminService>(*database_);
  idempotency_ = std::make_unique<idempotency::IdempotencyService>(*database_);
  ledger_ = std::make_unique<ledger::LedgerService>(*database_);
  rewards_ = std::make_unique<reward::RewardService>(*database_, reward::RewardOptions{config_.reward_hold_day_ms});
  milestones_ = std::make_unique<reward::MilestoneService>(*database_);
  hold_timer_ = std::make_unique<reward::HoldTimer>(*rewards_, config_.reward_timer_interval_ms);
  referrals_ = std::make_unique<referral::ReferralService>(config_, *database_, *rewards_);
  // Analytics tolerate replica lag; everything that reads its own writes
  // (auth, apply, the ledger) stays on the primary.
  analytics_ = std::make_unique<analytics::AnalyticsService>(
      read_database_ ? *read_database_ : *database_,
      std::chrono::milliseconds(config_.leaderboard_max_age_ms));
  connect_signup_codes();
  build_links();
  build_webhooks();
  if (with_database) build_session_cache();
  sweeper_ = std::make_unique<Sweeper>(*database_, config_.sweep_interval_ms, config_.click_retention_ms);
  build_routes();
}

// A code given at signup is checked then and applied once the email is verified.
void App::connect_signup_codes() {
  auth::ReferralHooks hooks;
  hooks.check_code = [this](soci::session& sql, const std::string& code) { referrals_->require_code(sql, code); };
  hooks.apply = [this](const std::string& user_id, const std::string& code, const std::string& client_ip) {
    try {
      referrals_->apply(user_id, code, client_ip);
      return auth::SignupReferralOutcome{true, ""};
    } catch (const core::ApiError& refusal) {
      return auth::SignupReferralOutcome{false, refusal.code()};
    }
  };
  auth_->set_referral_hooks(std::move(hooks));
}

// Share links: the click stream (started by serve) and signup attribution.
void App::build_links() {
  clicks_ = std::make_unique<links::ClickStream>(*database_, config_.click_flush_interval_ms, kClickBufferLimit);
  links_ = std::make_unique<links::LinkService>(config_, *database_, *referrals_, *clicks_, secrets_.jwt_secret);
  auth::AttributionHooks hooks;
  hooks.read_cookie = [this](const std::string& cookie) -> std::optional<auth::Attribution> {
    const auto claim = links_->read_cookie(cookie);
    if (!claim) return std::nullopt;
    return auth::Attribution{claim->code, claim->click_id, true};
  };
  hooks.record = [this](soci::session& sql, const std::string& user_id, const auth::Attribution& attribution) {
    links_->record_signup(sql, user_id, attribution.code, attribution.click_id, attribution.from_cookie);
  };
  auth_->set_attribution_hooks(std::move(hooks));
}

// Webhooks: the service behind the routes and the delivery thread (started
// by serve), fed by the event spine.
void App::build_webhooks() {
  webhooks_ = std::make_unique<webhook::WebhookService>(config_, *database_, secrets_.jwt_secret,
                                                        webhook::system_resolver);
  webhook_dispatcher_ = std::make_unique<webhook::Dispatcher>(config_, *database_, *webhooks_, webhook_feed());
  webhooks_->set_wake([this] { webhook_dispatcher_->wake(); });
}

// PostgreSQL: live sessions in memory, invalidated through LISTEN/NOTIFY by
// migration 0017's triggers. SQLite reads the row on every request: another
// process on the same file could end a session without this one hearing.
void App::build_session_cache() {
  if (database_->engine() != db::Engine::postgresql || config_.session_cache_size == 0 ||
      config_.database_listen_url == "off") {
    return;
  }
  session_cache_ = std::make_unique<auth::SessionCache>(auth::SessionCache::Limits{
      static_cast<std::size_t>(config_.session_cache_size), config_.session_cache_ttl_ms});
  auto& cache = *session_cache_;
  db::NotificationListener::Options options{
      config_.database_listen_url.empty() ? config_.database_url : config_.database_listen_url,
      auth::kSessionChannel, "referrald-listener-" + std::to_string(::getpid())};
  db::NotificationListener::Feed feed{
      [&cache](const std::string& message) { cache.invalidate(message); },
      [&cache](long long fresh_until) { cache.confirm_fresh(fresh_until); },
      [&cache] { cache.lost(); }};
  session_listener_ =
      std::make_unique<db::NotificationListener>(std::move(options), std::move(feed));
  auth_->set_session_cache(session_cache_.get());
  user_admin_->set_session_cache(session_cache_.get());
  auth::add_session_cache_metrics(cache);
}

void App::build_routes() {
  ops::add_routes(router_, *database_, config_.metrics_token);
  auth::add_routes(router_, *auth_, config_, *ip_limiter_);
  apikey::add_routes(router_, *api_keys_, {*api_key_limiter_, *ip_limiter_});
  referral::add_routes(router_, *referrals_, *idempotency_);
  reward::add_routes(router_, *rewards_, *idempotency_);
  ledger::add_routes(router_, *ledger_);
  reward::add_milestone_routes(router_, *milestones_);
  analytics::add_routes(router_, *analytics_);
  auth::add_user_admin_routes(router_, *user_admin_);
  webapp::add_routes(router_, web_assets_);
  links::add_routes(router_, *links_, *clicks_, config_.public_url.starts_with("https://"));
  webhook::add_routes(router_, *webhooks_);
}

int App::migrate() {
  wait_for_database(*database_);
  const int applied = migrate_database(*database_);
  core::log::info("migrations applied: " + std::to_string(applied));
  return 0;
}

const http::Router& App::build_in_process() {
  build(true);
  return router_;
}

int App::print_routes() {
  build(false);
  for (const auto& route : router_.routes()) {
    std::cout << route.method << ' ' << route.pattern << (route.is_alias ? " alias-of " + route.name : "")
              << '\n';
  }
  return 0;
}

int App::create_admin(const std::string& email, const std::string& name, const std::string& password) {
  build(true);
  try {
    switch (auth_->create_admin(email, name, password)) {
      case auth::AdminCreation::created:
        std::cout << "created admin " << email << '\n';
        break;
      case auth::AdminCreation::promoted:
        std::cout << "promoted existing account to admin: " << email << '\n';
        break;
      case auth::AdminCreation::replaced_unverified:
        std::cout << "replaced the unverified account " << email
                  << " (its password, sessions, codes and pending referral are gone) with a "
                     "verified admin\n";
        break;
    }
    return 0;
  } catch (const core::ApiError& error) {
    return report(error);
  }
}

int App::set_admin(const std::string& email, bool is_admin) {
  build(true);
  try {
    auth_->set_admin(email, is_admin);
    std::cout << (is_admin ? "promoted " : "demoted ") << email << '\n';
    return 0;
  } catch (const core::ApiError& error) {
    return report(error);
  }
}

// Prints the key alone on standard output (it is shown only now), so a
// script can capture it: KEY=$(referrald api-keys create ...).
int App::create_api_key(const std::string& name, const std::vector<std::string>& scopes) {
  build(true);
  try {
    const auto created = api_keys_->create({name, scopes}, "cli");
    std::cerr << "created API key " << created.key.id << " (" << created.key.prefix
              << "...); store it now, it is not shown again\n";
    std::cout << created.secret << '\n';
    return 0;
  } catch (const core::ApiError& error) {
    return report(error);
  }
}

// Reads only: an operator may run it against a live server's database.
int App::ledger_verify() {
  wait_for_database(*database_);
  const auto verdict = ledger::LedgerService(*database_).verify();
  if (verdict.ok) {
    std::cout << "ok " << verdict.seq << ' ' << verdict.hash << '\n';
    return 0;
  }
  std::cout << "broken " << verdict.seq << ": " << verdict.problem << '\n';
  return 1;
}

// Needs only the migrated database: no secrets, mail or routes.
int App::import_mongo(const std::string& dir) {
  wait_for_database(*database_);
  migrate_database(*database_);
  const auto started = std::chrono::steady_clock::now();
  try {
    const auto report = importer::ImporterService(*database_, config_.referral_strip_plus_tags).import_dir(dir);
    importer::write_report(std::cout, report, 200);
  } catch (const importer::ImportError& error) {
    std::cerr << "referrald: import-mongo: " << error.what() << "\nreferrald: nothing was imported\n";
    return 1;
  }
  const auto elapsed = std::chrono::steady_clock::now() - started;
  std::cout << "done in " << std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count() << " ms\n";
  return 0;
}

}  // namespace app
