#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace core {

// Writes JSON text straight into a string, for the list pages: building a
// boost::json value per row and then serializing it was the largest part of
// a reward-history request after the query itself. Commas are placed by the
// writer; callers only open, fill and close. Strings are escaped as RFC 8259
// requires (quote, backslash, control characters); the text is UTF-8 already.
class JsonWriter {
 public:
  JsonWriter& begin_array() { return open('['); }
  JsonWriter& end_array() { return close(']'); }
  JsonWriter& begin_object() { return open('{'); }
  JsonWriter& end_object() { return close('}'); }
  JsonWriter& key(std::string_view name);

  JsonWriter& value(std::string_view text);
  JsonWriter& value(const char* text) { return value(std::string_view(text)); }
  JsonWriter& value(std::int64_t number);
  JsonWriter& null();
  // A timestamp (epoch milliseconds) in the API's ISO 8601 form, or null.
  JsonWriter& timestamp(std::optional<std::int64_t> epoch_ms);
  // A value that is JSON text already, written as it is: only for text this
  // server serialised itself (e.g. a referral's stored flags).
  JsonWriter& json(std::string_view text);

  template <class Value>
  JsonWriter& field(std::string_view name, const Value& value_of_field) {
    key(name);
    return value(value_of_field);
  }

  // Room for `bytes` of text up front: a list page grown by doubling
  // reallocated and copied its ~10 KiB several times.
  JsonWriter& reserve(std::size_t bytes) {
    out_.reserve(bytes);
    return *this;
  }

  std::string take() { return std::move(out_); }

 private:
  JsonWriter& open(char bracket);
  JsonWriter& close(char bracket);
  void before_value();

  std::string out_;
  bool first_ = true;  // no comma before the next element of this container
  bool after_key_ = false;
};

}  // namespace core
