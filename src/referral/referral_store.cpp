#include "referral/referral_store.hpp"

#include <soci/soci.h>

#include <algorithm>
#include <tuple>

#include "db/counter_store.hpp"
#include "db/statement_cache.hpp"
#include "db/statements.hpp"
#include "referral/referral_status.hpp"

namespace referral::store {

using soci::into;
using soci::use;

namespace {

std::optional<Code> find_code_where(soci::session& sql, const char* condition, const std::string& value) {
  Code code;
  sql << std::string("SELECT id, user_id, code, uses, created_at FROM referral_codes WHERE ") + condition,
      use(value), into(code.id), into(code.user_id), into(code.code), into(code.uses),
      into(code.created_at);
  if (!sql.got_data()) return std::nullopt;
  return code;
}

// The columns referral_from reads, in its order; queries that select more
// put theirs after these (from index kReferralFieldCount on).
constexpr const char* kReferralFields =
    "r.id, r.referee_id, r.referee_name, r.referrer_id, r.code_id, r.status, r.flags, r.ip, r.created_at";
constexpr std::size_t kReferralFieldCount = 9;
// The same columns where the statement has no alias (UPDATE ... RETURNING).
constexpr const char* kUnqualifiedReferralFields =
    "id, referee_id, referee_name, referrer_id, code_id, status, flags, ip, created_at";
const std::string kReferralColumns = std::string("SELECT ") + kReferralFields + " FROM referrals r ";

Referral referral_from(const soci::row& row) {
  Referral referral;
  referral.id = row.get<std::string>(0);
  referral.referee_id = row.get<std::string>(1);
  referral.referee_name = row.get<std::string>(2);
  referral.referrer_id = row.get<std::string>(3);
  referral.code_id = row.get<std::string>(4);
  referral.status = row.get<std::string>(5);
  referral.flags = row.get_indicator(6) == soci::i_ok ? row.get<std::string>(6) : "";
  referral.ip = row.get<std::string>(7);
  referral.created_at = row.get<long long>(8);
  return referral;
}

// The write paths (apply, credit, revoke, events) read and write these rows
// several times per request: prepared once per session (db::cached), they
// skip SQLite's parse and plan and PostgreSQL's extra prepare round trip
// that a one-shot statement costs on every call (docs/PERFORMANCE.md).

// A referral row read by a prepared statement, in kReferralFields' order.
struct ReferralInto {
  soci::details::prepare_temp_type bind(soci::details::prepare_temp_type prepared) {
    prepared, into(row.id), into(row.referee_id), into(row.referee_name), into(row.referrer_id),
        into(row.code_id), into(row.status), into(flags, flags_indicator), into(row.ip),
        into(row.created_at);
    return prepared;
  }

  // Runs the statement for at most one row.
  std::optional<Referral> fetch(soci::statement& statement) {
    flags_indicator = soci::i_null;
    if (!db::fetch_single_row(statement)) return std::nullopt;
    Referral out = row;
    out.flags = flags_indicator == soci::i_ok ? flags : "";
    return out;
  }

  Referral row;
  std::string flags;
  soci::indicator flags_indicator = soci::i_null;
};

// A prepared single-row referral lookup by one text key.
struct ReferralLookup {
  ReferralLookup(soci::session& sql, const char* condition)
      : statement((target.bind(sql.prepare << kReferralColumns + condition), use(key))) {}

  std::optional<Referral> run(const std::string& value) {
    key = value;
    return target.fetch(statement);
  }

