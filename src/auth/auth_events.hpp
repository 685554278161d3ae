#pragma once
#include <soci/session.h>

#include <cstdint>

#include "auth/auth_store.hpp"

// The account events of the spine (src/events/), published in the caller's transaction.
namespace auth {

// `user` as it is once verified; the event carries it as the User object of docs/API.md.
void publish_verified(soci::session& sql, const store::User& user, std::int64_t now_ms);

}  // namespace auth
