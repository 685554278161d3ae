#include "core/secret_box.hpp"

#include <sodium.h>

#include <stdexcept>

#include "core/random.hpp"

namespace core {

namespace {

std::string derive_key(const std::string& secret, std::string_view context) {
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
  if (secret.size() < crypto_generichash_KEYBYTES_MIN) {
    throw std::invalid_argument("the server secret is too short to derive a key");
  }
  // A keyed BLAKE2b takes at most 64 key bytes; a longer secret is hashed down
  // first (as HMAC does with long keys).
  std::string key_material = secret;
  if (key_material.size() > crypto_generichash_KEYBYTES_MAX) {
    key_material.assign(crypto_generichash_KEYBYTES_MAX, '\0');
    crypto_generichash(reinterpret_cast<unsigned char*>(key_material.data()), key_material.size(),
                       reinterpret_cast<const unsigned char*>(secret.data()), secret.size(),
                       nullptr, 0);
  }
  std::string key(crypto_secretbox_KEYBYTES, '\0');
  crypto_generichash(reinterpret_cast<unsigned char*>(key.data()), key.size(),
                     reinterpret_cast<const unsigned char*>(context.data()), context.size(),
                     reinterpret_cast<const unsigned char*>(key_material.data()),
                     key_material.size());
  return key;
}

}  // namespace

SecretBox::SecretBox(const std::string& server_secret, std::string_view context)
    : key_(derive_key(server_secret, context)) {}

std::string SecretBox::seal(std::string_view plain) const {
  auto sealed = random_bytes(crypto_secretbox_NONCEBYTES);
  const auto nonce_size = sealed.size();
  sealed.resize(nonce_size + crypto_secretbox_MACBYTES + plain.size());
  auto* out = reinterpret_cast<unsigned char*>(sealed.data());
  crypto_secretbox_easy(out + nonce_size, reinterpret_cast<const unsigned char*>(plain.data()),
                        plain.size(), out, reinterpret_cast<const unsigned char*>(key_.data()));
  return base64url_encode(sealed);
}

std::optional<std::string> SecretBox::open(std::string_view text) const {
  std::string sealed;
  if (!base64url_decode(text, sealed)) return std::nullopt;
  const auto header = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES;
  if (sealed.size() < header) return std::nullopt;
  std::string plain(sealed.size() - header, '\0');
  const auto* in = reinterpret_cast<const unsigned char*>(sealed.data());
  if (crypto_secretbox_open_easy(reinterpret_cast<unsigned char*>(plain.data()),
                                 in + crypto_secretbox_NONCEBYTES,
                                 sealed.size() - crypto_secretbox_NONCEBYTES, in,
                                 reinterpret_cast<const unsigned char*>(key_.data())) != 0) {
    return std::nullopt;
  }
  return plain;
}

}  // namespace core
