#include "reward/milestone_store.hpp"

#include <soci/soci.h>

#include "db/statement_cache.hpp"

namespace reward::store {

using soci::use;

namespace {

constexpr const char* kMilestoneColumns =
    "SELECT id, successful_referrals, reward_value, reward_unit, is_active, created_at FROM "
    "milestones ";

template <class... Bindings>
std::vector<Milestone> select_milestones(soci::session& sql, const std::string& query,
                                         Bindings&&... bindings) {
  soci::rowset<soci::row> rows =
      ((sql.prepare << kMilestoneColumns + query), ..., std::forward<Bindings>(bindings));
  std::vector<Milestone> out;
  for (const auto& row : rows) {
    out.push_back({row.get<std::string>(0), row.get<long long>(1), row.get<long long>(2),
                   row.get<std::string>(3), row.get<int>(4) != 0, row.get<long long>(5)});
  }
  return out;
}

// Every move of a referral to SUCCESS asks it (a credit, an event):
// prepared once per session. Through a rowset it was prepared, and planned
// by PostgreSQL, on every call (plans = calls in `bench/cluster_bench.py`'s
// statement list, ~60 µs of planning each).
struct ReachedMilestones {
  explicit ReachedMilestones(soci::session& sql)
      : statement((sql.prepare << std::string(kMilestoneColumns) +
                                      "WHERE is_active = 1 AND successful_referrals <= :successful "
                                      "ORDER BY successful_referrals, id",
                   use(successful), soci::into(row.id), soci::into(row.successful_referrals),
                   soci::into(row.reward_value), soci::into(row.reward_unit), soci::into(active),
                   soci::into(row.created_at))) {}

  std::vector<Milestone> run(long long reached) {
    successful = reached;
    std::vector<Milestone> out;
    statement.execute(false);
    while (statement.fetch()) {  // to the end: no open snapshot (SQLite)
      row.is_active = active != 0;
      out.push_back(row);
    }
    return out;
  }

  long long successful = 0;
  Milestone row;
  int active = 0;
  soci::statement statement;
};

}  // namespace

void insert_milestone(soci::session& sql, const Milestone& milestone,
                      const std::string& created_by) {
  sql << "INSERT INTO milestones (id, successful_referrals, reward_value, reward_unit, is_active, "
         "created_by, "
         "created_at) VALUES (:id, :successful, :value, :unit, 1, :created_by, :created_at)",
      use(milestone.id), use(milestone.successful_referrals), use(milestone.reward_value),
      use(milestone.reward_unit), use(created_by), use(milestone.created_at);
}

std::vector<Milestone> list_milestones(soci::session& sql) {
  return select_milestones(sql, "ORDER BY created_at DESC, id DESC");
}

std::optional<Milestone> find_milestone(soci::session& sql, const std::string& id) {
  auto found = select_milestones(sql, "WHERE id = :id", use(id));
  if (found.empty()) return std::nullopt;
  return found.front();
}

void deactivate_milestone(soci::session& sql, const std::string& id, long long now) {
  sql << "UPDATE milestones SET is_active = 0, deactivated_at = :now WHERE id = :id AND is_active "
         "= 1",
      use(now), use(id);
}

std::vector<Milestone> reached_milestones(soci::session& sql, long long successful) {
  return db::cached<ReachedMilestones>(sql).run(successful);
}

}  // namespace reward::store