  std::string key;
  ReferralInto target;
  soci::statement statement;
};

struct ReferralById : ReferralLookup {
  explicit ReferralById(soci::session& sql) : ReferralLookup(sql, "WHERE r.id = :value") {}
};

struct ReferralOfReferee : ReferralLookup {
  explicit ReferralOfReferee(soci::session& sql) : ReferralLookup(sql, "WHERE r.referee_id = :value") {}
};

struct CodeByText {
  explicit CodeByText(soci::session& sql)
      : statement((sql.prepare << "SELECT id, user_id, code, uses, created_at FROM referral_codes WHERE code = :code",
                   use(key), into(row.id), into(row.user_id), into(row.code), into(row.uses),
                   into(row.created_at))) {}
  std::string key;
  Code row;
  soci::statement statement;
};

// UNION (not UNION ALL) drops users already reached, so the walk ends even
// on a graph that already holds a cycle (imported data, or the rule was off).
// `start` selects the chain's first user.
std::string walk_chain_from(const std::string& start) {
  return "WITH RECURSIVE chain (id) AS (" + start +
         " UNION "
         "SELECT r.referrer_id FROM referrals r JOIN chain c ON r.referee_id = c.id), "
         "walk (contains, root) AS (SELECT MAX(CASE WHEN id = :user_id THEN 1 ELSE 0 END), "
         "MAX(CASE WHEN NOT EXISTS (SELECT 1 FROM referrals r WHERE r.referee_id = chain.id) "
         "THEN id END) FROM chain) ";
}

// The two-key form keeps the locks apart from the one-key lock of
// migrations; a hash collision only makes two unrelated applies wait for each
// other. CASE takes them only when there is a root and no loop, and the
// inner select list is evaluated left to right: lower id first.
constexpr const char* kLockRoot =
    "SELECT contains, root, CASE WHEN contains = 0 AND root IS NOT NULL THEN (SELECT 1 FROM "
    "(SELECT pg_advisory_xact_lock(:space, hashtext(LEAST(:low, root))), "
    "pg_advisory_xact_lock(:space2, hashtext(GREATEST(:high, root)))) AS l) ELSE 0 END FROM walk";

const int kChainLockSpace = 0x72656667;  // "refg"

// A users row joined to apply's code, as Party; a missing one reads as not found.
std::string party_columns(const std::string& alias) {
  const auto column = [&](const char* name, const char* otherwise) {
    return ", COALESCE(" + alias + "." + name + ", " + otherwise + ")";
  };
  return "CASE WHEN " + alias + ".id IS NULL THEN 0 ELSE 1 END" + column("id", "''") +
         column("name", "''") + column("email", "''") + column("canonical_email", "''") +
         column("is_verified", "0") + column("created_at", "0");
}

struct PartyInto {
  void bind(soci::details::prepare_temp_type& prepared) {
    prepared, into(found), into(row.id), into(row.name), into(row.email),
        into(row.canonical_email), into(verified), into(row.created_at);
  }
  std::optional<Party> take() const {
    if (found == 0) return std::nullopt;
    Party out = row;
    out.is_verified = verified != 0;
    return out;
  }
  int found = 0;
  int verified = 0;
  Party row;
};

// PostgreSQL: the owner's chain as referrer_chain_locking_root walks it,
// joined to the code row; `:walk` = 0 walks nothing (an empty chain).
std::string owner_chain_join() {
  return " LEFT JOIN LATERAL (" +
         walk_chain_from("SELECT CAST(c.user_id AS TEXT) WHERE :walk = 1") + kLockRoot +
         ") w (contains, root, locked) ON TRUE";
}

struct ChainInto {
  Chain take() const {
    Chain out;
    out.contains = contains == 1;
    if (root_indicator == soci::i_ok) out.root = root;
    out.root_locked = locked == 1;
    return out;
  }
  int contains = 0;
  std::string root;
  soci::indicator root_indicator = soci::i_null;
  int locked = 0;
};

// Every apply runs it (by the code's text; an alias, rarer, by the code it
// names): one round trip instead of one per row.
struct ApplyPartiesQuery {
  ApplyPartiesQuery(soci::session& sql, const std::string& code_condition)
      : postgres(db::is_postgresql(sql)), statement(prepare(sql, code_condition)) {}

