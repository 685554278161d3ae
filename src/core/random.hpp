#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace core {

// All randomness comes from libsodium's CSPRNG.
std::string random_bytes(std::size_t count);
std::uint32_t random_below(std::uint32_t upper_bound);  // uniform in [0, upper_bound)
std::string random_token(std::size_t bytes);              // base64url, no padding

// UUIDv7: time-ordered, safe to generate on many servers at once.
std::string new_id();

// HMAC-SHA-256 (32 raw bytes); keys of any length.
std::string hmac_sha256(std::string_view key, std::string_view message);

std::string base64url_encode(std::string_view bytes);
bool base64url_decode(std::string_view text, std::string& out);

// Compares without leaking where the inputs differ (their lengths are not secret).
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace core
