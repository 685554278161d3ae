#include "reward/reward_store.hpp"

#include <soci/soci.h>

#include <limits>

#include "db/checked_sum.hpp"
#include "db/statement_cache.hpp"
#include "db/statements.hpp"
#include "ledger/reward_status.hpp"

namespace reward::store {

using soci::into;
using soci::use;

namespace {

constexpr const char* kConfigColumns =
    "SELECT id, reward_type, reward_value, reward_unit, beneficiary, auto_credit, is_active, created_at, "
    "percent_of_amount, max_value, hold_days, max_rewards_per_referrer, budget, budget_used "
    "FROM reward_configs ";

constexpr const char* kRewardColumns =
    "SELECT id, referral_id, user_id, beneficiary, reward_type, reward_value, reward_unit, status, "
    "created_at, credited_at, revoked_at, available_at FROM rewards ";

// A nullable BIGINT column (an INTEGER one on PostgreSQL reads as int).
std::optional<long long> optional_number(const soci::row& row, std::size_t column) {
  if (row.get_indicator(column) != soci::i_ok) return std::nullopt;
  if (row.get_properties(column).get_data_type() == soci::dt_integer) return row.get<int>(column);
  return row.get<long long>(column);
}

Config config_from(const soci::row& row) {
  Config config{row.get<std::string>(0), row.get<std::string>(1), row.get<long long>(2),
                row.get<std::string>(3), row.get<std::string>(4), row.get<int>(5) != 0,
                row.get<int>(6) != 0,    row.get<long long>(7)};
  config.percent_of_amount = optional_number(row, 8);
  config.max_value = optional_number(row, 9);
  config.hold_days = optional_number(row, 10).value_or(0);
  config.max_rewards_per_referrer = optional_number(row, 11);
  config.budget = optional_number(row, 12);
  config.budget_used = row.get<long long>(13);
  return config;
}

Reward reward_from(const soci::row& row) {
  return {row.get<std::string>(0), row.get<std::string>(1), row.get<std::string>(2),
          row.get<std::string>(3), row.get<std::string>(4), row.get<long long>(5),
          row.get<std::string>(6), row.get<std::string>(7), row.get<long long>(8),
          optional_number(row, 9), optional_number(row, 10), optional_number(row, 11)};
}

// A value bound as NULL when absent.
template <class T>
struct Nullable {
  explicit Nullable(const std::optional<T>& value)
      : value(value.value_or(T{})), indicator(value ? soci::i_ok : soci::i_null) {}
  T value;
  soci::indicator indicator;
};

}  // namespace

void lock_configs(soci::session& sql) {
  // Two admins replacing the active config of one kind at once: on
  // PostgreSQL each UPDATE misses the other's new row, and the second INSERT
  // breaks the one-active index. SQLite already runs one writer at a time.
  if (db::is_postgresql(sql)) sql << "LOCK TABLE reward_configs IN SHARE ROW EXCLUSIVE MODE";
}

void deactivate_active_config(soci::session& sql, const std::string& reward_type,
                              const std::string& beneficiary, long long now) {
  sql << "UPDATE reward_configs SET is_active = 0, deactivated_at = :now "
         "WHERE reward_type = :type AND beneficiary = :beneficiary AND is_active = 1",
      use(now), use(reward_type), use(beneficiary);
}

void insert_config(soci::session& sql, const Config& config, const std::string& created_by) {
  const int auto_credit = config.auto_credit ? 1 : 0;
  Nullable percent(config.percent_of_amount), max_value(config.max_value),
      cap(config.max_rewards_per_referrer), budget(config.budget);
  sql << "INSERT INTO reward_configs (id, reward_type, reward_value, reward_unit, beneficiary, "
         "auto_credit, is_active, created_by, created_at, percent_of_amount, max_value, hold_days, "
         "max_rewards_per_referrer, budget) VALUES (:id, :type, :value, :unit, :beneficiary, :auto_credit, 1, "
         ":created_by, :created_at, :percent, :max_value, :hold_days, :cap, :budget)",
      use(config.id), use(config.reward_type), use(config.reward_value), use(config.reward_unit),
      use(config.beneficiary), use(auto_credit), use(created_by), use(config.created_at),
      use(percent.value, percent.indicator), use(max_value.value, max_value.indicator), use(config.hold_days),
      use(cap.value, cap.indicator), use(budget.value, budget.indicator);
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

namespace {

// A nullable number read by a prepared statement: the value and its indicator.
struct NullableInto {
  long long value = 0;
  soci::indicator indicator = soci::i_null;
  std::optional<long long> get() const {
    return indicator == soci::i_ok ? std::optional(value) : std::nullopt;
  }
};

// Read on every apply and every qualifying event (grant).
struct ActiveConfigs {
  explicit ActiveConfigs(soci::session& sql)
      : statement(
            (sql.prepare << std::string(kConfigColumns) +
                                "WHERE reward_type = :type AND is_active = 1 ORDER BY beneficiary",
             use(reward_type), into(row.id), into(row.reward_type), into(row.reward_value),
             into(row.reward_unit), into(row.beneficiary), into(auto_credit), into(is_active),
             into(row.created_at), into(percent.value, percent.indicator),
             into(max_value.value, max_value.indicator), into(hold_days.value, hold_days.indicator),
             into(cap.value, cap.indicator), into(budget.value, budget.indicator),
             into(row.budget_used))) {}

  std::vector<Config> run(const std::string& type) {
    reward_type = type;
    std::vector<Config> out;
    db::for_each_row(statement, [&] {
      auto& config = out.emplace_back(row);
      config.auto_credit = auto_credit != 0;
      config.is_active = is_active != 0;
      config.percent_of_amount = percent.get();
      config.max_value = max_value.get();
      config.hold_days = hold_days.get().value_or(0);
      config.max_rewards_per_referrer = cap.get();
      config.budget = budget.get();
    });
    return out;
  }

  std::string reward_type;
  Config row;
  int auto_credit = 0;
  int is_active = 0;
  NullableInto percent, max_value, hold_days, cap, budget;
  soci::statement statement;
};

}  // namespace

std::vector<Config> active_configs(soci::session& sql, const std::string& reward_type) {
  return db::cached<ActiveConfigs>(sql).run(reward_type);
}

namespace {

// The cap and the budget are checked on every grant of a config that has them.
struct TakeConfigPlace {
  // PostgreSQL: a second upsert of the same row waits for the first to
  // commit, then evaluates the WHERE against the committed count.
  explicit TakeConfigPlace(soci::session& sql)
      : statement(
            (sql.prepare
                 << "INSERT INTO reward_config_counts (config_id, user_id, rewards) VALUES "
                    "(:config_id, :user_id, 1) ON CONFLICT (config_id, user_id) DO UPDATE SET "
                    "rewards = reward_config_counts.rewards + 1 WHERE reward_config_counts.rewards "
                    "< "
                    ":cap",
             use(config_id), use(user_id), use(cap))) {}
  std::string config_id, user_id;
  long long cap = 0;
  soci::statement statement;
};

// Conditional on the current row: on PostgreSQL a concurrent reservation
// waits for the row lock and re-checks the condition on the committed
// value (READ COMMITTED), so the sum never passes the budget.
struct ReserveBudget {
  explicit ReserveBudget(soci::session& sql)
      : statement(
            (sql.prepare
                 << "UPDATE reward_configs SET budget_used = budget_used + :value "
                    "WHERE id = :id AND budget IS NOT NULL AND budget_used <= budget - :value2",
             use(value), use(config_id), use(value))) {}
  long long value = 0;
  std::string config_id;
  soci::statement statement;
};

}  // namespace

bool take_config_place(soci::session& sql, const std::string& config_id, const std::string& user_id,
                       long long cap) {
  auto& query = db::cached<TakeConfigPlace>(sql);
  query.config_id = config_id;
  query.user_id = user_id;
  query.cap = cap;
  return db::changed_rows(query.statement);
}

void return_config_place(soci::session& sql, const std::string& config_id, const std::string& user_id) {
  sql << "UPDATE reward_config_counts SET rewards = rewards - 1 WHERE config_id = :config_id AND user_id = :user_id",
      use(config_id), use(user_id);
}

bool reserve_budget(soci::session& sql, const std::string& config_id, long long value) {
  auto& query = db::cached<ReserveBudget>(sql);
  query.value = value;
  query.config_id = config_id;
  return db::changed_rows(query.statement);
}

void release_budget(soci::session& sql, const std::string& reward_id) {
  sql << "UPDATE reward_configs SET budget_used = budget_used - "
         "(SELECT reward_value FROM rewards WHERE id = :reward_id) "
         "WHERE id = (SELECT config_id FROM rewards WHERE id = :reward_id2) AND budget IS NOT NULL",
      use(reward_id), use(reward_id);
}

namespace {

// Nullable's prepared-statement twin: a member bound once, set per call.
template <class T>
struct NullableUse {
  void set(const std::optional<T>& given) {
    value = given.value_or(T{});
    indicator = given ? soci::i_ok : soci::i_null;
  }
  T value{};
  soci::indicator indicator = soci::i_null;
};

// Every apply, event, milestone and reward move runs these: prepared once
// per session (db::cached), as the referral rows are.
struct InsertReward {
  // No conflict target: the unique keys are partial, one per kind of reward.
  explicit InsertReward(soci::session& sql)
      : statement(
            (sql.prepare
                 << "INSERT INTO rewards (id, referral_id, user_id, beneficiary, reward_type, "
                    "reward_value, reward_unit, status, config_id, created_at, available_at, "
                    "auto_credit_at, event_id, milestone_id) VALUES (:id, :referral_id, :user_id, "
                    ":beneficiary, :type, :value, :unit, :status, :config_id, :created_at, "
                    ":available_at, :auto_credit_at, :event_id, :milestone_id) ON CONFLICT DO "
                    "NOTHING",
             use(row.id), use(row.referral_id), use(row.user_id), use(row.beneficiary),
             use(row.reward_type), use(row.reward_value), use(row.reward_unit), use(row.status),
             use(config_id.value, config_id.indicator), use(row.created_at),
             use(available_at.value, available_at.indicator),
             use(auto_credit_at.value, auto_credit_at.indicator),
             use(event_id.value, event_id.indicator),
             use(milestone_id.value, milestone_id.indicator))) {}

  bool run(const Reward& reward, const RewardOrigin& origin) {
    row = reward;
    config_id.set(origin.config_id);
    event_id.set(origin.event_id);
    milestone_id.set(origin.milestone_id);
    available_at.set(reward.available_at);
    auto_credit_at.set(origin.auto_credit_at);
    return db::changed_rows(statement);
  }

  Reward row;
  NullableUse<std::string> config_id, event_id, milestone_id;
  NullableUse<long long> available_at, auto_credit_at;
  soci::statement statement;
};

// The type test repeats the partial unique index's condition so both
// engines can use that index, a direct lookup. Without it SQLite chose the
// beneficiary's covering index rewards_by_user and read every reward the
// referrer had ever earned on each apply (tests/unit/reward_store_test.cpp).
struct HasReward {
  explicit HasReward(soci::session& sql)
      : statement(
            (sql.prepare
                 << "SELECT 1 FROM rewards WHERE referral_id = :referral_id AND user_id = :user_id "
                    "AND reward_type = :type AND reward_type IN ('SIGNUP', 'FIRST_ORDER')",
             use(referral_id), use(user_id), use(reward_type), into(found))) {}
  std::string referral_id, user_id, reward_type;
  int found = 0;
  soci::statement statement;
};

// A prepared lookup of whole reward rows by one text key.
struct RewardLookup {
  RewardLookup(soci::session& sql, const char* condition)
      : statement((sql.prepare << std::string(kRewardColumns) + condition, use(key), into(row.id),
                   into(row.referral_id), into(row.user_id), into(row.beneficiary),
                   into(row.reward_type), into(row.reward_value), into(row.reward_unit),
                   into(row.status), into(row.created_at),
                   into(credited_at.value, credited_at.indicator),
                   into(revoked_at.value, revoked_at.indicator),
                   into(available_at.value, available_at.indicator))) {}

  std::vector<Reward> run(const std::string& value) {
    key = value;
    std::vector<Reward> out;
    db::for_each_row(statement, [&] {
      auto& reward = out.emplace_back(row);
      reward.credited_at = credited_at.get();
      reward.revoked_at = revoked_at.get();
      reward.available_at = available_at.get();
    });
    return out;
  }

  std::string key;
  Reward row;
  NullableInto credited_at, revoked_at, available_at;
  soci::statement statement;
};

struct RewardById : RewardLookup {
  explicit RewardById(soci::session& sql) : RewardLookup(sql, "WHERE id = :id") {}
};

struct RewardsOfReferral : RewardLookup {
  explicit RewardsOfReferral(soci::session& sql)
      : RewardLookup(sql, "WHERE referral_id = :id ORDER BY created_at, id") {}
};

// The status moves, each stamping its own time column.
struct MoveStatus {
  explicit MoveStatus(soci::session& sql)
      : credit(prepare(sql, "credited_at")), revoke(prepare(sql, "revoked_at")) {}

  soci::statement prepare(soci::session& sql, const char* stamp) {
    return (sql.prepare << std::string("UPDATE rewards SET status = :to, ") + stamp +
                               " = :now WHERE id = :id AND status = :from",
            use(to), use(now), use(id), use(from));
  }

  std::string to, id, from;
  long long now = 0;
  soci::statement credit;
  soci::statement revoke;
};

}  // namespace

bool insert_reward(soci::session& sql, const Reward& reward, const RewardOrigin& origin) {
  return db::cached<InsertReward>(sql).run(reward, origin);
}

bool has_reward(soci::session& sql, const std::string& referral_id, const std::string& user_id,
                const std::string& reward_type) {
  auto& query = db::cached<HasReward>(sql);
  query.referral_id = referral_id;
  query.user_id = user_id;
  query.reward_type = reward_type;
  return db::fetch_single_row(query.statement);
}

std::optional<Reward> find_reward(soci::session& sql, const std::string& reward_id) {
  auto found = db::cached<RewardById>(sql).run(reward_id);
  if (found.empty()) return std::nullopt;
  return std::move(found.front());
}

std::vector<Reward> rewards_of_referral(soci::session& sql, const std::string& referral_id) {
  return db::cached<RewardsOfReferral>(sql).run(referral_id);
}

bool move_status(soci::session& sql, const std::string& reward_id, const std::string& from,
                 const std::string& to, long long now) {
  auto& query = db::cached<MoveStatus>(sql);
  query.to = to;
  query.now = now;
  query.id = reward_id;
  query.from = from;
  return db::changed_rows(to == ledger::reward_status::kCredited ? query.credit : query.revoke);
}

std::vector<std::string> due_rewards(soci::session& sql, long long now, int limit) {
  return db::select_all<std::string>(
      sql,
      "SELECT id FROM rewards WHERE status = " + db::literal(ledger::reward_status::kPending) +
          " AND auto_credit_at IS NOT NULL "
          "AND auto_credit_at <= :now ORDER BY auto_credit_at LIMIT :limit",
      [](const soci::row& row) { return row.get<std::string>(0); }, use(now), use(limit));
}

std::optional<long long> auto_credit_at(soci::session& sql, const std::string& reward_id) {
  long long at = 0;
  soci::indicator indicator = soci::i_null;
  sql << "SELECT auto_credit_at FROM rewards WHERE id = :id", use(reward_id), into(at, indicator);
  if (!sql.got_data() || indicator != soci::i_ok) return std::nullopt;
  return at;
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
                   into(row.created_at), into(credited_at, credited), into(revoked_at, revoked),
                   into(available_at, available))) {}

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
      out.back().available_at = available == soci::i_ok ? std::optional(available_at) : std::nullopt;
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
  long long available_at = 0;
  soci::indicator credited = soci::i_null;
  soci::indicator revoked = soci::i_null;
  soci::indicator available = soci::i_null;
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

Balances balance(soci::session& sql, const std::string& user_id) {
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

bool claim_event(soci::session& sql, const NewEvent& event) {
  Nullable amount(event.amount);
  Nullable currency(event.currency);
  return db::affected_rows(sql,
                           "INSERT INTO events (id, type, external_id, user_id, result, created_at, amount, currency) "
                           "VALUES (:id, :type, :external_id, :user_id, '', :now, :amount, :currency) "
                           "ON CONFLICT (type, external_id) DO NOTHING",
                           use(event.id), use(event.type), use(event.external_id), use(event.user_id),
                           use(event.created_at), use(amount.value, amount.indicator),
                           use(currency.value, currency.indicator)) > 0;
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
