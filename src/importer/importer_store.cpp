#include "importer/importer_store.hpp"

#include <soci/soci.h>

#include <algorithm>
#include <optional>

#include "core/random.hpp"
#include "db/statements.hpp"
#include "referral/referral_status.hpp"

namespace importer::store {

namespace {

// Bound parameters per statement. PostgreSQL: each statement is a round
// trip, so thousands at once (its limit is 65535). SQLite: no trip to save,
// and it looks each named parameter up in a list (quadratic in the count:
// 4000 per statement made 10k users take 3 s), so a few hundred.
std::size_t parameters_per_statement(soci::session& sql) {
  return db::is_postgresql(sql) ? 4000 : 200;
}

std::size_t rows_per_statement(soci::session& sql, std::size_t columns) {
  return std::max<std::size_t>(1, parameters_per_statement(sql) / columns);
}

// One bound value of a batched statement. SOCI binds by reference, so cells
// must stay put (no vector growth) between binding and execution.
struct Cell {
  std::string text;
  long long number = 0;
  bool is_number = false;
  soci::indicator indicator = soci::i_ok;
};

Cell text(std::string value) {
  return {std::move(value), 0, false, soci::i_ok};
}
Cell number(long long value) {
  return {{}, value, true, soci::i_ok};
}
Cell flag(bool value) {
  return number(value ? 1 : 0);
}
Cell maybe_number(const std::optional<long long>& value) {
  return value ? number(*value) : Cell{{}, 0, true, soci::i_null};
}

void append(std::vector<Cell>& cells, std::initializer_list<Cell> row) {
  cells.insert(cells.end(), row);
}

std::string placeholders(std::size_t first, std::size_t count) {
  std::string out;
  for (std::size_t i = 0; i < count; ++i) out += (i ? ", :p" : ":p") + std::to_string(first + i);
  return out;
}

void bind(soci::statement& statement, Cell& cell) {
  if (cell.is_number)
    statement.exchange(soci::use(cell.number, cell.indicator));
  else
    statement.exchange(soci::use(cell.text, cell.indicator));
}

// `head` is "INSERT INTO t (a, b, c) VALUES "; cells hold rows back to back.
void insert_chunk(soci::session& sql, const std::string& head, std::size_t columns, Cell* cells,
                  std::size_t rows) {
  std::string query = head;
  soci::statement statement(sql);
  for (std::size_t row = 0; row < rows; ++row) {
    query += (row ? ", (" : "(") + placeholders(row * columns, columns) + ")";
    for (std::size_t column = 0; column < columns; ++column)
      bind(statement, cells[row * columns + column]);
  }
  statement.alloc();
  statement.prepare(query);
  statement.define_and_bind();
  statement.execute(true);
}

void insert_all(soci::session& sql, const std::string& head, std::size_t columns,
                std::vector<Cell> cells) {
  const std::size_t rows = cells.size() / columns;
  const std::size_t chunk = rows_per_statement(sql, columns);
  for (std::size_t first = 0; first < rows; first += chunk) {
    insert_chunk(sql, head, columns, cells.data() + first * columns, std::min(chunk, rows - first));
  }
}

using Pairs = std::vector<std::pair<std::string, std::string>>;

// `select` is "SELECT a, b FROM t WHERE k IN "; returns the (a, b) rows.
void lookup_chunk(soci::session& sql, const std::string& select, std::vector<std::string> keys,
                  Pairs& out) {
  std::string first, second;
  soci::statement statement(sql);
  statement.exchange(soci::into(first));
  statement.exchange(soci::into(second));
  for (auto& key : keys) statement.exchange(soci::use(key));
  statement.alloc();
  statement.prepare(select + "(" + placeholders(0, keys.size()) + ")");
  statement.define_and_bind();
  if (!statement.execute(true)) return;
  do {
    out.emplace_back(first, second);
  } while (statement.fetch());
}

Pairs lookup(soci::session& sql, const std::string& select, const std::vector<std::string>& keys) {
  Pairs out;
  const std::size_t chunk = parameters_per_statement(sql);
  for (std::size_t first = 0; first < keys.size(); first += chunk) {
    const auto last =
        keys.begin() + static_cast<std::ptrdiff_t>(std::min(keys.size(), first + chunk));
    lookup_chunk(sql, select, {keys.begin() + static_cast<std::ptrdiff_t>(first), last}, out);
  }
  return out;
}

std::vector<std::string> firsts(const Pairs& pairs) {
  std::vector<std::string> out;
  for (const auto& pair : pairs) out.push_back(pair.first);
  return out;
}

std::map<std::string, std::string> as_map(const Pairs& pairs) {
  return {pairs.begin(), pairs.end()};
}

// Runs `statement_text` with "(:p0, ...)" appended, once per chunk of keys.
void for_each_chunk(soci::session& sql, const std::string& statement_text, const std::string& tail,
                    std::vector<std::string> keys) {
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  const std::size_t chunk = parameters_per_statement(sql);
  for (std::size_t first = 0; first < keys.size(); first += chunk) {
    const auto count = std::min(chunk, keys.size() - first);
    soci::statement statement(sql);
    for (std::size_t i = 0; i < count; ++i) statement.exchange(soci::use(keys[first + i]));
    statement.alloc();
    statement.prepare(statement_text + "(" + placeholders(0, count) + ")" + tail);
    statement.define_and_bind();
    statement.execute(true);
  }
}

}  // namespace

std::vector<std::string> existing_user_ids(soci::session& sql,
                                           const std::vector<std::string>& ids) {
  return firsts(lookup(sql, "SELECT id, id FROM users WHERE id IN ", ids));
}

std::vector<std::string> existing_referral_ids(soci::session& sql,
                                               const std::vector<std::string>& ids) {
  return firsts(lookup(sql, "SELECT id, id FROM referrals WHERE id IN ", ids));
}

std::vector<std::string> existing_config_ids(soci::session& sql,
                                             const std::vector<std::string>& ids) {
  return firsts(lookup(sql, "SELECT id, id FROM reward_configs WHERE id IN ", ids));
}

std::vector<std::string> existing_reward_ids(soci::session& sql,
                                             const std::vector<std::string>& ids) {
  return firsts(lookup(sql, "SELECT id, id FROM rewards WHERE id IN ", ids));
}

std::map<std::string, std::string> users_by_email(soci::session& sql,
                                                  const std::vector<std::string>& emails) {
  return as_map(lookup(sql, "SELECT email, id FROM users WHERE email IN ", emails));
}

std::map<std::string, std::string> codes_of_users(soci::session& sql,
                                                  const std::vector<std::string>& user_ids) {
  return as_map(lookup(sql, "SELECT user_id, id FROM referral_codes WHERE user_id IN ", user_ids));
}

std::map<std::string, std::string> code_owners(soci::session& sql,
                                               const std::vector<std::string>& codes) {
  auto owners =
      as_map(lookup(sql, "SELECT code, user_id FROM referral_codes WHERE code IN ", codes));
  owners.merge(as_map(lookup(sql,
                             "SELECT a.code, c.user_id FROM referral_code_aliases a "
                             "JOIN referral_codes c ON c.id = a.code_id WHERE a.code IN ",
                             codes)));
  return owners;
}

std::map<std::string, std::string> referrals_of_referees(
    soci::session& sql, const std::vector<std::string>& referee_ids) {
  return as_map(
      lookup(sql, "SELECT referee_id, id FROM referrals WHERE referee_id IN ", referee_ids));
}

std::map<std::string, std::string> referees_of(soci::session& sql,
                                               const std::vector<std::string>& referral_ids) {
  return as_map(lookup(sql, "SELECT id, referee_id FROM referrals WHERE id IN ", referral_ids));
}

std::vector<std::pair<std::string, std::string>> reward_keys_of(
    soci::session& sql, const std::vector<std::string>& referral_ids) {
  return lookup(
      sql, "SELECT referral_id, user_id || '|' || reward_type FROM rewards WHERE referral_id IN ",
      referral_ids);
}

std::vector<std::string> active_referrer_config_types(soci::session& sql) {
  soci::rowset<std::string> rows = (sql.prepare << "SELECT reward_type FROM reward_configs WHERE "
                                                   "is_active = 1 AND beneficiary = 'REFERRER'");
  return {rows.begin(), rows.end()};
}

void insert_users(soci::session& sql, const std::vector<auth::store::User>& users) {
  std::vector<Cell> cells;
  for (const auto& user : users) {
    append(cells, {text(user.id), text(user.name), text(user.email), text(user.canonical_email),
                   text(user.password_hash), flag(user.is_verified), flag(user.is_admin),
                   number(user.created_at)});
  }
  insert_all(
      sql,
      "INSERT INTO users (id, name, email, canonical_email, password_hash, is_verified, is_admin, "
      "created_at) VALUES ",
      8, std::move(cells));
}

void insert_codes(soci::session& sql, const std::vector<referral::store::Code>& codes) {
  std::vector<Cell> cells;
  for (const auto& code : codes) {
    append(cells, {text(code.id), text(code.user_id), text(code.code), number(code.uses),
                   number(code.created_at)});
  }
  insert_all(sql, "INSERT INTO referral_codes (id, user_id, code, uses, created_at) VALUES ", 5,
             std::move(cells));
}

void insert_code_aliases(soci::session& sql,
                         const std::vector<referral::store::CodeAlias>& aliases) {
  std::vector<Cell> cells;
  for (const auto& alias : aliases) {
    append(cells,
           {text(alias.id), text(alias.code), text(alias.code_id), number(alias.created_at)});
  }
  insert_all(sql, "INSERT INTO referral_code_aliases (id, code, code_id, created_at) VALUES ", 4,
             std::move(cells));
}

void insert_referrals(soci::session& sql, const std::vector<referral::store::Referral>& referrals) {
  std::vector<Cell> cells;
  for (const auto& referral : referrals) {
    append(cells, {text(referral.id), text(referral.referee_id), text(referral.referrer_id),
                   text(referral.code_id), text(referral.status), number(referral.created_at),
                   number(referral.created_at)});
  }
  insert_all(sql,
             "INSERT INTO referrals (id, referee_id, referrer_id, code_id, status, created_at, "
             "updated_at) "
             "VALUES ",
             7, std::move(cells));
  // The referee may come from this import or an earlier one: copy every
  // name from users in one statement (names are never empty, so '' marks
  // exactly the rows just inserted).
  sql << "UPDATE referrals SET referee_name = COALESCE((SELECT u.name FROM users u WHERE u.id = referrals.referee_id), "
         "'') WHERE referee_name = ''";
}

void insert_configs(soci::session& sql, const std::vector<reward::store::Config>& configs) {
  std::vector<Cell> cells;
  for (const auto& config : configs) {
    append(cells, {text(config.id), text(config.reward_type), number(config.reward_value),
                   text(config.reward_unit), text(config.beneficiary), flag(config.auto_credit),
                   flag(config.is_active), number(config.created_at)});
  }
  insert_all(sql,
             "INSERT INTO reward_configs (id, reward_type, reward_value, reward_unit, beneficiary, "
             "auto_credit, "
             "is_active, created_at) VALUES ",
             8, std::move(cells));
}

void insert_rewards(soci::session& sql, const std::vector<reward::store::Reward>& rewards) {
  std::vector<Cell> cells;
  for (const auto& reward : rewards) {
    append(cells, {text(reward.id), text(reward.referral_id), text(reward.user_id),
                   text(reward.beneficiary), text(reward.reward_type), number(reward.reward_value),
                   text(reward.reward_unit), text(reward.status), number(reward.created_at),
                   maybe_number(reward.credited_at), maybe_number(reward.revoked_at)});
  }
  insert_all(sql,
             "INSERT INTO rewards (id, referral_id, user_id, beneficiary, reward_type, "
             "reward_value, reward_unit, "
             "status, created_at, credited_at, revoked_at) VALUES ",
             11, std::move(cells));
}

void recount_code_uses(soci::session& sql, const std::vector<std::string>& code_ids) {
  // One grouped scan per chunk; a correlated COUNT per code row was the
  // slowest statement of a PostgreSQL import. Every touched code has at
  // least one referral, so none is missed by the join.
  for_each_chunk(
      sql,
      "UPDATE referral_codes SET uses = counted.uses FROM (SELECT code_id, COUNT(*) AS uses "
      "FROM referrals WHERE code_id IN ",
      " GROUP BY code_id) AS counted WHERE referral_codes.id = counted.code_id", code_ids);
}

void recount_referrer_stats(soci::session& sql, const std::vector<std::string>& referrer_ids) {
  // SQLite needs the WHERE in an INSERT ... SELECT ... ON CONFLICT (it has one).
  for_each_chunk(
      sql,
      "INSERT INTO referrer_stats (user_id, total, successful, pending, rejected) "
      "SELECT referrer_id, COUNT(*), " +
          db::count_of("status", referral::referral_status::kSuccess) + ", " +
          db::count_of("status", referral::referral_status::kPending) + ", " +
          db::count_of("status", referral::referral_status::kRejected) +
          " FROM referrals WHERE referrer_id IN ",
      " GROUP BY referrer_id ON CONFLICT (user_id) DO UPDATE SET total = excluded.total, "
      "successful = excluded.successful, pending = excluded.pending, rejected = excluded.rejected",
      referrer_ids);
}

}  // namespace importer::store
