#pragma once
#include <string>
#include <string_view>

namespace apikey {

// "rk_" + 40 base62 characters from libsodium's CSPRNG, each drawn uniformly
// (randombytes_uniform rejects the biased tail): 40 × log2(62) ≈ 238 bits.
std::string new_secret();
// The shape new_secret() makes; anything else is refused before any lookup.
bool looks_like_secret(std::string_view text);
// Hex SHA-256 of the key: what the database keeps and indexes.
std::string hash_secret(std::string_view secret);

}  // namespace apikey
