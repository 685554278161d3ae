#include "importer/importer_service.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "auth/password.hpp"
#include "core/clock.hpp"
#include "importer/export_dir.hpp"
#include "importer/importer_store.hpp"
#include "ledger/ledger_service.hpp"
#include "ledger/reward_status.hpp"
#include "referral/referral_status.hpp"
#include "referral/referrer_stats.hpp"
#include "reward/reward_rules.hpp"
#include "reward/reward_service.hpp"

namespace importer {

namespace {

namespace reward_status = ledger::reward_status;

constexpr const char* kImportedReason = "imported";

template <class Container>
std::set<std::string> set_of(const Container& items) {
  return {items.begin(), items.end()};
}

template <class Map>
std::vector<std::string> keys_of(const Map& map) {
  std::vector<std::string> keys;
  for (const auto& [key, value] : map) keys.push_back(key);
  return keys;
}

// Decides, inside the import's transaction, which documents become which
// rows, then writes them. One Plan per attempt: Database::write may retry.
class Plan {
 public:
  Plan(soci::session& sql, const OriginalData& data, long long now)
      : sql_(sql), data_(data), now_(now) {}

  ImportReport run() {
    import_users();
    import_configs();
    plan_codes();
    plan_referrals();
    plan_rewards();
    write_referrals_and_rewards();
    return report_;
  }

 private:
  void note(const std::string& file, std::size_t line, const std::string& text) {
    report_.notes.push_back(file + ":" + std::to_string(line) + ": " + text);
  }

  // ---- users

  std::vector<std::string> referenced_user_ids() const {
    std::vector<std::string> ids;
    for (const auto& user : data_.users) ids.push_back(user.id);
    for (const auto& code : data_.codes) {
      ids.push_back(code.owner_id);
      if (code.used_by) ids.push_back(*code.used_by);
    }
    for (const auto& reward : data_.rewards) ids.push_back(reward.user_id);
    return ids;
  }

  std::vector<std::string> emails() const {
    std::vector<std::string> out;
    for (const auto& user : data_.users) out.push_back(user.email);
    return out;
  }

  static auth::store::User account_of(const UserRecord& record) {
    auth::store::User user;
    user.id = record.id;
    user.name = record.name;
    user.email = record.email;
    user.canonical_email = record.canonical_email;
    user.password_hash = record.password_hash;
    user.is_verified = record.is_verified;
    user.is_admin = record.is_admin;
    user.created_at = record.created_at;
    return user;
  }

  // Users already here (an earlier run, or referenced and present) count as
  // present for the collections that point at them.
  void import_users() {
    const auto existing = set_of(store::existing_user_ids(sql_, referenced_user_ids()));
    present_users_ = existing;
    const auto taken_emails = store::users_by_email(sql_, emails());
    std::set<std::string> new_emails;
    std::vector<auth::store::User> accounts;
    auto& counts = report_.users;
    for (const auto& user : data_.users) {
      ++counts.documents;
      if (existing.contains(user.id)) {
        ++counts.skipped;
      } else if (present_users_.contains(user.id)) {
        ++counts.skipped;
        note(data_.users_file, user.line,
             "_id " + user.id + " appears twice; this copy is skipped");
      } else if (taken_emails.contains(user.email) || new_emails.contains(user.email)) {
        ++counts.skipped;
        note(data_.users_file, user.line,
             "email " + user.email + " already belongs to another account; user " + user.id +
                 " is skipped, and so are its codes, referrals and rewards");
      } else {
        ++counts.imported;
        present_users_.insert(user.id);
        new_emails.insert(user.email);
        accounts.push_back(account_of(user));
        note_odd_account(user);
      }
    }
    store::insert_users(sql_, accounts);
    long long verified = 0;
    for (const auto& account : accounts) verified += account.is_verified ? 1 : 0;
    auth::store::count_users(sql_, "import", static_cast<long long>(accounts.size()), verified);
  }

  void note_odd_account(const UserRecord& user) {
    if (!user.email_is_valid) {
      note(data_.users_file, user.line,
           "email '" + user.email +
               "' fails today's address check; imported, but it cannot log in until corrected");
    }
    if (!auth::is_supported_hash(user.password_hash)) {
      note(data_.users_file, user.line,
           "the password is not a bcrypt hash; user " + user.id +
               " must reset it (POST /api/auth/password/forgot)");
    }
  }

  // ---- reward configs