  std::optional<ApplyParties> run(const std::string& code_text, const std::string& referee,
                                  const SameIpLogin& login, bool walk_owner_chain) {
    code_key = code_text;
    referee_id = referee;
    same_ip = login;
    walk = walk_owner_chain && postgres ? 1 : 0;
    chain.root_indicator = soci::i_null;
    if (!db::fetch_single_row(statement)) return std::nullopt;
    return ApplyParties{code,
                        referrer.take(),
                        referee_party.take(),
                        referred != 0,
                        logged_in_from_ip != 0,
                        walk == 1 ? std::optional(chain.take()) : std::nullopt};
  }

  const bool postgres;
  std::string code_key, referee_id;
  SameIpLogin same_ip;
  int walk = 0;
  int space = kChainLockSpace;
  Code code;
  PartyInto referrer, referee_party;
  int referred = 0;
  int logged_in_from_ip = 0;
  ChainInto chain;
  soci::statement statement;

 private:
  soci::details::prepare_temp_type prepare(soci::session& sql, const std::string& code_condition) {
    // Placeholders bind in the order they appear: :referee_of, :network, :ip, :since,
    // :referee, (PostgreSQL: :walk, :user_id, :space, :low, :space2, :high,) :code.
    auto query =
        (sql.prepare << "SELECT c.id, c.user_id, c.code, c.uses, c.created_at, " +
                            party_columns("o") + ", " + party_columns("e") +
                            ", CASE WHEN EXISTS (SELECT 1 FROM referrals f WHERE f.referee_id = "
                            ":referee_of) THEN 1 ELSE 0 END, CASE WHEN EXISTS (SELECT 1 FROM "
                            "login_ips l WHERE l.user_id = c.user_id AND l.ip IN (:network, "
                            ":ip) AND l.last_login_at >= :since) THEN 1 ELSE 0 END" +
                            (postgres ? ", COALESCE(w.contains, 0), w.root, COALESCE(w.locked, 0)"
                                      : "") +
                            " FROM referral_codes c LEFT JOIN users o ON o.id = c.user_id "
                            "LEFT JOIN users e ON e.id = :referee" +
                            (postgres ? owner_chain_join() : "") + " WHERE " + code_condition,
         into(code.id), into(code.user_id), into(code.code), into(code.uses),
         into(code.created_at));
    referrer.bind(query);
    referee_party.bind(query);
    query, into(referred), into(logged_in_from_ip), use(referee_id), use(same_ip.network),
        use(same_ip.ip), use(same_ip.since), use(referee_id);
    if (postgres) {
      query, into(chain.contains), into(chain.root, chain.root_indicator), into(chain.locked),
          use(walk), use(referee_id), use(space), use(referee_id), use(space), use(referee_id);
    }
    query, use(code_key);
    return query;
  }
};

struct ApplyPartiesByCode : ApplyPartiesQuery {
  explicit ApplyPartiesByCode(soci::session& sql) : ApplyPartiesQuery(sql, "c.code = :code") {}
};

struct ApplyPartiesByAlias : ApplyPartiesQuery {
  explicit ApplyPartiesByAlias(soci::session& sql)
      : ApplyPartiesQuery(
            sql, "c.id = (SELECT code_id FROM referral_code_aliases WHERE code = :code)") {}
};

// The code's use, taken when under the cap; `recent` is how many referrals
// used the code since `since` before this one, up to `limit` (the burst
// rule), read in the same statement. `condition` narrows the UPDATE further.
std::string take_code_use_sql(const std::string& condition) {
  return "UPDATE referral_codes SET uses = uses + 1 WHERE id = :id AND (:cap = 0 OR uses < :cap2)" +
         condition +
         " RETURNING (SELECT COUNT(*) FROM (SELECT 1 FROM referrals WHERE code_id = :code_id "
         "AND created_at >= :since LIMIT :limit) AS recent_uses)";
}

struct CodeUseParams {
  void bind(soci::details::prepare_temp_type& prepared) {
    prepared, use(values.code_id), use(values.cap), use(values.cap), use(values.code_id),
        use(values.recent.since), use(values.recent.limit);
  }
  CodeUse values;
};

struct TakeCodeUse {
  explicit TakeCodeUse(soci::session& sql) : statement(prepare(sql)) {}
  CodeUseParams params;
  long long recent = 0;
  soci::statement statement;

