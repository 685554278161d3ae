#include "core/json_writer.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <map>
#include <string>
#include <vector>

namespace {

TEST(JsonWriter, PlacesCommasInNestedContainers) {
  core::JsonWriter out;
  out.begin_array();
  out.begin_object().field("a", std::int64_t{1}).key("b").begin_array().value("x").value("y").end_array().end_object();
  out.begin_object().end_object();
  out.begin_array().end_array();
  out.null();
  EXPECT_EQ(out.end_array().take(), R"([{"a":1,"b":["x","y"]},{},[],null])");
}

TEST(JsonWriter, EscapesWhatJsonRequires) {
  std::string text = "quote\" backslash\\ nl\n tab\t nul";
  text += '\0';
  text += "\x1f end é";
  core::JsonWriter out;
  out.begin_object().field("k\"ey", text).end_object();
  const auto written = out.take();
  EXPECT_EQ(written, "{\"k\\\"ey\":\"quote\\\" backslash\\\\ nl\\n tab\\t nul\\u0000\\u001f end é\"}");
  EXPECT_EQ(boost::json::parse(written).as_object().at("k\"ey").as_string(), text);
}

// The text as RFC 8259 wants it, a byte at a time: what the writer's
// eight-bytes-at-a-time scan must agree with.
std::string escaped_byte_by_byte(const std::string& text) {
  std::string out = "\"";
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte < 0x20) {
      static const std::map<char, const char*> kShort = {
          {'\n', "\\n"}, {'\r', "\\r"}, {'\t', "\\t"}, {'\b', "\\b"}, {'\f', "\\f"}};
      const auto found = kShort.find(c);
      if (found != kShort.end()) {
        out += found->second;
      } else {
        static const char kHex[] = "0123456789abcdef";
        out += "\\u00";
        out += kHex[byte >> 4];
        out += kHex[byte & 0xF];
      }
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// Every byte the word-at-a-time test must catch (and neighbours it must
// not), at every position of strings up to three words long, alone and
// after another one.
TEST(JsonWriter, EscapesEveryByteAtEveryPositionOfAWord) {
  std::vector<unsigned char> bytes;
  for (int byte = 0; byte <= 0x21; ++byte) bytes.push_back(static_cast<unsigned char>(byte));
  for (const int byte : {0x23, 0x5b, 0x5c, 0x5d, 0x7f, 0x80, 0xa2, 0xdc, 0xff})
    bytes.push_back(static_cast<unsigned char>(byte));
  for (std::size_t length = 1; length <= 24; ++length) {
    for (std::size_t at = 0; at < length; ++at) {
      for (const auto byte : bytes) {
        std::string text(length, 'a');
        text[at] = static_cast<char>(byte);
        if (at > 0) text[at - 1] = '"';
        core::JsonWriter out;
        out.value(text);
        ASSERT_EQ(out.take(), escaped_byte_by_byte(text))
            << "length " << length << ", byte " << int(byte) << " at " << at;
      }
    }
  }
}

TEST(JsonWriter, WritesNumbersAndTimestamps) {
  core::JsonWriter out;
  out.begin_object()
      .field("min", std::int64_t{-9223372036854775807 - 1})
      .key("at").timestamp(0)
      .key("never").timestamp(std::nullopt)
      .end_object();
  EXPECT_EQ(out.take(), R"({"min":-9223372036854775808,"at":"1970-01-01T00:00:00.000Z","never":null})");
}

TEST(JsonWriter, WritesJsonTextAsAValue) {
  core::JsonWriter out;
  out.begin_array();
  out.begin_object()
      .key("flags")
      .json(R"([{"rule":"burst"}])")
      .field("n", std::int64_t{2})
      .end_object();
  out.json("[]").json("{}");
  EXPECT_EQ(out.end_array().take(), R"([{"flags":[{"rule":"burst"}],"n":2},[],{}])");
}

// Timestamps are written without a std::string of their own; as array
// elements they still take commas like any value.
TEST(JsonWriter, WritesTimestampsAsArrayElements) {
  core::JsonWriter out;
  out.begin_array().timestamp(1767225599999).timestamp(std::nullopt).timestamp(-1).end_array();
  EXPECT_EQ(out.take(), R"(["2025-12-31T23:59:59.999Z",null,"1969-12-31T23:59:59.999Z"])");
}

}  // namespace
