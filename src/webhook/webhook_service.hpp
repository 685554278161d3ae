#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/secret_box.hpp"
#include "db/database.hpp"
#include "webhook/address_guard.hpp"
#include "webhook/webhook_store.hpp"

namespace webhook {

struct EndpointRequest {
  std::string url;
  std::vector<std::string> events;
  std::string description;
};

struct EndpointPatch {
  std::optional<std::string> url;
  std::optional<std::vector<std::string>> events;
  std::optional<std::string> description;
  std::optional<bool> enabled;
};

struct CreatedEndpoint {
  store::Endpoint endpoint;
  std::string secret;  // shown once
};

// Endpoints and their deliveries (docs/API.md, Webhooks). Errors are
// core::ApiError: 400 validation_error / webhook_url_forbidden, 404 not_found.
class WebhookService {
 public:
  // `server_secret` keys the encryption of the signing secrets at rest.
  WebhookService(const core::Config& config, db::Database& database,
                 const std::string& server_secret, Resolver resolver);

  CreatedEndpoint create(const EndpointRequest& request);
  std::vector<store::Endpoint> list();
  store::Endpoint update(const std::string& id, const EndpointPatch& patch);
  void remove(const std::string& id);
  std::string rotate_secret(const std::string& id);
  void send_test(const std::string& id);
  std::vector<store::Delivery> deliveries(const store::DeliveryFilter& filter);
  void retry(const std::string& endpoint_id, const std::string& delivery_id);

  // Called after a change that makes a delivery due now (test, retry).
  void set_wake(std::function<void()> wake) { wake_ = std::move(wake); }

  // For the dispatcher: the secrets that sign for `endpoint` at `now_ms`
  // (current first, then the previous one during its overlap); empty when
  // they cannot be opened (the server secret changed).
  std::vector<std::string> signing_secrets(const store::Endpoint& endpoint,
                                           std::int64_t now_ms) const;
  // Checks `url` (at creation and again before every attempt).
  Target check(const std::string& url) const;

 private:
  store::Endpoint require(soci::session& sql, const std::string& id);

  db::Database& database_;
  core::SecretBox box_;
  GuardOptions guard_;
  Resolver resolver_;
  std::function<void()> wake_ = [] {};
};

}  // namespace webhook
