#pragma once
#include "db/database.hpp"
#include "http/router.hpp"

namespace ops {

// /healthz, /readyz, /metrics, /openapi.json (docs/API.md, Operations).
void add_routes(http::Router& router, db::Database& database);

}  // namespace ops
