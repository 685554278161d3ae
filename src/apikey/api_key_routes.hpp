#pragma once
#include "apikey/api_key_service.hpp"
#include "core/config.hpp"
#include "core/rate_limiter.hpp"
#include "http/router.hpp"

namespace apikey {

struct KeyLimits {
  core::RateLimiter& per_key;          // API_KEY_RATE_LIMIT, requests of one key
  core::RateLimiter& failures_per_ip;  // refused keys per client IP (RATE_LIMIT_PER_IP)
};

// docs/API.md API keys: the admin routes, and the router's key authenticator
// (routes declared with http::Auth::key(scope) or http::Auth::admin_or_key(scope)).
void add_routes(http::Router& router, ApiKeyService& service, KeyLimits limits);

}  // namespace apikey
