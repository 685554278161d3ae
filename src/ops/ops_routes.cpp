#include "ops/ops_routes.hpp"

#include <boost/json/object.hpp>

#include "core/embedded.hpp"
#include "http/metrics.hpp"

namespace ops {

using http::Access;
using http::Lane;
using http::Request;
using http::Response;

namespace {

Response healthz(Request&) { return Response::json(200, boost::json::object{{"status", "ok"}}); }

Response text(std::string content_type, std::string body) {
  Response response;
  response.body = std::move(body);
  response.set_header("Content-Type", std::move(content_type));
  return response;
}

void append_pool_metrics(std::string& out, const db::Database& database) {
  const auto pool = database.stats();
  http::append_metric(out, "db_pool_size", "gauge", "Database sessions in the pool.", pool.size);
  http::append_metric(out, "db_pool_in_use", "gauge", "Database sessions leased right now.", pool.in_use);
  http::append_metric(out, "referrald_build_info", "gauge", "Build information.", 1,
                      "version=\"" REFERRALD_VERSION "\"");
}

}  // namespace

void add_routes(http::Router& router, db::Database& database) {
  router.add("GET", "/healthz", Access::anyone, Lane::io, healthz);
  router.add("GET", "/readyz", Access::anyone, Lane::db, [&database](Request&) {
    if (database.ping()) return Response::json(200, boost::json::object{{"status", "ready"}});
    auto response = Response::error(503, "database_unavailable", "The database does not answer.");
    response.set_header("Retry-After", "2");
    return response;
  });
  // The pool figures come from this route's own database rather than from a
  // process-wide collector: a collector holding `database` outlived it once
  // its App was gone (request_fuzz: /metrics read freed memory).
  router.add("GET", "/metrics", Access::anyone, Lane::db, [&database](Request&) {
    auto body = http::metrics().render();
    append_pool_metrics(body, database);
    return text("text/plain; version=0.0.4; charset=utf-8", std::move(body));
  });
  router.add("GET", "/openapi.json", Access::anyone, Lane::io, [](Request&) {
    return text("application/json; charset=utf-8",
                std::string(core::embedded_file("docs/openapi.json").value_or("{}")));
  });
}

}  // namespace ops
