#include "mail/outbox.hpp"

#include <sodium.h>

#include <boost/json.hpp>
#include <stdexcept>

#include "core/clock.hpp"
#include "core/random.hpp"
#include "mail/outbox_store.hpp"

namespace mail {

namespace {

// Separates this key from anything else derived from the same secret.
constexpr std::string_view kKeyContext = "referrald/outbox-payload/v1";

std::string derive_key(const std::string& secret) {
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
  if (secret.size() < crypto_generichash_KEYBYTES_MIN) {
    throw std::invalid_argument("the server secret is too short to derive the outbox key");
  }
  // A keyed BLAKE2b takes at most 64 key bytes; a longer secret is hashed down
  // first (as HMAC does with long keys).
  std::string key_material = secret;
  if (key_material.size() > crypto_generichash_KEYBYTES_MAX) {
    key_material.assign(crypto_generichash_KEYBYTES_MAX, '\0');
    crypto_generichash(reinterpret_cast<unsigned char*>(key_material.data()), key_material.size(),
                       reinterpret_cast<const unsigned char*>(secret.data()), secret.size(),
                       nullptr, 0);
  }
  std::string key(crypto_secretbox_KEYBYTES, '\0');
  crypto_generichash(reinterpret_cast<unsigned char*>(key.data()), key.size(),
                     reinterpret_cast<const unsigned char*>(kKeyContext.data()), kKeyContext.size(),
                     reinterpret_cast<const unsigned char*>(key_material.data()),
                     key_material.size());
  return key;
}

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

Outbox::Outbox(const std::string& server_secret) : key_(derive_key(server_secret)) {}

void Outbox::enqueue(soci::session& sql, const Email& email) const {
  check_recipient(email.to);
  // The recipient travels inside the sealed payload too: open() refuses a row
  // whose plain `recipient` column was changed to redirect someone's code.
  const auto plain = boost::json::serialize(boost::json::object{
      {"to", email.to}, {"subject", email.subject}, {"text", email.text}, {"html", email.html}});
  auto sealed = core::random_bytes(crypto_secretbox_NONCEBYTES);
  const auto nonce_size = sealed.size();
  sealed.resize(nonce_size + crypto_secretbox_MACBYTES + plain.size());
  auto* out = reinterpret_cast<unsigned char*>(sealed.data());
  crypto_secretbox_easy(out + nonce_size, reinterpret_cast<const unsigned char*>(plain.data()),
                        plain.size(), out, reinterpret_cast<const unsigned char*>(key_.data()));
  store::insert(sql, {core::new_id(), email.to, core::base64url_encode(sealed), core::now_ms()});
}

Email Outbox::open(const std::string& recipient, const std::string& payload) const {
  std::string sealed;
  if (!core::base64url_decode(payload, sealed)) unreadable();
  const auto header = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES;
  if (sealed.size() < header) unreadable();
  std::string plain(sealed.size() - header, '\0');
  const auto* in = reinterpret_cast<const unsigned char*>(sealed.data());
  if (crypto_secretbox_open_easy(reinterpret_cast<unsigned char*>(plain.data()),
                                 in + crypto_secretbox_NONCEBYTES,
                                 sealed.size() - crypto_secretbox_NONCEBYTES, in,
                                 reinterpret_cast<const unsigned char*>(key_.data())) != 0) {
    unreadable();
  }
  boost::system::error_code ec;
  const auto value = boost::json::parse(plain, ec);
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
