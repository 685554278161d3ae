#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <string>

#include "core/json_writer.hpp"

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

}  // namespace
