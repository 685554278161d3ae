#pragma once
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "webhook/address_guard.hpp"

// Outbound HTTP POSTs on libcurl's multi interface, driven by one thread
// (the dispatcher's): TLS verified, no redirects, no proxy, a whole-transfer
// timeout, at most kMaxResponseBytes of a response read, and the connection
// made to the address the SSRF guard checked (no second DNS lookup).
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

  void start(const OutgoingRequest& request);
  // Moves the transfers on for at most `wait` (less when one finishes or
  // wake() is called) and returns those that finished.
  std::vector<Completion> perform(std::chrono::milliseconds wait);
  // Thread-safe: cuts a perform() wait short.
  void wake();
  // Abandons every transfer in progress; returns their tags.
  std::vector<std::uint64_t> abandon_all();
  std::size_t in_flight() const { return transfers_.size(); }

 private:
  struct Transfer;
  static std::size_t read_response(char* data, std::size_t size, std::size_t count, void* transfer);

  void* multi_;  // CURLM*
  std::int64_t timeout_ms_;
  bool allow_http_;
  std::map<void*, std::unique_ptr<Transfer>> transfers_;  // by CURL*
};

}  // namespace webhook
