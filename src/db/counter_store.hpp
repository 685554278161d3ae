#pragma once
#include <soci/soci.h>

#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "db/statement_cache.hpp"

// Counters a domain keeps next to its rows, in a table of its own
// (`name`, `shard`, `value`, CHECK over its known names), changed in the
// same transaction as the rows they count: admin stats and /metrics read a
// few dozen counter rows instead of counting a million.
//
// Each count is spread over kShards rows: on PostgreSQL an increment locks
// its row until the commit, and one row per count would make every apply
// wait for the previous one's commit. The shard comes from the counted
// row's id, so one transaction touching one entity always takes the same
// shard of each name, in name order.
namespace db::counters {

constexpr int kShards = 16;

inline int shard_of(std::string_view id) {
  return static_cast<int>(std::hash<std::string_view>{}(id) % kShards);
}

// `Table` names the domain's counter table: struct { static constexpr const char* table = "..."; }.
template <class Table>
struct AddQuery {
  explicit AddQuery(soci::session& sql)
      : statement((sql.prepare << std::string("INSERT INTO ") + Table::table +
                                      " (name, shard, value) VALUES (:name, :shard, :delta) ON "
                                      "CONFLICT (name, shard) "
                                      "DO UPDATE SET value = " +
                                      Table::table + ".value + excluded.value",
                   soci::use(name), soci::use(shard), soci::use(delta))) {}
  std::string name;
  int shard = 0;
  long long delta = 0;
  soci::statement statement;
};

template <class Table>
void add(soci::session& sql, const std::string& name, std::string_view shard_key, long long delta) {
  if (delta == 0) return;
  auto& query = cached<AddQuery<Table>>(sql);
  query.name = name;
  query.shard = shard_of(shard_key);
  query.delta = delta;
  query.statement.execute(true);
}

template <class Table>
struct ReadQuery {
  explicit ReadQuery(soci::session& sql)
      : statement((sql.prepare << std::string("SELECT name, CAST(SUM(value) AS BIGINT) FROM ") +
                                      Table::table + " GROUP BY name",
                   soci::into(name), soci::into(value))) {}
  std::string name;
  long long value = 0;
  soci::statement statement;
};

// Every name's value (the sum of its shards); a name never counted is absent.
// Prepared once per session: /metrics reads the outbox depth on every scrape,
// and a one-shot statement costs PostgreSQL extra round trips. (Admin stats
// sum three counter tables in one statement of their own: analytics_store.cpp.)
template <class Table>
std::map<std::string, long long> read(soci::session& sql) {
  auto& query = cached<ReadQuery<Table>>(sql);
  std::map<std::string, long long> values;
  query.statement.execute();
  while (query.statement.fetch()) values[query.name] = query.value;  // to the end: no open snapshot
  return values;
}

inline long long value_of(const std::map<std::string, long long>& values, const std::string& name) {
  const auto it = values.find(name);
  return it == values.end() ? 0 : it->second;
}

}  // namespace db::counters
