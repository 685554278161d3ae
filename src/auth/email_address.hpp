#pragma once
#include <optional>
#include <string>

namespace auth {

// The one form an address is stored, compared and mailed in: trimmed,
// lower-cased, an internationalised domain in its IDNA ASCII form
// ("Anna@Bücher.de" -> "anna@xn--bcher-kva.de"); nullopt when it does not
// look like an address.
std::optional<std::string> normalize_email(const std::string& raw);

// The mailbox behind an address, so aliases of one person compare equal:
// gmail.com/googlemail.com ignore dots and +tags; other domains drop +tags
// only when strip_plus_tags is set.
std::string canonical_mailbox(const std::string& normalized_email, bool strip_plus_tags);

// Number of Unicode code points in UTF-8 text (for length rules).
std::size_t utf8_length(const std::string& text);

}  // namespace auth
