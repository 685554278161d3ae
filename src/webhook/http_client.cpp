#include "webhook/http_client.hpp"

#include <curl/curl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <stdexcept>

#include "core/curl_global.hpp"

namespace webhook {

// One attempt; its easy handle goes back to the pool when it ends.
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

struct HttpClient::Callbacks {
  // Reads the response up to the limit, then stops the transfer: a receiver
  // cannot make the dispatcher download an endless body.
  static std::size_t read_response(char*, std::size_t size, std::size_t count, void* user) {
    auto& transfer = *static_cast<Transfer*>(user);
    transfer.received += size * count;
    if (transfer.received > kMaxResponseBytes) {
      transfer.truncated = true;
      return 0;
    }
    return size * count;
  }

  // curl says which sockets to watch for what; the epoll set follows.
  static int watch_socket(CURL*, curl_socket_t socket, int what, void* user, void*) {
    auto& client = *static_cast<HttpClient*>(user);
    if (what == CURL_POLL_REMOVE) {
      epoll_ctl(client.epoll_, EPOLL_CTL_DEL, socket, nullptr);  // curl may have closed it already
      return 0;
    }
    epoll_event event{};
    event.events = (what & CURL_POLL_IN ? EPOLLIN : 0U) | (what & CURL_POLL_OUT ? EPOLLOUT : 0U);
    event.data.fd = socket;
    if (epoll_ctl(client.epoll_, EPOLL_CTL_MOD, socket, &event) != 0 && errno == ENOENT)
      epoll_ctl(client.epoll_, EPOLL_CTL_ADD, socket, &event);
    return 0;
  }

  static int set_timer(CURLM*, long timeout_ms, void* user) {
    auto& client = *static_cast<HttpClient*>(user);
    if (timeout_ms < 0)
      client.timer_.reset();
    else
      client.timer_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    return 0;
  }

  static int count_connection(void* user, curl_socket_t, curlsocktype purpose) {
    if (purpose == CURLSOCKTYPE_IPCXN) ++static_cast<HttpClient*>(user)->connections_opened_;
    return CURL_SOCKOPT_OK;
  }
};

HttpClient::HttpClient(std::int64_t timeout_ms, bool allow_http)
    : multi_(nullptr), timeout_ms_(timeout_ms), allow_http_(allow_http) {
  core::init_curl_once();
  epoll_ = epoll_create1(EPOLL_CLOEXEC);
  wake_event_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  multi_ = curl_multi_init();
  if (epoll_ < 0 || wake_event_ < 0 || multi_ == nullptr)
    throw std::runtime_error("the webhook HTTP client cannot start (epoll, eventfd or curl)");
  epoll_event wake_event{};
  wake_event.events = EPOLLIN;
  wake_event.data.fd = wake_event_;
  epoll_ctl(epoll_, EPOLL_CTL_ADD, wake_event_, &wake_event);
  curl_multi_setopt(multi(multi_), CURLMOPT_SOCKETFUNCTION, Callbacks::watch_socket);
  curl_multi_setopt(multi(multi_), CURLMOPT_SOCKETDATA, this);
  curl_multi_setopt(multi(multi_), CURLMOPT_TIMERFUNCTION, Callbacks::set_timer);
  curl_multi_setopt(multi(multi_), CURLMOPT_TIMERDATA, this);
}

HttpClient::~HttpClient() {
  abandon_all();
  for (void* easy : idle_handles_) curl_easy_cleanup(static_cast<CURL*>(easy));
  curl_multi_cleanup(multi(multi_));
  close(wake_event_);
  close(epoll_);
}

// An easy handle with the options every attempt shares. Handles are kept
// and reused: a new one costs a large zeroed allocation and its buffers, and
// freeing them again, for every attempt (perf: malloc and free were ~15 % of
// the dispatcher thread).
void* HttpClient::take_handle() {
  if (!idle_handles_.empty()) {
    void* easy = idle_handles_.back();
    idle_handles_.pop_back();
    return easy;
  }
  CURL* easy = curl_easy_init();
  if (easy == nullptr) throw std::runtime_error("curl_easy_init failed");
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, allow_http_ ? "http,https" : "https");
  curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(easy, CURLOPT_PROXY,
                   "");  // an http_proxy in the environment would connect elsewhere
  curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_ms_));
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, Callbacks::read_response);
  curl_easy_setopt(easy, CURLOPT_SOCKOPTFUNCTION, Callbacks::count_connection);
  curl_easy_setopt(easy, CURLOPT_SOCKOPTDATA, this);
  curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
  return easy;
}

