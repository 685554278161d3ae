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

// One origin's share of the transfers: a multi handle of its own, so
// libcurl's per-transfer walks stay short.
struct HttpClient::Shard {
  HttpClient* client = nullptr;
  std::string origin;
  void* multi = nullptr;  // CURLM*
  // When curl wants CURL_SOCKET_TIMEOUT handled; nullopt: no timer.
  std::optional<std::chrono::steady_clock::time_point> timer;
  std::size_t transfers = 0;
  std::chrono::steady_clock::time_point idle_since;
};

// One attempt; its easy handle goes back to the pool when it ends.
struct HttpClient::Transfer {
  std::uint64_t tag = 0;
  CURL* easy = nullptr;
  Shard* shard = nullptr;
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

// "https://host:port" of a URL: the part libcurl's connections are keyed by.
std::string origin_of(const std::string& url) {
  const auto authority = url.find("://");
  if (authority == std::string::npos) return url;
  return url.substr(0, url.find_first_of("/?#", authority + 3));
}

// A shard with no transfer left keeps its connections this long for the
// next attempts to its origin, then closes (an endpoint deleted or moved
// leaves no multi handle behind).
constexpr auto kIdleShardLifetime = std::chrono::minutes(2);

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
    auto& shard = *static_cast<Shard*>(user);
    auto& client = *shard.client;
    if (what == CURL_POLL_REMOVE) {
      epoll_ctl(client.epoll_, EPOLL_CTL_DEL, socket, nullptr);  // curl may have closed it already
      client.socket_shards_.erase(socket);
      return 0;
    }
    client.socket_shards_[socket] = &shard;
    epoll_event event{};
    event.events = (what & CURL_POLL_IN ? EPOLLIN : 0U) | (what & CURL_POLL_OUT ? EPOLLOUT : 0U);
    event.data.fd = socket;
    if (epoll_ctl(client.epoll_, EPOLL_CTL_MOD, socket, &event) != 0 && errno == ENOENT)
      epoll_ctl(client.epoll_, EPOLL_CTL_ADD, socket, &event);
    return 0;
  }

  static int set_timer(CURLM*, long timeout_ms, void* user) {
    auto& shard = *static_cast<Shard*>(user);
    if (timeout_ms < 0)
      shard.timer.reset();
    else
      shard.timer = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    return 0;
  }

  static int count_connection(void* user, curl_socket_t, curlsocktype purpose) {
    if (purpose == CURLSOCKTYPE_IPCXN) ++static_cast<HttpClient*>(user)->connections_opened_;
    return CURL_SOCKOPT_OK;
  }
};

HttpClient::HttpClient(std::int64_t timeout_ms, bool allow_http)
    : timeout_ms_(timeout_ms), allow_http_(allow_http) {
  core::init_curl_once();
  epoll_ = epoll_create1(EPOLL_CLOEXEC);
  wake_event_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epoll_ < 0 || wake_event_ < 0)
    throw std::runtime_error("the webhook HTTP client cannot start (epoll or eventfd)");
  epoll_event wake_event{};
  wake_event.events = EPOLLIN;
  wake_event.data.fd = wake_event_;
  epoll_ctl(epoll_, EPOLL_CTL_ADD, wake_event_, &wake_event);
}

HttpClient::~HttpClient() {
  abandon_all();
  for (void* easy : idle_handles_) curl_easy_cleanup(static_cast<CURL*>(easy));
  for (auto& shard : shards_) close_shard(*shard);
  close(wake_event_);
  close(epoll_);
}

// The first shard of the origin with room for one more transfer, or a new one.
HttpClient::Shard& HttpClient::shard_for(const std::string& origin) {
  for (auto& shard : shards_)
    if (shard->origin == origin && shard->transfers < kTransfersPerShard) return *shard;
  auto shard = std::make_unique<Shard>();
  shard->client = this;
  shard->origin = origin;
  shard->multi = curl_multi_init();
  if (shard->multi == nullptr) throw std::runtime_error("curl_multi_init failed");
  CURLM* handle = multi(shard->multi);
  curl_multi_setopt(handle, CURLMOPT_SOCKETFUNCTION, Callbacks::watch_socket);
  curl_multi_setopt(handle, CURLMOPT_SOCKETDATA, shard.get());
  curl_multi_setopt(handle, CURLMOPT_TIMERFUNCTION, Callbacks::set_timer);
  curl_multi_setopt(handle, CURLMOPT_TIMERDATA, shard.get());
  // One kept connection per slot. libcurl's default, four per transfer in
  // flight, shrinks as transfers end: a round's answers arriving closed most
  // of its connections, and the next round connected again.
  curl_multi_setopt(handle, CURLMOPT_MAXCONNECTS, static_cast<long>(kTransfersPerShard));
  shards_.push_back(std::move(shard));
  return *shards_.back();
}

