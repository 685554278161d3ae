#pragma once
#include <soci/session.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/cursor.hpp"

// SQL for referral codes, referrals and the per-referrer counters.
namespace referral::store {

struct Code {
  std::string id;
  std::string user_id;
  std::string code;
  long long uses = 0;
  long long created_at = 0;
};

std::optional<Code> find_code_of_user(soci::session& sql, const std::string& user_id);
// The code with this text, or the code this text is an alias of.
std::optional<Code> find_code(soci::session& sql, const std::string& normalized_code);
// False when the user already has a code or the code is taken (as a code or an alias).
bool insert_code(soci::session& sql, const Code& code);
// The burst rule's question: how many referrals used the code since `since`,
// counted up to `limit` (the rule only asks whether the limit is reached, so
// a code used thousands of times an hour costs no more than one used `limit`
// times).
struct RecentUses {
  long long since = 0;
  long long limit = 0;
};
// One use of a code, taken unless `cap` (0: none) is reached.
struct CodeUse {
  std::string code_id;
  long long cap = 0;
  RecentUses recent;
};
// Takes `use`: nothing when refused, else the count of `use.recent` before
// this use, read in the same statement.
std::optional<long long> take_code_use(soci::session& sql, const CodeUse& use);

// A user as apply sees them (their users row).
struct Party {
  std::string id;
  std::string name;
  std::string email;
  std::string canonical_email;
  bool is_verified = false;
  long long created_at = 0;
};
// The chain of referrers above `start_id` (itself included), walked to its
// end however long it is.
struct Chain {
  bool contains = false;            // `user_id` is in it
  std::optional<std::string> root;  // its top (never referred); none when it loops
  bool root_locked = false;         // by referrer_chain_locking_root
};
// Everything apply reads before it writes, in one statement.
struct ApplyParties {
  Code code;
  std::optional<Party> referrer;  // the code's owner
  std::optional<Party> referee;
  bool referee_referred = false;  // the referee has a referral already
  bool referrer_logged_in_from_ip = false;  // the same-IP rule's question (SameIpLogin)
  // PostgreSQL, when asked for: what referrer_chain_locking_root(owner,
  // referee) answers, locks taken, from the same statement.
  std::optional<Chain> owner_chain;
};
// The same-IP rule asks whether the referrer logged in from the network
// of `ip` (core::client_network) at or after `since` (login_ips; a row
// written before 2026-12-03 holds a whole address, matched as such); a
// `since` no login reaches asks nothing.
struct SameIpLogin {
  std::string ip;
  std::string network;
  long long since = 0;
};
// The code with this text (or the code this text is an alias of), its
// owner, the referee, whether the referee was referred and the same-IP
// answer, and with `walk_owner_chain` on PostgreSQL the owner's chain;
// nothing when no code has this text.
std::optional<ApplyParties> apply_parties(soci::session& sql, const std::string& normalized_code,
                                          const std::string& referee_id, const SameIpLogin& same_ip,
                                          bool walk_owner_chain);

// Another text of a user's code (referral_code_aliases): applying it is
// applying the code.
struct CodeAlias {
  std::string id;
  std::string code_id;
  std::string code;
  long long created_at = 0;
};

struct Referral {
  std::string id;
  std::string referee_id;
  std::string referee_name;  // copied at creation for the referrer's list (names never change)
  std::string referrer_id;
  std::string code_id;
  std::string status;
  std::string flags;  // JSON array, "" when none
  std::string ip;
  long long created_at = 0;
};

std::optional<Referral> find_referral(soci::session& sql, const std::string& referral_id);
std::optional<Referral> find_referral_of_referee(soci::session& sql, const std::string& referee_id);
// The chain of referrers from `start_id` up.
Chain referrer_chain(soci::session& sql, const std::string& start_id, const std::string& user_id);
// The same, and on PostgreSQL, when the chain neither contains `user_id` nor
// loops, the same statement takes the transaction-level locks of `user_id`
// and the chain's root, in one global order (fewer deadlocks). SQLite has
// one writer: nothing to lock, root_locked stays false.
Chain referrer_chain_locking_root(soci::session& sql, const std::string& start_id,
                                  const std::string& user_id);
// PostgreSQL: referrer_chain, and when it shows no loop and the root is
// still `locked_root`, take_code_use(use), in one statement: a round trip
// fewer for an apply that walks again under its locks. Its snapshot, like
// referrer_chain's, is taken after the locks were.
struct ChainAndUse {
  Chain chain;
  bool use_asked = false;                // the walk allowed it: no loop, the same root
  std::optional<long long> recent_uses;  // then take_code_use's answer
};
ChainAndUse referrer_chain_taking_use(soci::session& sql, const std::string& start_id,
                                      const std::string& user_id, const std::string& locked_root,
                                      const CodeUse& use);
// Inserts `referral` as PENDING and counts it as add_to_stats(referrer,
// {1, 0, 1, 0}) does (referrer_stats and the referral counters). Called
// through referral::insert_pending_referral (referral/referrer_stats.hpp).
void insert_pending_referral(soci::session& sql, const Referral& referral);
// Takes the row lock that serialises status changes of one referral, and
// reads the row under it (empty when there is no such referral).
std::optional<Referral> lock_referral(soci::session& sql, const std::string& referral_id,
                                      long long now);
void set_referral_status(soci::session& sql, const std::string& referral_id, const std::string& status);
// Replaces the flags (a JSON array, never empty here) and marks the referral flagged.
void set_referral_flags(soci::session& sql, const std::string& referral_id, const std::string& flags);


struct StatsDelta {
  long long total = 0;
  long long successful = 0;
  long long pending = 0;
  long long rejected = 0;

  StatsDelta& operator+=(const StatsDelta& more) {
    total += more.total;
    successful += more.successful;
    pending += more.pending;
    rejected += more.rejected;
    return *this;
  }
};
// Adds to the referrer's referrer_stats row and to the referral counters
// (referral_counters). Called through referral::add_to_stats
// (referral/referrer_stats.hpp), which also counts the commit.
void add_to_stats(soci::session& sql, const std::string& referrer_id, const StatsDelta& delta);
// The referral counters alone, for a writer that recounts referrer_stats
// itself (the import); `shard_key` is any id of the change.
void count_referrals(soci::session& sql, const std::string& shard_key, const StatsDelta& delta);
long long successful_referrals(soci::session& sql, const std::string& referrer_id);

struct FlaggedReferral {
  Referral referral;
  std::string referrer_email;
  std::string referee_email;
};
// One referral with its two emails, flagged or not.
std::optional<FlaggedReferral> find_with_emails(soci::session& sql, const std::string& referral_id);
std::vector<FlaggedReferral> flagged_referrals(soci::session& sql, const std::optional<core::Cursor>& after,
                                               int limit);

}  // namespace referral::store
