#include "core/json_body.hpp"

#include <boost/json/parse.hpp>

#include "core/api_error.hpp"

namespace core {

namespace {

std::string field_name(std::string_view field) { return "'" + std::string(field) + "'"; }

}  // namespace

boost::json::object parse_json_object(std::string_view body) {
  boost::json::parse_options options;
  options.max_depth = 32;
  boost::system::error_code ec;
  auto value = boost::json::parse(body, ec, {}, options);
  if (ec || !value.is_object()) {
    throw ApiError(400, "invalid_json", "The request body must be a JSON object.");
  }
  return std::move(value.as_object());
}

std::optional<std::string> optional_string(const boost::json::object& body, std::string_view field) {
  const auto* value = body.if_contains(field);
  if (value == nullptr || value->is_null()) return std::nullopt;
  if (!value->is_string()) throw validation_error(field_name(field) + " must be a string.");
  std::string text(value->as_string());
  // Boost.JSON already refuses invalid UTF-8; an escaped NUL is refused here.
  if (text.find('\0') != std::string::npos) {
    throw validation_error(field_name(field) + " must not contain NUL characters.");
  }
  return text;
}

std::string required_string(const boost::json::object& body, std::string_view field) {
  auto value = optional_string(body, field);
  if (!value) throw validation_error(field_name(field) + " is required.");
  return std::move(*value);
}

std::optional<bool> optional_bool(const boost::json::object& body, std::string_view field) {
  const auto* value = body.if_contains(field);
  if (value == nullptr || value->is_null()) return std::nullopt;
  if (!value->is_bool()) throw validation_error(field_name(field) + " must be true or false.");
  return value->as_bool();
}

namespace {

// The field's value when it is a whole number no less than `minimum`.
std::int64_t whole_number_at_least(const boost::json::value& value, std::string_view field,
                                   std::int64_t minimum, const char* kind) {
  std::int64_t number = 0;
  if (value.is_int64())
    number = value.as_int64();
  else if (value.is_uint64() && value.as_uint64() <= INT64_MAX)
    number = static_cast<std::int64_t>(value.as_uint64());
  else
    throw validation_error(field_name(field) + " must be a " + kind + " whole number.");
  if (number < minimum)
    throw validation_error(field_name(field) + " must be a " + kind + " whole number.");
  return number;
}

}  // namespace

std::int64_t required_positive_integer(const boost::json::object& body, std::string_view field) {
  const auto* value = body.if_contains(field);
  if (value == nullptr || value->is_null()) throw validation_error(field_name(field) + " is required.");
  return whole_number_at_least(*value, field, 1, "positive");
}

std::optional<std::int64_t> optional_non_negative_integer(const boost::json::object& body,
                                                          std::string_view field) {
  const auto* value = body.if_contains(field);
  if (value == nullptr || value->is_null()) return std::nullopt;
  return whole_number_at_least(*value, field, 0, "non-negative");
}

}  // namespace core
