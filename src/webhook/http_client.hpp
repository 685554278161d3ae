#pragma once
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "webhook/address_guard.hpp"

// Outbound HTTP POSTs on libcurl's multi interface, driven by one thread
// (the dispatcher's): TLS verified, no redirects, no proxy, a whole-transfer
// timeout, at most kMaxResponseBytes of a response read, and the connection
// made to the address the SSRF guard checked (no second DNS lookup).
//
// Driven by curl_multi_socket_action on an epoll set: each wake-up works on
// the sockets that are ready only, where curl_multi_perform visits every
// transfer in flight (up to WEBHOOK_MAX_IN_FLIGHT per endpoint). At three
// endpoints of 256 the two cost the same per delivery (docs/PERFORMANCE.md,
// Webhooks: libcurl's per-transfer work dominates); this one does not grow
// with the number in flight.
// Connections are kept alive in the multi handle's cache and reused; an
// https endpoint that offers HTTP/2 (ALPN) gets its attempts multiplexed on
// one connection, an HTTP/1.1 one gets one connection per attempt in flight.
namespace webhook {

struct OutgoingRequest {
  std::uint64_t tag = 0;  // the caller's handle for the completion
  std::string url;
  Target target;
  std::vector<std::string> headers;  // "name: value"
  std::string body;
};

struct Completion {
  std::uint64_t tag = 0;
  int status_code = 0;  // 0: no HTTP answer (connect error, timeout, TLS)
  std::string error;    // empty when an HTTP answer came back
};

class HttpClient {
 public:
  static constexpr std::size_t kMaxResponseBytes = 4096;

  HttpClient(std::int64_t timeout_ms, bool allow_http);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  void start(OutgoingRequest request);
  // Moves the transfers on for at most `wait` (less when one finishes or
  // wake() is called) and returns those that finished.
  std::vector<Completion> perform(std::chrono::milliseconds wait);
  // Thread-safe: cuts a perform() wait short.
  void wake();
  // Abandons every transfer in progress; returns their tags.
  std::vector<std::uint64_t> abandon_all();
  std::size_t in_flight() const { return transfers_.size(); }
  // How many idle connections to keep open for reuse. libcurl's default,
  // four per transfer in flight, shrinks as the transfers end: a round's
  // answers arriving closed most of its connections, and the next round
  // connected again.
  void keep_connections(long count);
  // Connections opened so far (reused ones count once).
  long connections_opened() const { return connections_opened_; }

 private:
  struct Transfer;
  struct Callbacks;  // libcurl's, with its exact signatures (http_client.cpp)

  void* take_handle();  // CURL*
  void end(void* easy);
  int wait_for_sockets(std::chrono::milliseconds wait);
  void act(int socket, int events);
  std::vector<Completion> finished();

  void* multi_;  // CURLM*
  int epoll_ = -1;
  int wake_event_ = -1;  // an eventfd in the epoll set
  // When curl wants CURL_SOCKET_TIMEOUT handled; nullopt: no timer.
  std::optional<std::chrono::steady_clock::time_point> timer_;
  std::int64_t timeout_ms_;
  bool allow_http_;
  long connections_opened_ = 0;
  long kept_connections_ = -1;
  std::map<void*, std::unique_ptr<Transfer>> transfers_;  // by CURL*
  std::vector<void*> idle_handles_;                       // CURL*, ready for the next attempt
};

}  // namespace webhook
