#include "analytics/analytics_routes.hpp"

#include <boost/json.hpp>
#include <charconv>

#include "core/api_error.hpp"
#include "core/clock.hpp"
#include "core/json_writer.hpp"
#include "http/pagination.hpp"
#include "ledger/reward_status.hpp"
#include "referral/referral_status.hpp"

namespace analytics {

using boost::json::array;
using boost::json::object;
using http::Access;
using http::Lane;
using http::Request;
using http::Response;

namespace {

constexpr int kTopDefault = 10;

// Every status and unit appears, zero or not, so clients need no key checks;
// a value outside these (e.g. from an import) is listed too.
const char* const kRewardUnits[] = {"POINTS", "CASH"};

// Written as text (core::JsonWriter), as the list pages are: building and
// serialising a boost::json object was 1.7% of referrald's samples for this
// route on PostgreSQL (docs/PERFORMANCE.md).
Response summary_answer(const Summary& result) {
  core::JsonWriter body;
  body.begin_object().key("my_referral_code");
  if (result.code) {
    body.value(*result.code);
  } else {
    body.null();
  }
  body.field("total_referrals", result.total)
      .field("successful_referrals", result.successful)
      .field("pending_referrals", result.pending)
      .field("conversion_rate", result.conversion_rate)
      .field("clicks", result.clicks)
      .end_object();
  return Response::json_text(200, body.take());
}

Response summary(AnalyticsService& service, Request& request) {
  return summary_answer(service.summary(request.user().user_id));
}

std::optional<http::PipelinedRead> plan_summary(const AnalyticsService& service, Request& request) {
  return http::PipelinedRead{service.summary_query(request.user().user_id),
                             [&service](const db::ResultRows& rows) {
                               return summary_answer(service.summary_from(rows));
                             }};
}

// A row's JSON text beyond its strings: the keys, quotes, commas and the
// 24-character timestamp.
constexpr std::size_t kReferralRowFixedBytes = 128;

// `Row`: store::ReferralRow (the db lane's page) or store::ReferralRowView (a
// pipelined one), which have the same fields.
template <class Row>
std::size_t referral_page_bytes(const std::vector<Row>& rows) {
  std::size_t bytes = 2;
  for (const auto& row : rows) {
    bytes += kReferralRowFixedBytes + row.id.size() + row.referee_id.size() +
             row.referee_name.size() + row.status.size();
  }
  return bytes;
}

template <class Row>
Response referral_page_answer(const Request& request, const http::PageRequest& page,
                              const std::vector<Row>& rows) {
  core::JsonWriter body;
  body.reserve(referral_page_bytes(rows)).begin_array();
  for (const auto& row : rows) {
    body.begin_object()
        .field("referral_id", row.id)
        .field("used_by_user_id", row.referee_id)
        .field("used_by_name", row.referee_name)
        .key("used_at").timestamp(row.created_at)
        .field("status", row.status)
        .end_object();
  }
  auto response = Response::json_text(200, body.end_array().take());
  http::link_next_page(response, request, page, http::next_cursor(rows, page, [](const auto& row) {
                         return core::Cursor{row.created_at, std::string(row.id)};
                       }));
  return response;
}

Response referral_page(AnalyticsService& service, Request& request,
                       const std::string& referrer_id) {
  const auto page = http::page_request(request);
  return referral_page_answer(request, page,
                              service.referrals(referrer_id, page.after, page.limit));
}

Response list(AnalyticsService& service, Request& request) {
  return referral_page(service, request, request.user().user_id);
}

std::optional<http::PipelinedRead> plan_list(const AnalyticsService& service, Request& request) {
  const auto page = http::page_request(request);
  return http::PipelinedRead{
      service.referrals_query(request.user().user_id, page.after, page.limit),
      [&service, &request, page](const db::ResultRows& rows) {
        return referral_page_answer(request, page, service.referrals_from(rows));
      }};
}

// docs/API.md API keys: a merchant's backend reads any user's list.
Response list_of_user(AnalyticsService& service, Request& request) {
  return referral_page(service, request, request.param("id"));
}

Response timeline(AnalyticsService& service, Request& request) {
  const auto days =
      service.timeline(request.user().user_id, {request.query("from"), request.query("to"), request.query("tz")});
  array body;
  for (const auto& day : days) {
    body.push_back(object{{"date", day.date}, {"count", day.count}, {"successful", day.successful}});
  }
  return Response::json(200, body);
}

// `?limit=` as lists read it; the leaderboard has no further pages, so a
// `cursor` is an unknown parameter here and ignored like any other.
int top_limit(const Request& request) {
  const auto text = request.query("limit");
  if (!text) return kTopDefault;
  int value = 0;
  const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc() || end != text->data() + text->size() || value < 1 || value > kTopMost) {
    throw core::validation_error("'limit' must be a whole number from 1 to " +
                                 std::to_string(kTopMost) + ".");
  }
  return value;
}

Response top(AnalyticsService& service, Request& request) {
  array body;
  for (const auto& leader : service.top(top_limit(request))) {
    body.push_back(object{{"user_id", leader.user_id},
                          {"name", leader.name},
                          {"email", leader.email},
                          {"successful_referrals", leader.successful},
                          {"total_referrals", leader.total}});
  }
  return Response::json(200, body);
}

object counts_json(const std::map<std::string, long long>& counts) {
  object out;
  for (const auto& [name, count] : counts) out[name] = count;
  return out;
}

object referral_totals(std::map<std::string, long long> by_status) {
  for (const char* status : referral::referral_status::kAll) by_status[status];  // zero when absent
  long long total = 0;
  for (const auto& entry : by_status) total += entry.second;
  return {{"total", total}, {"by_status", counts_json(by_status)}};
}

object reward_totals(std::map<std::string, std::map<std::string, store::Totals::Amount>> by_unit) {
  std::map<std::string, long long> by_status;
  for (const char* status : ledger::reward_status::kAll) {
    by_status[status];
    for (const char* unit : kRewardUnits) by_unit[unit][status];  // zero when absent
  }
  object units;
  long long total = 0;
  for (const auto& [unit, amounts] : by_unit) {
    object unit_json;
    for (const auto& [status, amount] : amounts) {
      unit_json[status] = object{{"count", amount.count}, {"value", amount.value}};
      by_status[status] += amount.count;
      total += amount.count;
    }
    units[unit] = std::move(unit_json);
  }
  return {{"total", total}, {"by_status", counts_json(by_status)}, {"by_unit", std::move(units)}};
}

Response stats_answer(const store::Totals& totals) {
  return Response::json(200, object{{"users", object{{"total", totals.users}, {"verified", totals.verified_users}}},
                                    {"referrals", referral_totals(totals.referrals)},
                                    {"rewards", reward_totals(totals.rewards)}});
}

Response stats(AnalyticsService& service, Request&) {
  return stats_answer(service.totals());
}

std::optional<http::PipelinedRead> plan_stats(const AnalyticsService& service, Request&) {
  return http::PipelinedRead{service.totals_query(), [&service](const db::ResultRows& rows) {
                               return stats_answer(service.totals_from(rows));
                             }};
}

}  // namespace

