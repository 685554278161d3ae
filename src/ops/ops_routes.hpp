#pragma once
#include <string>

#include "db/database.hpp"
#include "http/router.hpp"

namespace ops {

// /healthz, /readyz, /metrics, /openapi.json (docs/API.md, Operations). A
// non-empty `metrics_token` (METRICS_TOKEN) must come as
// "Authorization: Bearer <it>" for /metrics.
void add_routes(http::Router& router, db::Database& database, const std::string& metrics_token);

}  // namespace ops
