#pragma once
#include <sodium/crypto_auth_hmacsha256.h>

#include <array>
#include <string_view>

namespace core {

// HMAC-SHA-256 under one fixed key. The key's inner and outer pads (two
// SHA-256 blocks) are hashed once here instead of for every message: for the
// short messages of the share-link redirect that halves the hashing per MAC.
class HmacKey {
 public:
  using Mac = std::array<unsigned char, crypto_auth_hmacsha256_BYTES>;

  explicit HmacKey(std::string_view key);
  Mac mac(std::string_view message) const;

 private:
  crypto_auth_hmacsha256_state keyed_{};
};

}  // namespace core