 private:
  soci::details::prepare_temp_type prepare(soci::session& sql) {
    auto query = (sql.prepare << take_code_use_sql(""));
    params.bind(query);
    query, into(recent);
    return query;
  }
};

const std::string kPendingSql = db::literal(referral_status::kPending);

const std::string kInsertReferral =
    "INSERT INTO referrals (id, referee_id, referee_name, referrer_id, code_id, status, flags, "
    "is_flagged, ip, created_at, updated_at) VALUES (:id, :referee_id, :referee_name, "
    ":referrer_id, :code_id, " +
    kPendingSql + ", :flags, :flagged, :ip, :created_at, :updated_at)";

// PostgreSQL counts the new PENDING referral in the insert's statement (one
// round trip instead of three): what add_to_stats does for {1, 0, 1, 0}, the
// PENDING referral counter in the referrer's shard, then (it reads the
// counter's row, so in this order) the referrer's referrer_stats row. Every
// status move takes the same two rows in the same order (add_to_stats), so
// they cannot deadlock on them.
const std::string kCountPending =
    "WITH counted AS (INSERT INTO referral_counters (name, shard, value) VALUES (" + kPendingSql +
    ", :shard, 1) ON CONFLICT (name, shard) DO UPDATE SET value = referral_counters.value + 1 "
    "RETURNING 1), stats AS (INSERT INTO referrer_stats (user_id, total, successful, pending, "
    "rejected) SELECT :stats_user, 1, 0, 1, 0 FROM counted ON CONFLICT (user_id) DO UPDATE SET "
    "total = referrer_stats.total + 1, pending = referrer_stats.pending + 1) ";

struct InsertPendingReferral {
  InsertPendingReferral(soci::session& sql, bool counted) : statement(prepare(sql, counted)) {}

  void run(const Referral& referral) {
    row = referral;
    flagged = referral.flags.empty() ? 0 : 1;
    flags_indicator = referral.flags.empty() ? soci::i_null : soci::i_ok;
    shard = db::counters::shard_of(referral.referrer_id);
    statement.execute(true);
  }

  Referral row;
  soci::indicator flags_indicator = soci::i_null;
  int flagged = 0;
  int shard = 0;
  soci::statement statement;

 private:
  soci::details::prepare_temp_type prepare(soci::session& sql, bool counted) {
    auto query = (sql.prepare << (counted ? kCountPending : std::string()) + kInsertReferral);
    if (counted) query, use(shard), use(row.referrer_id);
    query, use(row.id), use(row.referee_id), use(row.referee_name), use(row.referrer_id),
        use(row.code_id), use(row.flags, flags_indicator), use(flagged), use(row.ip),
        use(row.created_at), use(row.created_at);
    return query;
  }
};

struct InsertReferralRow : InsertPendingReferral {
  explicit InsertReferralRow(soci::session& sql) : InsertPendingReferral(sql, false) {}
};

struct InsertCountedReferral : InsertPendingReferral {
  explicit InsertCountedReferral(soci::session& sql) : InsertPendingReferral(sql, true) {}
};

// The lock and the row in one statement: status moves need both.
struct LockReferral {
  explicit LockReferral(soci::session& sql)
      : statement(
            (target.bind(sql.prepare
                         << std::string("UPDATE referrals SET updated_at = :now WHERE id = :id "
                                        "RETURNING ") +
                                kUnqualifiedReferralFields),
             use(now), use(id))) {}
  long long now = 0;
  std::string id;
  ReferralInto target;
  soci::statement statement;
};

struct SetReferralStatus {
  explicit SetReferralStatus(soci::session& sql)
      : statement((sql.prepare << "UPDATE referrals SET status = :status WHERE id = :id", use(status), use(id))) {}
  std::string status, id;
  soci::statement statement;
};

struct AddToStats {
  explicit AddToStats(soci::session& sql)
      : statement((sql.prepare << "INSERT INTO referrer_stats (user_id, total, successful, pending, rejected) "
                                  "VALUES (:user_id, :total, :successful, :pending, :rejected) "
                                  "ON CONFLICT (user_id) DO UPDATE SET total = referrer_stats.total + excluded.total, "
                                  "successful = referrer_stats.successful + excluded.successful, "
                                  "pending = referrer_stats.pending + excluded.pending, "
                                  "rejected = referrer_stats.rejected + excluded.rejected",
                   use(user_id), use(delta.total), use(delta.successful), use(delta.pending), use(delta.rejected))) {}
  std::string user_id;
  StatsDelta delta;
  soci::statement statement;
};

struct ReferrerChain {
  explicit ReferrerChain(soci::session& sql, bool lock_root = false)
      : statement(prepare(sql, lock_root)) {}
  int space = kChainLockSpace;
  std::string start_id, user_id;
  ChainInto row;
  soci::statement statement;

