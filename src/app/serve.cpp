// `referrald serve`: the one App command that listens. Apart from app.cpp so
// that in-process builds (the request fuzz target) need neither this nor
// the Asio server it starts.
#include "app/app.hpp"
#include "app/sweeper.hpp"
#include "core/ip_network.hpp"
#include "core/log.hpp"

namespace app {

namespace {

// The console and file backends are for development: they put one-time
// codes in the log or in files on this machine. Listening beyond loopback
// with them looks like a deployment that forgot EMAIL_BACKEND=smtp, where
// anyone who reads the log can take over accounts.
void warn_if_mail_stays_local(const core::Config& config) {
  if (config.email_backend == core::EmailBackend::smtp || core::is_loopback_host(config.host)) {
    return;
  }
  const bool console = config.email_backend == core::EmailBackend::console;
  core::log::event(
      "warn",
      {{"msg", "EMAIL_BACKEND is " + std::string(console ? "console" : "file") +
                   ": one-time codes go to " + (console ? "the log" : "files in EMAIL_FILE_PATH") +
                   ", not to users, while HOST is not loopback; set EMAIL_BACKEND=smtp "
                   "for a deployment"},
       {"email_backend", console ? "console" : "file"},
       {"host", config.host}});
}

}  // namespace

int App::serve() {
  build(true);
  warn_if_mail_stays_local(config_);
  mail_sender_->start();
  sweeper_->start();
  clicks_->start();
  webhook_dispatcher_->start();
  hold_timer_->start();
  if (session_listener_) session_listener_->start();
  http::serve(server_options(), router_, [this](int port) {
    core::log::event("info", {{"msg", "listening"}, {"host", config_.host}, {"port", port},
                              {"database", database_->engine() == db::Engine::sqlite ? "sqlite" : "postgresql"}});
    core::log::flush();
  });
  webhook_dispatcher_->stop();
  hold_timer_->stop();
  clicks_->stop();  // writes the clicks still buffered (SIGTERM)
  if (session_listener_) session_listener_->stop();
  sweeper_->stop();
  mail_sender_->stop();
  core::log::info("stopped");
  core::log::flush();
  return 0;
}

}  // namespace app
