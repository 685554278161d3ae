#include "webhook/signer.hpp"

#include <sodium.h>

#include <stdexcept>

#include "core/random.hpp"

namespace webhook {

namespace {

constexpr std::string_view kSecretPrefix = "whsec_";
constexpr std::size_t kSecretBytes = 32;

std::string base64(std::string_view bytes) {
  std::string out(sodium_base64_ENCODED_LEN(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

}  // namespace

std::string new_secret() {
  return std::string(kSecretPrefix) + base64(core::random_bytes(kSecretBytes));
}

std::optional<std::string> secret_key(std::string_view secret) {
  if (!secret.starts_with(kSecretPrefix)) return std::nullopt;
  const auto text = secret.substr(kSecretPrefix.size());
  std::string key(text.size(), '\0');
  std::size_t length = 0;
  if (text.empty() || sodium_base642bin(reinterpret_cast<unsigned char*>(key.data()), key.size(),
                                        text.data(), text.size(), nullptr, &length, nullptr,
                                        sodium_base64_VARIANT_ORIGINAL) != 0) {
    return std::nullopt;
  }
  key.resize(length);
  return key;
}

std::string signature_header(const std::vector<std::string>& secrets, std::string_view id,
                             std::int64_t timestamp_seconds, std::string_view body) {
  std::string signed_content;
  signed_content.reserve(id.size() + body.size() + 24);
  signed_content.append(id)
      .append(".")
      .append(std::to_string(timestamp_seconds))
      .append(".")
      .append(body);
  std::string header;
  for (const auto& secret : secrets) {
    const auto key = secret_key(secret);
    if (!key) throw std::invalid_argument("a webhook secret is not a whsec_ secret");
    if (!header.empty()) header += ' ';
    header += "v1," + base64(core::hmac_sha256(*key, signed_content));
  }
  return header;
}

}  // namespace webhook
