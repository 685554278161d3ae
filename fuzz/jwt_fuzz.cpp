// Tokens from the wire: anything but a token we signed must be refused, and
// nothing may crash. A token signed here must verify.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "auth/jwt.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static constexpr std::string_view kSecret = "fuzzing secret that is long enough!!";
  const std::string_view token(reinterpret_cast<const char*>(data), size);
  auth::TokenClaims claims;
  const auto verdict = auth::verify_token(token, kSecret, 1'700'000'000, claims);
  if (verdict == auth::TokenError::none) {
    // Only possible for an input that is a correctly signed token: re-signing
    // the claims must give a token that verifies as well.
    const auto again = auth::sign_token(claims, kSecret);
    auth::TokenClaims check;
    if (auth::verify_token(again, kSecret, 1'700'000'000, check) != auth::TokenError::none) __builtin_trap();
  }
  return 0;
}
