#include "core/text.hpp"
#include "auth/email_address.hpp"

#include <algorithm>
#include <cctype>

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

}  // namespace

std::optional<std::string> normalize_email(const std::string& raw) {
  auto email = trim(raw);
  std::transform(email.begin(), email.end(), email.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const auto at = email.find('@');
  if (at == std::string::npos || email.find('@', at + 1) != std::string::npos || email.size() > 254) {
    return std::nullopt;
  }
  if (!valid_local_part(email.substr(0, at)) || !valid_domain(email.substr(at + 1))) return std::nullopt;
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
