#include "auth/jwt.hpp"

#include <boost/json.hpp>

#include "core/random.hpp"

namespace auth {

namespace {

constexpr std::int64_t kClockSkewSeconds = 60;
constexpr std::string_view kHeader = R"({"alg":"HS256","typ":"JWT"})";

bool decode_json_object(std::string_view part, boost::json::object& out) {
  std::string text;
  if (!core::base64url_decode(part, text)) return false;
  boost::system::error_code ec;
  auto value = boost::json::parse(text, ec);
  if (ec || !value.is_object()) return false;
  out = std::move(value.as_object());
  return true;
}

bool string_claim(const boost::json::object& payload, std::string_view name, std::string& out) {
  const auto* value = payload.if_contains(name);
  if (value == nullptr || !value->is_string() || value->as_string().empty()) return false;
  out = std::string(value->as_string());
  return true;
}

bool integer_claim(const boost::json::object& payload, std::string_view name, std::int64_t& out) {
  const auto* value = payload.if_contains(name);
  if (value == nullptr || !value->is_int64()) return false;
  out = value->as_int64();
  return true;
}

// We only ever issue this exact header, so the pinned algorithm is checked by
// comparing bytes: no other alg, typ, crit or encoding can get through.
const std::string& encoded_header() {
  static const std::string header = core::base64url_encode(kHeader);
  return header;
}

}  // namespace

std::string sign_token(const TokenClaims& claims, std::string_view secret) {
  const boost::json::object payload{{"sub", claims.sub}, {"sid", claims.sid}, {"jti", claims.jti},
                                    {"iat", claims.iat}, {"exp", claims.exp}};
  std::string signing_input = encoded_header() + "." +
                              core::base64url_encode(boost::json::serialize(payload));
  const auto signature = core::base64url_encode(core::hmac_sha256(secret, signing_input));
  return signing_input + "." + signature;
}

TokenError verify_token(std::string_view token, std::string_view secret, std::int64_t now_seconds,
                        TokenClaims& claims) {
  const auto first_dot = token.find('.');
  const auto second_dot = token.find('.', first_dot == std::string_view::npos ? 0 : first_dot + 1);
  if (first_dot == std::string_view::npos || second_dot == std::string_view::npos ||
      token.find('.', second_dot + 1) != std::string_view::npos) {
    return TokenError::invalid;
  }
  if (token.substr(0, first_dot) != encoded_header()) return TokenError::invalid;
  std::string signature;
  if (!core::base64url_decode(token.substr(second_dot + 1), signature) ||
      !core::constant_time_equal(signature, core::hmac_sha256(secret, token.substr(0, second_dot)))) {
    return TokenError::invalid;
  }
  boost::json::object payload;
  if (!decode_json_object(token.substr(first_dot + 1, second_dot - first_dot - 1), payload) ||
      !string_claim(payload, "sub", claims.sub) || !string_claim(payload, "sid", claims.sid) ||
      !string_claim(payload, "jti", claims.jti) || !integer_claim(payload, "iat", claims.iat) ||
      !integer_claim(payload, "exp", claims.exp) || claims.iat > now_seconds + kClockSkewSeconds) {
    return TokenError::invalid;
  }
  return claims.exp <= now_seconds ? TokenError::expired : TokenError::none;
}

}  // namespace auth
