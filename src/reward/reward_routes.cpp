#include "reward/reward_routes.hpp"

#include <algorithm>
#include <boost/json.hpp>

#include "core/clock.hpp"
#include "core/api_error.hpp"
#include "core/json_body.hpp"
#include "http/pagination.hpp"
#include "idempotency/idempotent_route.hpp"
#include "reward/reward_json.hpp"

namespace reward {

using boost::json::object;
using http::Access;
using http::Lane;
using http::Request;
using http::Response;

namespace {

Response reward_page(RewardService& service, Request& request, store::RewardFilter filter, bool admin_view) {
  const auto page = http::page_request(request);
  filter.after = page.after;
  filter.limit = page.limit;
  filter.status = request.query("status");
  const auto rewards = service.list(filter);
  core::JsonWriter list;
  list.begin_array();
  for (const auto& reward : rewards) write_reward(list, reward, admin_view);
  auto response = Response::json_text(200, list.end_array().take());
  http::link_next_page(response, request, page, http::next_cursor(rewards, page, [](const auto& reward) {
                         return core::Cursor{reward.created_at, reward.id};
                       }));
  return response;
}

Response create_config(RewardService& service, Request& request) {
  const auto body = core::parse_json_object(request.body);
  // reward_value may be absent (a percent config); the service checks that
  // exactly one of it and percent_of_amount is given.
  const auto reward_value = core::optional_non_negative_integer(body, "reward_value");
  if (reward_value == 0) throw core::validation_error("'reward_value' must be a positive whole number.");
  ConfigRequest config_request{core::required_string(body, "reward_type"),
                               reward_value.value_or(0),
                               core::required_string(body, "reward_unit"),
                               core::optional_string(body, "beneficiary").value_or("REFERRER"),
                               core::optional_bool(body, "auto_credit").value_or(false),
                               core::optional_non_negative_integer(body, "percent_of_amount"),
                               core::optional_non_negative_integer(body, "max_value"),
                               core::optional_non_negative_integer(body, "hold_days").value_or(0),
                               core::optional_non_negative_integer(body, "max_rewards_per_referrer"),
                               core::optional_non_negative_integer(body, "budget")};
  auto answer = config_json(service.create_config(config_request, request.user().user_id));
  answer["message"] = "Reward config created";
  return Response::json(201, answer);
}

Response credit(RewardService& service, Request& request) {
  const auto reward = service.credit(request.param("reward_id"), request.user().user_id);
  return Response::json(200, object{{"message", "Reward credited successfully"},
                                    {"reward_id", reward.id},
                                    {"status", reward.status}});
}

Response revoke(RewardService& service, Request& request) {
  const auto body = core::parse_json_object(request.body);
  const auto reason = core::required_string(body, "reason");
  const auto reward = service.revoke(request.param("reward_id"), request.user().user_id, reason);
  return Response::json(200, object{{"message", "Reward revoked"}, {"reward_id", reward.id}, {"status", reward.status}});
}

Response history(RewardService& service, Request& request) {
  boost::json::array list;
  for (const auto& event : service.history(request.param("reward_id"))) {
    list.push_back(object{{"from", event.from ? boost::json::value(*event.from) : nullptr},
                          {"to", event.to},
                          {"actor_id", event.actor_id ? boost::json::value(*event.actor_id) : nullptr},
                          {"reason", event.reason},
                          {"at", core::format_timestamp(event.at)}});
  }
  return Response::json(200, list);
}

std::optional<std::string> optional_currency(const object& body) {
  auto currency = core::optional_string(body, "currency");
  const bool iso_4217 =
      currency && currency->size() == 3 &&
      std::all_of(currency->begin(), currency->end(), [](char c) { return c >= 'A' && c <= 'Z'; });
  if (currency && !iso_4217)
    throw core::validation_error("'currency' must be an ISO 4217 code such as EUR.");
  return currency;
}

std::optional<long long> optional_time(const object& body, const char* field) {
  const auto text = core::optional_string(body, field);
  if (!text) return std::nullopt;
  const auto at = core::parse_timestamp(*text);
  if (!at) {
    throw core::validation_error("'" + std::string(field) +
                                 "' must be a UTC timestamp such as 2026-11-24T13:05:00Z.");
  }
  return at;
}

// The admin route and /api/v1/events take the same body (docs/API.md).
Response record_event(RewardService& service, Request& request) {
  const auto body = core::parse_json_object(request.body);
  const EventRequest event{core::required_string(body, "type"),
                           core::optional_string(body, "user_id"),
                           core::optional_string(body, "email"),
                           core::required_string(body, "external_id"),
                           core::optional_non_negative_integer(body, "amount"),
                           optional_currency(body),
                           optional_time(body, "occurred_at")};
  const auto outcome = service.record_event(event, request.user().user_id);
  return Response::json_text(outcome.first_time ? 201 : 200, outcome.result);
}

void add_user_routes(http::Router& router, RewardService& service) {
  router.add("GET", "/api/rewards/history", Access::user, Lane::db, [&service](Request& request) {
    store::RewardFilter filter;
    filter.user_id = request.user().user_id;
    return reward_page(service, request, filter, false);
  });
  router.add("GET", "/api/rewards/balance", Access::user, Lane::db, [&service](Request& request) {
    return Response::json(200, balance_json(service.balance(request.user().user_id)));
  });
  router.alias("/api/referrals/rewards/history", "/api/rewards/history");
}

void add_admin_routes(http::Router& router, RewardService& service, idempotency::IdempotencyService& idempotency) {
  using idempotency::idempotent;
  router.add("POST", "/api/admin/reward-config", Access::admin, Lane::write,
             [&service](Request& request) { return create_config(service, request); });
  router.add("GET", "/api/admin/reward-config", Access::admin, Lane::db, [&service](Request&) {
    boost::json::array list;
    for (const auto& config : service.configs()) list.push_back(config_json(config));
    return Response::json(200, list);
  });
  router.add("POST", "/api/admin/reward-config/{id}/deactivate", Access::admin, Lane::write, [&service](Request& request) {
    return Response::json(200, config_json(service.deactivate_config(request.param("id"))));
  });
  router.alias("/api/admin/reward-config/create", "/api/admin/reward-config", "POST");
  router.add("GET", "/api/admin/rewards", Access::admin, Lane::db, [&service](Request& request) {
    store::RewardFilter filter;
    filter.user_id = request.query("user_id");
    return reward_page(service, request, filter, true);
  });
  router.add("POST", "/api/admin/rewards/{reward_id}/credit", Access::admin, Lane::write,
             idempotent(idempotency, [&service](Request& request) { return credit(service, request); }));
  router.add("POST", "/api/admin/rewards/{reward_id}/revoke", Access::admin, Lane::write,
             idempotent(idempotency, [&service](Request& request) { return revoke(service, request); }));
  router.add("GET", "/api/admin/rewards/{reward_id}/history", Access::admin, Lane::db,
             [&service](Request& request) { return history(service, request); });
  router.add("POST", "/api/admin/events", Access::admin, Lane::write,
             idempotent(idempotency, [&service](Request& request) { return record_event(service, request); }));
}

// docs/API.md API keys: the same handlers for a merchant's backend; the
// actor of a change is the key ("api_key:<id>").
void add_key_routes(http::Router& router, RewardService& service,
                    idempotency::IdempotencyService& idempotency) {
  using http::Auth;
  using idempotency::idempotent;
  router.add("POST", "/api/v1/events", Auth::key("events:write"), Lane::write,
             idempotent(idempotency,
                        [&service](Request& request) { return record_event(service, request); }));
  router.add("GET", "/api/v1/users/{id}/rewards", Auth::key("rewards:read"), Lane::db,
             [&service](Request& request) {
               store::RewardFilter filter;
               filter.user_id = request.param("id");
               return reward_page(service, request, filter, false);
             });
  router.add(
      "POST", "/api/v1/rewards/{reward_id}/credit", Auth::key("rewards:write"), Lane::write,
      idempotent(idempotency, [&service](Request& request) { return credit(service, request); }));
  router.add(
      "POST", "/api/v1/rewards/{reward_id}/revoke", Auth::key("rewards:write"), Lane::write,
      idempotent(idempotency, [&service](Request& request) { return revoke(service, request); }));
}

}  // namespace

void add_routes(http::Router& router, RewardService& service, idempotency::IdempotencyService& idempotency) {
  add_user_routes(router, service);
  add_admin_routes(router, service, idempotency);
  add_key_routes(router, service, idempotency);
}

}  // namespace reward
