#pragma once
#include <boost/json/object.hpp>

#include "auth/auth_service.hpp"
#include "auth/user_json.hpp"
#include "core/rate_limiter.hpp"
#include "http/router.hpp"

namespace auth {

// docs/API.md Accounts routes, their original-service aliases, and the router's authenticator.
void add_routes(http::Router& router, AuthService& service, const core::Config& config,
                core::RateLimiter& ip_limiter);

// session_cache_* on /metrics: hits, misses, invalidations, drops, fresh.
void add_session_cache_metrics(const SessionCache& cache);

}  // namespace auth
