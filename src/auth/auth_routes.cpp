#include "auth/auth_routes.hpp"

#include <boost/json.hpp>

#include "core/api_error.hpp"
#include "core/clock.hpp"
#include "core/ip_network.hpp"
#include "core/json_body.hpp"
#include "http/csrf.hpp"
#include "http/metrics.hpp"

namespace auth {

using boost::json::object;
using http::Access;
using http::Lane;
using http::Request;
using http::Response;

namespace {

struct Credential {
  std::string token;
  bool from_cookie = false;
};

// docs/API.md, Authentication: the Authorization header, else the `token` cookie.
Credential credential_of(const Request& request) {
  if (const auto bearer = request.bearer_token()) return {std::string(*bearer), false};
  return {std::string(request.cookie("token")), true};
}

std::string cookie(const std::string& value, long long max_age_seconds) {
  return "token=" + value + "; HttpOnly; Secure; SameSite=Lax; Max-Age=" +
         std::to_string(max_age_seconds) + "; Path=/";
}

Response ok_message(int status, const std::string& message) {
  return Response::json(status, object{{"valid", true}, {"message", message}});
}

Identity identity_of(const Request& request) {
  const auto& principal = request.user();
  return {principal.user_id, principal.session_id, principal.is_admin};
}

// Per-IP limit on unauthenticated endpoints, one window per route.
class IpLimit {
 public:
  explicit IpLimit(core::RateLimiter& limiter) : limiter_(limiter) {}
  http::Handler operator()(const std::string& route, http::Handler handler) const {
    return [limiter = &limiter_, route, handler = std::move(handler)](Request& request) {
      const auto network = core::client_network(request.client_ip);
      if (auto wait = limiter->hit(route + "|" + network, core::now_ms())) {
        throw core::too_many_requests("rate_limited", "Too many requests; slow down.", *wait);
      }
      return handler(request);
    };
  }

