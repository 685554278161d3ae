#pragma once
#include <cstdint>
#include <string>

namespace auth {

struct HashParams {
  std::uint64_t ops = 2;
  std::uint64_t memory_kib = 19 * 1024;
};

// Argon2id (libsodium), salted; the parameters live in the hash string.
std::string hash_password(const std::string& password, const HashParams& params);

// Accepts Argon2id hashes and the original service's bcrypt hashes
// ($2a$/$2b$/$2y$). Constant-time comparison in both cases.
bool verify_password(const std::string& password, const std::string& stored_hash);

// True for the formats verify_password can check (bcrypt $2a$/$2b$/$2y$
// and Argon2id); the importer reports accounts whose hash is neither.
bool is_supported_hash(const std::string& stored_hash);

// True for the original service's bcrypt hashes ($2a$/$2b$/$2y$).
bool is_bcrypt_hash(const std::string& stored_hash);

// True for bcrypt hashes and Argon2id hashes made with other parameters:
// the caller re-hashes after a successful login.
bool needs_rehash(const std::string& stored_hash, const HashParams& params);

// Spends the time of one verification without a stored hash, so an unknown
// email answers as slowly as a wrong password.
void burn_verification_time(const HashParams& params);

// Spends the time of one bcrypt check at `cost` (4 to 31).
void burn_bcrypt_time(int cost);

}  // namespace auth
