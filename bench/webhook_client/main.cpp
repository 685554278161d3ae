// What one webhook exchange costs the server's HTTP client alone: keeps
// PER_ENDPOINT POSTs of a 700-byte body (the size of a referral event) in
// flight to each receiver port through webhook::HttpClient, for SECONDS, and
// prints the process's CPU per answered request as one JSON line. No
// database, no signing: bench/webhook_client_bench.py drives it against
// bench/nginx_sink.py (docs/PERFORMANCE.md, Webhooks).
//
//   referrald-webhook-client-bench SECONDS PER_ENDPOINT PORT...
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "webhook/http_client.hpp"

namespace {

double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// The headers a signed delivery carries, with values of their real sizes.
webhook::OutgoingRequest delivery(std::uint64_t tag, int port, const std::string& body) {
  webhook::OutgoingRequest request;
  request.tag = tag;
  request.url = "http://127.0.0.1:" + std::to_string(port) + "/hook";
  request.target = {"127.0.0.1", port, "127.0.0.1", true};
  request.headers = {"Content-Type: application/json",
                     "webhook-id: evt_0192f3a4-5b6c-7d8e-9f01-23456789abcd",
                     "webhook-timestamp: 1764590000",
                     "webhook-signature: v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4="};
  request.body = body;
  return request;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s SECONDS PER_ENDPOINT PORT...\n", argv[0]);
    return 2;
  }
  const double seconds = std::atof(argv[1]);
  const int per_endpoint = std::atoi(argv[2]);
  std::vector<int> ports;
  for (int n = 3; n < argc; ++n) ports.push_back(std::atoi(argv[n]));

  webhook::HttpClient client(10'000, /*allow_http=*/true);
  const std::string body(700, 'x');
  std::uint64_t next_tag = 0;
  // The tag's low byte says which receiver the answer came from.
  const auto send_to = [&](std::size_t receiver) {
    client.start(delivery((++next_tag << 8) | receiver, ports[receiver], body));
  };
  for (std::size_t receiver = 0; receiver < ports.size(); ++receiver)
    for (int n = 0; n < per_endpoint; ++n) send_to(receiver);

  // The first second opens the connections; it is not counted.
  using Clock = std::chrono::steady_clock;
  const auto started = Clock::now();
  auto counted_from = started;
  double cpu_from = 0;
  long answered = 0, failed = 0;
  bool counting = false;
  for (;;) {
    const auto now = Clock::now();
    if (!counting && now - started > std::chrono::seconds(1)) {
      counting = true;
      counted_from = now;
      cpu_from = cpu_seconds();
      answered = failed = 0;
    }
    if (counting && std::chrono::duration<double>(now - counted_from).count() > seconds) break;
    for (const auto& completion : client.perform(std::chrono::milliseconds(100))) {
      ++(completion.status_code == 200 ? answered : failed);
      send_to(completion.tag & 0xff);
    }
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - counted_from).count();
  const double cpu = cpu_seconds() - cpu_from;
  std::printf(
      "{\"in_flight\": %zu, \"requests_per_s\": %.0f, \"cpu_us_per_request\": %.2f, "
      "\"failed\": %ld, \"connections\": %ld}\n",
      ports.size() * static_cast<std::size_t>(per_endpoint), answered / elapsed,
      cpu / static_cast<double>(answered) * 1e6, failed, client.connections_opened());
  return failed == 0 ? 0 : 1;
}
