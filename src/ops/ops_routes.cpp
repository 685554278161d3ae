#include "ops/ops_routes.hpp"

#include <boost/json/object.hpp>

#include "core/api_error.hpp"
#include "core/embedded.hpp"
#include "core/random.hpp"
#include "events/event_log.hpp"
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

// One sample per spine consumer (consumer names are constants in the code).
void append_spine_metrics(std::string& out, db::Database& database) {
  try {
    const auto backlog = database.read([](soci::session& sql) { return events::backlog(sql); });
    out += "# HELP referrald_events_backlog Spine events after each consumer's cursor (by seq).\n"
           "# TYPE referrald_events_backlog gauge\n";
    for (const auto& [consumer, behind] : backlog) {
      out += "referrald_events_backlog{consumer=\"" + consumer + "\"} " + std::to_string(behind) + "\n";
    }
  } catch (const std::exception&) {
    // The database is down: /readyz says so; the backlog is simply absent.
  }
}

// The metrics name routes, pool sizes and error rates: not for the
// internet. A proxy rule in front is one layer (and was bypassed once with
// /metrics%2F, issue 12); the token holds wherever the port is reachable.
void check_metrics_token(const Request& request, const std::string& token) {
  if (token.empty()) return;
  const auto bearer = request.bearer_token();
  if (bearer && core::constant_time_equal(*bearer, token)) return;
  throw core::ApiError(401, bearer ? "invalid_token" : "missing_token",
                       "The metrics require the METRICS_TOKEN bearer token.")
      .with_header("WWW-Authenticate", "Bearer");
}

}  // namespace

void add_routes(http::Router& router, db::Database& database, const std::string& metrics_token) {
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
  router.add("GET", "/metrics", Access::anyone, Lane::db,
             [&database, metrics_token](Request& request) {
               check_metrics_token(request, metrics_token);
               auto body = http::metrics().render();
               append_pool_metrics(body, database);
               append_spine_metrics(body, database);
               return text("text/plain; version=0.0.4; charset=utf-8", std::move(body));
             });
  router.add("GET", "/openapi.json", Access::anyone, Lane::io, [](Request&) {
    return text("application/json; charset=utf-8",
                std::string(core::embedded_file("docs/openapi.json").value_or("{}")));
  });
}

}  // namespace ops
