#pragma once
#include "analytics/analytics_service.hpp"
#include "http/router.hpp"

namespace analytics {

// SPEC §3 analytics (summary, list, timeline), §5 top and stats, and their §7 aliases.
void add_routes(http::Router& router, AnalyticsService& service);

}  // namespace analytics
