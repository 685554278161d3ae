#pragma once
#include "http/router.hpp"
#include "webapp/webapp_assets.hpp"

namespace webapp {

// The console (docs/API.md, Web console): GET / (participant page),
// GET /admin (operator console), GET /assets/{build}/{file}, and
// GET /api/qr.svg (a QR code for the share link).
void add_routes(http::Router& router, const WebAssets& assets);

}  // namespace webapp
