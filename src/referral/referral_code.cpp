#include "referral/referral_code.hpp"

#include <algorithm>
#include <cctype>
#include <string_view>

#include "core/random.hpp"
#include "core/text.hpp"

namespace referral {

namespace {
constexpr std::string_view kAlphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789";
constexpr int kCodeLength = 8;
}  // namespace

std::string generate_code(const std::string& prefix) {
  std::string code = prefix + "-";
  for (int i = 0; i < kCodeLength; ++i) {
    code.push_back(kAlphabet[core::random_below(static_cast<std::uint32_t>(kAlphabet.size()))]);
  }
  return code;
}

std::string normalize_code(const std::string& input) {
  std::string code = core::trim(input);
  std::transform(code.begin(), code.end(), code.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return code;
}

}  // namespace referral
