#pragma once
#include "analytics/analytics_service.hpp"
#include "http/router.hpp"

namespace analytics {

// docs/API.md Analytics (summary, list, timeline), the admin top and stats, and their aliases.
void add_routes(http::Router& router, AnalyticsService& service);

}  // namespace analytics
