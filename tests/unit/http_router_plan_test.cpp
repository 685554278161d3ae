// Router::plan, the io-thread half of a pipelined read: an answer, a read,
// or neither (the db lane's turn), and the routes that may have a planner.
#include <gtest/gtest.h>

#include <stdexcept>

#include "core/api_error.hpp"
#include "http/router.hpp"

namespace {

const auto kHandler = [](http::Request&) { return http::Response::json(200, "handler"); };

http::ReadPlanner planner_reading(const char* sql) {
  return [sql](http::Request&) -> std::optional<http::PipelinedRead> {
    return http::PipelinedRead{{sql, {}}, nullptr};
  };
}

// A token authenticator that knows "cached" from memory, refuses "bad" and
// needs the database for anything else.
http::Router router_with_planned_route() {
  http::Router router;
  router.set_authenticator([](const http::Request& request) {
    const auto token = request.bearer_token().value_or("");
    if (token == "bad") throw core::ApiError(401, "invalid_token", "bad token");
    if (token != "cached") throw http::NeedsDatabase{};
    return http::Principal{"u1", "s1", false, {}};
  });
  router.add("GET", "/summary", http::Access::user, kHandler, planner_reading("SELECT 1"));
  return router;
}

http::Planned plan(const http::Router& router, const std::string& token) {
  http::Request request;
  request.method = "GET";
  request.path = "/summary";
  request.on_io_thread = true;
  request.headers = {{"Authorization", "Bearer " + token}};
  const auto match = router.match(request);
  return router.plan(*match.route, request);
}

}  // namespace

TEST(RouterPlan, ASessionInMemoryGetsTheRead) {
  const auto router = router_with_planned_route();
  const auto planned = plan(router, "cached");
  ASSERT_TRUE(planned.read);
  EXPECT_STREQ(planned.read->query.sql, "SELECT 1");
  EXPECT_FALSE(planned.answer);
}

TEST(RouterPlan, ARefusedTokenIsAnsweredOnTheIoThread) {
  const auto router = router_with_planned_route();
  const auto planned = plan(router, "bad");
  ASSERT_TRUE(planned.answer);
  EXPECT_EQ(planned.answer->status, 401);
  EXPECT_EQ(planned.answer->error_code, "invalid_token");
  EXPECT_FALSE(planned.read);
}

TEST(RouterPlan, ASessionOnlyTheDatabaseKnowsGoesToTheDbLane) {
  const auto router = router_with_planned_route();
  const auto planned = plan(router, "unknown");
  EXPECT_FALSE(planned.answer);
  EXPECT_FALSE(planned.read);
}

TEST(RouterPlan, KeyRoutesCannotHaveAPlanner) {
  http::Router router;
  EXPECT_THROW(router.add("GET", "/v1", http::Auth::key("events:write"), kHandler,
                          planner_reading("SELECT 1")),
               std::logic_error);
  EXPECT_THROW(router.add("GET", "/hooks", http::Auth::admin_or_key("webhooks:manage"), kHandler,
                          planner_reading("SELECT 1")),
               std::logic_error);
  EXPECT_NO_THROW(
      router.add("GET", "/admin", http::Access::admin, kHandler, planner_reading("SELECT 1")));
}