void HttpClient::close_shard(Shard& shard) {
  curl_multi_cleanup(multi(shard.multi));
  std::erase_if(socket_shards_, [this, &shard](const auto& entry) {
    if (entry.second != &shard) return false;
    epoll_ctl(epoll_, EPOLL_CTL_DEL, entry.first, nullptr);
    return true;
  });
}

void HttpClient::close_idle_shards() {
  const auto now = std::chrono::steady_clock::now();
  if (now < next_idle_sweep_) return;
  next_idle_sweep_ = now + std::chrono::seconds(1);
  std::erase_if(shards_, [this, now](const std::unique_ptr<Shard>& shard) {
    if (shard->transfers > 0 || now - shard->idle_since < kIdleShardLifetime) return false;
    close_shard(*shard);
    return true;
  });
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
  Shard& shard = shard_for(origin_of(request.url));
  CURL* easy = take_handle();
  transfer->easy = easy;
  transfer->shard = &shard;
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
  if (curl_multi_add_handle(multi(shard.multi), easy) != CURLM_OK) {
    idle_handles_.push_back(easy);
    throw std::runtime_error("curl_multi_add_handle failed");
  }
  ++shard.transfers;
  transfers_.emplace(easy, std::move(transfer));
}

// Takes a finished or abandoned transfer off its shard; its easy handle
// waits in the pool for the next attempt.
void HttpClient::end(void* easy) {
  const auto it = transfers_.find(easy);
  Shard& shard = *it->second->shard;
  curl_multi_remove_handle(multi(shard.multi), static_cast<CURL*>(easy));
  if (--shard.transfers == 0) shard.idle_since = std::chrono::steady_clock::now();
  idle_handles_.push_back(easy);
  transfers_.erase(it);
}

std::vector<Completion> HttpClient::perform(std::chrono::milliseconds wait) {
  run_due_timers();
  std::vector<Completion> done = finished();
  if (!done.empty()) wait = std::chrono::milliseconds(0);
  wait_for_sockets(until_next_timer(wait));
  for (auto& completion : finished()) done.push_back(std::move(completion));
  close_idle_shards();
  return done;
}

void HttpClient::run_due_timers() {
  const auto now = std::chrono::steady_clock::now();
  for (auto& shard : shards_) {
    if (!shard->timer || *shard->timer > now) continue;
    shard->timer.reset();
    int running = 0;
    curl_multi_socket_action(multi(shard->multi), CURL_SOCKET_TIMEOUT, 0, &running);
  }
}

// `wait`, or less when a shard's timer comes first.
std::chrono::milliseconds HttpClient::until_next_timer(std::chrono::milliseconds wait) const {
  const auto now = std::chrono::steady_clock::now();
  for (const auto& shard : shards_) {
    if (!shard->timer) continue;
    const auto until_timer = std::chrono::ceil<std::chrono::milliseconds>(*shard->timer - now);
    wait = std::clamp(until_timer, std::chrono::milliseconds(0), wait);
  }
  return wait;
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
  const auto watched = socket_shards_.find(socket);
  if (watched == socket_shards_.end()) return;
  int flags = 0;
  if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) flags |= CURL_CSELECT_IN;
  if (events & (EPOLLOUT | EPOLLERR)) flags |= CURL_CSELECT_OUT;
  if (events & EPOLLERR) flags |= CURL_CSELECT_ERR;
  int running = 0;
  curl_multi_socket_action(multi(watched->second->multi), socket, flags, &running);
}

std::vector<Completion> HttpClient::finished() {
  std::vector<Completion> done;
  for (auto& shard : shards_) collect_finished(*shard, done);
  return done;
}

void HttpClient::collect_finished(Shard& shard, std::vector<Completion>& done) {
  int queued = 0;
  while (CURLMsg* message = curl_multi_info_read(multi(shard.multi), &queued)) {
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
