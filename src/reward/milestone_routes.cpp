#include "reward/milestone_routes.hpp"

#include <boost/json.hpp>

#include "core/json_body.hpp"
#include "reward/reward_json.hpp"

namespace reward {

using http::Access;
using http::Lane;
using http::Request;
using http::Response;

void add_milestone_routes(http::Router& router, MilestoneService& service) {
  router.add(
      "POST", "/api/admin/milestones", Access::admin, Lane::write, [&service](Request& request) {
        const auto body = core::parse_json_object(request.body);
        MilestoneRequest milestone{core::required_positive_integer(body, "successful_referrals"),
                                   core::required_positive_integer(body, "reward_value"),
                                   core::required_string(body, "reward_unit")};
        auto answer = milestone_json(service.create(milestone, request.user().user_id));
        answer["message"] = "Milestone created";
        return Response::json(201, answer);
      });
  router.add("GET", "/api/admin/milestones", Access::admin, Lane::db, [&service](Request&) {
    boost::json::array list;
    for (const auto& milestone : service.list()) list.push_back(milestone_json(milestone));
    return Response::json(200, list);
  });
  router.add("POST", "/api/admin/milestones/{id}/deactivate", Access::admin, Lane::write,
             [&service](Request& request) {
               return Response::json(200, milestone_json(service.deactivate(request.param("id"))));
             });
}

}  // namespace reward
