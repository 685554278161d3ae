#include "ledger/ledger_wire.hpp"

#include <charconv>
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

bool needs_quotes(std::string_view field) {
  for (const char c : field) {
    if (c == ',' || c == '"' || c == '\r' || c == '\n') return true;
  }
  return false;
}

// RFC 4180: a field with a comma, a quote or a line break is quoted, and
// its quotes doubled. Appended in place, with no copy of the field: the
// export formats 13 fields for each of a million rows.
void append_field(std::string& out, std::string_view field) {
  const bool quoted = needs_quotes(field);
  if (quoted) out.push_back('"');
  if (looks_like_formula(field)) out.push_back('\'');
  if (!quoted) {
    out.append(field);
    return;
  }
  for (const char c : field) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

// A timestamp's text in `buffer`; empty for none.
std::string_view optional_time(char (&buffer)[core::kTimestampCapacity],
                               const std::optional<long long>& epoch_ms) {
  if (!epoch_ms) return {};
  return {buffer, core::put_timestamp(buffer, *epoch_ms)};
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
  char value[24];
  char created[core::kTimestampCapacity], credited[core::kTimestampCapacity],
      revoked[core::kTimestampCapacity];
  const std::string_view fields[] = {
      reward.id,
      reward.referral_id,
      reward.user_id,
      row.email,
      row.name,
      reward.beneficiary,
      reward.reward_type,
      {value, std::to_chars(value, value + sizeof value, reward.reward_value).ptr},
      reward.reward_unit,
      reward.status,
      {created, core::put_timestamp(created, reward.created_at)},
      optional_time(credited, reward.credited_at),
      optional_time(revoked, reward.revoked_at)};
  bool first = true;
  for (const auto field : fields) {
    if (!first) out.push_back(',');
    first = false;
    append_field(out, field);
  }
  out += "\r\n";
}

}  // namespace ledger
