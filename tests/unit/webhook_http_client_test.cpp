#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "webhook/http_client.hpp"

// webhook::HttpClient against a small keep-alive HTTP/1.1 server on
// loopback: answers, connection reuse, the timeout and wake().
namespace {

using namespace std::chrono_literals;

// Answers every request on a connection with 200, keeping it open, unless
// `hang` is set (then it reads and never answers).
class LoopbackServer {
 public:
  explicit LoopbackServer(bool hang = false) : hang_(hang) {
    listener_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address);
    listen(listener_, 128);
    socklen_t length = sizeof address;
    getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    acceptor_ = std::thread([this] { accept_all(); });
  }

  ~LoopbackServer() {
    shutdown(listener_, SHUT_RDWR);
    close(listener_);
    acceptor_.join();
    std::lock_guard lock(mutex_);
    for (const int connection : connections_) shutdown(connection, SHUT_RDWR);
    for (auto& thread : threads_) thread.join();
    for (const int connection : connections_) close(connection);
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hook"; }
  int port() const { return port_; }
  int accepted() const { return accepted_; }

 private:
  void accept_all() {
    for (;;) {
      const int connection = accept(listener_, nullptr, nullptr);
      if (connection < 0) return;
      ++accepted_;
      std::lock_guard lock(mutex_);
      connections_.push_back(connection);
      threads_.emplace_back([this, connection] { serve(connection); });
    }
  }

  // One request per "\r\n\r\n" plus its Content-Length body.
  void serve(int connection) const {
    std::string buffer;
    char chunk[4096];
    for (;;) {
      const auto end = buffer.find("\r\n\r\n");
      if (end != std::string::npos) {
        const auto length_at = buffer.find("Content-Length: ");
        const auto body = length_at < end ? std::stoul(buffer.substr(length_at + 16)) : 0;
        if (buffer.size() >= end + 4 + body) {
          buffer.erase(0, end + 4 + body);
          if (hang_) continue;
          const std::string answer = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
          if (send(connection, answer.data(), answer.size(), MSG_NOSIGNAL) < 0) return;
          continue;
        }
      }
      const auto got = recv(connection, chunk, sizeof chunk, 0);
      if (got <= 0) return;
      buffer.append(chunk, static_cast<std::size_t>(got));
    }
  }

  bool hang_;
  int listener_ = -1;
  int port_ = 0;
  std::atomic<int> accepted_{0};
  std::thread acceptor_;
  std::mutex mutex_;
  std::vector<int> connections_;
  std::vector<std::thread> threads_;
};

webhook::OutgoingRequest post(const std::string& url, std::uint64_t tag) {
  webhook::OutgoingRequest request;
  request.tag = tag;
  request.url = url;
  request.target.host_is_address = true;
  request.headers = {"Content-Type: application/json", "Expect:"};
  request.body = R"({"n":)" + std::to_string(tag) + "}";
  return request;
}

std::vector<webhook::Completion> run_until(webhook::HttpClient& client, std::size_t count,
                                           std::chrono::milliseconds limit = 10s) {
  std::vector<webhook::Completion> done;
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (done.size() < count && std::chrono::steady_clock::now() < deadline) {
    for (auto& completion : client.perform(100ms)) done.push_back(std::move(completion));
  }
  return done;
}

// Eighty at once spread over three shards (kTransfersPerShard): each
// shard's connections stay open for the next round's transfers.
TEST(WebhookHttpClient, AnswersComeBackAndConnectionsAreReused) {
  LoopbackServer server;
  webhook::HttpClient client(5000, true);
  constexpr int kInFlight = 80;
  static_assert(static_cast<std::size_t>(kInFlight) > 2 * webhook::HttpClient::kTransfersPerShard);
  for (int round = 0; round < 3; ++round) {
    for (int n = 0; n < kInFlight; ++n)
      client.start(post(server.url(), static_cast<std::uint64_t>(round * kInFlight + n + 1)));
    const auto done = run_until(client, kInFlight);
    ASSERT_EQ(done.size(), static_cast<std::size_t>(kInFlight));
    for (const auto& completion : done) {
      EXPECT_EQ(completion.status_code, 200) << completion.error;
      EXPECT_TRUE(completion.error.empty());
    }
    EXPECT_EQ(client.in_flight(), 0U);
  }
  // 240 requests, at most 80 at once: the later rounds reuse the first one's connections.
  EXPECT_LE(client.connections_opened(), kInFlight);
  EXPECT_EQ(server.accepted(), client.connections_opened());
}

TEST(WebhookHttpClient, AnUnansweredRequestEndsAtTheTimeout) {
  LoopbackServer server(/*hang=*/true);
  webhook::HttpClient client(300, true);
  const auto started = std::chrono::steady_clock::now();
  client.start(post(server.url(), 7));
  const auto done = run_until(client, 1, 5s);
  ASSERT_EQ(done.size(), 1U);
  EXPECT_EQ(done[0].tag, 7U);
  EXPECT_EQ(done[0].status_code, 0);
  EXPECT_FALSE(done[0].error.empty());
  EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);
}

