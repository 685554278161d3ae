#include "mail/outbox.hpp"

#include <boost/json.hpp>
#include <stdexcept>

#include "core/clock.hpp"
#include "core/random.hpp"
#include "mail/outbox_store.hpp"

namespace mail {

namespace {

// Separates this key from anything else derived from the same secret.
constexpr std::string_view kKeyContext = "referrald/outbox-payload/v1";

// Header values may not carry line breaks (header injection) and an address
// with one is no address at all.
void check_recipient(const std::string& to) {
  const bool bad = to.empty() || to.find_first_of("\r\n") != std::string::npos;
  if (bad) throw std::invalid_argument("an outbox email needs one recipient address");
}

[[noreturn]] void unreadable() {
  throw std::runtime_error("outbox payload cannot be opened (tampered, or the secret changed)");
}

}  // namespace

Outbox::Outbox(const std::string& server_secret) : box_(server_secret, kKeyContext) {}

void Outbox::enqueue(soci::session& sql, const Email& email) const {
  check_recipient(email.to);
  // The recipient travels inside the sealed payload too: open() refuses a row
  // whose plain `recipient` column was changed to redirect someone's code.
  const auto plain = boost::json::serialize(boost::json::object{
      {"to", email.to}, {"subject", email.subject}, {"text", email.text}, {"html", email.html}});
  store::insert(sql, {core::new_id(), email.to, box_.seal(plain), core::now_ms()});
}

Email Outbox::open(const std::string& recipient, const std::string& payload) const {
  const auto plain = box_.open(payload);
  if (!plain) unreadable();
  boost::system::error_code ec;
  const auto value = boost::json::parse(*plain, ec);
  const auto* fields = value.if_object();
  if (ec || fields == nullptr) unreadable();
  const auto text = [&](const char* name) -> std::string {
    const auto* field = fields->if_contains(name);
    if (field == nullptr || !field->is_string()) unreadable();
    return std::string(field->get_string());
  };
  if (text("to") != recipient) unreadable();
  return Email{recipient, text("subject"), text("text"), text("html")};
}

}  // namespace mail
