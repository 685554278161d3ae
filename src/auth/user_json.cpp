#include "auth/user_json.hpp"

#include "core/clock.hpp"

namespace auth {

boost::json::object user_json(const store::User& user) {
  return {{"id", user.id},
          {"name", user.name},
          {"email", user.email},
          {"is_verified", user.is_verified},
          {"is_admin", user.is_admin},
          {"created_at", core::format_timestamp(user.created_at)}};
}

}  // namespace auth