  static bool older(const ConfigRecord& a, const ConfigRecord& b) {
    return std::tie(a.created_at, a.id) < std::tie(b.created_at, b.id);
  }

  // Per type, the oldest active config in the file: the original paid with
  // RewardConfig.objects(reward_type=..., is_active=True).first(), the oldest.
  // Unless the database has an active one already: the schema allows one
  // per (type, beneficiary).
  std::map<std::string, const ConfigRecord*> configs_to_activate(
      const std::set<std::string>& existing) const {
    std::map<std::string, const ConfigRecord*> oldest;
    for (const auto& config : data_.configs) {
      if (!config.is_active || existing.contains(config.id)) continue;
      auto& slot = oldest[config.reward_type];
      if (!slot || older(config, *slot)) slot = &config;
    }
    for (const auto& type : store::active_referrer_config_types(sql_)) oldest.erase(type);
    return oldest;
  }

  void note_inactive_config(const ConfigRecord& config,
                            const std::map<std::string, const ConfigRecord*>& active) {
    const auto chosen = active.find(config.reward_type);
    const auto why = chosen != active.end()
                         ? "config " + chosen->second->id +
                               " stays active (the oldest active one, which the original paid with)"
                         : std::string("this server has an active one already");
    note(data_.configs_file, config.line,
         "config " + config.id + " imported inactive: only one " + config.reward_type +
             " config can be active; " + why);
  }

  void import_configs() {
    std::vector<std::string> ids;
    for (const auto& config : data_.configs) ids.push_back(config.id);
    const auto existing = set_of(store::existing_config_ids(sql_, ids));
    const auto active = configs_to_activate(existing);
    std::set<std::string> seen;
    std::vector<reward::store::Config> rows;
    auto& counts = report_.reward_config;
    for (const auto& config : data_.configs) {
      ++counts.documents;
      if (existing.contains(config.id) || !seen.insert(config.id).second) {
        ++counts.skipped;
        continue;
      }
      const auto chosen = active.find(config.reward_type);
      const bool is_active = chosen != active.end() && chosen->second == &config;
      if (is_active) report_.active_configs.push_back(paid_with(config));
      if (config.is_active && !is_active) note_inactive_config(config, active);
      rows.push_back({config.id, config.reward_type, config.reward_value, config.reward_unit,
                      "REFERRER", false, is_active, config.created_at});
      ++counts.imported;
    }
    store::insert_configs(sql_, rows);
  }

  static std::string paid_with(const ConfigRecord& config) {
    return config.reward_type + " pays " + std::to_string(config.reward_value) + " " +
           config.reward_unit + " (config " + config.id +
           ", the oldest active one in the export: the original paid with it)";
  }

  // ---- codes: per owner, the oldest document is the code and the others
  // its aliases. The original showed and used the oldest
  // (Referral.objects(referred_by=user).first()); the others came from
  // racing generate calls and may have been shared too.

  // Owners in the order their first document appears, so notes read top to bottom.
  std::vector<std::pair<std::string, std::vector<std::size_t>>> code_documents_by_owner() {
    std::map<std::string, std::vector<std::size_t>> owners;
    for (std::size_t i = 0; i < data_.codes.size(); ++i) {
      const auto& code = data_.codes[i];
      if (present_users_.contains(code.owner_id)) {
        owners[code.owner_id].push_back(i);
      } else {
        note(data_.codes_file, code.line,
             "owner " + code.owner_id + " was not imported; code " + code.code + " is skipped");
      }
    }
    std::vector<std::pair<std::string, std::vector<std::size_t>>> ordered(owners.begin(),
                                                                          owners.end());
    std::sort(ordered.begin(), ordered.end(),
              [](const auto& a, const auto& b) { return a.second.front() < b.second.front(); });
    return ordered;
  }

  std::vector<std::size_t> oldest_first(std::vector<std::size_t> documents) const {
    std::stable_sort(documents.begin(), documents.end(), [&](std::size_t a, std::size_t b) {
      return std::tie(data_.codes[a].created_at, data_.codes[a].id) <
             std::tie(data_.codes[b].created_at, data_.codes[b].id);
    });
    return documents;
  }

  std::vector<std::string> code_texts() const {
    std::vector<std::string> texts;
    for (const auto& code : data_.codes) texts.push_back(code.code);
    return texts;
  }

