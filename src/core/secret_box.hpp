#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace core {

// Symmetric encryption at rest (libsodium secretbox) with a key derived from
// the server secret for one purpose (`context`), so a leaked database alone
// does not reveal what was sealed.
class SecretBox {
 public:
  // Throws std::invalid_argument when `server_secret` is too short to key BLAKE2b.
  SecretBox(const std::string& server_secret, std::string_view context);

  // base64url(nonce || ciphertext) of `plain`.
  std::string seal(std::string_view plain) const;
  // nullopt when `sealed` was tampered with or sealed under another key.
  std::optional<std::string> open(std::string_view sealed) const;

 private:
  std::string key_;
};

}  // namespace core
