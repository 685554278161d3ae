#pragma once
#include <soci/session.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "db/database.hpp"

namespace seed {

struct ClickOptions {
  long long clicks = 20'000'000;      // counted clicks over every referrer, as quarter-hour counters
  long long raw_clicks = 1'000'000;   // of those, the most recent as raw link_clicks rows
  long long bench_clicks = 100'000;   // bench@seed.test's, over its bench_days (the funnel benchmark)
  int bench_days = 90;
  int history_days = 365;
};

struct ClickCounts {
  long long counter_rows = 0;
  long long clicks = 0;
  long long raw_rows = 0;
};

// What the click flusher would have left after a year of share-link traffic:
// per-(code, quarter hour) counters, the all-codes counters, per-code totals,
// and raw click rows for the most recent clicks (the retention window keeps
// only those). Each referrer gets clicks in proportion to its referrals; the
// bench referrer (index 0) gets bench_clicks over bench_days.
class ClickSeeder {
 public:
  ClickSeeder(soci::session& sql, db::Engine engine, ClickOptions options, long long now_ms,
              std::mt19937_64& random);
  ClickCounts run(const std::vector<std::string>& code_ids, const std::vector<long long>& referrals);

 private:
  struct Tables;
  void add_code(Tables& tables, const std::string& code_id, long long clicks, int days);
  void add_bucket(Tables& tables, const std::string& code_id, long long bucket_at, long long clicks);
  void add_raw_rows(Tables& tables, const std::string& code_id, long long bucket_at, long long clicks,
                    long long unique);
  void write_all_codes(Tables& tables);

  soci::session& sql_;
  db::Engine engine_;
  ClickOptions options_;
  long long now_ms_;
  long long first_bucket_;  // the oldest quarter hour any referrer's clicks fall in
  long long raw_since_;     // clicks from here on also get raw rows
  std::mt19937_64& random_;
  std::vector<long long> all_clicks_, all_unique_;  // per quarter hour since first_bucket_
  long long code_clicks_ = 0, code_unique_ = 0;     // the code being written
  long long visitors_ = 0;                          // visitor hashes handed out
  ClickCounts counts_;
};

}  // namespace seed
