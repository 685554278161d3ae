#include "auth/email_address.hpp"

#include <gtest/gtest.h>

using auth::normalize_email;

// The literals below are UTF-8 (GCC's default execution character set).

TEST(EmailAddress, TrimsAndLowerCasesAsciiAddresses) {
  EXPECT_EQ(normalize_email("  Ada@Example.COM "), "ada@example.com");
  EXPECT_EQ(normalize_email("no-at-sign"), std::nullopt);
  EXPECT_EQ(normalize_email("a@b@example.com"), std::nullopt);
}

TEST(EmailAddress, UnicodeDomainBecomesItsIdnaAsciiForm) {
  EXPECT_EQ(normalize_email("anna@bücher.de"), "anna@xn--bcher-kva.de");
  EXPECT_EQ(normalize_email("Anna@BÜCHER.DE"), "anna@xn--bcher-kva.de");
  EXPECT_EQ(normalize_email("anna@xn--bcher-kva.de"), "anna@xn--bcher-kva.de");
  // "u" and a combining diaeresis (U+0308) are composed to "ü" first (NFC).
  EXPECT_EQ(normalize_email("anna@bu\u0308cher.de"), "anna@xn--bcher-kva.de");
  // Non-transitional: "ß" stays itself (DENIC registers it), not "ss".
  EXPECT_EQ(normalize_email("x@straße.de"), "x@xn--strae-oqa.de");
}

TEST(EmailAddress, RefusesWhatIdnaOrTheLocalPartRulesRefuse) {
  EXPECT_EQ(normalize_email("änna@example.com"), std::nullopt);    // non-ASCII local part
  EXPECT_EQ(normalize_email("anna@bücher"), std::nullopt);         // no dot
  EXPECT_EQ(normalize_email("anna@bü cher.de"), std::nullopt);     // a space
  EXPECT_EQ(normalize_email("anna@\u202Eevil.de"), std::nullopt);  // a bidi override
}
