// The original's bcrypt hashes ($2a$, $2b$, $2y$) are accepted at login and
// flagged for an Argon2id re-hash; hashes are made here with libxcrypt, the
// library the server verifies with (Python's bcrypt writes the same format).
#include <crypt.h>
#include <gtest/gtest.h>

#include <string>

#include "auth/password.hpp"

namespace {

std::string bcrypt(const std::string& password, const char* prefix) {
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  if (crypt_gensalt_rn(prefix, 4, nullptr, 0, setting, sizeof setting) == nullptr) return "";
  crypt_data data{};
  const char* hashed = crypt_r(password.c_str(), setting, &data);
  return hashed ? hashed : "";
}

class OriginalBcrypt : public testing::TestWithParam<const char*> {};

TEST_P(OriginalBcrypt, VerifiesAndAsksForARehash) {
  const auto hash = bcrypt("old password 1", GetParam());
  ASSERT_EQ(hash.size(), 60U) << hash;
  ASSERT_TRUE(hash.starts_with(GetParam()));
  EXPECT_TRUE(auth::is_supported_hash(hash));
  EXPECT_TRUE(auth::verify_password("old password 1", hash));
  EXPECT_FALSE(auth::verify_password("old password 2", hash));
  EXPECT_FALSE(auth::verify_password("", hash));
  EXPECT_FALSE(auth::verify_password(std::string("old password 1\0junk", 19), hash));
  EXPECT_TRUE(auth::needs_rehash(hash, {}));
}

INSTANTIATE_TEST_SUITE_P(Prefixes, OriginalBcrypt, testing::Values("$2a$", "$2b$", "$2y$"));

TEST(OriginalBcrypt, OtherFormatsAreNotSupported) {
  for (const char* stored : {"", "pbkdf2_sha256$600000$salt$hash", "bcrypt$$2b$12$short",
                             "$1$abc$def", "$2b$04$tooShort"}) {
    EXPECT_FALSE(auth::is_supported_hash(stored)) << stored;
    EXPECT_FALSE(auth::verify_password("anything", stored)) << stored;
  }
  EXPECT_TRUE(auth::is_supported_hash(auth::hash_password("pw", {1, 64})));
}

}  // namespace
