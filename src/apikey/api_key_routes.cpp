#include "apikey/api_key_routes.hpp"

#include <boost/json.hpp>

#include "core/api_error.hpp"
#include "core/clock.hpp"
#include "core/ip_network.hpp"
#include "core/json_body.hpp"
#include "core/json_time.hpp"
#include "http/pagination.hpp"

namespace apikey {

using boost::json::object;
using http::Access;
using http::Lane;
using http::Request;
using http::Response;

namespace {

// The key as the list shows it: never its text nor its hash.
object key_json(const store::ApiKey& key) {
  boost::json::array scopes;
  for (const auto& scope : scopes_of(key.scope_bits)) scopes.emplace_back(scope);
  return {{"id", key.id},
          {"name", key.name},
          {"scopes", std::move(scopes)},
          {"prefix", key.prefix},
          {"created_at", core::format_timestamp(key.created_at)},
          {"last_used_at", core::timestamp_json(key.last_used_at)},
          {"revoked_at", core::timestamp_json(key.revoked_at)}};
}

std::vector<std::string> required_string_list(const boost::json::object& body,
                                              std::string_view field) {
  const auto* value = body.if_contains(field);
  if (value == nullptr || !value->is_array()) {
    throw core::validation_error("'" + std::string(field) + "' must be a list of strings.");
  }
  std::vector<std::string> items;
  for (const auto& item : value->as_array()) {
    if (!item.is_string())
      throw core::validation_error("'" + std::string(field) + "' must be a list of strings.");
    items.emplace_back(item.as_string());
  }
  return items;
}

Response create(ApiKeyService& service, Request& request) {
  const auto body = core::parse_json_object(request.body);
  const auto created =
      service.create({core::required_string(body, "name"), required_string_list(body, "scopes")},
                     request.user().user_id);
  auto answer = key_json(created.key);
  answer.erase("last_used_at");
  answer.erase("revoked_at");
  answer["key"] = created.secret;
  return Response::json(201, answer);
}

Response list(ApiKeyService& service, Request& request) {
  const auto page = http::page_request(request);
  const auto keys = service.list(page.after, page.limit);
  boost::json::array body;
  for (const auto& key : keys) body.push_back(key_json(key));
  auto response = Response::json(200, body);
  http::link_next_page(response, request, page,
                       http::next_cursor(keys, page, [](const store::ApiKey& key) {
                         return core::Cursor{key.created_at, key.id};
                       }));
  return response;
}

// Refused keys count against the client's IP, so guessing costs a 429 long
// before it costs the database much; all refusals look alike (no hint
// whether a key exists or was revoked).
http::KeyAuthenticator key_authenticator(ApiKeyService& service, KeyLimits limits) {
  return [&service, limits](const Request& request, const std::string& scope) {
    const auto now = core::now_ms();
    store::ApiKey key;
    try {
      key = service.authenticate(request.api_key().value_or(""), scope);
    } catch (const core::ApiError& refusal) {
      if (refusal.status() == 401) {
        const auto network = core::client_network(request.client_ip);
        if (const auto wait = limits.failures_per_ip.hit("api-key|" + network, now)) {
          throw core::too_many_requests(
              "rate_limited", "Too many requests with invalid API keys; slow down.", *wait);
        }
      }
      throw;
    }
    if (const auto wait = limits.per_key.hit(key.id, now)) {
      throw core::too_many_requests("rate_limited",
                                    "This API key is over its request rate; slow down.", *wait);
    }
    return http::Principal{"api_key:" + key.id, "", false, key.id};
  };
}

}  // namespace

void add_routes(http::Router& router, ApiKeyService& service, KeyLimits limits) {
  router.add("POST", "/api/admin/api-keys", Access::admin, Lane::write,
             [&service](Request& request) { return create(service, request); });
  router.add("GET", "/api/admin/api-keys", Access::admin, Lane::db,
             [&service](Request& request) { return list(service, request); });
  router.add("DELETE", "/api/admin/api-keys/{id}", Access::admin, Lane::write,
             [&service](Request& request) {
               return Response::json(200, key_json(service.revoke(request.param("id"))));
             });
  router.set_key_authenticator(key_authenticator(service, limits));
}

}  // namespace apikey
