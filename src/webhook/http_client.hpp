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
// Transfers run on shards of at most kTransfersPerShard each, one multi
// handle per shard, and a shard serves one origin (scheme, host, port):
// libcurl walks a multi handle's transfers and an origin's cached connections
// as transfers start and end, and at 768 in flight on one multi handle a
// request cost 41.7 µs of the client's CPU, on shards 35.3
// (bench/webhook_client_bench.py, docs/PERFORMANCE.md, Webhooks). Connections are
// kept alive in their shard's cache and reused; an https endpoint that offers
// HTTP/2 (ALPN) gets its attempts multiplexed on one connection per shard, an
// HTTP/1.1 one gets one connection per attempt in flight.
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
  static constexpr std::size_t kTransfersPerShard = 32;

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
  // Connections opened so far (reused ones count once).
  long connections_opened() const { return connections_opened_; }

 private:
  struct Transfer;
  struct Shard;
  struct Callbacks;  // libcurl's, with its exact signatures (http_client.cpp)

  void* take_handle();  // CURL*
  Shard& shard_for(const std::string& origin);
  void end(void* easy);
  void run_due_timers();
  std::chrono::milliseconds until_next_timer(std::chrono::milliseconds wait) const;
  int wait_for_sockets(std::chrono::milliseconds wait);
  void act(int socket, int events);
  std::vector<Completion> finished();
  void collect_finished(Shard& shard, std::vector<Completion>& done);
  void close_idle_shards();
  void close_shard(Shard& shard);

  int epoll_ = -1;
  int wake_event_ = -1;  // an eventfd in the epoll set
  std::int64_t timeout_ms_;
  bool allow_http_;
  long connections_opened_ = 0;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::map<int, Shard*> socket_shards_;  // the shard whose multi handle watches each socket
  std::chrono::steady_clock::time_point next_idle_sweep_;
  std::map<void*, std::unique_ptr<Transfer>> transfers_;  // by CURL*
  std::vector<void*> idle_handles_;                       // CURL*, ready for the next attempt
};

}  // namespace webhook
