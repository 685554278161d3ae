#include "ledger/ledger_wire.hpp"

#include <string_view>

#include "core/clock.hpp"
#include "core/json_writer.hpp"

namespace ledger {

namespace {

// A spreadsheet runs a cell that starts with one of these as a formula
// (OWASP, "CSV injection"); names and emails are user-chosen, so such a
// cell gets a leading apostrophe, which spreadsheets show as text.
bool looks_like_formula(std::string_view field) {
  return !field.empty() &&
         std::string_view("=+-@\t\r").find(field.front()) != std::string_view::npos;
}

// RFC 4180: a field with a comma, a quote or a line break is quoted, and
// its quotes doubled.
void append_field(std::string& out, std::string_view field) {
  std::string guarded;
  if (looks_like_formula(field)) {
    guarded = "'" + std::string(field);
    field = guarded;
  }
  if (field.find_first_of(",\"\r\n") == std::string_view::npos) {
    out.append(field);
    return;
  }
  out.push_back('"');
  for (const char c : field) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

std::string optional_time(const std::optional<long long>& epoch_ms) {
  return epoch_ms ? core::format_timestamp(*epoch_ms) : std::string();
}

}  // namespace

void append_json_line(std::string& out, const Entry& entry) {
  core::JsonWriter line;
  line.begin_object()
      .field("seq", entry.seq)
      .field("kind", entry.kind)
      .field("reward_id", entry.reward_id)
      .field("user_id", entry.user_id)
      .field("amount", entry.amount)
      .field("unit", entry.unit)
      .field("actor", entry.actor)
      .field("reason", entry.reason)
      .key("at")
      .timestamp(entry.at)
      .field("at_ms", entry.at)
      .field("prev_hash", entry.prev_hash)
      .field("hash", entry.hash)
      .end_object();
  out += line.take();
  out.push_back('\n');
}

const std::string& csv_header() {
  static const std::string header =
      "reward_id,referral_id,user_id,email,name,beneficiary,reward_type,reward_value,reward_unit,"
      "status,"
      "created_at,credited_at,revoked_at\r\n";
  return header;
}

void append_csv_record(std::string& out, const store::ExportRow& row) {
  const auto& reward = row.reward;
  const auto value = std::to_string(reward.reward_value);
  const auto created = core::format_timestamp(reward.created_at);
  const auto credited = optional_time(reward.credited_at);
  const auto revoked = optional_time(reward.revoked_at);
  const std::string_view fields[] = {reward.id,
                                     reward.referral_id,
                                     reward.user_id,
                                     row.email,
                                     row.name,
                                     reward.beneficiary,
                                     reward.reward_type,
                                     value,
                                     reward.reward_unit,
                                     reward.status,
                                     created,
                                     credited,
                                     revoked};
  bool first = true;
  for (const auto field : fields) {
    if (!first) out.push_back(',');
    first = false;
    append_field(out, field);
  }
  out += "\r\n";
}

}  // namespace ledger
