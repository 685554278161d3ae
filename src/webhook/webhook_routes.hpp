#pragma once
#include "http/router.hpp"
#include "webhook/webhook_service.hpp"

namespace webhook {

// docs/API.md, Webhooks: endpoints, secrets, test events, deliveries.
void add_routes(http::Router& router, WebhookService& service);

}  // namespace webhook
