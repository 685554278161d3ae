#include "core/random.hpp"

#include <sodium.h>

#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "core/clock.hpp"

namespace core {

namespace {
struct SodiumInit {
  SodiumInit() {
    if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
  }
};
}  // namespace

void ensure_sodium() { static const SodiumInit init; }

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

namespace {

// bytes[0..5] = the time in ms, then the version and variant bits over `random`.
void format_uuid7(const unsigned char (&random)[16], char* out) {
  unsigned char bytes[16];
  std::memcpy(bytes, random, sizeof bytes);
  auto ms = static_cast<std::uint64_t>(now_ms());
  for (int i = 5; i >= 0; --i) {
    bytes[i] = static_cast<unsigned char>(ms & 0xff);
    ms >>= 8;
  }
  bytes[6] = static_cast<unsigned char>((bytes[6] & 0x0f) | 0x70);  // version 7
  bytes[8] = static_cast<unsigned char>((bytes[8] & 0x3f) | 0x80);  // RFC 4122 variant
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) *out++ = '-';
    *out++ = kHex[bytes[i] >> 4];
    *out++ = kHex[bytes[i] & 0x0f];
  }
}

// xoshiro256** (Blackman and Vigna): fast, 256 bits of state, passes BigCrush.
class Xoshiro256 {
 public:
  Xoshiro256() {
    ensure_sodium();
    do {
      randombytes_buf(state_, sizeof state_);
    } while ((state_[0] | state_[1] | state_[2] | state_[3]) == 0);  // all-zero never leaves zero
  }
  std::uint64_t next() {
    const auto result = rotl(state_[1] * 5, 7) * 9;
    const auto t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return result;
  }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t state_[4];
};

}  // namespace

std::string new_id() {
  unsigned char random[16];
  ensure_sodium();
  randombytes_buf(random, sizeof random);
  std::string out(36, '\0');
  format_uuid7(random, out.data());
  return out;
}

UuidText new_unique_id() {
  thread_local Xoshiro256 generator;
  unsigned char random[16];
  const std::uint64_t halves[2] = {generator.next(), generator.next()};
  std::memcpy(random, halves, sizeof random);
  UuidText out;
  format_uuid7(random, out.data());
  return out;
}

std::string base64url_encode(std::string_view bytes) {
  std::string out;
  append_base64url(out, bytes);
  return out;
}

void append_base64url(std::string& out, std::string_view bytes) {
  ensure_sodium();
  const auto variant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
  const auto start = out.size();
  const auto encoded = sodium_base64_encoded_len(bytes.size(), variant);  // with its NUL
  out.resize(start + encoded);
  sodium_bin2base64(out.data() + start, encoded,
                    reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), variant);
  out.resize(out.size() - 1);  // drop the terminating NUL sodium writes
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
