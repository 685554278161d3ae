#pragma once
#include <soci/session.h>

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "core/random.hpp"

// SQL of share links: raw clicks, first-visit claims, click counters per
// (code, quarter hour), attributed signups. Funnel reads walk one index
// range each; none scans the clicks.
namespace links::store {

// base64url of a 32-byte keyed hash.
using VisitorHash = std::array<char, 43>;

// Made on an io thread, written and destroyed by the flusher: no member needs
// a heap block of its own (the code id is shared with the code cache, the
// referrer host is short enough for the string's inline buffer or absent), so
// the io threads do not feed a stream of blocks for another thread to free.
struct ClickRow {
  core::UuidText id{};
  std::shared_ptr<const std::string> code_id;
  long long at = 0;
  VisitorHash visitor_hash{};
  const char* agent_family = "other";  // a static name
  std::string referrer_host;

  std::string_view id_text() const { return {id.data(), id.size()}; }
  std::string_view visitor_text() const { return {visitor_hash.data(), visitor_hash.size()}; }
};

// The codes among `code_ids` (sorted) that exist. On PostgreSQL they stay
// locked (FOR KEY SHARE) until the commit: link_clicks has no foreign key
// there (migration 0021), and this lock is what keeps a code from being
// deleted while its clicks are written — what the foreign key's check did,
// once per row instead of once per code.
std::unordered_set<std::string> lock_codes(soci::session& sql,
                                           const std::vector<std::string>& code_ids);

// Writes one flush: for each click, claims (code, day, visitor) — the first
// claim of the click's UTC day makes it unique — and inserts the click row.
// A click marked in `known_repeat` is not unique without asking (its claim
// committed earlier). Returns, per click, whether it was unique.
std::vector<bool> insert_clicks(soci::session& sql, const std::vector<ClickRow>& clicks,
                                const std::vector<bool>& known_repeat);

struct CounterDelta {
  std::string code_id;
  long long bucket_at = 0;
  long long clicks = 0;
  long long unique_visitors = 0;
};
// Adds to the per-code bucket, the all-codes bucket and the per-code total.
// Deltas must come sorted by (code_id, bucket_at): concurrent flushers on
// PostgreSQL then lock rows in one order and cannot deadlock.
void add_counters(soci::session& sql, const std::vector<CounterDelta>& deltas);

void insert_attribution(soci::session& sql, const std::string& user_id, const std::string& code_id,
                        const std::optional<std::string>& click_id, const std::string& source,
                        long long at);

// visit(i, clicks, unique_visitors) with the counters summed over day i,
// [day_starts[i], day_starts[i + 1]), for the days that had clicks; code_id
// empty: the all-codes counters. Day starts fall on quarter hours.
using DayVisitor = std::function<void(std::size_t, long long, long long)>;
void click_days(soci::session& sql, const std::string& code_id,
                const std::vector<long long>& day_starts, const DayVisitor& visit);

// visit(created_at, verified) for attributed signups in [from_ms, to_ms);
// code_id empty: every code's.
void attributed_signups(soci::session& sql, const std::string& code_id, std::int64_t from_ms,
                        std::int64_t to_ms, const std::function<void(std::int64_t, bool)>& visit);

// visit(created_at, successful) for every referral created in [from_ms, to_ms).
void all_referral_times(soci::session& sql, std::int64_t from_ms, std::int64_t to_ms,
                        const std::function<void(std::int64_t, bool)>& visit);

struct TopReferrer {
  std::string user_id;
  std::string email;
  long long clicks = 0;
};
// The referrers whose codes had most clicks in [from_ms, to_ms), most first.
std::vector<TopReferrer> top_by_clicks(soci::session& sql, std::int64_t from_ms, std::int64_t to_ms,
                                       int limit);

// Click rows before `before_ms` (at most `limit`), and visitor claims of days
// before `before_day_ms`. Counters are kept.
long long purge_clicks(soci::session& sql, std::int64_t before_ms, int limit);
long long purge_visitors(soci::session& sql, std::int64_t before_day_ms);

}  // namespace links::store
