#include "reward/reward_store.hpp"

#include <soci/soci.h>

#include <limits>

#include "db/checked_sum.hpp"
#include "db/statement_cache.hpp"
#include "db/statements.hpp"

namespace reward::store {

using soci::into;
using soci::use;

namespace {

constexpr const char* kConfigColumns =
    "SELECT id, reward_type, reward_value, reward_unit, beneficiary, auto_credit, is_active, created_at "
    "FROM reward_configs ";

constexpr const char* kRewardColumns =
    "SELECT id, referral_id, user_id, beneficiary, reward_type, reward_value, reward_unit, status, "
    "created_at, credited_at, revoked_at FROM rewards ";

Config config_from(const soci::row& row) {
  return {row.get<std::string>(0), row.get<std::string>(1), row.get<long long>(2),
          row.get<std::string>(3), row.get<std::string>(4), row.get<int>(5) != 0,
          row.get<int>(6) != 0,    row.get<long long>(7)};
}

std::optional<long long> optional_time(const soci::row& row, std::size_t column) {
  if (row.get_indicator(column) != soci::i_ok) return std::nullopt;
  return row.get<long long>(column);
}

Reward reward_from(const soci::row& row) {
  return {row.get<std::string>(0), row.get<std::string>(1), row.get<std::string>(2),
          row.get<std::string>(3), row.get<std::string>(4), row.get<long long>(5),
          row.get<std::string>(6), row.get<std::string>(7), row.get<long long>(8),
          optional_time(row, 9),   optional_time(row, 10)};
}

}  // namespace

void lock_configs(soci::session& sql) {
  // Two admins replacing the active config of one kind at once: on
  // PostgreSQL each UPDATE misses the other's new row, and the second INSERT
  // breaks the one-active index. SQLite already runs one writer at a time.
  if (sql.get_backend_name() == "postgresql") sql << "LOCK TABLE reward_configs IN SHARE ROW EXCLUSIVE MODE";
}

void deactivate_active_config(soci::session& sql, const std::string& reward_type,
                              const std::string& beneficiary, long long now) {
  sql << "UPDATE reward_configs SET is_active = 0, deactivated_at = :now "
         "WHERE reward_type = :type AND beneficiary = :beneficiary AND is_active = 1",
      use(now), use(reward_type), use(beneficiary);
}

void insert_config(soci::session& sql, const Config& config, const std::string& created_by) {
  const int auto_credit = config.auto_credit ? 1 : 0;
  sql << "INSERT INTO reward_configs (id, reward_type, reward_value, reward_unit, beneficiary, "
         "auto_credit, is_active, created_by, created_at) VALUES (:id, :type, :value, :unit, "
         ":beneficiary, :auto_credit, 1, :created_by, :created_at)",
      use(config.id), use(config.reward_type), use(config.reward_value), use(config.reward_unit),
      use(config.beneficiary), use(auto_credit), use(created_by), use(config.created_at);
}

std::vector<Config> list_configs(soci::session& sql) {
  return db::select_all<Config>(sql, std::string(kConfigColumns) + "ORDER BY created_at DESC, id DESC",
                            config_from);
}

std::optional<Config> find_config(soci::session& sql, const std::string& id) {
  auto found = db::select_all<Config>(sql, std::string(kConfigColumns) + "WHERE id = :id", config_from, use(id));
  if (found.empty()) return std::nullopt;
  return found.front();
}

void deactivate_config(soci::session& sql, const std::string& id, long long now) {
  sql << "UPDATE reward_configs SET is_active = 0, deactivated_at = :now WHERE id = :id AND is_active = 1",
      use(now), use(id);
}

std::vector<Config> active_configs(soci::session& sql, const std::string& reward_type) {
  return db::select_all<Config>(sql,
                            std::string(kConfigColumns) +
                                "WHERE reward_type = :type AND is_active = 1 ORDER BY beneficiary",
                            config_from, use(reward_type));
}

bool insert_reward(soci::session& sql, const Reward& reward, const std::string& config_id) {
  return db::affected_rows(
             sql,
             "INSERT INTO rewards (id, referral_id, user_id, beneficiary, reward_type, reward_value, "
             "reward_unit, status, config_id, created_at) VALUES (:id, :referral_id, :user_id, "
             ":beneficiary, :type, :value, :unit, :status, :config_id, :created_at) "
             "ON CONFLICT (referral_id, user_id, reward_type) DO NOTHING",
             use(reward.id), use(reward.referral_id), use(reward.user_id), use(reward.beneficiary),
             use(reward.reward_type), use(reward.reward_value), use(reward.reward_unit),
             use(reward.status), use(config_id), use(reward.created_at)) > 0;
}

std::optional<Reward> find_reward(soci::session& sql, const std::string& reward_id) {
  auto found = db::select_all<Reward>(sql, std::string(kRewardColumns) + "WHERE id = :id", reward_from,
                                  use(reward_id));
  if (found.empty()) return std::nullopt;
  return found.front();
}

std::vector<Reward> rewards_of_referral(soci::session& sql, const std::string& referral_id) {
  return db::select_all<Reward>(sql, std::string(kRewardColumns) + "WHERE referral_id = :id ORDER BY created_at, id",
                            reward_from, use(referral_id));
}

bool move_status(soci::session& sql, const std::string& reward_id, const std::string& from,
                 const std::string& to, long long now) {
  const char* stamp = to == "CREDITED" ? "credited_at" : "revoked_at";
  return db::affected_rows(sql,
                           std::string("UPDATE rewards SET status = :to, ") + stamp +
                               " = :now WHERE id = :id AND status = :from",
                           use(to), use(now), use(reward_id), use(from)) > 0;
}

// A user's reward history is the hot list: one statement prepared per pooled
// session, typed fetches. The index (user_id, created_at, id) drives it; the
// status test is a filter on those rows, and the first page's cursor is a
// sentinel past every row.
struct UserRewardsPage {
  explicit UserRewardsPage(soci::session& sql)
      : statement((sql.prepare << std::string(kRewardColumns) +
                                      "WHERE user_id = :user_id AND (:any_status = 1 OR status = :status) "
                                      "AND (created_at, id) < (:after_time, :after_id) "
                                      "ORDER BY created_at DESC, id DESC LIMIT :limit",
                   use(user_id), use(any_status), use(status), use(after_time), use(after_id), use(limit),
                   into(row.id), into(row.referral_id), into(row.user_id), into(row.beneficiary),
                   into(row.reward_type), into(row.reward_value), into(row.reward_unit), into(row.status),
                   into(row.created_at), into(credited_at, credited), into(revoked_at, revoked))) {}

