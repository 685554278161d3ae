#include "app/app.hpp"

#include <iostream>
#include <thread>

#include "core/log.hpp"
#include "db/migrations.hpp"
#include "http/server.hpp"
#include "ops/ops_routes.hpp"

namespace app {

namespace {

int cores() { return std::max(1U, std::thread::hardware_concurrency()); }

http::ServerOptions server_options(const core::Config& config) {
  http::ServerOptions options;
  options.host = config.host;
  options.port = config.port;
  options.io_threads = config.io_threads > 0 ? config.io_threads : cores();
  options.db_threads = config.db_pool_size;
  options.cpu_threads = config.hash_threads > 0 ? config.hash_threads : cores();
  options.cpu_queue_limit = config.hash_queue_limit;
  options.max_body_bytes = config.max_body_bytes;
  options.max_header_bytes = config.max_header_bytes;
  options.read_timeout = std::chrono::milliseconds(config.read_timeout_ms);
  options.idle_timeout = std::chrono::milliseconds(config.idle_timeout_ms);
  options.shutdown_timeout = std::chrono::milliseconds(config.shutdown_timeout_ms);
  options.middleware = {config.cors_allowed_origins, config.trusted_proxies};
  return options;
}

db::Options database_options(const core::Config& config) {
  // Background workers (mail sender, sweeper) lease sessions too.
  constexpr int kBackgroundSessions = 2;
  return {config.database_url, config.db_pool_size + kBackgroundSessions, config.db_busy_timeout_ms,
          config.sqlite_synchronous};
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

}  // namespace

App::App(core::Config config)
    : config_(std::move(config)), database_(std::make_unique<db::Database>(database_options(config_))) {
  build_routes();
}

App::~App() = default;

void App::build_routes() { ops::add_routes(router_, *database_); }

int App::migrate() {
  wait_for_database(*database_);
  const int applied = db::migrate(*database_);
  core::log::info("migrations applied: " + std::to_string(applied));
  return 0;
}

int App::serve() {
  migrate();
  http::serve(server_options(config_), router_, [this](int port) {
    core::log::event("info", {{"msg", "listening"}, {"host", config_.host}, {"port", port},
                              {"database", database_->engine() == db::Engine::sqlite ? "sqlite" : "postgresql"}});
  });
  core::log::info("stopped");
  return 0;
}

int App::print_routes() {
  for (const auto& route : router_.routes()) {
    std::cout << route.method << ' ' << route.pattern << (route.is_alias ? " alias-of " + route.name : "")
              << '\n';
  }
  return 0;
}

}  // namespace app
