#include "referral/referral_routes.hpp"

#include <boost/json.hpp>

#include "core/json_body.hpp"
#include "http/pagination.hpp"
#include "idempotency/idempotent_route.hpp"
#include "referral/referral_json.hpp"

namespace referral {

using boost::json::object;
using http::Access;
using http::Lane;
using http::Request;
using http::Response;

namespace {

Response generate(ReferralService& service, Request& request) {
  const auto result = service.generate(request.user().user_id);
  const boost::json::value my_referrer = result.my_referrer_id
                                             ? boost::json::value(*result.my_referrer_id)
                                             : boost::json::value(nullptr);
  // `referred_by` is the code's owner, the caller: the original's serializer
  // answered its Referral.referred_by field, and its clients read it so.
  return Response::json(result.created ? 201 : 200, object{{"id", result.code.id},
                                                           {"referral_code", result.code.code},
                                                           {"referred_by", result.code.user_id},
                                                           {"my_referrer_id", my_referrer}});
}

Response apply(ReferralService& service, Request& request) {
  const auto body = core::parse_json_object(request.body);
  const auto result =
      service.apply(request.user().user_id, core::required_string(body, "referral_code"), request.client_ip);
  return Response::json(200, object{{"message", "Referral applied successfully"},
                                    {"referral_code", result.code},
                                    {"referral_id", result.referral.id},
                                    {"status", result.referral.status},
                                    {"flags", flags_json(result.referral.flags)}});
}

Response flagged(ReferralService& service, Request& request) {
  const auto page = http::page_request(request);
  const auto items = service.flagged(page.after, page.limit);
  core::JsonWriter list;
  list.begin_array();
  for (const auto& item : items) write_admin_referral(list, item);
  auto response = Response::json_text(200, list.end_array().take());
  http::link_next_page(response, request, page, http::next_cursor(items, page, [](const auto& item) {
                         return core::Cursor{item.referral.created_at, item.referral.id};
                       }));
  return response;
}

}  // namespace

void add_routes(http::Router& router, ReferralService& service, idempotency::IdempotencyService& idempotency) {
  router.add("POST", "/api/referral/generate", Access::user, Lane::write,
             [&service](Request& request) { return generate(service, request); });
  router.add("POST", "/api/referral/apply", Access::user, Lane::write,
             idempotency::idempotent(idempotency, [&service](Request& request) { return apply(service, request); }));
  router.add("GET", "/api/admin/referrals/flagged", Access::admin, Lane::db,
             [&service](Request& request) { return flagged(service, request); });
  router.alias("/api/referrals/generate", "/api/referral/generate");
  router.alias("/api/referrals/apply", "/api/referral/apply");
}

}  // namespace referral