  void note_aliases(const std::string& owner, const CodeRecord& first,
                    const std::vector<std::string>& aliases, std::size_t documents) {
    std::string listed;
    for (const auto& alias : aliases) listed += (listed.empty() ? "" : ", ") + alias;
    const auto code = code_text_of_owner_.find(owner);
    const auto kept =
        code != code_text_of_owner_.end()
            ? "kept " + code->second + " (the oldest, which the original showed and used)"
            : std::string("kept the code the user has here already");
    note(data_.codes_file, first.line,
         "user " + owner + " had " + std::to_string(documents) + " codes; " + kept + "; " + listed +
             " still apply as its aliases");
  }

  // Adds the document as the owner's code, or as an alias of it; nothing
  // when the text is known already or the _id repeats.
  void plan_code(const std::string& owner, std::size_t index,
                 std::map<std::string, std::string>& taken) {
    const auto& code = data_.codes[index];
    if (const auto holder = taken.find(code.code); holder != taken.end()) {
      if (holder->second != owner) {
        note(data_.codes_file, code.line,
             "code " + code.code + " belongs to another user already; it is skipped for user " +
                 owner);
      }
      return;  // the owner's own text: an earlier run, or the same code twice
    }
    if (!planned_code_ids_.insert(code.id).second) {
      note(data_.codes_file, code.line, "_id " + code.id + " appears twice; this copy is skipped");
      return;
    }
    taken.emplace(code.code, owner);
    if (const auto primary = code_of_owner_.find(owner); primary != code_of_owner_.end()) {
      new_aliases_.push_back({code.id, primary->second, code.code, code.created_at});
    } else {
      new_codes_.push_back({code.id, owner, code.code, 0, code.created_at});
      code_of_owner_[owner] = code.id;
      code_text_of_owner_[owner] = code.code;
    }
    imported_code_documents_.insert(index);
  }

  void plan_codes() {
    const auto owners = code_documents_by_owner();
    std::vector<std::string> owner_ids;
    for (const auto& [owner, documents] : owners) owner_ids.push_back(owner);
    code_of_owner_ = store::codes_of_users(sql_, owner_ids);
    auto taken = store::code_owners(sql_, code_texts());
    for (const auto& [owner, documents] : owners) {
      const auto aliases_before = new_aliases_.size();
      for (auto index : oldest_first(documents)) plan_code(owner, index, taken);
      std::vector<std::string> aliases;
      for (auto i = aliases_before; i < new_aliases_.size(); ++i)
        aliases.push_back(new_aliases_[i].code);
      if (!aliases.empty())
        note_aliases(owner, data_.codes[documents.front()], aliases, documents.size());
    }
  }

  // ---- referrals: one per used code document

  std::vector<std::size_t> used_code_documents() const {
    std::vector<std::size_t> used;
    for (std::size_t i = 0; i < data_.codes.size(); ++i) {
      if (data_.codes[i].used_by) used.push_back(i);
    }
    // A user referred twice keeps the first referral, as the server would.
    std::stable_sort(used.begin(), used.end(), [&](std::size_t a, std::size_t b) {
      return data_.codes[a].used_at < data_.codes[b].used_at;
    });
    return used;
  }

  // Why this used code cannot become a referral, or "" when it can.
  std::string refusal(const CodeRecord& code,
                      const std::map<std::string, std::string>& referred) const {
    if (!present_users_.contains(*code.used_by)) {
      return "referee " + *code.used_by + " was not imported";
    }
    if (!code_of_owner_.contains(code.owner_id)) return "its owner has no code here";
    if (const auto found = referred.find(*code.used_by); found != referred.end()) {
      return "user " + *code.used_by + " was already referred (referral " + found->second + ")";
    }
    return "";
  }