  std::vector<Reward> run(const RewardFilter& filter) {
    user_id = *filter.user_id;
    any_status = filter.status ? 0 : 1;
    status = filter.status.value_or("");
    after_time = filter.after ? filter.after->created_at : std::numeric_limits<long long>::max();
    after_id = filter.after ? filter.after->id : "";
    limit = filter.limit;
    std::vector<Reward> out;
    statement.execute(false);
    while (statement.fetch()) {
      out.push_back(row);
      out.back().credited_at = credited == soci::i_ok ? std::optional(credited_at) : std::nullopt;
      out.back().revoked_at = revoked == soci::i_ok ? std::optional(revoked_at) : std::nullopt;
    }
    return out;
  }

  std::string user_id;
  int any_status = 1;
  std::string status;
  long long after_time = 0;
  std::string after_id;
  int limit = 50;
  Reward row;
  long long credited_at = 0;
  long long revoked_at = 0;
  soci::indicator credited = soci::i_null;
  soci::indicator revoked = soci::i_null;
  soci::statement statement;
};

std::vector<Reward> list_rewards(soci::session& sql, const RewardFilter& filter) {
  if (filter.user_id) return db::cached<UserRewardsPage>(sql).run(filter);
  // Admin views: only the conditions in use appear in the SQL, so each
  // filter combination walks its own index in (created_at, id) order.
  std::string where = "WHERE 1 = 1";
  if (filter.status) where += " AND status = :status";
  if (filter.after) where += " AND (created_at, id) < (:after_time, :after_id)";
  auto query = (sql.prepare << std::string(kRewardColumns) + where +
                                   " ORDER BY created_at DESC, id DESC LIMIT :limit");
  if (filter.status) query, use(*filter.status);
  if (filter.after) query, use(filter.after->created_at), use(filter.after->id);
  query, use(filter.limit);
  soci::rowset<soci::row> rows(query);
  std::vector<Reward> out;
  for (const auto& row : rows) out.push_back(reward_from(row));
  return out;
}

std::map<std::string, std::map<std::string, long long>> balance(soci::session& sql,
                                                                const std::string& user_id) {
  std::string unit, status;
  long long high = 0, low = 0;
  soci::statement statement =
      (sql.prepare << "SELECT reward_unit, status, " + db::split_sum("reward_value") +
                          " FROM rewards WHERE user_id = :user_id GROUP BY reward_unit, status",
       use(user_id), into(unit), into(status), into(high), into(low));
  statement.execute();
  std::map<std::string, std::map<std::string, long long>> out;
  while (statement.fetch()) out[unit][status] = db::join_split_sum(high, low);
  return out;
}

bool claim_event(soci::session& sql, const std::string& id, const std::string& type,
                 const std::string& external_id, const std::string& user_id, long long now) {
  return db::affected_rows(sql,
                           "INSERT INTO events (id, type, external_id, user_id, result, created_at) "
                           "VALUES (:id, :type, :external_id, :user_id, '', :now) "
                           "ON CONFLICT (type, external_id) DO NOTHING",
                           use(id), use(type), use(external_id), use(user_id), use(now)) > 0;
}

std::optional<StoredEvent> find_event(soci::session& sql, const std::string& type,
                                      const std::string& external_id) {
  StoredEvent event;
  sql << "SELECT id, result FROM events WHERE type = :type AND external_id = :external_id",
      use(type), use(external_id), into(event.id), into(event.result);
  if (!sql.got_data()) return std::nullopt;
  return event;
}

void store_event_result(soci::session& sql, const std::string& id, const std::string& result) {
  sql << "UPDATE events SET result = :result WHERE id = :id", use(result), use(id);
}

}  // namespace reward::store
