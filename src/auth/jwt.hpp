#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace auth {

struct TokenClaims {
  std::string sub;  // user id
  std::string sid;  // session id
  std::string jti;
  std::int64_t iat = 0;  // seconds
  std::int64_t exp = 0;  // seconds
};

enum class TokenError { none, invalid, expired };

// HS256 only; the header is always {"alg":"HS256","typ":"JWT"}.
std::string sign_token(const TokenClaims& claims, std::string_view secret);

// Every RFC 8725 check: the header must be exactly the one we issue
// ({"alg":"HS256","typ":"JWT"}: alg "none", another algorithm, `crit` or any
// other header is refused), a valid signature, exp in the future, iat not in
// the future (60 s skew).
TokenError verify_token(std::string_view token, std::string_view secret, std::int64_t now_seconds,
                        TokenClaims& claims);

}  // namespace auth
