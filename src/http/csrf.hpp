#pragma once
#include <string>
#include <vector>

#include "http/message.hpp"

namespace http {

// Browsers attach the `token` cookie to requests any site makes (a form
// POST needs no script), so a request that changes state on the strength of
// the cookie must say where it comes from: its Origin, or without one its
// Referer, must be this server's own origin or an allowed CORS origin.
class OriginCheck {
 public:
  // `public_url` is the server's own URL (PUBLIC_URL); `allowed_origins`
  // is CORS_ALLOWED_ORIGINS.
  OriginCheck(const std::string& public_url, const std::vector<std::string>& allowed_origins);

  bool allows(const Request& request) const;

 private:
  std::vector<std::string> origins_;  // normalised by core::web_origin
};

// POST, PUT, PATCH, DELETE and any other method that is not safe (RFC 9110 §9.2.1).
bool changes_state(std::string_view method);

}  // namespace http
