#include "http/message.hpp"

#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>

#include <cctype>

namespace http {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::string_view Request::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (iequals(key, name)) return value;
  }
  return {};
}

std::string Request::header_list(std::string_view name) const {
  std::string joined;
  for (const auto& [key, value] : headers) {
    if (!iequals(key, name)) continue;
    if (!joined.empty()) joined += ", ";
    joined += value;
  }
  return joined;
}

std::optional<std::string> Request::query(std::string_view name) const {
  auto url = boost::urls::parse_origin_form(raw_target);
  if (!url) return std::nullopt;
  for (const auto& param : url->params()) {
    if (param.key == name) return std::string(param.value);
  }
  return std::nullopt;
}

std::string_view Request::cookie(std::string_view name) const {
  std::string_view rest = header("Cookie");
  while (!rest.empty()) {
    const auto semi = rest.find(';');
    auto pair = rest.substr(0, semi);
    rest = semi == std::string_view::npos ? std::string_view{} : rest.substr(semi + 1);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    const auto eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name) return pair.substr(eq + 1);
  }
  return {};
}

std::optional<std::string_view> Request::bearer_token() const {
  const auto value = header("Authorization");
  if (value.size() > 7 && iequals(value.substr(0, 7), "Bearer ")) return value.substr(7);
  return std::nullopt;
}

std::optional<std::string_view> Request::api_key() const {
  if (const auto key = header("X-Api-Key"); !key.empty()) return key;
  const auto bearer = bearer_token();
  if (bearer && bearer->starts_with("rk_")) return bearer;
  return std::nullopt;
}

Response Response::json(int status, const boost::json::value& body) {
  return json_text(status, boost::json::serialize(body));
}

Response Response::json_text(int status, std::string body) {
  Response response;
  response.status = status;
  response.body = std::move(body);
  response.headers.emplace_back("Content-Type", "application/json; charset=utf-8");
  return response;
}

Response Response::error(int status, std::string_view code, std::string_view message) {
  auto response = json(status, boost::json::object{{"error", message}, {"code", code}});
  response.error_code = code;
  return response;
}

Response Response::needs_database() {
  Response response;
  response.retry_on_database = true;
  return response;
}

void Response::set_header(std::string name, std::string value) {
  for (auto& [key, existing] : headers) {
    if (iequals(key, name)) {
      existing = std::move(value);
      return;
    }
  }
  headers.emplace_back(std::move(name), std::move(value));
}

std::string_view Response::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (iequals(key, name)) return value;
  }
  return {};
}

std::string whole_body(Response& response) {
  if (!response.stream) return response.body;
  std::string body;
  std::string chunk;
  bool more = true;
  while (more) {
    more = response.stream(chunk);
    body += chunk;
  }
  return body;
}

}  // namespace http
