#pragma once
#include <optional>
#include <string>
#include <vector>

#include "auth/auth_store.hpp"
#include "auth/session_cache.hpp"
#include "core/cursor.hpp"
#include "db/database.hpp"

namespace auth {

// Admin rights go only to a verified account: anyone can sign up with any
// address, so an unverified one proves nothing about who holds it. Throws
// 409 user_not_verified (command line and console alike).
void refuse_unverified_admin(const store::User& user);

// The operator console's view of accounts: search by email, grant or take
// admin rights (docs/API.md, Admin: users). The command line's promote and
// demote go through AuthService::set_admin by email; this works by id.
class UserAdminService {
 public:
  explicit UserAdminService(db::Database& database) : database_(database) {}
  // Told of each change right after it commits (AuthService::set_session_cache).
  void set_session_cache(SessionCache* cache) { session_cache_ = cache; }

  std::vector<store::User> search(const std::string& email_prefix,
                                  const std::optional<core::Cursor>& after, int limit);
  // Throws 404 user_not_found; 409 self_demotion when an admin demotes
  // themselves (the console would otherwise lock its last operator out);
  // 409 user_not_verified when promoting an unverified account.
  store::User set_admin(const std::string& acting_user_id, const std::string& user_id,
                        bool is_admin);

 private:
  db::Database& database_;
  SessionCache* session_cache_ = nullptr;
};

}  // namespace auth
