#include "core/text.hpp"
#include "mail/mime.hpp"

#include <sodium.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>

#include "core/random.hpp"

namespace mail {

namespace {

using core::trim;

constexpr std::size_t kQpLineLimit = 76;  // RFC 2045, including a soft break's '='
// 39 bytes -> 52 base64 characters: "Subject: " plus one encoded word stays
// within RFC 2047's 76-character line.
constexpr std::size_t kWordBytes = 39;
constexpr std::size_t kPlainSubjectMax = 900;  // well under the 998-octet line limit

std::string base64(std::string_view bytes) {
  const auto variant = sodium_base64_VARIANT_ORIGINAL;
  std::string out(sodium_base64_encoded_len(bytes.size(), variant), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), variant);
  out.pop_back();  // the NUL sodium writes
  return out;
}

// Control characters (CR and LF above all) end a header line: drop them.
std::string header_safe(std::string_view value) {
  std::string out;
  for (const char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c != 0x7f) out.push_back(ch);
  }
  return out;
}

bool plain_ascii(std::string_view value) {
  const bool printable = std::all_of(value.begin(), value.end(), [](char ch) {
    return static_cast<unsigned char>(ch) >= 0x20 && static_cast<unsigned char>(ch) < 0x7f;
  });
  // A literal "=?" would be read as the start of an encoded word.
  return printable && value.find("=?") == std::string_view::npos;
}

std::size_t utf8_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead & 0xe0) == 0xc0) return 2;
  if ((lead & 0xf0) == 0xe0) return 3;
  if ((lead & 0xf8) == 0xf0) return 4;
  return 1;
}

// RFC 2047 B-encoding in words that never split a UTF-8 character, folded
// onto continuation lines.
std::string encoded_words(std::string_view value) {
  std::string out;
  std::size_t start = 0;
  while (start < value.size()) {
    std::size_t end = start;
    while (end < value.size()) {
      const auto next =
          std::min(value.size(), end + utf8_length(static_cast<unsigned char>(value[end])));
      if (next - start > kWordBytes && end > start) break;
      end = next;
    }
    if (!out.empty()) out += "\r\n ";
    out += "=?UTF-8?B?" + base64(value.substr(start, end - start)) + "?=";
    start = end;
  }
  return out;
}

std::string unstructured(std::string_view value) {
  const auto safe = header_safe(value);
  if (plain_ascii(safe) && safe.size() <= kPlainSubjectMax) return safe;
  return encoded_words(safe);
}

std::string display_name(std::string_view name) {
  if (!plain_ascii(name)) return encoded_words(name);
  std::string quoted = "\"";
  for (const char ch : name) {
    if (ch == '"' || ch == '\\') quoted.push_back('\\');
    quoted.push_back(ch);
  }
  return quoted + "\"";
}

std::string mailbox_header(std::string_view mailbox) {
  const auto safe = header_safe(mailbox);
  const auto address = mailbox_address(safe);
  const auto open = safe.find('<');
  const auto name = open == std::string::npos ? std::string() : trim(safe.substr(0, open));
  if (name.empty()) return address;
  return display_name(name) + " <" + address + ">";
}

// RFC 5322 date-time in UTC, e.g. "Wed, 25 Nov 2026 08:00:11 +0000".
std::string rfc5322_date(std::int64_t epoch_ms) {
  using namespace std::chrono;
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const sys_time<milliseconds> at{milliseconds{epoch_ms}};
  const auto day = floor<days>(at);
  const year_month_day ymd{day};
  const hh_mm_ss time{floor<seconds>(at - day)};
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02u %s %04d %02d:%02d:%02d +0000",
                kDays[weekday{day}.c_encoding()], static_cast<unsigned>(ymd.day()),
                kMonths[static_cast<unsigned>(ymd.month()) - 1], static_cast<int>(ymd.year()),
                static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()),
                static_cast<int>(time.seconds().count()));
  return buf;
}

std::string message_id(std::string_view from_address) {
  const auto at = from_address.rfind('@');
  std::string domain;
  if (at != std::string_view::npos) {
    for (const char ch : from_address.substr(at + 1)) {
      if (std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '-')
        domain.push_back(ch);
    }
  }
  return "<" + core::new_id() + "@" + (domain.empty() ? "localhost" : domain) + ">";
}

std::string hex_escape(unsigned char c) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  return {'=', kHex[c >> 4], kHex[c & 0x0f]};
}

// One source line (no line break) as quoted-printable output lines joined by
// soft breaks. Trailing blanks are escaped (transports strip them) and so is
// a '.' that would start a line (SMTP would read it as a terminator).
std::string qp_line(std::string_view in) {
  std::string out;
  std::string line;
  for (std::size_t i = 0; i < in.size(); ++i) {
    const auto c = static_cast<unsigned char>(in[i]);
    const bool blank = c == ' ' || c == '\t';
    const bool literal = (c >= 33 && c <= 126 && c != '=') || (blank && i + 1 < in.size());
    std::string token = literal ? std::string(1, static_cast<char>(c)) : hex_escape(c);
    if (line.size() + token.size() > kQpLineLimit - 1) {
      out += line + "=\r\n";
      line.clear();
    }
    if (line.empty() && token == ".") token = hex_escape(c);
    line += token;
  }
  return out + line;
}

std::string quoted_printable(std::string_view text) {
  std::string out;
  while (true) {
    const auto newline = text.find('\n');
    auto line = text.substr(0, newline);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    out += qp_line(line) + "\r\n";
    if (newline == std::string_view::npos) return out;
    text.remove_prefix(newline + 1);
  }
}

std::string part(std::string_view subtype, std::string_view body) {
  return "Content-Type: text/" + std::string(subtype) +
         "; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" +
         quoted_printable(body);
}

}  // namespace

std::string mailbox_address(std::string_view raw) {
  const auto safe = header_safe(raw);  // also keeps CR/LF out of SMTP commands
  const std::string_view mailbox = safe;
  const auto open = mailbox.find('<');
  const auto close = mailbox.find('>', open == std::string_view::npos ? 0 : open);
  if (open == std::string_view::npos || close == std::string_view::npos) return trim(mailbox);
  return trim(mailbox.substr(open + 1, close - open - 1));
}

std::string build_mime(const Email& email, std::string_view from, std::int64_t date_ms) {
  std::string out;
  out += "From: " + mailbox_header(from) + "\r\n";
  out += "To: " + mailbox_header(email.to) + "\r\n";
  out += "Subject: " + unstructured(email.subject) + "\r\n";
  out += "Date: " + rfc5322_date(date_ms) + "\r\n";
  out += "Message-ID: " + message_id(mailbox_address(from)) + "\r\n";
  out += "MIME-Version: 1.0\r\n";
  if (email.html.empty()) return out + part("plain", email.text);
  // "=_" never occurs in quoted-printable text, so the boundary cannot collide.
  const auto boundary = "=_" + core::random_token(18);
  out += "Content-Type: multipart/alternative; boundary=\"" + boundary + "\"\r\n\r\n";
  out += "--" + boundary + "\r\n" + part("plain", email.text);
  out += "--" + boundary + "\r\n" + part("html", email.html);
  return out + "--" + boundary + "--\r\n";
}

}  // namespace mail
