#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "mail/outbox.hpp"

namespace mail {

// "Name <user@host>" or "user@host" -> "user@host" (for SMTP MAIL FROM and
// RCPT TO), control characters removed.
std::string mailbox_address(std::string_view mailbox);

// The message as sent over SMTP (RFC 5322 + MIME): headers From, To, Subject
// (RFC 2047 encoded when not plain ASCII), Date, Message-ID, MIME-Version;
// multipart/alternative text + html (text only when html is empty), UTF-8,
// quoted-printable. 7-bit; every line ends in CRLF, none starts with '.' (so
// SMTP needs no dot-stuffing), body lines are at most 76 characters and long
// encoded subjects are folded.
// CR and LF are stripped from header values: no header injection.
std::string build_mime(const Email& email, std::string_view from, std::int64_t date_ms);

}  // namespace mail
