#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/hmac_key.hpp"

// The `referral` cookie set by /r/{code}: which code and click brought the
// visitor, until when. Signed with HMAC-SHA-256 under a key derived from
// the server secret, so every instance sharing the secret accepts it and a
// visitor cannot forge or extend one.
namespace links {

struct AttributionClaim {
  std::string code;      // normalized, as in referral_codes.code
  std::string click_id;  // the click that set the cookie
  std::int64_t expires_at = 0;
};

// What sign() needs, borrowed: the redirect signs without copying them.
struct ClaimToSign {
  std::string_view code;
  std::string_view click_id;
  std::int64_t expires_at = 0;
};

class AttributionSigner {
 public:
  explicit AttributionSigner(std::string_view server_secret);

  // base64url(payload) "." base64url(mac): cookie-safe characters only.
  std::string sign(const ClaimToSign& claim) const;
  // nullopt for a token that is malformed, forged, or expired at `now_ms`.
  std::optional<AttributionClaim> verify(std::string_view token, std::int64_t now_ms) const;

 private:
  core::HmacKey key_;
};

}  // namespace links
