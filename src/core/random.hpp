#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace core {

// Initialises libsodium once (thread-safe); every function here calls it.
void ensure_sodium();

// All randomness comes from libsodium's CSPRNG.
std::string random_bytes(std::size_t count);
std::uint32_t random_below(std::uint32_t upper_bound);  // uniform in [0, upper_bound)
std::string random_token(std::size_t bytes);              // base64url, no padding

// UUIDv7: time-ordered, safe to generate on many servers at once.
std::string new_id();

// A UUIDv7 as new_id() writes it, held without a heap allocation.
using UuidText = std::array<char, 36>;
// A UUIDv7 whose 74 random bits come from a per-thread xoshiro256** seeded
// once from libsodium, instead of a getrandom() call per id. Only for ids
// that must be unique but need not be unpredictable: 74 bits per
// millisecond make a collision practically impossible, but anyone who sees
// a few ids could predict the next ones. Never for tokens, keys or codes.
UuidText new_unique_id();

// HMAC-SHA-256 (32 raw bytes); keys of any length.
std::string hmac_sha256(std::string_view key, std::string_view message);

std::string base64url_encode(std::string_view bytes);
// Appends base64url(bytes) to `out` (one growth of `out`, no temporary).
void append_base64url(std::string& out, std::string_view bytes);
bool base64url_decode(std::string_view text, std::string& out);

// Compares without leaking where the inputs differ (their lengths are not secret).
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace core
