#include "webapp/webapp_routes.hpp"

#include "webapp/qr_svg.hpp"

namespace webapp {

using http::Access;
using http::Lane;
using http::Request;
using http::Response;

namespace {

// The pages load only their own files: no inline script or style, no other
// host, never inside a frame.
constexpr const char* kPagePolicy =
    "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
// A share link's text is at most PUBLIC_URL + "/r/" + a code; a larger limit
// would only let others use the server as a free QR generator for long texts.
constexpr std::size_t kMaxQrText = 512;

void protect(Response& response, const char* policy) {
  response.set_header("Content-Security-Policy", policy);
  response.set_header("X-Frame-Options", "DENY");
  // Not no-referrer: with it Chromium sends `Origin: null` on the pages'
  // own POSTs, and cookie-authenticated state changes need the real Origin.
  response.set_header("Referrer-Policy", "same-origin");
}

bool etag_matches(const Request& request, const std::string& etag) {
  const auto wanted = request.header("If-None-Match");
  return wanted == "*" || wanted.find(etag) != std::string_view::npos;
}

Response file(const Request& request, const Asset& asset, const std::string& etag,
              const char* cache_control) {
  Response response;
  response.set_header("ETag", etag);
  response.set_header("Cache-Control", cache_control);
  if (etag_matches(request, etag)) {
    response.status = 304;
  } else {
    response.body = asset.body;
    response.set_header("Content-Type", asset.content_type);
  }
  protect(response, kPagePolicy);
  return response;
}

http::Handler page(const WebAssets& assets, const char* name) {
  // The HTML names the current build's assets, so it is revalidated on every load.
  return [&assets, name](Request& request) {
    return file(request, assets.page(name), assets.etag(), "no-cache");
  };
}

Response asset(const WebAssets& assets, Request& request) {
  const auto* found = assets.asset(request.param("build"), request.param("file"));
  if (!found) return Response::error(404, "not_found", "No such file.");
  return file(request, *found, assets.etag(), "public, max-age=31536000, immutable");
}

Response qr(Request& request) {
  const auto text = request.query("data").value_or("");
  if (text.empty() || text.size() > kMaxQrText) {
    return Response::error(400, "validation_error", "data must be 1-512 bytes.");
  }
  const auto svg = qr_svg(text);
  if (!svg) return Response::error(400, "validation_error", "data cannot be encoded as a QR code.");
  Response response;
  response.body = *svg;
  response.set_header("Content-Type", "image/svg+xml");
  // The same text always gives the same picture.
  response.set_header("Cache-Control", "public, max-age=86400");
  protect(response, "default-src 'none'; frame-ancestors 'none'");
  return response;
}

}  // namespace

void add_routes(http::Router& router, const WebAssets& assets) {
  router.add("GET", "/", Access::anyone, Lane::io, page(assets, "index.html"));
  router.add("GET", "/admin", Access::anyone, Lane::io, page(assets, "admin.html"));
  router.add("GET", "/assets/{build}/{file}", Access::anyone, Lane::io,
             [&assets](Request& request) { return asset(assets, request); });
  router.add("GET", "/api/qr.svg", Access::anyone, Lane::io, qr);
}

}  // namespace webapp
