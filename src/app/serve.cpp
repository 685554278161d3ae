// `referrald serve`: the one App command that listens. Apart from app.cpp so
// that in-process builds (the request fuzz target) need neither this nor
// the Asio server it starts.
#include "app/app.hpp"
#include "app/sweeper.hpp"
#include "core/log.hpp"

namespace app {

int App::serve() {
  build(true);
  mail_sender_->start();
  sweeper_->start();
  http::serve(server_options(), router_, [this](int port) {
    core::log::event("info", {{"msg", "listening"}, {"host", config_.host}, {"port", port},
                              {"database", database_->engine() == db::Engine::sqlite ? "sqlite" : "postgresql"}});
    core::log::flush();
  });
  sweeper_->stop();
  mail_sender_->stop();
  core::log::info("stopped");
  core::log::flush();
  return 0;
}

}  // namespace app
