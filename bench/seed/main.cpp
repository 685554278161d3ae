// referrald-seed: fills an empty database with a large, consistent data set
// for scale runs and query-plan checks (docs/PERFORMANCE.md).
//
//   referrald-seed --database-url sqlite://big.db [--users 100000] [--referrals 1000000]
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdlib>
#include <iostream>

#include "db/database.hpp"
#include "db/migrations.hpp"
#include "seeder.hpp"

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

long long count_users(db::Database& database) {
  return database.read([](soci::session& sql) {
    long long users = 0;
    sql << "SELECT COUNT(*) FROM users", soci::into(users);
    return users;
  });
}

// Planner statistics, so EXPLAIN shows the plans a long-running server gets.
// SQLite samples (analysis_limit) instead of reading every index. PostgreSQL
// also vacuums, as autovacuum would soon: index-only scans need the
// visibility map it sets.
void analyze(db::Database& database) {
  database.read([&](soci::session& sql) {
    if (database.engine() == db::Engine::sqlite) {
      sql << "PRAGMA analysis_limit = 1000";
      sql << "ANALYZE";
    } else {
      sql << "VACUUM ANALYZE";
    }
  });
}

void report(const seed::Counts& counts, const seed::Options& options, double seed_s, double analyze_s) {
  std::cout << "users " << counts.users << ", codes " << counts.codes << ", referrals " << counts.referrals
            << ", rewards " << counts.rewards << ", referrer_stats " << counts.stats << '\n'
            << "clicks " << counts.clicks.clicks << " in " << counts.clicks.counter_rows << " counter rows, "
            << counts.clicks.raw_rows << " raw click rows, " << counts.attributions << " attributed signups\n"
            << "seeded in " << seed_s << " s; statistics (ANALYZE) " << analyze_s << " s\n"
            << "log in as " << seed::kBenchEmail << " (" << options.bench_referrals << " referrals over "
            << options.bench_days << " days) or " << seed::kAdminEmail << " (admin), password '"
            << options.password << "'\n";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{"referrald-seed: fill an empty referrald database for scale runs"};
  std::string database_url = std::getenv("DATABASE_URL") ? std::getenv("DATABASE_URL") : "";
  seed::Options options;
  bool skip_analyze = false;
  cli.add_option("--database-url", database_url, "sqlite://PATH or postgresql://... (default $DATABASE_URL)");
  cli.add_option("--users", options.users, "Referrers: verified users with a code (default 100000)");
  cli.add_option("--referrals", options.referrals, "Referrals; each adds its referee user (default 1000000)");
  cli.add_option("--bench-referrals", options.bench_referrals, "Referrals of bench@seed.test (default 1000)");
  cli.add_option("--clicks", options.clicks.clicks, "Share-link clicks as counters (default 20000000)");
  cli.add_option("--raw-clicks", options.clicks.raw_clicks, "Of those, raw click rows (default 1000000)");
  cli.add_option("--bench-clicks", options.clicks.bench_clicks,
                 "Clicks of bench@seed.test over its 90 days (default 100000)");
  cli.add_option("--seed", options.random_seed, "Random seed (default 42)");
  cli.add_option("--password", options.password, "Password of the referrers and the admin");
  cli.add_flag("--no-analyze", skip_analyze, "Do not refresh planner statistics afterwards");
  CLI11_PARSE(cli, argc, argv);
  if (database_url.empty()) {
    std::cerr << "referrald-seed: --database-url (or DATABASE_URL) is required\n";
    return 2;
  }
  try {
    {
      // Migrations write through SQLite's writer connection: closed before
      // the seeder switches the journal off, which needs the only connection.
      db::Database migrator({database_url, 1, 30'000, "OFF"});
      db::migrate(migrator);
    }
    // One session; SQLite without fsync while seeding (a crash means seeding again).
    db::Database database({database_url, 1, 30'000, "OFF"});
    if (count_users(database) > 0) {
      std::cerr << "referrald-seed: the database already has users; seed an empty one\n";
      return 1;
    }
    const auto start = std::chrono::steady_clock::now();
    const auto counts = database.read(
        [&](soci::session& sql) { return seed::Seeder(sql, database.engine(), options).run(); });
    const double seed_s = seconds_since(start);
    const auto analyze_start = std::chrono::steady_clock::now();
    if (!skip_analyze) analyze(database);
    report(counts, options, seed_s, skip_analyze ? 0.0 : seconds_since(analyze_start));
    return 0;
  } catch (const std::exception& error) {
    std::cerr << "referrald-seed: " << error.what() << '\n';
    return 1;
  }
}