 private:
  soci::details::prepare_temp_type prepare(soci::session& sql, bool lock_root) {
    auto query = (sql.prepare << walk_chain_from("SELECT CAST(:start_id AS TEXT)") +
                                     (lock_root ? kLockRoot : "SELECT contains, root, 0 FROM walk"),
                  use(start_id), use(user_id), into(row.contains),
                  into(row.root, row.root_indicator), into(row.locked));
    if (lock_root) query, use(space), use(user_id), use(space), use(user_id);
    return query;
  }
};

struct ReferrerChainLockingRoot : ReferrerChain {
  explicit ReferrerChainLockingRoot(soci::session& sql) : ReferrerChain(sql, true) {}
};

// The use is asked for only when the walk shows no loop and the root it
// locked: the apply then holds every advisory lock it will take before it
// locks the code's row, as when the use is taken after the walk, so two
// applies of one code never wait for each other in opposite orders. The
// chain and the UPDATE touch different tables, and the UPDATE's count reads
// the statement's snapshot as TakeCodeUse's does.
struct ReferrerChainTakingUse {
  explicit ReferrerChainTakingUse(soci::session& sql) : statement(prepare(sql)) {}
  std::string start_id, user_id, locked_root;
  ChainInto row;
  CodeUseParams params;
  int asked = 0;
  int taken = 0;
  long long recent = 0;
  soci::statement statement;

