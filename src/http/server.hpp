#pragma once
#include <chrono>
#include <functional>
#include <string>

#include "http/middleware.hpp"
#include "http/router.hpp"

namespace http {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8000;
  int io_threads = 1;
  int db_threads = 8;
  int write_threads = 8;
  int cpu_threads = 1;
  int cpu_queue_limit = 256;
  std::size_t max_body_bytes = 64 * 1024;
  std::size_t max_header_bytes = 8 * 1024;
  std::chrono::milliseconds read_timeout{15000};
  std::chrono::milliseconds idle_timeout{60000};
  std::chrono::milliseconds shutdown_timeout{10000};
  MiddlewareConfig middleware;
  // PostgreSQL: each io thread sends the reads of routes with a ReadPlanner
  // on its own pipelined connection to this database; empty: off.
  std::string pipelined_reads_url;
};

// Listens and serves until SIGTERM or SIGINT, then stops accepting, lets
// in-flight requests finish (up to shutdown_timeout) and returns.
// `on_listening` receives the bound port (useful with port 0).
void serve(const ServerOptions& options, const Router& router,
           const std::function<void(int port)>& on_listening);

}  // namespace http