void HttpClient::start(OutgoingRequest request) {
  auto transfer = std::make_unique<Transfer>();
  transfer->tag = request.tag;
  transfer->body = std::move(request.body);
  for (const auto& header : request.headers)
    transfer->headers = curl_slist_append(transfer->headers, header.c_str());
  if (!request.target.host_is_address) {
    // The guard resolved and checked the host: pin the connection to that
    // address so curl does not look the name up again (DNS rebinding).
    transfer->resolve = curl_slist_append(nullptr, resolve_entry(request.target).c_str());
  }
  CURL* easy = take_handle();
  transfer->easy = easy;
  curl_easy_setopt(easy, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, transfer->headers);
  curl_easy_setopt(easy, CURLOPT_POSTFIELDS, transfer->body.c_str());
  curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE,
                   static_cast<curl_off_t>(transfer->body.size()));
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, transfer.get());
  curl_easy_setopt(easy, CURLOPT_RESOLVE, transfer->resolve);
  // HTTP/2 where TLS offers it (ALPN); then wait for a connection being set
  // up to the same host rather than open one more, to multiplex on it.
  curl_easy_setopt(easy, CURLOPT_PIPEWAIT, request.url.starts_with("https:") ? 1L : 0L);
  if (curl_multi_add_handle(multi(multi_), easy) != CURLM_OK) {
    idle_handles_.push_back(easy);
    throw std::runtime_error("curl_multi_add_handle failed");
  }
  transfers_.emplace(easy, std::move(transfer));
}

// Takes a finished or abandoned transfer off the multi handle; its easy
// handle waits in the pool for the next attempt.
void HttpClient::end(void* easy) {
  curl_multi_remove_handle(multi(multi_), static_cast<CURL*>(easy));
  idle_handles_.push_back(easy);
  transfers_.erase(easy);
}

std::vector<Completion> HttpClient::perform(std::chrono::milliseconds wait) {
  int running = 0;
  if (timer_ && *timer_ <= std::chrono::steady_clock::now()) {
    timer_.reset();
    curl_multi_socket_action(multi(multi_), CURL_SOCKET_TIMEOUT, 0, &running);
  }
  std::vector<Completion> done = finished();
  if (!done.empty()) wait = std::chrono::milliseconds(0);
  if (timer_) {
    const auto until_timer =
        std::chrono::ceil<std::chrono::milliseconds>(*timer_ - std::chrono::steady_clock::now());
    wait = std::clamp(until_timer, std::chrono::milliseconds(0), wait);
  }
  wait_for_sockets(wait);
  for (auto& completion : finished()) done.push_back(std::move(completion));
  return done;
}

// Waits up to `wait` for a socket (or wake()), and hands every ready socket
// to curl; returns how many were ready.
int HttpClient::wait_for_sockets(std::chrono::milliseconds wait) {
  std::array<epoll_event, 256> ready{};
  const int count = epoll_wait(epoll_, ready.data(), static_cast<int>(ready.size()),
                               static_cast<int>(wait.count()));
  for (int n = 0; n < count; ++n) {
    if (ready[n].data.fd == wake_event_) {
      std::uint64_t ignored = 0;
      [[maybe_unused]] const auto read_bytes = read(wake_event_, &ignored, sizeof ignored);
      continue;
    }
    act(ready[n].data.fd, static_cast<int>(ready[n].events));
  }
  return std::max(count, 0);
}

void HttpClient::act(int socket, int events) {
  int flags = 0;
  if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) flags |= CURL_CSELECT_IN;
  if (events & (EPOLLOUT | EPOLLERR)) flags |= CURL_CSELECT_OUT;
  if (events & EPOLLERR) flags |= CURL_CSELECT_ERR;
  int running = 0;
  curl_multi_socket_action(multi(multi_), socket, flags, &running);
}

std::vector<Completion> HttpClient::finished() {
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
    end(transfer.easy);
  }
  return done;
}

void HttpClient::keep_connections(long count) {
  if (count == kept_connections_) return;
  kept_connections_ = count;
  curl_multi_setopt(multi(multi_), CURLMOPT_MAXCONNECTS, count);
}

void HttpClient::wake() {
  const std::uint64_t one = 1;
  [[maybe_unused]] const auto written = write(wake_event_, &one, sizeof one);
}

std::vector<std::uint64_t> HttpClient::abandon_all() {
  std::vector<std::uint64_t> tags;
  while (!transfers_.empty()) {
    tags.push_back(transfers_.begin()->second->tag);
    end(transfers_.begin()->first);
  }
  return tags;
}

}  // namespace webhook
