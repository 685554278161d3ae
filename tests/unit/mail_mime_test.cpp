#include <gtest/gtest.h>
#include <sodium.h>

#include <map>
#include <string>
#include <vector>

#include "mail/mime.hpp"

namespace {

constexpr std::int64_t kDate = 1795593611123;  // 2026-11-25T08:00:11.123Z, a Wednesday
const std::string kFrom = "Referrals <noreply@example.com>";

std::vector<std::string> crlf_lines(const std::string& message) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < message.size()) {
    const auto end = message.find("\r\n", start);
    if (end == std::string::npos) break;
    lines.push_back(message.substr(start, end - start));
    start = end + 2;
  }
  return lines;
}

std::string headers_of(const std::string& message) {
  return message.substr(0, message.find("\r\n\r\n") + 2);
}

// Top-level header value by name, unfolded.
std::string header(const std::string& message, const std::string& name) {
  std::map<std::string, std::string> values;
  std::string last;
  for (const auto& line : crlf_lines(headers_of(message))) {
    if (line.starts_with(" ")) {
      values[last] += line;
      continue;
    }
    last = line.substr(0, line.find(": "));
    values[last] = line.substr(last.size() + 2);
  }
  return values[name];
}

// Concatenated text of the RFC 2047 B-encoded words in a header value.
std::string decode_words(const std::string& value) {
  static const std::string kOpen = "=?UTF-8?B?";
  std::string out;
  for (auto at = value.find(kOpen); at != std::string::npos; at = value.find(kOpen, at)) {
    at += kOpen.size();
    const auto close = value.find("?=", at);
    const auto b64 = value.substr(at, close - at);
    std::string bin(b64.size(), '\0');
    std::size_t length = 0;
    EXPECT_EQ(
        sodium_base642bin(reinterpret_cast<unsigned char*>(bin.data()), bin.size(), b64.data(),
                          b64.size(), nullptr, &length, nullptr, sodium_base64_VARIANT_ORIGINAL),
        0);
    out += bin.substr(0, length);
    at = close;
  }
  return out;
}

// The value of `boundary="..."` in a Content-Type.
std::string boundary_of(const std::string& content_type) {
  const auto start = content_type.find("boundary=\"") + 10;
  return content_type.substr(start, content_type.find('"', start) - start);
}

std::string decode_qp(const std::string& encoded) {
  std::string out;
  for (std::size_t i = 0; i < encoded.size(); ++i) {
    if (encoded[i] != '=') {
      out.push_back(encoded[i]);
    } else if (encoded.compare(i + 1, 2, "\r\n") == 0) {
      i += 2;
    } else {
      out.push_back(static_cast<char>(std::stoi(encoded.substr(i + 1, 2), nullptr, 16)));
      i += 2;
    }
  }
  return out;
}

// The body of the part whose Content-Type starts with `type`.
std::string part_body(const std::string& message, const std::string& type) {
  const auto at = message.find("Content-Type: " + type);
  const auto start = message.find("\r\n\r\n", at) + 4;
  const auto end = message.find("\r\n--=_", start);
  return message.substr(start, end == std::string::npos ? std::string::npos : end + 2 - start);
}

mail::Email sample() {
  return {"user@example.com", "Your code", "Your code is 123456.\nIt expires in 5 minutes.\n",
          "<p>Your code is <b>123456</b>.</p>"};
}

}  // namespace

TEST(MailMime, WritesTheHeaders) {
  const auto message = mail::build_mime(sample(), kFrom, kDate);
  EXPECT_EQ(header(message, "From"), "\"Referrals\" <noreply@example.com>");
  EXPECT_EQ(header(message, "To"), "user@example.com");
  EXPECT_EQ(header(message, "Subject"), "Your code");
  EXPECT_EQ(header(message, "Date"), "Wed, 25 Nov 2026 08:00:11 +0000");
  const auto id = header(message, "Message-ID");
  EXPECT_TRUE(id.starts_with("<") && id.ends_with("@example.com>")) << id;
  EXPECT_EQ(id.size(), 1 + 36 + 13U) << id;  // <uuid@example.com>
  EXPECT_EQ(header(message, "MIME-Version"), "1.0");
  const auto content_type = header(message, "Content-Type");
  EXPECT_TRUE(content_type.starts_with("multipart/alternative; boundary=\"=_")) << content_type;
  EXPECT_GT(boundary_of(content_type).size(), 20U);
}

