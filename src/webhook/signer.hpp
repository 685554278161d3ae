#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// Standard Webhooks signing (https://www.standardwebhooks.com/): the
// receiver recomputes HMAC-SHA256 over "id.timestamp.body" with the secret's
// bytes and compares it with one of the signatures in `webhook-signature`.
namespace webhook {

// "whsec_" + base64 of 32 random bytes.
std::string new_secret();

// The key bytes of a "whsec_..." secret (the base64 after the prefix);
// nullopt when it is not one.
std::optional<std::string> secret_key(std::string_view secret);

// "v1,<base64 signature>" for each secret, space-separated, in the order given.
std::string signature_header(const std::vector<std::string>& secrets, std::string_view id,
                             std::int64_t timestamp_seconds, std::string_view body);

}  // namespace webhook
