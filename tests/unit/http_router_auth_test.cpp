// The router's authenticator seam: which authenticator a route's Auth asks,
// with which scope, and that keys and tokens never cross.
#include <gtest/gtest.h>

#include "core/api_error.hpp"
#include "http/router.hpp"

namespace {

struct Calls {
  int token = 0;
  int key = 0;
  int token_check = 0;
  std::string scope;
};

// A router whose token authenticator accepts "admin" and "user" and whose key
// authenticator accepts "rk_good" for any scope; both count their calls.
http::Router router_with(Calls& calls) {
  http::Router router;
  router.set_authenticator([&calls](const http::Request& request) {
    ++calls.token;
    const auto token = request.bearer_token().value_or("");
    if (token != "admin" && token != "user")
      throw core::ApiError(401, "invalid_token", "bad token");
    return http::Principal{std::string(token), "s", token == "admin", {}};
  });
  router.set_key_authenticator([&calls](const http::Request& request, const std::string& scope) {
    ++calls.key;
    calls.scope = scope;
    if (request.api_key() != "rk_good") throw core::ApiError(401, "invalid_api_key", "bad key");
    return http::Principal{"api_key:1", "", false, "1"};
  });
  router.set_token_check([&calls](const http::Request& request) {
    ++calls.token_check;
    if (!request.bearer_token()) throw core::ApiError(401, "missing_token", "no token");
  });
  const auto ok = [](http::Request& request) {
    return http::Response::json(200, boost::json::value(request.user().user_id));
  };
  router.add("GET", "/user", http::Access::user, http::Lane::db, ok);
  router.add("GET", "/admin", http::Access::admin, http::Lane::db, ok);
  router.add("GET", "/v1", http::Auth::key("events:write"), http::Lane::db, ok);
  router.add("GET", "/hooks", http::Auth::admin_or_key("webhooks:manage"), http::Lane::db, ok);
  router.add("GET", "/open", http::Access::anyone, http::Lane::db, ok);
  return router;
}

http::Request request_for(const std::string& path, const std::vector<http::Header>& headers) {
  http::Request request;
  request.method = "GET";
  request.path = path;
  request.headers = headers;
  return request;
}

http::Response call(const http::Router& router, const std::string& path,
                    const std::vector<http::Header>& headers) {
  auto request = request_for(path, headers);
  const auto match = router.match(request);
  return router.run(*match.route, request);
}

// What Router::refuse_bad_token answers before a lane: a status, or 0 for none.
int refusal(const http::Router& router, const std::string& path,
            const std::vector<http::Header>& headers) {
  auto request = request_for(path, headers);
  const auto match = router.match(request);
  const auto refused = router.refuse_bad_token(*match.route, request);
  return refused ? refused->status : 0;
}

const http::Header kAdmin{"Authorization", "Bearer admin"};
const http::Header kUser{"Authorization", "Bearer user"};
const http::Header kBearerKey{"Authorization", "Bearer rk_good"};
const http::Header kHeaderKey{"X-Api-Key", "rk_good"};

}  // namespace

TEST(RouterAuth, KeyRoutesAskOnlyTheKeyAuthenticatorWithTheirScope) {
  Calls calls;
  const auto router = router_with(calls);
  EXPECT_EQ(call(router, "/v1", {kHeaderKey}).status, 200);
  EXPECT_EQ(call(router, "/v1", {kBearerKey}).status, 200);
  EXPECT_EQ(calls.scope, "events:write");
  const auto token = call(router, "/v1", {kAdmin});
  EXPECT_EQ(token.status, 401);
  EXPECT_EQ(token.error_code, "invalid_api_key");
  EXPECT_EQ(calls.token, 0);
}

TEST(RouterAuth, TokenRoutesNeverAskTheKeyAuthenticator) {
  Calls calls;
  const auto router = router_with(calls);
  EXPECT_EQ(call(router, "/admin", {kBearerKey}).status, 401);
  EXPECT_EQ(call(router, "/admin", {kHeaderKey}).status, 401);
  EXPECT_EQ(call(router, "/user", {kHeaderKey}).status, 401);
  EXPECT_EQ(call(router, "/admin", {kUser}).status, 403);
  EXPECT_EQ(call(router, "/admin", {kAdmin}).status, 200);
  EXPECT_EQ(calls.key, 0);
}

TEST(RouterAuth, AdminOrKeyTakesAnAdminTokenOrAKeyWithTheScope) {
  Calls calls;
  const auto router = router_with(calls);
  EXPECT_EQ(call(router, "/hooks", {kAdmin}).body, "\"admin\"");
  EXPECT_EQ(call(router, "/hooks", {kHeaderKey}).body, "\"api_key:1\"");
  EXPECT_EQ(calls.scope, "webhooks:manage");
  EXPECT_EQ(call(router, "/hooks", {kUser}).status, 403);
  EXPECT_EQ(call(router, "/hooks", {}).status, 401);
  const auto bad_key = call(router, "/hooks", {{"X-Api-Key", "rk_bad"}});
  EXPECT_EQ(bad_key.error_code, "invalid_api_key");
}

TEST(RouterAuth, OnlyTokenRoutesHaveTheirTokenCheckedBeforeALane) {
  Calls calls;
  const auto router = router_with(calls);
  EXPECT_EQ(refusal(router, "/user", {}), 401);
  EXPECT_EQ(refusal(router, "/admin", {}), 401);
  EXPECT_EQ(refusal(router, "/hooks", {}), 401);
  EXPECT_EQ(calls.token_check, 3);
  // A token that passes is left to the lane, which checks its session.
  EXPECT_EQ(refusal(router, "/user", {kUser}), 0);
  // Keys and open routes are not the token check's to refuse.
  EXPECT_EQ(refusal(router, "/v1", {}), 0);
  EXPECT_EQ(refusal(router, "/hooks", {kHeaderKey}), 0);
  EXPECT_EQ(refusal(router, "/open", {}), 0);
  EXPECT_EQ(calls.token_check, 4);
  EXPECT_EQ(calls.token + calls.key, 0);
}
