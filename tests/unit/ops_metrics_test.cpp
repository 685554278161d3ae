// /metrics reports the database pool of the App that serves it. It used to
// register a process-wide collector holding a reference to the App's
// Database, so once that App was gone and another served /metrics, the
// collector read freed memory (found by request_fuzz, whose harness seeds
// accounts through short-lived Apps; corpus: fuzz/corpus/request/ops-metrics).
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "app/app.hpp"
#include "core/random.hpp"
#include "http/dispatch.hpp"

namespace {

std::size_t count(const std::string& text, const std::string& needle) {
  std::size_t found = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++found;
  return found;
}

TEST(OpsMetrics, ReportsThePoolOfTheServingAppAfterAnEarlierAppIsGone) {
  const auto path = std::filesystem::temp_directory_path() / ("referrald-metrics-" + core::new_id() + ".db");
  const auto config = core::parse_config({{"DATABASE_URL", "sqlite://" + path.string()},
                                          {"JWT_SECRET", "metrics test secret that is long enough!!"}});
  { app::App(config).build_in_process(); }
  app::App serving(config);
  const auto& router = serving.build_in_process();

  http::Request request;
  request.method = "GET";
  request.path = request.raw_target = "/metrics";
  const auto response = http::handle_in_process(router, request, {});

  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(count(response.body, "\ndb_pool_size "), 1U) << response.body;
  EXPECT_EQ(count(response.body, "\nreferrald_build_info{"), 1U) << response.body;
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + suffix);
}

}  // namespace
