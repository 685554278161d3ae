#include "auth/auth_events.hpp"

#include <boost/json/serialize.hpp>

#include "auth/user_json.hpp"
#include "events/event_log.hpp"

namespace auth {

void publish_verified(soci::session& sql, const store::User& user, std::int64_t now_ms) {
  events::publish(
      sql, {std::string(events::kUserVerified), user.id, boost::json::serialize(user_json(user))},
      now_ms);
}

}  // namespace auth
