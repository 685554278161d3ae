#pragma once
#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace core {

// Request-body helpers: every failure is an ApiError with the docs/API.md code
// (invalid_json or validation_error) and a sentence naming the field.
boost::json::object parse_json_object(std::string_view body);

std::string required_string(const boost::json::object& body, std::string_view field);
std::optional<std::string> optional_string(const boost::json::object& body, std::string_view field);
std::optional<bool> optional_bool(const boost::json::object& body, std::string_view field);
std::int64_t required_positive_integer(const boost::json::object& body, std::string_view field);
std::optional<std::int64_t> optional_non_negative_integer(const boost::json::object& body,
                                                          std::string_view field);

}  // namespace core
