#pragma once
#include <memory>
#include <string>

#include "analytics/analytics_service.hpp"
#include "apikey/api_key_service.hpp"
#include "auth/auth_service.hpp"
#include "auth/user_admin_service.hpp"
#include "core/config.hpp"
#include "core/rate_limiter.hpp"
#include "db/database.hpp"
#include "db/notification_listener.hpp"
#include "http/router.hpp"
#include "http/server.hpp"
#include "idempotency/idempotency_service.hpp"
#include "ledger/ledger_service.hpp"
#include "link/click_stream.hpp"
#include "link/link_service.hpp"
#include "mail/mail_sender.hpp"
#include "mail/outbox.hpp"
#include "referral/referral_service.hpp"
#include "reward/hold_timer.hpp"
#include "reward/milestone_service.hpp"
#include "reward/reward_service.hpp"
#include "webapp/webapp_assets.hpp"
#include "webhook/dispatcher.hpp"
#include "webhook/webhook_service.hpp"

namespace app {

class Sweeper;

// The composition root: builds the database, the services and the routes
// from one Config, and runs the commands of the command line.
class App {
 public:
  explicit App(core::Config config);
  ~App();

  int serve();  // app/serve.cpp
  // Everything `serve` builds (the database migrated, services, routes),
  // without the listener and the background workers: for serving requests
  // in process (fuzz/request_fuzz.cpp).
  const http::Router& build_in_process();
  int migrate();
  int print_routes();
  int create_admin(const std::string& email, const std::string& name, const std::string& password);
  int set_admin(const std::string& email, bool is_admin);
  int import_mongo(const std::string& dir);
  int create_api_key(const std::string& name, const std::vector<std::string>& scopes);
  // `ledger verify`: 0 and "ok <seq> <hash>", or 1 and "broken <seq>: <problem>".
  int ledger_verify();

 private:
  // Services need the server secret, which may live in the database: open
  // it (migrating first) unless only the route table is wanted.
  void build(bool with_database);
  http::ServerOptions server_options() const;
  void resolve_secrets();
  void build_routes();
  void connect_signup_codes();
  void build_links();
  void build_webhooks();
  void build_session_cache();

  core::Config config_;
  std::unique_ptr<db::Database> database_;
  std::unique_ptr<db::Database> read_database_;  // DATABASE_READ_URL, when set
  auth::Secrets secrets_;
  std::unique_ptr<mail::Outbox> outbox_;
  std::unique_ptr<mail::Sender> mail_sender_;
  std::unique_ptr<core::RateLimiter> ip_limiter_;
  std::unique_ptr<core::RateLimiter> api_key_limiter_;
  std::unique_ptr<apikey::ApiKeyService> api_keys_;
  std::unique_ptr<auth::AuthService> auth_;
  std::unique_ptr<auth::UserAdminService> user_admin_;
  std::unique_ptr<idempotency::IdempotencyService> idempotency_;
  std::unique_ptr<reward::RewardService> rewards_;
  std::unique_ptr<ledger::LedgerService> ledger_;
  std::unique_ptr<reward::MilestoneService> milestones_;
  std::unique_ptr<reward::HoldTimer> hold_timer_;
  std::unique_ptr<referral::ReferralService> referrals_;
  std::unique_ptr<analytics::AnalyticsService> analytics_;
  std::unique_ptr<links::ClickStream> clicks_;
  std::unique_ptr<links::LinkService> links_;
  std::unique_ptr<Sweeper> sweeper_;
  std::unique_ptr<webhook::WebhookService> webhooks_;
  std::unique_ptr<webhook::Dispatcher> webhook_dispatcher_;
  std::unique_ptr<auth::SessionCache> session_cache_;           // PostgreSQL only
  std::unique_ptr<db::NotificationListener> session_listener_;  // feeds it; stopped first
  webapp::WebAssets web_assets_;
  http::Router router_;
};

}  // namespace app