  void plan_referrals() {
    const auto used = used_code_documents();
    std::vector<std::string> ids, referees;
    for (auto i : used) {
      ids.push_back(data_.codes[i].id);
      referees.push_back(*data_.codes[i].used_by);
    }
    const auto existing = set_of(store::existing_referral_ids(sql_, ids));
    auto referred = store::referrals_of_referees(sql_, referees);
    for (auto i : used) {
      const auto& code = data_.codes[i];
      if (existing.contains(code.id)) continue;  // imported before; rewards find it in the database
      if (!present_users_.contains(code.owner_id)) continue;  // noted with the code already
      if (referee_of_referral_.contains(code.id)) {
        note(data_.codes_file, code.line,
             "_id " + code.id + " appears twice; this copy is skipped");
        continue;
      }
      if (const auto reason = refusal(code, referred); !reason.empty()) {
        note(data_.codes_file, code.line, "referral " + code.id + " is skipped: " + reason);
        continue;
      }
      const auto& code_id = code_of_owner_.at(code.owner_id);
      new_referrals_.push_back({code.id, *code.used_by, "", code.owner_id, code_id,
                                referral::referral_status::kPending, "", "", code.used_at});
      referred.emplace(*code.used_by, code.id);
      referee_of_referral_[code.id] = *code.used_by;
      touched_codes_.push_back(code_id);
      touched_referrers_.push_back(code.owner_id);
      imported_code_documents_.insert(i);
    }
    count_code_documents();
  }

  void count_code_documents() {
    auto& counts = report_.referral;
    counts.documents = data_.codes.size();
    counts.imported = imported_code_documents_.size();
    counts.skipped = counts.documents - counts.imported;
    report_.codes_created = new_codes_.size();
    report_.aliases_created = new_aliases_.size();
    report_.referrals_created = new_referrals_.size();
  }

  // ---- rewards

  // Referrals that rewards point at but this run did not create: those
  // imported before (or made here) still take new rewards.
  std::set<std::string> load_earlier_referrals() {
    std::vector<std::string> missing;
    for (const auto& reward : data_.rewards) {
      if (!referee_of_referral_.contains(reward.referral_id)) missing.push_back(reward.referral_id);
    }
    const auto earlier = store::referees_of(sql_, missing);
    referee_of_referral_.insert(earlier.begin(), earlier.end());
    std::set<std::string> keys;
    for (const auto& [referral, key] : store::reward_keys_of(sql_, keys_of(earlier)))
      keys.insert(referral + "|" + key);
    earlier_referrals_ = set_of(keys_of(earlier));
    return keys;
  }

  std::string reward_refusal(const RewardRecord& reward, const std::set<std::string>& keys) const {
    if (!referee_of_referral_.contains(reward.referral_id)) {
      return "referral " + reward.referral_id +
             " was not imported (unknown, never used, or skipped)";
    }
    if (!present_users_.contains(reward.user_id))
      return "user " + reward.user_id + " was not imported";
    if (keys.contains(reward.referral_id + "|" + reward.user_id + "|" + reward.reward_type)) {
      return "user " + reward.user_id + " already has a " + reward.reward_type +
             " reward for this referral";
    }
    return "";
  }

  reward::store::Reward ledger_row(const RewardRecord& reward) const {
    const bool to_referee = referee_of_referral_.at(reward.referral_id) == reward.user_id;
    return {reward.id,          reward.referral_id,
            reward.user_id,     to_referee ? "REFEREE" : "REFERRER",
            reward.reward_type, reward.reward_value,
            reward.reward_unit, reward.status,
            reward.created_at,  std::nullopt,
            std::nullopt};
  }

  void plan_rewards() {
    std::vector<std::string> ids;
    for (const auto& reward : data_.rewards) ids.push_back(reward.id);
    const auto existing = set_of(store::existing_reward_ids(sql_, ids));
    auto keys = load_earlier_referrals();
    std::set<std::string> seen;
    auto& counts = report_.reward_ledger;
    for (const auto& reward : data_.rewards) {
      ++counts.documents;
      if (existing.contains(reward.id) || !seen.insert(reward.id).second) {
        ++counts.skipped;
        continue;
      }
      if (const auto reason = reward_refusal(reward, keys); !reason.empty()) {
        ++counts.skipped;
        note(data_.rewards_file, reward.line, "reward " + reward.id + " is skipped: " + reason);
        continue;
      }
      keys.insert(reward.referral_id + "|" + reward.user_id + "|" + reward.reward_type);
      new_rewards_.push_back(ledger_row(reward));
      ++counts.imported;
    }
  }

  // ---- writing

  // The rule the server applies when a reward moves.
  void settle_new_referrals() {
    std::map<std::string, std::vector<reward::store::Reward>> rewards_by_referral;
    for (const auto& reward : new_rewards_)
      rewards_by_referral[reward.referral_id].push_back(reward);
    for (auto& referral : new_referrals_) {
      referral.status = reward::referral_status_from(rewards_by_referral[referral.id],
                                                     referral::referral_status::kPending);
    }
  }