 private:
  core::RateLimiter& limiter_;
};

void add_signup_routes(http::Router& router, AuthService& service, const IpLimit& limited) {
  router.add("POST", "/api/auth/signup", Access::anyone, Lane::cpu,
             limited("signup", [&service](Request& request) {
               const auto body = core::parse_json_object(request.body);
               const auto signup_id = service.signup(
                   {core::required_string(body, "name"), core::required_string(body, "email"),
                    core::required_string(body, "password"),
                    core::optional_string(body, "referral_code"),
                    std::string(request.cookie("referral"))});  // set by GET /r/{code}
               return Response::json(201, object{{"valid", true},
                                                 {"message", "OTP sent to your email."},
                                                 {"signup_id", signup_id}});
             }));
  router.add("POST", "/api/auth/verify-otp", Access::anyone, Lane::write,
             limited("verify-otp", [&service](Request& request) {
               const auto body = core::parse_json_object(request.body);
               const auto referral = service.verify_email(
                   {core::required_string(body, "email"), core::required_string(body, "otp"),
                    core::optional_string(body, "signup_id")},
                   request.client_ip);
               object answer{{"valid", true},
                             {"message", "OTP verified successfully. You can now log in."}};
               if (referral) {
                 object outcome{{"applied", referral->applied}};
                 if (!referral->applied) outcome["code"] = referral->code;
                 answer["referral"] = std::move(outcome);
               }
               return Response::json(200, answer);
             }));
  router.add("POST", "/api/auth/resend-otp", Access::anyone, Lane::write,
             limited("resend-otp", [&service](Request& request) {
               const auto body = core::parse_json_object(request.body);
               service.resend_code(core::required_string(body, "email"));
               return ok_message(200, "If the account exists and is not verified, a new OTP has been sent.");
             }));
}

void add_session_routes(http::Router& router, AuthService& service, const core::Config& config,
                        const IpLimit& limited) {
  router.add("POST", "/api/auth/login", Access::anyone, Lane::cpu,
             limited("login", [&service, &config](Request& request) {
               const auto body = core::parse_json_object(request.body);
               const auto result = service.login(core::required_string(body, "email"),
                                                 core::required_string(body, "password"),
                                                 request.client_ip, request.user_agent);
               auto response = Response::json(200, object{{"user", user_json(result.user)},
                                                          {"token", result.token}});
               response.set_header("Set-Cookie", cookie(result.token, config.session_ttl_ms / 1000));
               return response;
             }));
  // Its job is authentication itself: one read gives the session and the
  // user, or none while sessions are kept in memory (then on the io thread).
  const auto lane = [&service](const Request&) {
    return service.sessions_in_memory() ? Lane::io : Lane::db;
  };
  router.add(
      "POST", "/api/auth/verify-session", Access::anyone, lane, [&service](Request& request) {
        const auto token = credential_of(request).token;
        auto session = request.on_io_thread ? service.authenticate_from_memory(token)
                                            : service.authenticate(token);
        if (!session) return Response::needs_database();
        return Response::json(200, object{{"valid", true}, {"user", user_json(session->user)}});
      });
  router.add("POST", "/api/auth/logout", Access::user, Lane::write, [&service](Request& request) {
    service.logout(identity_of(request));
    auto response = ok_message(200, "Logged out successfully.");
    response.set_header("Set-Cookie", cookie("", 0));
    return response;
  });
  router.add("POST", "/api/auth/logout-all", Access::user, Lane::write, [&service](Request& request) {
    service.logout_everywhere(request.user().user_id);
    auto response = ok_message(200, "Logged out of every session.");
    response.set_header("Set-Cookie", cookie("", 0));
    return response;
  });
  router.add("GET", "/api/auth/sessions", Access::user, Lane::db, [&service](Request& request) {
    boost::json::array list;
    for (const auto& session : service.sessions(request.user().user_id)) {
      list.push_back(object{{"id", session.id},
                            {"created_at", core::format_timestamp(session.created_at)},
                            {"expires_at", core::format_timestamp(session.expires_at)},
                            {"last_seen_at", core::format_timestamp(session.last_seen_at)},
                            {"ip", session.ip},
                            {"user_agent", session.user_agent},
                            {"current", session.id == request.user().session_id}});
    }
    return Response::json(200, list);
  });
  router.add("DELETE", "/api/auth/sessions/{id}", Access::user, Lane::write, [&service](Request& request) {
    service.revoke_session(request.user().user_id, request.param("id"));
    return ok_message(200, "Session revoked.");
  });
}

void add_password_routes(http::Router& router, AuthService& service, const IpLimit& limited) {
  router.add("POST", "/api/auth/password/forgot", Access::anyone, Lane::write,
             limited("password-forgot", [&service](Request& request) {
               const auto body = core::parse_json_object(request.body);
               service.forgot_password(core::required_string(body, "email"));
               return ok_message(200, "If a verified account exists for this email, a reset code has been sent.");
             }));
  router.add("POST", "/api/auth/password/reset", Access::anyone, Lane::cpu,
             limited("password-reset", [&service](Request& request) {
               const auto body = core::parse_json_object(request.body);
               service.reset_password(core::required_string(body, "email"),
                                      core::required_string(body, "otp"),
                                      core::required_string(body, "new_password"));
               return ok_message(200, "Password has been reset. Log in with the new password.");
             }));
}

}  // namespace

void add_routes(http::Router& router, AuthService& service, const core::Config& config,
                core::RateLimiter& ip_limiter) {
  const IpLimit limited(ip_limiter);
  add_signup_routes(router, service, limited);
  add_session_routes(router, service, config, limited);
  add_password_routes(router, service, limited);
  for (const char* name : {"signup", "verify-otp", "login", "verify-session", "logout"}) {
    router.alias(std::string("/") + name, std::string("/api/auth/") + name);
  }
  router.set_token_check(
      [&service](const Request& request) { service.check_token(credential_of(request).token); });
  const http::OriginCheck origins(config.public_url, config.cors_allowed_origins);
  router.set_authenticator([&service, origins](const Request& request) {
    const auto credential = credential_of(request);
    const auto authenticated = request.on_io_thread
                                   ? service.authenticate_from_memory(credential.token)
                                   : std::optional(service.authenticate(credential.token));
    if (!authenticated) throw http::NeedsDatabase{};
    const auto& identity = authenticated->identity;
    // A cross-site form posted with the victim's cookie credited a reward
    // (issue 12): the cookie alone does not authorise a change.
    if (credential.from_cookie && http::changes_state(request.method) && !origins.allows(request)) {
      throw core::ApiError(
          403, "csrf_rejected",
          "A request authenticated by the cookie must come from this site (Origin or Referer).");
    }
    return http::Principal{identity.user_id, identity.session_id, identity.is_admin, {}};
  });
}

void add_session_cache_metrics(const SessionCache& cache) {
  http::metrics().add_collector([counts = cache.shared_counts()](std::string& out) {
    const auto count = [&out](const char* name, const char* help,
                              const std::atomic<long long>& value) {
      http::append_metric(out, name, "counter", help, static_cast<double>(value.load()));
    };
    count("session_cache_hits_total", "Authenticated requests answered from the session cache.",
          counts->hits);
    count("session_cache_misses_total", "Authenticated requests that read their session row.",
          counts->misses);
    count("session_cache_invalidations_total", "Session and user changes heard from the database.",
          counts->invalidations);
    count("session_cache_drops_total",
          "Times the whole cache was dropped: its invalidation feed was lost or late.",
          counts->drops);
    http::append_metric(out, "session_cache_fresh", "gauge",
                        "1 while the invalidation feed is proven caught up (the cache is used).",
                        core::now_ms() < counts->fresh_until.load() ? 1 : 0);
  });
}

}  // namespace auth
