#include "webhook/webhook_routes.hpp"

#include <boost/json.hpp>

#include "core/api_error.hpp"
#include "core/clock.hpp"
#include "core/json_body.hpp"
#include "core/json_time.hpp"
#include "http/pagination.hpp"
#include "webhook/delivery_status.hpp"

namespace webhook {

using boost::json::array;
using boost::json::object;
using boost::json::value;
using http::Lane;
using http::Request;
using http::Response;

namespace {

// Who may manage webhooks: an admin's token, or an API key holding the
// `webhooks:manage` scope (docs/API.md, Webhooks).
http::Auth manage_access() {
  return http::Auth::admin_or_key("webhooks:manage");
}

template <class T>
value or_null(const std::optional<T>& maybe) {
  return maybe ? value(*maybe) : value(nullptr);
}

array events_json(const std::string& events) {
  array list;
  std::size_t start = 0;
  while (start < events.size()) {
    const auto end = std::min(events.find(' ', start), events.size());
    list.emplace_back(events.substr(start, end - start));
    start = end + 1;
  }
  return list;
}

object endpoint_json(const store::Endpoint& endpoint) {
  return {{"id", endpoint.id},
          {"url", endpoint.url},
          {"events", events_json(endpoint.events)},
          {"description", endpoint.description},
          {"enabled", endpoint.enabled},
          {"created_at", core::format_timestamp(endpoint.created_at)},
          {"disabled_reason", or_null(endpoint.disabled_reason)}};
}

object delivery_json(const store::Delivery& delivery) {
  const bool pending = delivery.status == delivery_status::kPending;
  return {{"id", delivery.id},
          {"event_id", delivery.event_id},
          {"event_type", delivery.event_type},
          {"status", delivery.status},
          {"attempts", delivery.attempts},
          {"last_status_code", or_null(delivery.last_status_code)},
          {"last_error", or_null(delivery.last_error)},
          {"next_attempt_at",
           pending ? value(core::format_timestamp(delivery.next_attempt_at)) : value(nullptr)},
          {"delivered_at", core::timestamp_json(delivery.delivered_at)}};
}

std::optional<std::vector<std::string>> optional_events(const object& body) {
  const auto* field = body.if_contains("events");
  if (field == nullptr) return std::nullopt;
  const auto* list = field->if_array();
  if (list == nullptr) throw core::validation_error("events must be a list of event type strings");
  std::vector<std::string> events;
  for (const auto& item : *list) {
    if (!item.is_string())
      throw core::validation_error("events must be a list of event type strings");
    events.emplace_back(item.get_string());
  }
  return events;
}

Response create(WebhookService& service, Request& request) {
  const auto body = core::parse_json_object(request.body);
  auto events = optional_events(body);
  if (!events) throw core::validation_error("events is required");
  const auto created = service.create({core::required_string(body, "url"), std::move(*events),
                                       core::optional_string(body, "description").value_or("")});
  auto answer = endpoint_json(created.endpoint);
  answer["secret"] = created.secret;
  return Response::json(201, answer);
}

Response update(WebhookService& service, Request& request) {
  const auto body = core::parse_json_object(request.body);
  const EndpointPatch patch{core::optional_string(body, "url"), optional_events(body),
                            core::optional_string(body, "description"),
                            core::optional_bool(body, "enabled")};
  return Response::json(200, endpoint_json(service.update(request.param("id"), patch)));
}

Response deliveries(WebhookService& service, Request& request) {
  const auto page = http::page_request(request);
  const auto found =
      service.deliveries({request.param("id"), request.query("status"), page.after, page.limit});
  array list;
  for (const auto& delivery : found) list.push_back(delivery_json(delivery));
  auto response = Response::json(200, list);
  http::link_next_page(response, request, page,
                       http::next_cursor(found, page, [](const auto& delivery) {
                         return core::Cursor{delivery.created_at, delivery.id};
                       }));
  return response;
}

Response accepted() {
  return Response::json(202, object{{"status", "accepted"}});
}

}  // namespace

void add_routes(http::Router& router, WebhookService& service) {
  const std::string base = "/api/admin/webhooks";
  router.add("POST", base, manage_access(), Lane::write,
             [&service](Request& request) { return create(service, request); });
  router.add("GET", base, manage_access(), Lane::db, [&service](Request&) {
    array list;
    for (const auto& endpoint : service.list()) list.push_back(endpoint_json(endpoint));
    return Response::json(200, list);
  });
  router.add("PATCH", base + "/{id}", manage_access(), Lane::write,
             [&service](Request& request) { return update(service, request); });
  router.add("DELETE", base + "/{id}", manage_access(), Lane::write, [&service](Request& request) {
    service.remove(request.param("id"));
    return Response::json(200, object{{"message", "Webhook endpoint deleted"}});
  });
  router.add(
      "POST", base + "/{id}/rotate-secret", manage_access(), Lane::write,
      [&service](Request& request) {
        return Response::json(200, object{{"secret", service.rotate_secret(request.param("id"))}});
      });
  router.add("POST", base + "/{id}/test", manage_access(), Lane::write,
             [&service](Request& request) {
               service.send_test(request.param("id"));
               return accepted();
             });
  router.add("GET", base + "/{id}/deliveries", manage_access(), Lane::db,
             [&service](Request& request) { return deliveries(service, request); });
  router.add("POST", base + "/{id}/deliveries/{delivery_id}/retry", manage_access(), Lane::write,
             [&service](Request& request) {
               service.retry(request.param("id"), request.param("delivery_id"));
               return accepted();
             });
}

}  // namespace webhook