 private:
  soci::details::prepare_temp_type prepare(soci::session& sql) {
    auto query =
        (sql.prepare << walk_chain_from("SELECT CAST(:start_id AS TEXT)") +
                            ", asked (yes) AS (SELECT CASE WHEN contains = 0 AND root = "
                            ":locked_root THEN 1 ELSE 0 END FROM walk), used (recent) AS (" +
                            take_code_use_sql(" AND (SELECT yes FROM asked) = 1") +
                            ") SELECT contains, root, 0, (SELECT yes FROM asked), "
                            "(SELECT COUNT(*) FROM used), "
                            "COALESCE((SELECT recent FROM used), 0) FROM walk",
         use(start_id), use(user_id), use(locked_root));
    params.bind(query);
    query, into(row.contains), into(row.root, row.root_indicator), into(row.locked), into(asked),
        into(taken), into(recent);
    return query;
  }
};

template <class Query>
Chain run_walk(Query& query, const std::string& start_id, const std::string& user_id) {
  query.start_id = start_id;
  query.user_id = user_id;
  query.row.root_indicator = soci::i_null;
  db::fetch_single_row(query.statement);  // an aggregate: always one row
  return query.row.take();
}

template <class Query>
Chain walk_chain(soci::session& sql, const std::string& start_id, const std::string& user_id) {
  return run_walk(db::cached<Query>(sql), start_id, user_id);
}

}  // namespace

std::optional<Code> find_code_of_user(soci::session& sql, const std::string& user_id) {
  return find_code_where(sql, "user_id = :value", user_id);
}

std::optional<Code> find_code(soci::session& sql, const std::string& normalized_code) {
  auto& query = db::cached<CodeByText>(sql);
  query.key = normalized_code;
  if (db::fetch_single_row(query.statement)) return query.row;
  return find_code_where(
      sql, "id = (SELECT code_id FROM referral_code_aliases WHERE code = :value)", normalized_code);
}

std::optional<ApplyParties> apply_parties(soci::session& sql, const std::string& normalized_code,
                                          const std::string& referee_id, const SameIpLogin& same_ip,
                                          bool walk_owner_chain) {
  if (auto found = db::cached<ApplyPartiesByCode>(sql).run(normalized_code, referee_id, same_ip,
                                                           walk_owner_chain))
    return found;
  return db::cached<ApplyPartiesByAlias>(sql).run(normalized_code, referee_id, same_ip,
                                                  walk_owner_chain);
}

bool insert_code(soci::session& sql, const Code& code) {
  return db::affected_rows(
             sql,
             "INSERT INTO referral_codes (id, user_id, code, uses, created_at) "
             "SELECT :id, :user_id, :code, 0, :created_at "
             "WHERE NOT EXISTS (SELECT 1 FROM referral_code_aliases WHERE code = :alias) "
             "ON CONFLICT DO NOTHING",
             use(code.id), use(code.user_id), use(code.code), use(code.created_at),
             use(code.code)) > 0;
}

std::optional<long long> take_code_use(soci::session& sql, const CodeUse& use) {
  auto& query = db::cached<TakeCodeUse>(sql);
  query.params.values = use;
  if (!db::fetch_single_row(query.statement)) return std::nullopt;
  return query.recent;
}

std::optional<Referral> find_referral(soci::session& sql, const std::string& referral_id) {
  return db::cached<ReferralById>(sql).run(referral_id);
}

std::optional<Referral> find_referral_of_referee(soci::session& sql, const std::string& referee_id) {
  return db::cached<ReferralOfReferee>(sql).run(referee_id);
}

Chain referrer_chain(soci::session& sql, const std::string& start_id, const std::string& user_id) {
  return walk_chain<ReferrerChain>(sql, start_id, user_id);
}

Chain referrer_chain_locking_root(soci::session& sql, const std::string& start_id,
                                  const std::string& user_id) {
  if (!db::is_postgresql(sql)) return referrer_chain(sql, start_id, user_id);
  return walk_chain<ReferrerChainLockingRoot>(sql, start_id, user_id);
}

ChainAndUse referrer_chain_taking_use(soci::session& sql, const std::string& start_id,
                                      const std::string& user_id, const std::string& locked_root,
                                      const CodeUse& use) {
  auto& query = db::cached<ReferrerChainTakingUse>(sql);
  query.locked_root = locked_root;
  query.params.values = use;
  ChainAndUse out{run_walk(query, start_id, user_id), query.asked == 1, std::nullopt};
  if (query.taken == 1) out.recent_uses = query.recent;
  return out;
}

void insert_pending_referral(soci::session& sql, const Referral& referral) {
  if (db::is_postgresql(sql)) {
    db::cached<InsertCountedReferral>(sql).run(referral);
    return;
  }
  db::cached<InsertReferralRow>(sql).run(referral);  // SQLite: no round trips to save
  add_to_stats(sql, referral.referrer_id, {1, 0, 1, 0});
}

std::optional<Referral> lock_referral(soci::session& sql, const std::string& referral_id,
                                      long long now) {
  auto& query = db::cached<LockReferral>(sql);
  query.now = now;
  query.id = referral_id;
  return query.target.fetch(query.statement);
}

void set_referral_status(soci::session& sql, const std::string& referral_id, const std::string& status) {
  auto& query = db::cached<SetReferralStatus>(sql);
  query.status = status;
  query.id = referral_id;
  query.statement.execute(true);
}

void set_referral_flags(soci::session& sql, const std::string& referral_id, const std::string& flags) {
  sql << "UPDATE referrals SET flags = :flags, is_flagged = 1 WHERE id = :id", use(flags), use(referral_id);
}

void add_to_stats(soci::session& sql, const std::string& referrer_id, const StatsDelta& delta) {
  count_referrals(sql, referrer_id, delta);
  auto& query = db::cached<AddToStats>(sql);
  query.user_id = referrer_id;
  query.delta = delta;
  query.statement.execute(true);
}

namespace {
// Referrals per status (db/counter_store.hpp).
struct ReferralCounters {
  static constexpr const char* table = "referral_counters";
};
}  // namespace

void count_referrals(soci::session& sql, const std::string& shard_key, const StatsDelta& delta) {
  db::counters::add<ReferralCounters>(sql, referral_status::kPending, shard_key, delta.pending);
  db::counters::add<ReferralCounters>(sql, referral_status::kSuccess, shard_key, delta.successful);
  db::counters::add<ReferralCounters>(sql, referral_status::kRejected, shard_key, delta.rejected);
}

namespace {

const std::string kWithEmails = std::string("SELECT ") + kReferralFields +
                                ", referrer.email, referee.email FROM referrals r "
                                "JOIN users referrer ON referrer.id = r.referrer_id "
                                "JOIN users referee ON referee.id = r.referee_id ";

FlaggedReferral with_emails_from(const soci::row& row) {
  return {referral_from(row), row.get<std::string>(kReferralFieldCount),
          row.get<std::string>(kReferralFieldCount + 1)};
}

}  // namespace

namespace {

// Each status move publishes the referral with both emails.
struct WithEmailsById {
  explicit WithEmailsById(soci::session& sql)
      : statement((target.bind(sql.prepare << kWithEmails + "WHERE r.id = :id"),
                   into(referrer_email), into(referee_email), use(id))) {}
  std::string id;
  ReferralInto target;
  std::string referrer_email, referee_email;
  soci::statement statement;
};

}  // namespace

std::optional<FlaggedReferral> find_with_emails(soci::session& sql,
                                                const std::string& referral_id) {
  auto& query = db::cached<WithEmailsById>(sql);
  query.id = referral_id;
  auto referral = query.target.fetch(query.statement);
  if (!referral) return std::nullopt;
  return FlaggedReferral{std::move(*referral), query.referrer_email, query.referee_email};
}

namespace {

struct SuccessfulReferrals {
  explicit SuccessfulReferrals(soci::session& sql)
      : statement((sql.prepare << "SELECT successful FROM referrer_stats WHERE user_id = :user_id",
                   use(user_id), into(successful))) {}
  std::string user_id;
  long long successful = 0;
  soci::statement statement;
};

}  // namespace

long long successful_referrals(soci::session& sql, const std::string& referrer_id) {
  auto& query = db::cached<SuccessfulReferrals>(sql);
  query.user_id = referrer_id;
  return db::fetch_single_row(query.statement) ? query.successful : 0;
}

std::vector<FlaggedReferral> flagged_referrals(soci::session& sql, const std::optional<core::Cursor>& after,
                                               int limit) {
  auto query =
      (sql.prepare << kWithEmails + "WHERE r.is_flagged = 1" +
                          (after ? " AND (r.created_at, r.id) < (:after_time, :after_id)" : "") +
                          " ORDER BY r.created_at DESC, r.id DESC LIMIT :limit");
  if (after) query, use(after->created_at), use(after->id);
  query, use(limit);
  soci::rowset<soci::row> rows(query);
  std::vector<FlaggedReferral> out;
  for (const auto& row : rows) out.push_back(with_emails_from(row));
  return out;
}

}  // namespace referral::store
