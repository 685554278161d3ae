#include "core/text.hpp"
#include "importer/original_records.hpp"

#include <algorithm>
#include <charconv>
#include <initializer_list>

#include "auth/email_address.hpp"
#include "ledger/reward_status.hpp"
#include "referral/referral_code.hpp"

namespace importer {

namespace {

using core::trim;

using boost::json::value;

std::string upper(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return std::toupper(c); });
  return text;
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return text;
}

// "100", "100.0", "100.00": the integral strings a $numberDecimal may hold.
std::optional<long long> integer_text(std::string_view text) {
  const auto dot = text.find('.');
  if (dot != std::string_view::npos) {
    const auto fraction = text.substr(dot + 1);
    if (!std::all_of(fraction.begin(), fraction.end(), [](char c) { return c == '0'; }))
      return std::nullopt;
    text = text.substr(0, dot);
  }
  long long number = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (error != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return number;
}

// Reads one document's fields; every complaint names the file and line.
class Fields {
 public:
  Fields(const Document& document, const std::string& file) : document_(document), file_(file) {}

  std::size_t line() const { return document_.line; }

  [[noreturn]] void fail(const std::string& reason) const {
    throw ImportError(file_, document_.line, reason);
  }

  // Null and absent are the same thing to the original's models.
  const value* find(const char* name) const {
    const auto* found = document_.fields.if_contains(name);
    return found && !found->is_null() ? found : nullptr;
  }

  std::optional<std::string> optional_id(const char* name) const {
    const auto* found = find(name);
    if (!found) return std::nullopt;
    auto id = id_of(*found);
    if (!id) fail(std::string("'") + name + "' is not an id");
    return id;
  }

  std::string id(const char* name) const {
    auto found = optional_id(name);
    if (!found) fail(std::string("'") + name + "' is missing");
    return *found;
  }

  std::optional<std::string> optional_text(const char* name) const {
    const auto* found = find(name);
    if (!found) return std::nullopt;
    if (!found->is_string()) fail(std::string("'") + name + "' must be a string");
    return std::string(found->as_string());
  }

  std::string text(const char* name) const {
    auto found = optional_text(name);
    if (!found || trim(*found).empty()) fail(std::string("'") + name + "' is missing or empty");
    return *found;
  }

  std::string one_of(const char* name, std::initializer_list<const char*> allowed) const {
    const auto given = upper(trim(text(name)));
    for (const char* option : allowed) {
      if (given == option) return given;
    }
    fail(std::string("'") + name + "' has an unknown value '" + given + "'");
  }

  bool flag(const char* name, bool fallback) const {
    const auto* found = find(name);
    if (!found) return fallback;
    if (const auto* yes = found->if_bool()) return *yes;
    if (const auto* number = found->if_int64(); number && (*number == 0 || *number == 1))
      return *number == 1;
    fail(std::string("'") + name + "' must be true or false");
  }

  long long integer(const char* name) const {
    const auto* found = find(name);
    if (!found) fail(std::string("'") + name + "' is missing");
    std::optional<long long> number;
    if (const auto* whole = found->if_int64())
      number = *whole;
    else if (const auto* real = found->if_double())
      number = whole_number(*real);
    else if (const auto* digits = found->if_string())
      number = integer_text(trim(*digits));
    if (!number)
      fail(std::string("'") + name + "' must be a whole number (CASH is stored in minor units)");
    return *number;
  }

  // Decoded $date values arrive as milliseconds; plain ISO strings are
  // accepted too. Absent: the ObjectId's own timestamp, else `fallback`.
  long long time(const char* name, long long fallback) const {
    const auto* found = find(name);
    if (!found) return fallback;
    if (const auto* ms = found->if_int64()) return *ms;
    if (const auto* text = found->if_string()) {
      if (const auto ms = parse_iso_timestamp(trim(*text))) return *ms;
    }
    fail(std::string("'") + name + "' is not a date");
  }

  long long created_at(long long now) const {
    const auto id = optional_id("_id");
    const auto from_id = id ? objectid_time_ms(*id) : std::nullopt;
    return time("created_at", from_id.value_or(now));
  }

 private:
  // Strings as they are, integers as decimal text, and a DBRef
  // ({"$ref", "$id"}) as its $id, which is how ReferenceField(dbref=True) stores.
  static std::optional<std::string> id_of(const value& raw) {
    if (const auto* text = raw.if_string()) {
      auto id = trim(*text);
      if (id.empty()) return std::nullopt;
      return id;
    }
    if (const auto* number = raw.if_int64()) return std::to_string(*number);
    if (const auto* reference = raw.if_object(); reference && reference->contains("$id")) {
      return id_of(reference->at("$id"));
    }
    return std::nullopt;
  }

  const Document& document_;
  const std::string& file_;
};

std::string local_part(const std::string& email) {
  return email.substr(0, email.find('@'));
}

UserRecord user_from(const Fields& fields, const RecordOptions& options) {
  UserRecord user;
  user.line = fields.line();
  user.id = fields.id("_id");
  const auto raw_email = fields.text("email");
  const auto email = auth::normalize_email(raw_email);
  // An address today's check refuses is still imported (its referrals are
  // history) but cannot log in until an admin fixes it; the report says so.
  user.email_is_valid = email.has_value();
  user.email = email ? *email : lower(trim(raw_email));
  user.canonical_email = auth::canonical_mailbox(user.email, options.strip_plus_tags);
  user.name = trim(fields.optional_text("name").value_or(""));
  if (user.name.empty()) user.name = local_part(user.email);
  // No password (e.g. made by an admin script): stored empty, so no login
  // matches until a password reset.
  user.password_hash = trim(fields.optional_text("password").value_or(""));
  user.is_verified = fields.flag("is_verified", false);
  user.is_admin = fields.flag("isAdmin", false);
  user.created_at = fields.created_at(options.now);
  return user;
}

CodeRecord code_from(const Fields& fields, const RecordOptions& options) {
  CodeRecord code;
  code.line = fields.line();
  code.id = fields.id("_id");
  // Kept as issued, even outside today's alphabet: people still hold them.
  code.code = referral::normalize_code(fields.text("referral_code"));
  code.owner_id = fields.id("referred_by");
  code.created_at = fields.time("referred_at", options.now);
  code.used_by = fields.optional_id("referral_code_used");
  code.used_at = fields.time("referral_used_at", code.created_at);
  return code;
}

ConfigRecord config_from(const Fields& fields, const RecordOptions& options) {
  ConfigRecord config;
  config.line = fields.line();
  config.id = fields.id("_id");
  config.reward_type = fields.one_of("reward_type", {"SIGNUP", "FIRST_ORDER"});
  config.reward_value = fields.integer("reward_value");
  if (config.reward_value <= 0) fields.fail("'reward_value' must be positive");
  config.reward_unit = fields.one_of("reward_unit", {"POINTS", "CASH"});
  config.is_active = fields.flag("is_active", true);
  config.created_at = fields.created_at(options.now);
  return config;
}

RewardRecord reward_from(const Fields& fields, const RecordOptions& options) {
  RewardRecord reward;
  reward.line = fields.line();
  reward.id = fields.id("_id");
  reward.user_id = fields.id("user");
  reward.referral_id = fields.id("referral");
  reward.reward_type = fields.one_of("reward_type", {"SIGNUP", "FIRST_ORDER"});
  reward.reward_value = fields.integer("reward_value");
  if (reward.reward_value < 0) fields.fail("'reward_value' must not be negative");
  reward.reward_unit = fields.one_of("reward_unit", {"POINTS", "CASH"});
  reward.status =
      fields.one_of("status", {ledger::reward_status::kPending, ledger::reward_status::kCredited,
                               ledger::reward_status::kRevoked});
  reward.created_at = fields.created_at(options.now);
  return reward;
}

template <class Record, class Convert>
std::vector<Record> convert_all(const std::vector<Document>& documents, const std::string& file,
                                const RecordOptions& options, Convert convert) {
  std::vector<Record> records;
  records.reserve(documents.size());
  for (const auto& document : documents)
    records.push_back(convert(Fields(document, file), options));
  return records;
}

}  // namespace

ImportError::ImportError(std::string file, std::size_t line, const std::string& reason)
    : std::runtime_error(file + (line > 0 ? ":" + std::to_string(line) : "") + ": " + reason),
      file_(std::move(file)),
      line_(line) {}

std::vector<UserRecord> users_from(const std::vector<Document>& documents, const std::string& file,
                                   const RecordOptions& options) {
  return convert_all<UserRecord>(documents, file, options, user_from);
}

std::vector<CodeRecord> codes_from(const std::vector<Document>& documents, const std::string& file,
                                   const RecordOptions& options) {
  return convert_all<CodeRecord>(documents, file, options, code_from);
}

std::vector<ConfigRecord> configs_from(const std::vector<Document>& documents,
                                       const std::string& file, const RecordOptions& options) {
  return convert_all<ConfigRecord>(documents, file, options, config_from);
}

std::vector<RewardRecord> rewards_from(const std::vector<Document>& documents,
                                       const std::string& file, const RecordOptions& options) {
  return convert_all<RewardRecord>(documents, file, options, reward_from);
}

}  // namespace importer
