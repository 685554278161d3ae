#include "link/attribution_token.hpp"

#include <charconv>

#include "core/random.hpp"

namespace links {

namespace {

// Version first, so a later format can be told apart; '|' never occurs in
// codes (letters, digits, '-') nor in UUIDs.
constexpr std::string_view kVersion = "a1";
constexpr std::size_t kMaxTokenBytes = 512;

std::optional<AttributionClaim> parse_payload(std::string_view payload) {
  const auto first = payload.find('|');
  const auto second = payload.find('|', first == std::string_view::npos ? first : first + 1);
  const auto third = payload.find('|', second == std::string_view::npos ? second : second + 1);
  if (third == std::string_view::npos || payload.substr(0, first) != kVersion) return std::nullopt;
  AttributionClaim claim;
  claim.code = std::string(payload.substr(first + 1, second - first - 1));
  claim.click_id = std::string(payload.substr(second + 1, third - second - 1));
  const auto expiry = payload.substr(third + 1);
  const auto [end, ec] =
      std::from_chars(expiry.data(), expiry.data() + expiry.size(), claim.expires_at);
  if (ec != std::errc() || end != expiry.data() + expiry.size() || claim.code.empty())
    return std::nullopt;
  return claim;
}

}  // namespace

AttributionSigner::AttributionSigner(std::string_view server_secret)
    : key_(core::hmac_sha256(server_secret, "referrald attribution key")) {}

std::string AttributionSigner::sign(const AttributionClaim& claim) const {
  const auto payload = std::string(kVersion) + "|" + claim.code + "|" + claim.click_id + "|" +
                       std::to_string(claim.expires_at);
  return core::base64url_encode(payload) + "." +
         core::base64url_encode(core::hmac_sha256(key_, payload));
}

std::optional<AttributionClaim> AttributionSigner::verify(std::string_view token,
                                                          std::int64_t now_ms) const {
  const auto dot = token.find('.');
  if (token.size() > kMaxTokenBytes || dot == std::string_view::npos) return std::nullopt;
  std::string payload;
  std::string mac;
  if (!core::base64url_decode(token.substr(0, dot), payload) ||
      !core::base64url_decode(token.substr(dot + 1), mac)) {
    return std::nullopt;
  }
  if (!core::constant_time_equal(mac, core::hmac_sha256(key_, payload))) return std::nullopt;
  auto claim = parse_payload(payload);
  if (!claim || claim->expires_at <= now_ms) return std::nullopt;
  return claim;
}

}  // namespace links
