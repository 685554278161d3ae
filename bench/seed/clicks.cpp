#include "clicks.hpp"

#include <algorithm>
#include <array>

#include "bulk_insert.hpp"
#include "core/clock.hpp"
#include "core/random.hpp"

namespace seed {

namespace {

constexpr long long kQuarterMs = 15LL * 60 * 1000;
constexpr long long kQuartersPerDay = 96;
constexpr long long kClicksPerBucket = 10;  // on average, where a code has the traffic
constexpr std::size_t kRowsPerBatch = 1'000;
constexpr std::array<const char*, 4> kReferrerHosts = {"", "t.co", "www.facebook.com", "news.example.com"};

}  // namespace

struct ClickSeeder::Tables {
  Tables(soci::session& sql, db::Engine engine)
      : counters(sql, engine, "link_counters", "code_id, bucket_at, clicks, unique_visitors"),
        totals(sql, engine, "link_totals", "code_id, clicks, unique_visitors"),
        all_codes(sql, engine, "link_counters_all", "bucket_at, clicks, unique_visitors"),
        raw(sql, engine, "link_clicks",
            "id, code_id, at, visitor_hash, agent_family, referrer_host, is_unique") {}
  void flush_if_full() {
    if (counters.pending() >= kRowsPerBatch || raw.pending() >= kRowsPerBatch) {
      counters.flush();
      totals.flush();
      raw.flush();
    }
  }
  BulkInsert counters, totals, all_codes, raw;
};

ClickSeeder::ClickSeeder(soci::session& sql, db::Engine engine, ClickOptions options, long long now_ms,
                         std::mt19937_64& random)
    : sql_(sql), engine_(engine), options_(options), now_ms_(now_ms), random_(random) {
  const long long days = std::max(options_.history_days, options_.bench_days);
  first_bucket_ = now_ms_ - now_ms_ % kQuarterMs - days * kQuartersPerDay * kQuarterMs;
  all_clicks_.assign(static_cast<std::size_t>(days * kQuartersPerDay), 0);
  all_unique_.assign(all_clicks_.size(), 0);
  // Clicks are spread evenly in time, so the last raw/clicks of the history
  // holds about raw_clicks of them.
  const double raw_share = options_.clicks > 0 ? double(options_.raw_clicks) / double(options_.clicks) : 0.0;
  raw_since_ = now_ms_ - static_cast<long long>(raw_share * double(options_.history_days * core::kMsPerDay));
}

ClickCounts ClickSeeder::run(const std::vector<std::string>& code_ids, const std::vector<long long>& referrals) {
  long long total_referrals = 0;
  for (std::size_t i = 1; i < referrals.size(); ++i) total_referrals += referrals[i];
  Tables tables(sql_, engine_);
  for (std::size_t i = 0; i < code_ids.size(); ++i) {
    const long long clicks = i == 0 ? options_.bench_clicks
                             : total_referrals == 0
                                 ? 0
                                 : options_.clicks * referrals[i] / total_referrals;
    add_code(tables, code_ids[i], clicks, i == 0 ? options_.bench_days : options_.history_days);
    tables.flush_if_full();
  }
  tables.counters.flush();
  tables.totals.flush();
  tables.raw.flush();
  write_all_codes(tables);
  counts_.counter_rows = tables.counters.written();
  counts_.raw_rows = tables.raw.written();
  return counts_;
}

// `clicks` over the last `days`, in k quarter hours picked one per stride
// (distinct and ascending, as the primary key wants them).
void ClickSeeder::add_code(Tables& tables, const std::string& code_id, long long clicks, int days) {
  if (clicks <= 0) return;
  const long long quarters = days * kQuartersPerDay;
  const long long buckets = std::clamp(clicks / kClicksPerBucket, 1LL, quarters);
  const long long stride = quarters / buckets;
  const long long first = now_ms_ - now_ms_ % kQuarterMs - quarters * kQuarterMs;
  code_clicks_ = code_unique_ = 0;
  for (long long b = 0; b < buckets; ++b) {
    const long long quarter = b * stride + std::uniform_int_distribution<long long>(0, stride - 1)(random_);
    const long long in_bucket = clicks / buckets + (b < clicks % buckets ? 1 : 0);
    add_bucket(tables, code_id, first + quarter * kQuarterMs, in_bucket);
  }
  tables.totals.row().text(code_id).number(code_clicks_).number(code_unique_);
  counts_.clicks += code_clicks_;
}

void ClickSeeder::add_bucket(Tables& tables, const std::string& code_id, long long bucket_at, long long clicks) {
  if (clicks <= 0) return;
  // About three in five clicks are a visitor's first of the day on the code.
  const long long unique = std::max(1LL, clicks * 3 / 5);
  tables.counters.row().text(code_id).number(bucket_at).number(clicks).number(unique);
  const auto slot = static_cast<std::size_t>((bucket_at - first_bucket_) / kQuarterMs);
  all_clicks_[slot] += clicks;
  all_unique_[slot] += unique;
  code_clicks_ += clicks;
  code_unique_ += unique;
  if (bucket_at >= raw_since_ && counts_.raw_rows < options_.raw_clicks) {
    add_raw_rows(tables, code_id, bucket_at, clicks, unique);
  }
}

// The bucket's clicks as the flusher writes them: the first `unique` are
// distinct visitors, the rest repeat the last of them.
void ClickSeeder::add_raw_rows(Tables& tables, const std::string& code_id, long long bucket_at, long long clicks,
                               long long unique) {
  std::string visitor;
  for (long long n = 0; n < clicks; ++n) {
    if (n < unique) visitor = "seed-visitor-" + std::to_string(++visitors_);
    const auto id = core::new_unique_id();
    const long long at = bucket_at + std::uniform_int_distribution<long long>(0, kQuarterMs - 1)(random_);
    tables.raw.row().text({id.data(), id.size()}).text(code_id).number(at).text(visitor).text("browser")
        .text(kReferrerHosts[static_cast<std::size_t>(n) % kReferrerHosts.size()]).number(n < unique ? 1 : 0);
    ++counts_.raw_rows;
  }
}

void ClickSeeder::write_all_codes(Tables& tables) {
  for (std::size_t slot = 0; slot < all_clicks_.size(); ++slot) {
    if (all_clicks_[slot] == 0) continue;
    tables.all_codes.row().number(first_bucket_ + static_cast<long long>(slot) * kQuarterMs)
        .number(all_clicks_[slot]).number(all_unique_[slot]);
    if (tables.all_codes.pending() >= kRowsPerBatch) tables.all_codes.flush();
  }
  tables.all_codes.flush();
}

}  // namespace seed