  void count_new_referrals() {
    referral::store::StatsDelta delta;
    for (const auto& referral : new_referrals_) delta += referral::status_delta(referral.status, 1);
    referral::store::count_referrals(sql_, "import", delta);
  }

  void write_referrals_and_rewards() {
    settle_new_referrals();
    store::insert_codes(sql_, new_codes_);
    store::insert_code_aliases(sql_, new_aliases_);
    store::insert_referrals(sql_, new_referrals_);
    count_new_referrals();
    store::insert_rewards(sql_, new_rewards_);
    // Earlier referrals that gained rewards move (and count) as the server would move them.
    for (const auto& reward : new_rewards_) {
      if (earlier_referrals_.contains(reward.referral_id))
        reward::settle_referral(sql_, reward.referral_id);
    }
    store::recount_code_uses(sql_, touched_codes_);
    store::recount_referrer_stats(sql_, touched_referrers_);
    ledger::append(sql_, ledger_entries_of(new_rewards_));  // written just before the COMMIT
  }

  // Each imported reward enters the ledger with the moves that lead to its
  // status, all stamped with the import's time, by the system.
  std::vector<ledger::NewEntry> ledger_entries_of(const std::vector<reward::store::Reward>& rewards) const {
    std::vector<ledger::NewEntry> entries;
    for (const auto& reward : rewards) {
      const auto entry = [&](const char* kind) {
        return ledger::NewEntry{kind, reward.id, reward.user_id, reward.reward_value, reward.reward_unit,
                                ledger::kSystemActor, kImportedReason, now_};
      };
      entries.push_back(entry(ledger::kCreated));
      const bool revoked = reward.status == reward_status::kRevoked;
      if (reward.status == reward_status::kCredited || (revoked && reward.credited_at))
        entries.push_back(entry(ledger::kCredited));
      if (revoked) entries.push_back(entry(ledger::kRevoked));
    }
    return entries;
  }

  soci::session& sql_;
  const OriginalData& data_;
  long long now_;
  ImportReport report_;
  std::set<std::string> present_users_;
  std::map<std::string, std::string> code_of_owner_;        // owner -> code id
  std::map<std::string, std::string> code_text_of_owner_;   // owner -> text, for codes made here
  std::set<std::string> planned_code_ids_;
  std::map<std::string, std::string> referee_of_referral_;  // referral id -> referee
  std::set<std::string> earlier_referrals_;
  std::set<std::size_t> imported_code_documents_;
  std::vector<referral::store::Code> new_codes_;
  std::vector<referral::store::CodeAlias> new_aliases_;
  std::vector<referral::store::Referral> new_referrals_;
  std::vector<reward::store::Reward> new_rewards_;
  std::vector<std::string> touched_codes_;
  std::vector<std::string> touched_referrers_;
};

void write_counts(std::ostream& out, const char* name, const CollectionCounts& counts) {
  out << name << ": " << counts.documents << " documents, " << counts.imported << " imported, "
      << counts.skipped << " skipped\n";
}

}  // namespace

ImportReport ImporterService::import_dir(const std::filesystem::path& dir) {
  const auto now = core::now_ms();
  const auto data = read_export_dir(dir, {strip_plus_tags_, now});
  auto report = database_.write([&](soci::session& sql) { return Plan(sql, data, now).run(); });
  report.otps = data.otps;
  report.sessions = data.sessions;
  return report;
}

void write_report(std::ostream& out, const ImportReport& report, std::size_t max_notes) {
  write_counts(out, "users", report.users);
  write_counts(out, "referral", report.referral);
  out << "  (" << report.codes_created << " referral codes, " << report.aliases_created
      << " code aliases and " << report.referrals_created << " referrals created)\n";
  write_counts(out, "reward_config", report.reward_config);
  for (const auto& line : report.active_configs) out << "  (active: " << line << ")\n";
  write_counts(out, "reward_ledger", report.reward_ledger);
  out << "otps: " << report.otps
      << " documents, not imported (codes are short-lived; users ask for a new one)\n";
  out << "session: " << report.sessions << " documents, not imported (users log in again)\n";
  const auto shown = std::min(max_notes, report.notes.size());
  for (std::size_t i = 0; i < shown; ++i) out << "note: " << report.notes[i] << '\n';
  if (shown < report.notes.size())
    out << "note: ... and " << report.notes.size() - shown << " more\n";
}

}  // namespace importer