TEST(MailMime, UsesCrlfOnlyAndShortDotSafeLines) {
  auto email = sample();
  email.text = ".\n.starts with a dot\r\n" + std::string(300, 'x') + "\ntrailing space \n";
  const auto message = mail::build_mime(email, kFrom, kDate);
  for (std::size_t i = 0; i < message.size(); ++i) {
    if (message[i] == '\n') {
      EXPECT_TRUE(i > 0 && message[i - 1] == '\r') << "bare LF at " << i;
    }
    if (message[i] == '\r') {
      EXPECT_TRUE(i + 1 < message.size() && message[i + 1] == '\n') << "bare CR at " << i;
    }
    EXPECT_LT(static_cast<unsigned char>(message[i]), 0x80) << "8-bit byte at " << i;
  }
  for (const auto& line : crlf_lines(message)) {
    EXPECT_FALSE(line.starts_with(".")) << line;
    EXPECT_LE(line.size(), 76U) << line;
    EXPECT_FALSE(line.ends_with(" ")) << line;
  }
  EXPECT_TRUE(message.ends_with("\r\n"));
  EXPECT_EQ(decode_qp(part_body(message, "text/plain")),
            ".\r\n.starts with a dot\r\n" + std::string(300, 'x') + "\r\ntrailing space \r\n\r\n");
}

TEST(MailMime, CarriesBothPartsInUtf8) {
  auto email = sample();
  email.text = "Code: 123456 — gültig 5 Minuten = ok\n";
  email.html = "<p>Code: <b>123456</b> — gültig</p>";
  const auto message = mail::build_mime(email, kFrom, kDate);
  EXPECT_NE(message.find("Content-Type: text/plain; charset=UTF-8\r\n"
                         "Content-Transfer-Encoding: quoted-printable\r\n"),
            std::string::npos);
  EXPECT_NE(message.find("Content-Type: text/html; charset=UTF-8\r\n"
                         "Content-Transfer-Encoding: quoted-printable\r\n"),
            std::string::npos);
  EXPECT_EQ(decode_qp(part_body(message, "text/plain")),
            "Code: 123456 — gültig 5 Minuten = ok\r\n\r\n");
  EXPECT_EQ(decode_qp(part_body(message, "text/html")), email.html + "\r\n");
  const auto boundary = boundary_of(header(message, "Content-Type"));
  EXPECT_NE(message.find("\r\n--" + boundary + "\r\nContent-Type: text/html"), std::string::npos);
  EXPECT_TRUE(message.ends_with("\r\n--" + boundary + "--\r\n"));
}

TEST(MailMime, SendsTextAloneWithoutHtml) {
  auto email = sample();
  email.html.clear();
  const auto message = mail::build_mime(email, kFrom, kDate);
  EXPECT_EQ(header(message, "Content-Type"), "text/plain; charset=UTF-8");
  EXPECT_EQ(message.find("multipart"), std::string::npos);
}

TEST(MailMime, EncodesNonAsciiSubjectsAndNames) {
  auto email = sample();
  email.subject = "Ваш код подтверждения ✓ — " + std::string(60, 'z') + " 日本語のテキスト";
  const auto message = mail::build_mime(email, "Équipe Référence <noreply@example.com>", kDate);
  const auto subject = header(message, "Subject");
  EXPECT_TRUE(subject.starts_with("=?UTF-8?B?"));
  EXPECT_EQ(decode_words(subject), email.subject);
  EXPECT_EQ(decode_words(header(message, "From")), "Équipe Référence");
  EXPECT_TRUE(header(message, "From").ends_with(" <noreply@example.com>"));
  for (const auto& line : crlf_lines(headers_of(message))) EXPECT_LE(line.size(), 76U) << line;
}

TEST(MailMime, EncodesAsciiThatLooksLikeAnEncodedWord) {
  auto email = sample();
  email.subject = "=?UTF-8?B?trick?=";
  const auto message = mail::build_mime(email, kFrom, kDate);
  EXPECT_EQ(decode_words(header(message, "Subject")), email.subject);
}

TEST(MailMime, StripsLineBreaksFromHeaderValues) {
  auto email = sample();
  email.subject = "Hello\r\nBcc: victim@example.org";
  email.to = "user@example.com\r\nBcc: other@example.org";
  const auto message =
      mail::build_mime(email, "Evil\r\nX-Injected: 1 <noreply@example.com>", kDate);
  for (const auto& line : crlf_lines(headers_of(message))) {
    EXPECT_FALSE(line.starts_with("Bcc")) << line;
    EXPECT_FALSE(line.starts_with("X-Injected")) << line;
  }
  EXPECT_EQ(header(message, "Subject"), "HelloBcc: victim@example.org");
}

TEST(MailMime, FindsTheAddressOfAMailbox) {
  EXPECT_EQ(mail::mailbox_address("Referrals <noreply@example.com>"), "noreply@example.com");
  EXPECT_EQ(mail::mailbox_address("  noreply@example.com "), "noreply@example.com");
  EXPECT_EQ(mail::mailbox_address("<a@b.c>"), "a@b.c");
  EXPECT_EQ(mail::mailbox_address("x <a@b.c\r\n>"), "a@b.c");
}
