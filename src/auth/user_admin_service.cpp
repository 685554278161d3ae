#include "auth/user_admin_service.hpp"

#include <algorithm>
#include <cctype>

#include "core/api_error.hpp"
#include "core/text.hpp"

namespace auth {

namespace {

// Stored emails are trimmed and lower-cased (docs/API.md, Input rules), so
// the prefix is too; PostgreSQL's LIKE is case-sensitive.
std::string normalised_prefix(const std::string& raw) {
  std::string prefix(core::trim_view(raw));
  std::transform(prefix.begin(), prefix.end(), prefix.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return prefix;
}

}  // namespace

void refuse_unverified_admin(const store::User& user) {
  if (user.is_verified) return;
  throw core::ApiError(409, "user_not_verified",
                       "The account " + user.email +
                           " has not verified its email, so nothing proves who owns it; it was not "
                           "promoted. Use 'users create-admin' to replace it with a verified admin.");
}

std::vector<store::User> UserAdminService::search(const std::string& email_prefix,
                                                  const std::optional<core::Cursor>& after,
                                                  int limit) {
  const auto prefix = normalised_prefix(email_prefix);
  if (prefix.size() > 254)
    throw core::ApiError(400, "validation_error", "q must be at most 254 characters.");
  return database_.read(
      [&](soci::session& sql) { return store::users_by_email_prefix(sql, prefix, after, limit); });
}

store::User UserAdminService::set_admin(const std::string& acting_user_id,
                                        const std::string& user_id, bool is_admin) {
  if (!is_admin && acting_user_id == user_id) {
    throw core::ApiError(409, "self_demotion", "Admins cannot take their own admin rights away.");
  }
  auto changed = database_.write([&](soci::session& sql) {
    auto user = store::find_user_by_id(sql, user_id);
    if (!user) throw core::ApiError(404, "user_not_found", "No such user.");
    if (is_admin) refuse_unverified_admin(*user);
    store::set_admin(sql, user->id, is_admin);
    user->is_admin = is_admin;
    return *user;
  });
  if (session_cache_) session_cache_->forget_user(changed.id);
  return changed;
}

}  // namespace auth
