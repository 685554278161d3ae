#include "ledger/ledger_entry.hpp"

#include <sodium.h>

#include <array>
#include <string_view>

namespace ledger {

namespace {

void append_field(std::string& out, std::string_view field) {
  const auto length = static_cast<std::uint32_t>(field.size());
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((length >> shift) & 0xff));
  out.append(field);
}

}  // namespace

std::string canonical_bytes(const Entry& entry) {
  std::string out;
  out.reserve(256 + entry.reason.size());
  append_field(out, kLayoutTag);
  append_field(out, std::to_string(entry.seq));
  append_field(out, entry.kind);
  append_field(out, entry.reward_id);
  append_field(out, entry.user_id);
  append_field(out, std::to_string(entry.amount));
  append_field(out, entry.unit);
  append_field(out, entry.actor);
  append_field(out, entry.reason);
  append_field(out, std::to_string(entry.at));
  append_field(out, entry.prev_hash);
  return out;
}

std::string entry_hash(const Entry& entry) {
  const auto bytes = canonical_bytes(entry);
  std::array<unsigned char, crypto_hash_sha256_BYTES> digest{};
  crypto_hash_sha256(digest.data(), reinterpret_cast<const unsigned char*>(bytes.data()),
                     bytes.size());
  std::array<char, crypto_hash_sha256_BYTES * 2 + 1> hex{};
  sodium_bin2hex(hex.data(), hex.size(), digest.data(), digest.size());
  return std::string(hex.data(), crypto_hash_sha256_BYTES * 2);
}

}  // namespace ledger
