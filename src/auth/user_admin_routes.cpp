#include "auth/user_admin_routes.hpp"

#include <boost/json/array.hpp>

#include "auth/auth_routes.hpp"
#include "http/pagination.hpp"

namespace auth {

using http::Access;
using http::Lane;
using http::Request;
using http::Response;

namespace {

Response search(UserAdminService& service, Request& request) {
  const auto page = http::page_request(request);
  const auto users = service.search(request.query("q").value_or(""), page.after, page.limit);
  boost::json::array list;
  for (const auto& user : users) list.push_back(user_json(user));
  auto response = Response::json(200, list);
  http::link_next_page(response, request, page,
                       http::next_cursor(users, page, [](const store::User& user) {
                         return core::Cursor{user.created_at, user.id};
                       }));
  return response;
}

http::Handler set_admin(UserAdminService& service, bool is_admin) {
  return [&service, is_admin](Request& request) {
    return Response::json(
        200, user_json(service.set_admin(request.user().user_id, request.param("id"), is_admin)));
  };
}

}  // namespace

void add_user_admin_routes(http::Router& router, UserAdminService& service) {
  router.add("GET", "/api/admin/users", Access::admin, Lane::db,
             [&service](Request& request) { return search(service, request); });
  router.add("POST", "/api/admin/users/{id}/promote", Access::admin, Lane::write,
             set_admin(service, true));
  router.add("POST", "/api/admin/users/{id}/demote", Access::admin, Lane::write,
             set_admin(service, false));
}

}  // namespace auth
