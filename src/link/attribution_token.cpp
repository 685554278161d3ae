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

// Two strings in all (payload and token), each sized once: this runs on
// the io thread for every click without a cookie.
std::string AttributionSigner::sign(const ClaimToSign& claim) const {
  char expiry[24];
  const auto end = std::to_chars(expiry, expiry + sizeof expiry, claim.expires_at).ptr;
  std::string payload;
  payload.reserve(kVersion.size() + claim.code.size() + claim.click_id.size() + 3 +
                  static_cast<std::size_t>(end - expiry));
  payload.append(kVersion).append(1, '|').append(claim.code).append(1, '|');
  payload.append(claim.click_id).append(1, '|').append(expiry, end);
  const auto mac = key_.mac(payload);
  std::string token;
  token.reserve((payload.size() + mac.size()) * 4 / 3 + 8);
  core::append_base64url(token, payload);
  token.push_back('.');
  core::append_base64url(token, {reinterpret_cast<const char*>(mac.data()), mac.size()});
  return token;
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
  const auto expected = key_.mac(payload);
  if (!core::constant_time_equal(
          mac, {reinterpret_cast<const char*>(expected.data()), expected.size()})) {
    return std::nullopt;
  }
  auto claim = parse_payload(payload);
  if (!claim || claim->expires_at <= now_ms) return std::nullopt;
  return claim;
}

}  // namespace links
