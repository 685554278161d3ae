#include "apikey/api_key_secret.hpp"

#include <sodium.h>

#include <algorithm>
#include <cctype>

#include "core/random.hpp"

namespace apikey {

namespace {

constexpr std::string_view kPrefix = "rk_";
constexpr std::size_t kRandomLength = 40;
constexpr std::string_view kBase62 =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

}  // namespace

std::string new_secret() {
  std::string secret(kPrefix);
  for (std::size_t i = 0; i < kRandomLength; ++i) {
    secret += kBase62[core::random_below(static_cast<std::uint32_t>(kBase62.size()))];
  }
  return secret;
}

bool looks_like_secret(std::string_view text) {
  return text.size() == kPrefix.size() + kRandomLength && text.starts_with(kPrefix) &&
         std::all_of(text.begin() + kPrefix.size(), text.end(),
                     [](unsigned char c) { return std::isalnum(c) != 0; });
}

// SHA-256 rather than a slow password hash: a key carries 238 random bits,
// so no dictionary or brute force gets near it however fast the hash is,
// and every request checks one (Argon2 would cost ~20 ms of CPU each).
std::string hash_secret(std::string_view secret) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(secret.data()), secret.size());
  char hex[crypto_hash_sha256_BYTES * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
  return std::string(hex, crypto_hash_sha256_BYTES * 2);
}

}  // namespace apikey
