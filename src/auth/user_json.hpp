#pragma once
#include <boost/json/object.hpp>

#include "auth/auth_store.hpp"

namespace auth {

// The `User` object of docs/API.md (login, verify-session, the admin user routes,
// the user.verified event).
boost::json::object user_json(const store::User& user);

}  // namespace auth
