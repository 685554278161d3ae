// db::numbered_placeholders turns a store's SOCI text into what libpq's
// pipelined statements take, as SOCI's PostgreSQL backend does for its own.
#include <gtest/gtest.h>

#include "db/pipelined_connection.hpp"

namespace {

TEST(NumberedPlaceholders, NumbersNamesInOrderOfFirstAppearance) {
  EXPECT_EQ(db::numbered_placeholders(
                "SELECT a FROM t WHERE id = :id AND (x, y) < (:x, :y) LIMIT :limit"),
            "SELECT a FROM t WHERE id = $1 AND (x, y) < ($2, $3) LIMIT $4");
}

TEST(NumberedPlaceholders, ARepeatedNameKeepsItsNumber) {
  EXPECT_EQ(db::numbered_placeholders("SELECT :a, :b_2, :a"), "SELECT $1, $2, $1");
}

TEST(NumberedPlaceholders, LeavesCastsQuotedTextAndLoneColonsAlone) {
  EXPECT_EQ(db::numbered_placeholders("SELECT CAST(:v AS TEXT), x::BIGINT, ':not_me', ': ', :w"),
            "SELECT CAST($1 AS TEXT), x::BIGINT, ':not_me', ': ', $2");
  EXPECT_EQ(db::numbered_placeholders("SELECT 'it''s :x', :y:"), "SELECT 'it''s :x', $1:");
}

}  // namespace