// Easy handles are reused: what one attempt set (a pinned address, a
// timeout's state) must not leak into the next.
// Each shard keeps its own timer: attempts on every shard of a hanging
// origin end at the timeout, and another origin's answers still come back.
TEST(WebhookHttpClient, TheTimeoutEndsAttemptsOnEveryShard) {
  LoopbackServer hanging(/*hang=*/true);
  LoopbackServer answering;
  webhook::HttpClient client(300, true);
  constexpr std::uint64_t kHanging = 3 * webhook::HttpClient::kTransfersPerShard;
  for (std::uint64_t tag = 1; tag <= kHanging; ++tag) client.start(post(hanging.url(), tag));
  client.start(post(answering.url(), kHanging + 1));
  const auto started = std::chrono::steady_clock::now();
  const auto done = run_until(client, kHanging + 1, 5s);
  ASSERT_EQ(done.size(), kHanging + 1);
  for (const auto& completion : done) {
    if (completion.tag == kHanging + 1)
      EXPECT_EQ(completion.status_code, 200) << completion.error;
    else
      EXPECT_EQ(completion.status_code, 0) << "tag " << completion.tag;
  }
  EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);
  EXPECT_EQ(client.in_flight(), 0U);
}

TEST(WebhookHttpClient, ReusedHandlesCarryNothingOfTheirLastAttempt) {
  LoopbackServer hanging(/*hang=*/true);
  LoopbackServer answering;
  webhook::HttpClient client(300, true);
  client.start(post(hanging.url(), 1));
  ASSERT_EQ(run_until(client, 1, 5s).at(0).status_code, 0);

  // A name no resolver knows, pinned to the checked address.
  auto pinned = post("http://hook.invalid:" + std::to_string(answering.port()) + "/hook", 2);
  pinned.target = {"hook.invalid", answering.port(), "127.0.0.1", false};
  client.start(pinned);
  const auto by_name = run_until(client, 1, 5s);
  ASSERT_EQ(by_name.size(), 1U);
  EXPECT_EQ(by_name[0].status_code, 200) << by_name[0].error;

  client.start(post(answering.url(), 3));
  const auto by_address = run_until(client, 1, 5s);
  ASSERT_EQ(by_address.size(), 1U);
  EXPECT_EQ(by_address[0].status_code, 200) << by_address[0].error;
}

TEST(WebhookHttpClient, WakeCutsAWaitShort) {
  webhook::HttpClient client(5000, true);
  std::thread waker([&client] {
    std::this_thread::sleep_for(50ms);
    client.wake();
  });
  const auto started = std::chrono::steady_clock::now();
  EXPECT_TRUE(client.perform(5000ms).empty());
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
  waker.join();
}

}  // namespace
