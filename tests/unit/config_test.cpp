#include <gtest/gtest.h>

#include "core/config.hpp"

TEST(Config, DefaultsFollowTheSpec) {
  const auto config = core::parse_config({});
  EXPECT_EQ(config.database_url, "sqlite://referrald.db");
  EXPECT_EQ(config.port, 8000);
}
