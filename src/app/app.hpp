#pragma once
#include <memory>

#include "core/config.hpp"
#include "db/database.hpp"
#include "http/router.hpp"

namespace app {

// The composition root: builds the database, the services and the routes
// from one Config, and runs the commands of the command line.
class App {
 public:
  explicit App(core::Config config);
  ~App();

  int serve();
  int migrate();
  int print_routes();

  db::Database& database() { return *database_; }
  const core::Config& config() const { return config_; }

 private:
  void build_routes();

  core::Config config_;
  std::unique_ptr<db::Database> database_;
  http::Router router_;
};

}  // namespace app
