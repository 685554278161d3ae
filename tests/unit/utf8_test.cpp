#include <gtest/gtest.h>

#include "core/utf8.hpp"

using core::is_valid_utf8;
using core::to_valid_utf8;

TEST(Utf8, AcceptsWellFormedText) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("plain ascii"));
  EXPECT_TRUE(is_valid_utf8("\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"));  // é € 😀
  EXPECT_TRUE(is_valid_utf8("\xF4\x8F\xBF\xBF"));                        // U+10FFFF
  EXPECT_TRUE(is_valid_utf8(std::string_view("a\0b", 3)));                // NUL is valid UTF-8
}

TEST(Utf8, RefusesMalformedText) {
  EXPECT_FALSE(is_valid_utf8("\xFF"));
  EXPECT_FALSE(is_valid_utf8("\x80"));              // lone continuation
  EXPECT_FALSE(is_valid_utf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xE0\x80\xAF"));      // overlong, three bytes
  EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));      // surrogate U+D800
  EXPECT_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));  // past U+10FFFF
  EXPECT_FALSE(is_valid_utf8("\xC3"));              // cut short
  EXPECT_FALSE(is_valid_utf8("ok \xE2\x82"));
}

TEST(Utf8, ReplacesEachBadByteAndKeepsTheRest) {
  EXPECT_EQ(to_valid_utf8("a\xFF\xFE" "b", 100), "a\xEF\xBF\xBD\xEF\xBF\xBD" "b");
  EXPECT_EQ(to_valid_utf8("\xC3\xA9t\xC3\xA9", 100), "\xC3\xA9t\xC3\xA9");
  EXPECT_TRUE(is_valid_utf8(to_valid_utf8("\xED\xA0\x80\xC0", 100)));
}

TEST(Utf8, CutsOnACharacterBoundary) {
  EXPECT_EQ(to_valid_utf8("a\xC3\xA9\xC3\xA9", 4), "a\xC3\xA9");  // not "a\xC3\xA9\xC3"
  EXPECT_EQ(to_valid_utf8("abc", 2), "ab");
  EXPECT_EQ(to_valid_utf8("\xFF", 2), "");  // the replacement would not fit
}

TEST(Utf8, TextIsValidUtf8WithoutNul) {
  EXPECT_TRUE(core::is_text("é ok"));
  EXPECT_FALSE(core::is_text(std::string_view("a\0b", 3)));
  EXPECT_FALSE(core::is_text("\xff"));
}