void add_routes(http::Router& router, AnalyticsService& service) {
  const auto bind = [&service](Response (*handler)(AnalyticsService&, Request&)) {
    return [&service, handler](Request& request) { return handler(service, request); };
  };
  const auto plan =
      [&service](std::optional<http::PipelinedRead> (*planner)(const AnalyticsService&, Request&)) {
        return [&service, planner](Request& request) { return planner(service, request); };
      };
  router.add("GET", "/api/referral/analytics/summary", Access::user, bind(summary),
             plan(plan_summary));
  router.add("GET", "/api/referral/analytics/list", Access::user, bind(list), plan(plan_list));
  router.add("GET", "/api/referral/analytics/timeline", Access::user, Lane::db, bind(timeline));
  router.add("GET", "/api/v1/users/{id}/referrals", http::Auth::key("referrals:read"), Lane::db,
             bind(list_of_user));
  router.add("GET", "/api/admin/referral/top", Access::admin, Lane::db, bind(top));
  router.add("GET", "/api/admin/stats", Access::admin, bind(stats), plan(plan_stats));
  for (const char* view : {"summary", "list", "timeline"}) {
    router.alias(std::string("/api/referrals/analytics/") + view, std::string("/api/referral/analytics/") + view);
  }
  router.alias("/api/admin/referrals/top", "/api/admin/referral/top");
}

}  // namespace analytics
