#include "webhook/webhook_service.hpp"

#include <algorithm>
#include <set>

#include "core/api_error.hpp"
#include "core/clock.hpp"
#include "core/random.hpp"
#include "webhook/delivery_status.hpp"
#include "webhook/signer.hpp"
#include "webhook/webhook_payload.hpp"

namespace webhook {

namespace {

constexpr std::string_view kSecretContext = "referrald/webhook-secret/v1";
constexpr std::int64_t kRotationOverlapMs = 24 * core::kMsPerHour;
constexpr std::size_t kMaxDescription = 500;

// Stored form of an events list: "*" or the distinct types, space-separated.
std::string events_text(const std::vector<std::string>& events) {
  if (events.empty())
    throw core::validation_error("events must be a non-empty list of event types");
  if (events.size() == 1 && events.front() == "*") return "*";
  std::set<std::string> distinct;
  for (const auto& type : events) {
    const auto& known = subscribable_types();
    if (type != kTestEventType && std::find(known.begin(), known.end(), type) == known.end()) {
      throw core::validation_error("events: unknown event type '" + type +
                                   "' (or use [\"*\"] alone)");
    }
    distinct.insert(type);
  }
  std::string text;
  for (const auto& type : distinct) text += (text.empty() ? "" : " ") + type;
  return text;
}

std::string checked_description(const std::string& description) {
  const auto characters = std::count_if(description.begin(), description.end(),
                                        [](unsigned char byte) { return (byte & 0xC0) != 0x80; });
  if (static_cast<std::size_t>(characters) > kMaxDescription) {
    throw core::validation_error("description must be at most 500 characters");
  }
  return description;
}

[[noreturn]] void no_endpoint() {
  throw core::ApiError(404, "webhook_not_found", "No such webhook endpoint.");
}

std::string test_event_data(const std::string& endpoint_id) {
  return "{\"endpoint_id\":\"" + endpoint_id + "\"}";
}

}  // namespace

WebhookService::WebhookService(const core::Config& config, db::Database& database,
                               const std::string& server_secret, Resolver resolver)
    : database_(database),
      box_(server_secret, kSecretContext),
      guard_{config.webhook_allow_http, config.webhook_allow_private},
      resolver_(std::move(resolver)) {}

Target WebhookService::check(const std::string& url) const {
  return check_url(url, guard_, resolver_);
}

store::Endpoint WebhookService::require(soci::session& sql, const std::string& id) {
  auto endpoint = store::find_endpoint(sql, id);
  if (!endpoint) no_endpoint();
  return std::move(*endpoint);
}

CreatedEndpoint WebhookService::create(const EndpointRequest& request) {
  check(request.url);  // before the transaction: it may wait on DNS
  store::Endpoint endpoint;
  endpoint.id = core::new_id();
  endpoint.url = request.url;
  endpoint.events = events_text(request.events);
  endpoint.description = checked_description(request.description);
  endpoint.created_at = core::now_ms();
  auto secret = new_secret();
  endpoint.secret_sealed = box_.seal(secret);
  database_.write([&](soci::session& sql) { store::insert_endpoint(sql, endpoint); });
  return {std::move(endpoint), std::move(secret)};
}

std::vector<store::Endpoint> WebhookService::list() {
  return database_.read([](soci::session& sql) { return store::list_endpoints(sql); });
}

store::Endpoint WebhookService::update(const std::string& id, const EndpointPatch& patch) {
  if (patch.url) check(*patch.url);
  const auto events = patch.events ? std::optional(events_text(*patch.events)) : std::nullopt;
  const auto description =
      patch.description ? std::optional(checked_description(*patch.description)) : std::nullopt;
  return database_.write([&](soci::session& sql) {
    auto endpoint = require(sql, id);
    if (patch.url) endpoint.url = *patch.url;
    if (events) endpoint.events = *events;
    if (description) endpoint.description = *description;
    if (patch.enabled) {
      // Enabling starts afresh: no reason, no run of failures.
      if (*patch.enabled && !endpoint.enabled) endpoint.failing_since = 0;
      endpoint.enabled = *patch.enabled;
      endpoint.disabled_reason.reset();
    }
    store::update_endpoint(sql, endpoint);
    return endpoint;
  });
}

void WebhookService::remove(const std::string& id) {
  const bool removed =
      database_.write([&](soci::session& sql) { return store::delete_endpoint(sql, id); });
  if (!removed) no_endpoint();
}

std::string WebhookService::rotate_secret(const std::string& id) {
  auto secret = new_secret();
  database_.write([&](soci::session& sql) {
    auto endpoint = require(sql, id);
    endpoint.previous_secret_sealed = endpoint.secret_sealed;
    endpoint.previous_secret_until = core::now_ms() + kRotationOverlapMs;
    endpoint.secret_sealed = box_.seal(secret);
    store::update_secrets(sql, endpoint);
  });
  return secret;
}

void WebhookService::send_test(const std::string& id) {
  database_.write([&](soci::session& sql) {
    const auto endpoint = require(sql, id);
    const auto now = core::now_ms();
    const auto event_id = "evt_" + core::new_id();
    const std::string type(kTestEventType);
    store::insert_delivery(
        sql, {endpoint.id, event_id, type,
              payload_json(event_id, type, now, test_event_data(endpoint.id)), now, 0, ""});
  });
  wake_();
}

std::vector<store::Delivery> WebhookService::deliveries(const store::DeliveryFilter& filter) {
  if (filter.status && std::ranges::none_of(delivery_status::kAll, [&](const char* status) {
        return *filter.status == status;
      })) {
    throw core::validation_error("status must be pending, delivered or failed");
  }
  return database_.read([&](soci::session& sql) {
    if (!store::find_endpoint(sql, filter.endpoint_id)) no_endpoint();
    return store::list_deliveries(sql, filter);
  });
}

void WebhookService::retry(const std::string& endpoint_id, const std::string& delivery_id) {
  const bool found = database_.write([&](soci::session& sql) {
    return store::retry_now(sql, endpoint_id, delivery_id, core::now_ms());
  });
  if (!found)
    throw core::ApiError(404, "delivery_not_found", "No such delivery for this webhook endpoint.");
  wake_();
}

std::vector<std::string> WebhookService::signing_secrets(const store::Endpoint& endpoint,
                                                         std::int64_t now_ms) const {
  std::vector<std::string> secrets;
  const auto current = box_.open(endpoint.secret_sealed);
  if (!current) return secrets;
  secrets.push_back(*current);
  if (endpoint.previous_secret_sealed && endpoint.previous_secret_until > now_ms) {
    if (const auto previous = box_.open(*endpoint.previous_secret_sealed))
      secrets.push_back(*previous);
  }
  return secrets;
}

}  // namespace webhook
