#pragma once
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/config.hpp"
#include "db/database.hpp"
#include "webhook/delivery_metrics.hpp"
#include "webhook/event_feed.hpp"
#include "webhook/http_client.hpp"
#include "webhook/webhook_service.hpp"
#include "webhook/webhook_store.hpp"

namespace webhook {

// How long to wait before retry `attempt` (1-based) given the schedule:
// the scheduled delay, jittered by up to ±20 % so deliveries that failed
// together (an outage) do not all come back at once.
std::int64_t retry_delay_ms(const std::vector<std::int64_t>& schedule, int attempt);

// The delivery thread. Each round, in one write transaction: records the
// outcomes of finished attempts, leases due deliveries for every endpoint
// with a free slot (WEBHOOK_MAX_IN_FLIGHT per endpoint, so a hanging
// endpoint holds only its own slots), and fans new domain events out to the
// enabled endpoints that subscribe to them (advancing the feed's cursor),
// leasing the new rows that still find a free slot. Then it signs and starts
// those attempts on the HttpClient and waits for the next one to finish. Any number of instances
// may run one on the same database: leases make each attempt one instance's.
class Dispatcher {
 public:
  // `database` and `service` must outlive the Dispatcher. `feed` may be
  // empty (no event log): then only test events and retries are delivered.
  Dispatcher(const core::Config& config, db::Database& database, const WebhookService& service,
             EventFeed feed);
  ~Dispatcher();  // stop()s
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  void start();
  // A delivery may be due now (a test, a retry, a committed event).
  void wake();
  // Abandons the attempts in flight, gives their leases back, joins the thread.
  void stop();

 private:
  struct Outcome {
    store::Claimed claimed;
    int status_code = 0;
    std::string error;
  };
  enum class Result { retried, failed, lost };  // of an answer other than 2xx
  struct Round;
  struct Signing;

  void run();
  std::vector<Outcome> wait_for_outcomes(std::int64_t wait_ms);
  void gather_more(std::vector<Outcome>& outcomes);
  void round(const std::vector<Outcome>& outcomes);
  bool has_work();
  Round write_round(soci::session& sql, const std::vector<Outcome>& outcomes);
  long long record_answers(soci::session& sql, const std::vector<Outcome>& outcomes,
                           std::int64_t now_ms);
  Result record(soci::session& sql, const Outcome& outcome, std::int64_t now_ms);
  Result record_failure(soci::session& sql, const Outcome& outcome, std::int64_t now_ms);
  void build_bodies(soci::session& sql,
                    std::vector<std::pair<store::Claimed, store::Endpoint>>& claims);
  void fan_out(soci::session& sql, const std::vector<store::Endpoint>& endpoints,
               std::int64_t now_ms, std::map<std::string, int>& free_slots, Round& done);
  Signing signing_for(const store::Endpoint& endpoint, std::int64_t now_ms);
  void launch_all(std::vector<std::pair<store::Claimed, store::Endpoint>> claims);
  void launch(store::Claimed claimed, const store::Endpoint& endpoint, const Signing& signing,
              std::int64_t now_ms);
  void count(Result result);
  void release_in_flight();

  db::Database& database_;
  const WebhookService& service_;
  EventFeed feed_;
  std::vector<std::int64_t> retry_schedule_ms_;
  std::int64_t disable_after_ms_;
  std::int64_t lease_ms_;
  int max_in_flight_;
  HttpClient client_;
  std::shared_ptr<DeliveryMetrics> metrics_;

  // Touched by the dispatcher thread only.
  std::map<std::uint64_t, store::Claimed> in_flight_;  // by HttpClient tag
  std::map<std::string, int> in_flight_per_endpoint_;
  std::vector<Outcome>
      refused_;  // attempts that ended before a request (URL refused, secret unreadable)
  std::uint64_t next_tag_ = 1;

  std::atomic<bool> stopping_{false};
  std::atomic<bool> woken_{false};
  std::thread thread_;
};

}  // namespace webhook
