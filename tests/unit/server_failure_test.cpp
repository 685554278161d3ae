// http::serve when a handler throws what Router::run lets through (anything
// not derived from std::exception): the failure escapes the connection's
// detached coroutine. It must be logged with the request id, close only that
// connection, and leave the in-flight count right, so SIGTERM does not wait
// out SHUTDOWN_TIMEOUT for a request that is long gone.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <future>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>

#include "core/log.hpp"
#include "http/server.hpp"

namespace {

struct NotAStdException {};

http::Router throwing_router() {
  http::Router router;
  const auto throws = [](http::Request&) -> http::Response { throw NotAStdException{}; };
  router.add("GET", "/on-io", http::Access::anyone, http::Lane::io, throws);
  router.add("GET", "/on-db", http::Access::anyone, http::Lane::db, throws);
  return router;
}

// Sends one request and returns all the server sent before it closed.
std::string exchange(int port, const std::string& path, const std::string& request_id) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  const auto request =
      "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Request-Id: " + request_id + "\r\n\r\n";
  EXPECT_EQ(send(fd, request.data(), request.size(), 0), static_cast<ssize_t>(request.size()));
  std::string received;
  char chunk[4096];
  for (ssize_t n; (n = recv(fd, chunk, sizeof chunk, 0)) > 0;) received.append(chunk, n);
  close(fd);
  return received;
}

// Sends the log (std::cout) to a string for the scope's lifetime.
class CapturedLog {
 public:
  CapturedLog() : previous_(std::cout.rdbuf(text_.rdbuf())) {}
  ~CapturedLog() { std::cout.rdbuf(previous_); }
  std::string text() {
    core::log::flush();
    return text_.str();
  }

 private:
  std::ostringstream text_;
  std::streambuf* previous_;
};

bool has_line(const std::string& text, const std::string& first, const std::string& second) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.find(first) != std::string::npos && line.find(second) != std::string::npos)
      return true;
  }
  return false;
}

TEST(ServerFailure, AnEscapingExceptionIsLoggedAndLeavesNoRequestInFlight) {
  const auto router = throwing_router();
  http::ServerOptions options;
  options.port = 0;
  options.io_threads = 2;
  options.db_threads = 1;
  options.write_threads = 1;
  options.shutdown_timeout = std::chrono::seconds(5);
  CapturedLog log;
  std::promise<int> listening;
  std::thread server(
      [&] { http::serve(options, router, [&](int port) { listening.set_value(port); }); });
  const int port = listening.get_future().get();

  EXPECT_EQ(exchange(port, "/on-io", "failing-on-io"), "");
  EXPECT_EQ(exchange(port, "/on-db", "failing-on-db"), "");
  const auto stopping = std::chrono::steady_clock::now();
  std::raise(SIGTERM);  // the server's signal handler is installed once it listens
  server.join();

  EXPECT_LT(std::chrono::steady_clock::now() - stopping, std::chrono::seconds(2));
  const auto text = log.text();
  EXPECT_EQ(text.find("abandoning in-flight requests"), std::string::npos) << text;
  for (const char* request_id : {"failing-on-io", "failing-on-db"}) {
    EXPECT_TRUE(has_line(text, R"("msg":"connection failed")",
                         std::string(R"("request_id":")") + request_id + '"'))
        << text;
  }
}

}  // namespace
