#include "webhook/http_client.hpp"

#include <curl/curl.h>

#include <stdexcept>

#include "core/curl_global.hpp"

namespace webhook {

struct HttpClient::Transfer {
  std::uint64_t tag = 0;
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  curl_slist* resolve = nullptr;
  std::string body;
  std::size_t received = 0;
  bool truncated = false;

  ~Transfer() {
    curl_slist_free_all(headers);
    curl_slist_free_all(resolve);
    curl_easy_cleanup(easy);
  }
};

namespace {

// "host:port:address" for CURLOPT_RESOLVE (IPv6 addresses in brackets).
std::string resolve_entry(const Target& target) {
  const bool ipv6 = target.address.find(':') != std::string::npos;
  return target.host + ":" + std::to_string(target.port) + ":" +
         (ipv6 ? "[" + target.address + "]" : target.address);
}

CURLM* multi(void* handle) {
  return static_cast<CURLM*>(handle);
}

}  // namespace

// Reads the response up to the limit, then stops the transfer: a receiver
// cannot make the dispatcher download an endless body.
std::size_t HttpClient::read_response(char*, std::size_t size, std::size_t count, void* user) {
  auto& transfer = *static_cast<Transfer*>(user);
  transfer.received += size * count;
  if (transfer.received > kMaxResponseBytes) {
    transfer.truncated = true;
    return 0;
  }
  return size * count;
}

HttpClient::HttpClient(std::int64_t timeout_ms, bool allow_http)
    : multi_(nullptr), timeout_ms_(timeout_ms), allow_http_(allow_http) {
  core::init_curl_once();
  multi_ = curl_multi_init();
  if (multi_ == nullptr) throw std::runtime_error("curl_multi_init failed");
}

HttpClient::~HttpClient() {
  abandon_all();
  curl_multi_cleanup(multi(multi_));
}

void HttpClient::start(const OutgoingRequest& request) {
  auto transfer = std::make_unique<Transfer>();
  transfer->tag = request.tag;
  transfer->body = request.body;
  transfer->easy = curl_easy_init();
  if (transfer->easy == nullptr) throw std::runtime_error("curl_easy_init failed");
  for (const auto& header : request.headers)
    transfer->headers = curl_slist_append(transfer->headers, header.c_str());
  CURL* easy = transfer->easy;
  curl_easy_setopt(easy, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, allow_http_ ? "http,https" : "https");
  curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(easy, CURLOPT_PROXY,
                   "");  // an http_proxy in the environment would connect elsewhere
  curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_ms_));
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, transfer->headers);
  curl_easy_setopt(easy, CURLOPT_POSTFIELDS, transfer->body.c_str());
  curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE,
                   static_cast<curl_off_t>(transfer->body.size()));
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, read_response);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, transfer.get());
  if (!request.target.host_is_address) {
    // The guard resolved and checked the host: pin the connection to that
    // address so curl does not look the name up again (DNS rebinding).
    transfer->resolve = curl_slist_append(nullptr, resolve_entry(request.target).c_str());
    curl_easy_setopt(easy, CURLOPT_RESOLVE, transfer->resolve);
  }
  if (curl_multi_add_handle(multi(multi_), easy) != CURLM_OK)
    throw std::runtime_error("curl_multi_add_handle failed");
  transfers_.emplace(easy, std::move(transfer));
}

std::vector<Completion> HttpClient::perform(std::chrono::milliseconds wait) {
  int running = 0;
  curl_multi_perform(multi(multi_), &running);
  curl_multi_poll(multi(multi_), nullptr, 0, static_cast<int>(wait.count()), nullptr);
  curl_multi_perform(multi(multi_), &running);
  std::vector<Completion> done;
  int queued = 0;
  while (CURLMsg* message = curl_multi_info_read(multi(multi_), &queued)) {
    if (message->msg != CURLMSG_DONE) continue;
    const auto it = transfers_.find(message->easy_handle);
    if (it == transfers_.end()) continue;
    auto& transfer = *it->second;
    long status = 0;
    curl_easy_getinfo(transfer.easy, CURLINFO_RESPONSE_CODE, &status);
    const CURLcode result = message->data.result;
    const bool answered = result == CURLE_OK || (result == CURLE_WRITE_ERROR && transfer.truncated);
    Completion completion{transfer.tag, answered ? static_cast<int>(status) : 0, ""};
    if (!answered) completion.error = curl_easy_strerror(result);
    done.push_back(std::move(completion));
    curl_multi_remove_handle(multi(multi_), transfer.easy);
    transfers_.erase(it);
  }
  return done;
}

void HttpClient::wake() {
  curl_multi_wakeup(multi(multi_));
}

std::vector<std::uint64_t> HttpClient::abandon_all() {
  std::vector<std::uint64_t> tags;
  for (auto& [easy, transfer] : transfers_) {
    curl_multi_remove_handle(multi(multi_), static_cast<CURL*>(easy));
    tags.push_back(transfer->tag);
  }
  transfers_.clear();
  return tags;
}

}  // namespace webhook
