#pragma once
#include "auth/user_admin_service.hpp"
#include "http/router.hpp"

namespace auth {

// GET /api/admin/users, POST /api/admin/users/{id}/promote|demote.
void add_user_admin_routes(http::Router& router, UserAdminService& service);

}  // namespace auth
