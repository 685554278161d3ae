#include "core/random.hpp"

#include <sodium.h>

#include <cstdio>
#include <stdexcept>

#include "core/clock.hpp"

namespace core {

namespace {
struct SodiumInit {
  SodiumInit() {
    if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
  }
};
void ensure_sodium() { static const SodiumInit init; }
}  // namespace

std::string random_bytes(std::size_t count) {
  ensure_sodium();
  std::string out(count, '\0');
  randombytes_buf(out.data(), count);
  return out;
}

std::uint32_t random_below(std::uint32_t upper_bound) {
  ensure_sodium();
  return randombytes_uniform(upper_bound);
}

std::string random_token(std::size_t bytes) { return base64url_encode(random_bytes(bytes)); }

std::string new_id() {
  auto bytes = random_bytes(16);
  auto ms = static_cast<std::uint64_t>(now_ms());
  for (int i = 5; i >= 0; --i) {
    bytes[i] = static_cast<char>(ms & 0xff);
    ms >>= 8;
  }
  bytes[6] = static_cast<char>((bytes[6] & 0x0f) | 0x70);  // version 7
  bytes[8] = static_cast<char>((bytes[8] & 0x3f) | 0x80);  // RFC 4122 variant
  std::string out;
  out.reserve(36);
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    const auto byte = static_cast<unsigned char>(bytes[i]);
    out.push_back(kHex[byte >> 4]);
    out.push_back(kHex[byte & 0x0f]);
  }
  return out;
}

std::string base64url_encode(std::string_view bytes) {
  ensure_sodium();
  const auto variant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
  std::string out(sodium_base64_encoded_len(bytes.size(), variant), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), variant);
  out.resize(out.size() - 1);  // drop the terminating NUL sodium writes
  return out;
}

bool base64url_decode(std::string_view text, std::string& out) {
  ensure_sodium();
  out.assign(text.size(), '\0');
  std::size_t length = 0;
  const char* end = nullptr;
  const int rc = sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(),
                                   text.data(), text.size(), nullptr, &length, &end,
                                   sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  if (rc != 0 || end != text.data() + text.size()) return false;
  out.resize(length);
  return true;
}

std::string hmac_sha256(std::string_view key, std::string_view message) {
  ensure_sodium();
  crypto_auth_hmacsha256_state state;
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(key.data()), key.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(message.data()),
                                message.size());
  crypto_auth_hmacsha256_final(&state, mac);
  return std::string(reinterpret_cast<const char*>(mac), sizeof mac);
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace core
