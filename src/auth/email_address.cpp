#include "auth/email_address.hpp"

#include <idn2.h>

#include <algorithm>
#include <cctype>
#include <memory>

#include "core/text.hpp"

namespace auth {

namespace {

using core::trim;

bool valid_local_part(const std::string& local) {
  if (local.empty() || local.size() > 64 || local.front() == '.' || local.back() == '.') return false;
  return std::all_of(local.begin(), local.end(), [](unsigned char c) {
    return std::isalnum(c) || std::string_view("!#$%&'*+/=?^_`{|}~.-").find(static_cast<char>(c)) != std::string_view::npos;
  });
}

bool valid_domain(const std::string& domain) {
  if (domain.size() < 3 || domain.size() > 253 || domain.find('.') == std::string::npos) return false;
  if (domain.front() == '.' || domain.back() == '.' || domain.find("..") != std::string::npos) return false;
  return std::all_of(domain.begin(), domain.end(),
                     [](unsigned char c) { return std::isalnum(c) || c == '-' || c == '.'; });
}

bool is_ascii(const std::string& text) {
  return std::all_of(text.begin(), text.end(), [](unsigned char c) { return c < 0x80; });
}

// An internationalised domain in its IDNA ASCII form ("bücher.de" ->
// "xn--bcher-kva.de"): UTS #46 non-transitional mapping after NFC, which
// also lower-cases ("BÜCHER.DE" gives the same), as DNS and mail servers
// look it up. The original's validator accepted such domains (it converted
// them to ASCII to check them) and stored what was typed.
std::optional<std::string> ascii_domain(const std::string& domain) {
  if (is_ascii(domain)) return domain;
  char* converted = nullptr;
  if (idn2_to_ascii_8z(domain.c_str(), &converted, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL) !=
      IDN2_OK) {
    return std::nullopt;
  }
  const std::unique_ptr<char, decltype(&idn2_free)> owned(converted, idn2_free);
  return std::string(converted);
}

}  // namespace

std::optional<std::string> normalize_email(const std::string& raw) {
  auto email = trim(raw);
  std::transform(email.begin(), email.end(), email.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const auto at = email.find('@');
  if (at == std::string::npos || email.find('@', at + 1) != std::string::npos) return std::nullopt;
  const auto local = email.substr(0, at);
  const auto domain = ascii_domain(email.substr(at + 1));
  if (!domain || !valid_local_part(local) || !valid_domain(*domain)) return std::nullopt;
  email = local + "@" + *domain;
  if (email.size() > 254) return std::nullopt;
  return email;
}

std::string canonical_mailbox(const std::string& normalized_email, bool strip_plus_tags) {
  const auto at = normalized_email.find('@');
  auto local = normalized_email.substr(0, at);
  auto domain = normalized_email.substr(at + 1);
  const bool gmail = domain == "gmail.com" || domain == "googlemail.com";
  if (gmail || strip_plus_tags) local = local.substr(0, local.find('+'));
  if (gmail) {
    local.erase(std::remove(local.begin(), local.end(), '.'), local.end());
    domain = "gmail.com";
  }
  return local + "@" + domain;
}

std::size_t utf8_length(const std::string& text) {
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](unsigned char c) {
    return (c & 0xC0) != 0x80;  // count every byte that starts a code point
  }));
}

}  // namespace auth
