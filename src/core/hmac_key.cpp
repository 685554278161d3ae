#include "core/hmac_key.hpp"

#include "core/random.hpp"

namespace core {

HmacKey::HmacKey(std::string_view key) {
  ensure_sodium();
  crypto_auth_hmacsha256_init(&keyed_, reinterpret_cast<const unsigned char*>(key.data()),
                              key.size());
}

HmacKey::Mac HmacKey::mac(std::string_view message) const {
  auto state = keyed_;  // a plain struct: the copy continues from the keyed pads
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(message.data()),
                                message.size());
  Mac out;
  crypto_auth_hmacsha256_final(&state, out.data());
  return out;
}

}  // namespace core
