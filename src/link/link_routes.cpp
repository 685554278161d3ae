#include "link/link_routes.hpp"

#include <boost/json.hpp>

#include "http/metrics.hpp"

namespace links {

using boost::json::array;
using boost::json::object;
using http::Access;
using http::Lane;
using http::Request;
using http::Response;

namespace {

constexpr const char* kCookieName = "referral";

// "; Max-Age=...; Path=/; HttpOnly; SameSite=Lax[; Secure]", made once.
std::string cookie_attributes_of(long long window_seconds, bool secure_cookie) {
  return "; Max-Age=" + std::to_string(window_seconds) + "; Path=/; HttpOnly; SameSite=Lax" +
         (secure_cookie ? "; Secure" : "");
}

std::string cookie_header(const std::string& token, const std::string& attributes) {
  std::string header;
  header.reserve(std::char_traits<char>::length(kCookieName) + 1 + token.size() +
                 attributes.size());
  header.append(kCookieName).append(1, '=').append(token).append(attributes);
  return header;
}

// A shared link never shows an error page: unknown codes redirect too.
Response redirect(LinkService& service, Request& request, const std::string& cookie_attributes) {
  const auto answer =
      service.visit(request.param("code"),
                    {request.client_ip, request.user_agent, std::string(request.header("Referer")),
                     std::string(request.cookie(kCookieName))});
  Response response;
  response.status = 302;
  response.set_header("Location", answer.location);
  response.set_header("Cache-Control", "no-store");
  response.set_header("Referrer-Policy", "strict-origin-when-cross-origin");
  if (answer.attribution_token) {
    response.set_header("Set-Cookie", cookie_header(*answer.attribution_token, cookie_attributes));
  }
  return response;
}

object counts_json(const FunnelCounts& counts) {
  return {{"clicks", counts.clicks},       {"unique_visitors", counts.unique_visitors},
          {"signups", counts.signups},     {"verified", counts.verified},
          {"referrals", counts.referrals}, {"successful", counts.successful}};
}

object funnel_json(const Funnel& funnel) {
  auto body = counts_json(funnel.totals);
  array days;
  for (const auto& day : funnel.days) {
    days.push_back(object{{"date", day.date},
                          {"clicks", day.counts.clicks},
                          {"unique_visitors", day.counts.unique_visitors},
                          {"signups", day.counts.signups},
                          {"referrals", day.counts.referrals},
                          {"successful", day.counts.successful}});
  }
  body["days"] = std::move(days);
  return body;
}

FunnelQuery funnel_query(const Request& request) {
  return {request.query("from"), request.query("to"), request.query("tz")};
}

Response user_funnel(LinkService& service, Request& request) {
  return Response::json(200,
                        funnel_json(service.funnel(request.user().user_id, funnel_query(request))));
}

Response admin_funnel(LinkService& service, Request& request) {
  const auto funnel = service.admin_funnel(funnel_query(request));
  auto body = funnel_json(funnel);
  array top;
  for (const auto& leader : funnel.top_referrers) {
    top.push_back(object{{"user_id", leader.user_id},
                         {"email", leader.email},
                         {"clicks", leader.clicks},
                         {"referrals", leader.referrals}});
  }
  body["top_referrers"] = std::move(top);
  return Response::json(200, body);
}

Response share_link(LinkService& service, Request& request) {
  const auto link = service.share_link(request.user().user_id);
  return Response::json(200, object{{"referral_code", link.code}, {"url", link.url}});
}

void add_click_metrics(const ClickStream& clicks) {
  http::metrics().add_collector([counts = clicks.shared_counts()](std::string& out) {
    http::append_metric(out, "clicks_buffered", "gauge",
                        "Clicks waiting for the next flush.",
                        static_cast<double>(counts->buffered.load()));
    http::append_metric(out, "clicks_flushed_total", "counter",
                        "Clicks written to the database.",
                        static_cast<double>(counts->flushed.load()));
    http::append_metric(
        out, "clicks_dropped_total", "counter",
        "Clicks not recorded: the buffer was full or the database refused the batch.",
        static_cast<double>(counts->dropped.load()));
    http::append_metric(out, "click_flush_failures_total", "counter",
                        "Click flushes that failed.",
                        static_cast<double>(counts->failed_flushes.load()));
  });
}

}  // namespace

void add_routes(http::Router& router, LinkService& service, const ClickStream& clicks,
                bool secure_cookie) {
  const auto cookie_attributes =
      cookie_attributes_of(service.attribution_window_ms() / 1000, secure_cookie);
  // A cached (or malformed) code is answered on the io thread; only a code
  // not seen yet needs the database lane.
  const auto lane = [&service](const Request& request) {
    return service.answers_from_memory(request.param("code")) ? Lane::io : Lane::db;
  };
  for (const char* method : {"GET", "HEAD"}) {
    router.add(method, "/r/{code}", Access::anyone, lane,
               [&service, cookie_attributes](Request& request) {
                 return redirect(service, request, cookie_attributes);
               });
  }
  router.add("GET", "/api/referral/link", Access::user, Lane::write,
             [&service](Request& request) { return share_link(service, request); });
  router.add("GET", "/api/referral/analytics/funnel", Access::user, Lane::db,
             [&service](Request& request) { return user_funnel(service, request); });
  router.add("GET", "/api/admin/funnel", Access::admin, Lane::db,
             [&service](Request& request) { return admin_funnel(service, request); });
  add_click_metrics(clicks);
}

}  // namespace links
