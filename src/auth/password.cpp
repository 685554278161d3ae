#include "auth/password.hpp"

#include <crypt.h>
#include <sodium.h>

#include <algorithm>
#include <cstdio>
#include <stdexcept>

#include "core/random.hpp"

namespace auth {

namespace {

bool verify_bcrypt(const std::string& password, const std::string& stored_hash) {
  // crypt_r reads a C string: "secret\0junk" would check as "secret". The
  // original's bcrypt refused NUL bytes, so no stored hash can hold one.
  if (password.find('\0') != std::string::npos) return false;
  crypt_data data{};
  const char* computed = crypt_r(password.c_str(), stored_hash.c_str(), &data);
  if (computed == nullptr || computed[0] == '*') return false;
  return core::constant_time_equal(computed, stored_hash);
}

}  // namespace

bool is_bcrypt_hash(const std::string& hash) {
  return hash.size() == 60 &&
         (hash.starts_with("$2a$") || hash.starts_with("$2b$") || hash.starts_with("$2y$"));
}

std::string hash_password(const std::string& password, const HashParams& params) {
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), params.ops,
                            static_cast<std::size_t>(params.memory_kib) * 1024,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    throw std::runtime_error("password hashing ran out of memory");
  }
  return out;
}

bool verify_password(const std::string& password, const std::string& stored_hash) {
  if (is_bcrypt_hash(stored_hash)) return verify_bcrypt(password, stored_hash);
  if (!stored_hash.starts_with("$argon2id$")) return false;
  return crypto_pwhash_str_verify(stored_hash.c_str(), password.data(), password.size()) == 0;
}

bool is_supported_hash(const std::string& stored_hash) {
  return is_bcrypt_hash(stored_hash) || stored_hash.starts_with("$argon2id$");
}

bool needs_rehash(const std::string& stored_hash, const HashParams& params) {
  if (!stored_hash.starts_with("$argon2id$")) return true;
  return crypto_pwhash_str_needs_rehash(stored_hash.c_str(), params.ops,
                                        static_cast<std::size_t>(params.memory_kib) * 1024) != 0;
}

void burn_verification_time(const HashParams& params) {
  static const std::string decoy = hash_password(core::random_token(16), params);
  verify_password("not the password", decoy);
}

void burn_bcrypt_time(int cost) {
  // crypt_r hashes with the setting's salt and cost whatever it is compared
  // with: a fixed salt in the setting is enough.
  char setting[32];
  std::snprintf(setting, sizeof setting, "$2b$%02d$abcdefghijklmnopqrstuu",
                std::clamp(cost, 4, 31));
  crypt_data data{};
  crypt_r("not the password", setting, &data);
}

}  // namespace auth
