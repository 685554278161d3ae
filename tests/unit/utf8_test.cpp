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

TEST(Utf8, ControlCharactersAreFoundAnywhere) {
  for (const char* text :
       {"a\rb", "a\nb", "\tab", "ab\x1b", "a\x7f", "a\xC2\x85", "a\xC2\x9B", "a\xE2\x80\xA8",
        "a\xE2\x80\xA9", "a\xE2\x80\xAE", "a\xE2\x80\x8F", "a\xE2\x81\xA6", "a\xE2\x81\xA9"}) {
    EXPECT_TRUE(core::has_control_characters(text)) << text;
  }
  EXPECT_TRUE(core::has_control_characters(std::string_view("a\0b", 3)));
}

TEST(Utf8, OrdinaryTextHasNoControlCharacters) {
  // Neighbours of the refused ranges stay allowed: U+00A0, U+2027,
  // U+202F, U+2065, U+200D (joiner in emoji sequences), CJK, Latin-1.
  for (const char* text :
       {"Zo\xC3\xAB O'Brien", "\xC2\xA0", "\xE2\x80\xA7", "\xE2\x80\xAF", "\xE2\x81\xA5",
        "a\xE2\x80\x8D"
        "b",
        "\xE5\xB1\xB1\xE7\x94\xB0", ""}) {
    EXPECT_FALSE(core::has_control_characters(text)) << text;
  }
}
