#include "webhook/dispatcher.hpp"

#include <chrono>
#include <set>

#include "core/api_error.hpp"
#include "core/clock.hpp"
#include "core/log.hpp"
#include "core/random.hpp"
#include "core/thread_name.hpp"
#include "webhook/signer.hpp"
#include "webhook/webhook_payload.hpp"

namespace webhook {

namespace {

// New events and due retries are looked for this often when nothing wakes
// the thread sooner: well under the 2 s delivery lag the queue is held to.
constexpr std::int64_t kPollMs = 200;
// How long finished attempts wait to be recorded together.
constexpr std::int64_t kGatherMs = 10;
// Events fanned out per round; the next round takes the rest at once.
constexpr int kFanOutBatch = 500;
// Time per attempt on top of WEBHOOK_TIMEOUT (signing, recording) in the lease.
constexpr std::int64_t kLeaseMarginMs = 5 * core::kMsPerSecond;
constexpr std::size_t kMaxErrorLength = 300;

bool is_success(int status_code) {
  return status_code >= 200 && status_code < 300;
}

std::string failure_text(int status_code, const std::string& error) {
  if (status_code > 0) return "HTTP " + std::to_string(status_code);
  return error.substr(0, kMaxErrorLength);
}

}  // namespace

std::int64_t retry_delay_ms(const std::vector<std::int64_t>& schedule, int attempt) {
  const auto index = static_cast<std::size_t>(std::max(1, attempt) - 1);
  const auto delay = schedule.at(std::min(index, schedule.size() - 1));
  constexpr std::int64_t kSteps = 1000;  // jitter in steps of 0.04 %
  const auto step = static_cast<std::int64_t>(core::random_below(2 * kSteps + 1)) - kSteps;
  return delay + delay / 5 * step / kSteps;
}

// What one write transaction hands back: the attempts to start, and what
// became of the answers it recorded.
struct Dispatcher::Round {
  std::vector<std::pair<store::Claimed, store::Endpoint>> claims;
  std::vector<Result> results;
  long long delivered = 0;
};

Dispatcher::Dispatcher(const core::Config& config, db::Database& database,
                       const WebhookService& service, EventFeed feed)
    : database_(database),
      service_(service),
      feed_(std::move(feed)),
      retry_schedule_ms_(config.webhook_retry_schedule_ms),
      disable_after_ms_(config.webhook_disable_after_ms),
      // One attempt's time: a crashed instance's deliveries come back seconds later.
      lease_ms_(config.webhook_timeout_ms + kLeaseMarginMs),
      max_in_flight_(config.webhook_max_in_flight),
      client_(config.webhook_timeout_ms, config.webhook_allow_http),
      metrics_(DeliveryMetrics::registered(database)) {}

Dispatcher::~Dispatcher() {
  stop();
  metrics_->detach();
}

void Dispatcher::start() {
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
}

void Dispatcher::wake() {
  woken_ = true;
  client_.wake();
}

void Dispatcher::stop() {
  stopping_ = true;
  client_.wake();
  if (thread_.joinable()) thread_.join();
}

void Dispatcher::run() {
  core::name_this_thread("webhooks");
  std::int64_t next_poll_ms = 0;
  while (!stopping_) {
    auto outcomes =
        wait_for_outcomes(std::clamp<std::int64_t>(next_poll_ms - core::now_ms(), 0, kPollMs));
    if (!outcomes.empty()) gather_more(outcomes);
    const auto now = core::now_ms();
    const bool poll = woken_.exchange(false) || now >= next_poll_ms;
    if (outcomes.empty() && !poll) continue;
    if (poll) next_poll_ms = now + kPollMs;
    try {
      round(outcomes);
    } catch (const std::exception& error) {
      // Typically the database is unreachable. Unrecorded outcomes are not
      // lost: their rows come due again when the lease runs out.
      core::log::event("error", {{"msg", "webhook dispatcher error"}, {"detail", error.what()}});
    }
  }
  release_in_flight();
}

std::vector<Dispatcher::Outcome> Dispatcher::wait_for_outcomes(std::int64_t wait_ms) {
  std::vector<Outcome> outcomes = std::move(refused_);
  refused_.clear();
  const auto wait = outcomes.empty() ? wait_ms : 0;
  for (auto& completion : client_.perform(std::chrono::milliseconds(wait))) {
    auto it = in_flight_.find(completion.tag);
    if (it == in_flight_.end()) continue;
    --in_flight_per_endpoint_[it->second.endpoint_id];
    outcomes.push_back(
        {std::move(it->second), completion.status_code, std::move(completion.error)});
    in_flight_.erase(it);
  }
  return outcomes;
}

// Answers arrive one transfer at a time; recording those of a short window
// together makes one write per window instead of one per answer (the writes
// share SQLite's single writer with the API's).
void Dispatcher::gather_more(std::vector<Outcome>& outcomes) {
  const auto until = core::now_ms() + kGatherMs;
  for (auto left = kGatherMs; left > 0 && client_.in_flight() > 0 && !stopping_;
       left = until - core::now_ms()) {
    for (auto& outcome : wait_for_outcomes(left)) outcomes.push_back(std::move(outcome));
  }
}

void Dispatcher::round(const std::vector<Outcome>& outcomes) {
  if (outcomes.empty() && !has_work()) return;  // idle: no write transaction
  const auto started = std::chrono::steady_clock::now();
  auto done = database_.write([&](soci::session& sql) { return write_round(sql, outcomes); });
  metrics_->count_round(std::chrono::duration_cast<std::chrono::microseconds>(
                            std::chrono::steady_clock::now() - started)
                            .count());
  metrics_->count_delivered(static_cast<std::uint64_t>(done.delivered));
  for (const auto result : done.results) count(result);
  launch_all(std::move(done.claims));
}

bool Dispatcher::has_work() {
  return database_.read([this](soci::session& sql) {
    if (feed_.may_have_events && feed_.may_have_events(sql)) return true;
    return store::any_due(sql, core::now_ms());
  });
}

// Runs inside the transaction (possibly more than once on a retried
// PostgreSQL transaction): it changes nothing outside `sql` but its result.
Dispatcher::Round Dispatcher::write_round(soci::session& sql,
                                          const std::vector<Outcome>& outcomes) {
  Round done;
  const auto now = core::now_ms();
  done.delivered = record_answers(sql, outcomes, now);
  for (const auto& outcome : outcomes) {
    if (!is_success(outcome.status_code)) done.results.push_back(record(sql, outcome, now));
  }
  const auto endpoints =
      store::enabled_endpoints(sql);  // after the outcomes: a 410 just disabled one
  std::map<std::string, int> free_slots;
  for (const auto& endpoint : endpoints) {
    const auto busy = in_flight_per_endpoint_.find(endpoint.id);
    int& free = free_slots[endpoint.id];
    free = max_in_flight_ - (busy == in_flight_per_endpoint_.end() ? 0 : busy->second);
    if (free <= 0) continue;
    // Rows already due go first, so fresh events cannot starve a backlog.
    for (auto& claimed : store::claim_due(sql, endpoint.id, now, lease_ms_, free)) {
      done.claims.emplace_back(std::move(claimed), endpoint);
      --free;
    }
  }
  build_bodies(sql, done.claims);
  fan_out(sql, endpoints, now, free_slots, done);
  return done;
}

// A claimed delivery of a domain event stores no body: it is built again
// from the event, which never changes, so every attempt sends the same
// bytes. One whose event cannot be found keeps an empty body and is refused.
void Dispatcher::build_bodies(soci::session& sql,
                              std::vector<std::pair<store::Claimed, store::Endpoint>>& claims) {
  std::vector<std::string> event_ids;
  for (const auto& [claimed, endpoint] : claims) {
    if (claimed.payload.empty()) event_ids.push_back(claimed.event_id);
  }
  if (event_ids.empty() || !feed_.find) return;
  std::map<std::string, std::string> bodies;
  for (const auto& event : feed_.find(sql, event_ids))
    bodies[event.id] = payload_json(event.id, event.type, event.created_at_ms, event.data_json);
  for (auto& [claimed, endpoint] : claims) {
    const auto body = bodies.find(claimed.event_id);
    if (claimed.payload.empty() && body != bodies.end()) claimed.payload = body->second;
  }
}

// Every 2xx answer in one statement, and each answering endpoint's run of
// failures ended once (not once per answer).
long long Dispatcher::record_answers(soci::session& sql, const std::vector<Outcome>& outcomes,
                                     std::int64_t now_ms) {
  std::vector<store::Answered> answers;
  std::set<std::string> answering;
  for (const auto& outcome : outcomes) {
    if (!is_success(outcome.status_code)) continue;
    const auto& claimed = outcome.claimed;
    answers.push_back({claimed.id, claimed.lease_until, outcome.status_code});
    answering.insert(claimed.endpoint_id);
  }
  const auto delivered = store::mark_delivered(sql, answers, now_ms);
  for (const auto& endpoint_id : answering) store::note_success(sql, endpoint_id);
  return delivered;
}

// New events become delivery rows. Those an endpoint has free slots for are
// inserted already leased and start this round: no claim (a SELECT and an
// UPDATE per row) in the next one.
void Dispatcher::fan_out(soci::session& sql, const std::vector<store::Endpoint>& endpoints,
                         std::int64_t now_ms, std::map<std::string, int>& free_slots, Round& done) {
  if (!feed_.read_next) return;
  const auto events = feed_.read_next(sql, kFanOutBatch);
  if (events.empty()) return;
  std::vector<store::NewDelivery> rows;
  std::vector<const store::Endpoint*> row_endpoints;
  // The bodies, built once per event (the rows do not store them).
  std::vector<std::string> payloads(events.size());
  std::vector<const std::string*> row_payloads;
  for (std::size_t e = 0; e < events.size(); ++e) {
    const auto& event = events[e];
    auto& payload = payloads[e];
    for (const auto& endpoint : endpoints) {
      if (!subscribes(endpoint.events, event.type)) continue;
      if (payload.empty())
        payload = payload_json(event.id, event.type, event.created_at_ms, event.data_json);
      const bool start_now = free_slots[endpoint.id]-- > 0;
      rows.push_back({endpoint.id, event.id, event.type, std::nullopt, now_ms,
                      start_now ? now_ms + lease_ms_ : 0, ""});
      row_endpoints.push_back(&endpoint);
      row_payloads.push_back(&payload);
    }
  }
  const auto inserted = store::insert_deliveries(sql, rows);
  feed_.advance(sql, events.back().seq);
  const bool replayed = inserted < static_cast<long long>(rows.size());
  for (std::size_t n = 0; n < rows.size(); ++n) {
    auto& row = rows[n];
    if (row.leased_until == 0) continue;
    store::Claimed claimed{row.id, row.endpoint_id, row.event_id, *row_payloads[n],
                           0,      row.leased_until};
    // A replayed event already had its row (which one is unknown): give
    // the leases back and let the claims of later rounds sort it out.
    if (replayed) {
      store::release(sql, claimed);
      continue;
    }
    done.claims.emplace_back(std::move(claimed), *row_endpoints[n]);
  }
}

Dispatcher::Result Dispatcher::record(soci::session& sql, const Outcome& outcome,
                                      std::int64_t now_ms) {
  const auto& claimed = outcome.claimed;
  if (outcome.status_code == 410) {
    // The receiver says the endpoint is gone for good: stop at once.
    if (!store::mark_failed(sql, claimed, 410, "HTTP 410")) return Result::lost;
    store::disable_endpoint(sql, claimed.endpoint_id,
                            "the endpoint answered 410 Gone at " + core::format_timestamp(now_ms));
    return Result::failed;
  }
  return record_failure(sql, outcome, now_ms);
}

Dispatcher::Result Dispatcher::record_failure(soci::session& sql, const Outcome& outcome,
                                              std::int64_t now_ms) {
  const auto& claimed = outcome.claimed;
  const auto error = failure_text(outcome.status_code, outcome.error);
  const int attempt = claimed.attempts + 1;
  const bool last = attempt > static_cast<int>(retry_schedule_ms_.size());
  const bool recorded =
      last ? store::mark_failed(sql, claimed, outcome.status_code, error)
           : store::schedule_retry(sql, claimed, outcome.status_code, error,
                                   now_ms + retry_delay_ms(retry_schedule_ms_, attempt));
  if (!recorded) return Result::lost;
  const auto failing_since = store::note_failure(sql, claimed.endpoint_id, now_ms);
  if (now_ms - failing_since >= disable_after_ms_) {
    store::disable_endpoint(sql, claimed.endpoint_id,
                            "every attempt failed since " + core::format_timestamp(failing_since) +
                                " (WEBHOOK_DISABLE_AFTER); last: " + error);
  }
  return last ? Result::failed : Result::retried;
}

// What every attempt to one endpoint in a round shares: its URL checked
// once (a DNS lookup per attempt would hold up every endpoint's round) and
// its secrets opened once.
struct Dispatcher::Signing {
  std::vector<std::string> secrets;
  Target target;
  std::string refusal;  // non-empty: no attempt can start
};

Dispatcher::Signing Dispatcher::signing_for(const store::Endpoint& endpoint, std::int64_t now_ms) {
  Signing signing;
  signing.secrets = service_.signing_secrets(endpoint, now_ms);
  if (signing.secrets.empty()) {
    signing.refusal = "the signing secret cannot be opened (the server secret changed); rotate it";
    return signing;
  }
  try {
    signing.target = service_.check(endpoint.url);  // again at delivery time: DNS may have changed
  } catch (const core::ApiError& refusal) {
    signing.refusal = std::string("url refused: ") + refusal.what();
  }
  return signing;
}

void Dispatcher::launch_all(std::vector<std::pair<store::Claimed, store::Endpoint>> claims) {
  const auto now = core::now_ms();
  std::map<std::string, Signing> by_endpoint;
  for (auto& [claimed, endpoint] : claims) {
    auto found = by_endpoint.find(endpoint.id);
    if (found == by_endpoint.end())
      found = by_endpoint.emplace(endpoint.id, signing_for(endpoint, now)).first;
    launch(std::move(claimed), endpoint, found->second, now);
  }
}

// The body moves into the request: the attempt in flight keeps only what
// records its outcome (no copy of the body per attempt).
void Dispatcher::launch(store::Claimed claimed, const store::Endpoint& endpoint,
                        const Signing& signing, std::int64_t now_ms) {
  if (!signing.refusal.empty()) {
    refused_.push_back({std::move(claimed), 0, signing.refusal});
    return;
  }
  if (claimed.payload.empty()) {
    refused_.push_back(
        {std::move(claimed), 0, "the event is missing from domain_events: no body to send"});
    return;
  }
  OutgoingRequest request;
  request.url = endpoint.url;
  request.target = signing.target;
  const auto timestamp = now_ms / core::kMsPerSecond;
  request.tag = next_tag_++;
  request.headers = {"Content-Type: application/json",
                     "User-Agent: referrald-webhooks/" REFERRALD_VERSION,
                     "webhook-id: " + claimed.event_id,
                     "webhook-timestamp: " + std::to_string(timestamp),
                     "webhook-signature: " + signature_header(signing.secrets, claimed.event_id,
                                                              timestamp, claimed.payload),
                     "Expect:"};  // no 100-continue round trip
  request.body = std::move(claimed.payload);
  const auto tag = request.tag;
  client_.start(std::move(request));
  ++in_flight_per_endpoint_[claimed.endpoint_id];
  in_flight_.emplace(tag, std::move(claimed));
}

void Dispatcher::count(Result result) {
  switch (result) {
    case Result::retried:
      metrics_->count_retried();
      break;
    case Result::failed:
      metrics_->count_failed();
      break;
    case Result::lost:
      break;
  }
}

// Shutdown: the attempts in flight are abandoned; giving their leases back
// lets the next instance (or this one restarted) send them at once.
void Dispatcher::release_in_flight() {
  client_.abandon_all();
  std::vector<store::Claimed> unfinished;
  for (auto& [tag, claimed] : in_flight_) unfinished.push_back(std::move(claimed));
  for (auto& outcome : refused_) unfinished.push_back(std::move(outcome.claimed));
  in_flight_.clear();
  in_flight_per_endpoint_.clear();
  refused_.clear();
  if (unfinished.empty()) return;
  try {
    database_.write([&](soci::session& sql) {
      for (const auto& claimed : unfinished) store::release(sql, claimed);
    });
  } catch (const std::exception& error) {
    core::log::event("error", {{"msg", "webhook leases not released"}, {"detail", error.what()}});
  }
}

}  // namespace webhook
