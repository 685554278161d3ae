// The mongoexport parser and the original's records: layouts, Extended JSON
// forms, and that every refusal names the right line.
#include "importer/mongo_export.hpp"

#include <gtest/gtest.h>

#include <string>

#include "importer/original_records.hpp"

namespace {

using importer::parse_export;

std::int64_t ms(const boost::json::object& document, const char* field) {
  return document.at(field).as_int64();
}

TEST(MongoExport, JsonLinesKeepTheirLineNumbers) {
  const auto parsed = parse_export("{\"a\": 1}\n\n{\"a\": 2}\r\n{\"a\": 3}");
  ASSERT_FALSE(parsed.failure);
  ASSERT_EQ(parsed.documents.size(), 3U);
  EXPECT_EQ(parsed.documents[0].line, 1U);
  EXPECT_EQ(parsed.documents[1].line, 3U);
  EXPECT_EQ(parsed.documents[2].line, 4U);
}

TEST(MongoExport, ArrayAndPrettyLayouts) {
  const auto array = parse_export("[{\"a\": 1},\n {\"a\": \"}]\"}\n]\n");
  ASSERT_FALSE(array.failure) << array.failure->reason;
  ASSERT_EQ(array.documents.size(), 2U);
  EXPECT_EQ(array.documents[1].line, 2U);
  EXPECT_EQ(array.documents[1].fields.at("a").as_string(), "}]");

  const auto pretty = parse_export("{\n  \"a\": 1\n}\n{\n  \"a\": 2\n}\n");
  ASSERT_FALSE(pretty.failure);
  ASSERT_EQ(pretty.documents.size(), 2U);
  EXPECT_EQ(pretty.documents[1].line, 4U);

  EXPECT_TRUE(parse_export("").documents.empty());
  EXPECT_FALSE(parse_export("[]").failure);
  EXPECT_FALSE(parse_export("\xEF\xBB\xBF{\"a\": 1}").failure);
}

TEST(MongoExport, RefusalsNameTheLine) {
  const auto bad_value = parse_export("{\"a\": 1}\n{\"a\": }\n{\"a\": 3}\n");
  ASSERT_TRUE(bad_value.failure);
  EXPECT_EQ(bad_value.failure->line, 2U);
  EXPECT_NE(bad_value.failure->reason.find("invalid JSON"), std::string::npos);

  const auto unclosed = parse_export("{\"a\": 1}\n{\"a\": 2\n{\"a\": 3}\n");
  ASSERT_TRUE(unclosed.failure);
  EXPECT_EQ(unclosed.failure->line, 2U);

  const auto cut_string = parse_export("{\"a\": 1}\n{\"a\": \"abc}\n{\"a\": 3}\n");
  ASSERT_TRUE(cut_string.failure);
  EXPECT_EQ(cut_string.failure->line, 2U);

  const auto not_a_document = parse_export("{\"a\": 1}\n42\n");
  ASSERT_TRUE(not_a_document.failure);
  EXPECT_EQ(not_a_document.failure->line, 2U);

  EXPECT_TRUE(parse_export("[{\"a\": 1} {\"a\": 2}]").failure);
  EXPECT_TRUE(parse_export("[{\"a\": 1},").failure);
  EXPECT_TRUE(parse_export("[{\"a\": 1}] x").failure);
  EXPECT_TRUE(parse_export("{\"a\": 1} trailing").failure);
}

TEST(MongoExport, ExtendedJsonRelaxedAndCanonical) {
  const auto parsed = parse_export(
      R"({"_id": {"$oid": "65A0000000000000000000AB"},)"
      R"( "iso": {"$date": "2024-01-15T10:30:00.123Z"},)"
      R"( "canonical": {"$date": {"$numberLong": "1705314600123"}},)"
      R"( "legacy": {"$date": 1705314600123},)"
      R"( "long": {"$numberLong": "9007199254740993"}, "int": {"$numberInt": "-7"},)"
      R"( "double": {"$numberDouble": "2.5"}, "decimal": {"$numberDecimal": "100.00"},)"
      R"( "uuid": {"$uuid": "0D9E8F1C-1111-4A2B-9C3D-000000000001"},)"
      R"( "binary_uuid": {"$binary": {"base64": "DZ6PHBERSiucPQAAAAAAAQ==", "subType": "04"}},)"
      R"( "legacy_uuid": {"$binary": "DZ6PHBERSiucPQAAAAAAAQ==", "$type": "03"},)"
      R"( "other_binary": {"$binary": {"base64": "AA==", "subType": "00"}},)"
      R"( "dbref": {"$ref": "users", "$id": {"$oid": "65a0000000000000000000ab"}},)"
      R"( "nested": [{"at": {"$date": "1970-01-01T00:00:01Z"}}]})");
  ASSERT_FALSE(parsed.failure) << parsed.failure->reason;
  const auto& document = parsed.documents.at(0).fields;
  EXPECT_EQ(document.at("_id").as_string(), "65a0000000000000000000ab");
  EXPECT_EQ(ms(document, "iso"), 1705314600123);
  EXPECT_EQ(ms(document, "canonical"), 1705314600123);
  EXPECT_EQ(ms(document, "legacy"), 1705314600123);
  EXPECT_EQ(ms(document, "long"), 9007199254740993);
  EXPECT_EQ(ms(document, "int"), -7);
  EXPECT_EQ(document.at("double").as_double(), 2.5);
  EXPECT_EQ(document.at("decimal").as_string(), "100.00");
  EXPECT_EQ(document.at("uuid").as_string(), "0d9e8f1c-1111-4a2b-9c3d-000000000001");
  EXPECT_EQ(document.at("binary_uuid").as_string(), "0d9e8f1c-1111-4a2b-9c3d-000000000001");
  EXPECT_EQ(document.at("legacy_uuid").as_string(), "0d9e8f1c-1111-4a2b-9c3d-000000000001");
  EXPECT_TRUE(document.at("other_binary").is_object());
  EXPECT_EQ(document.at("dbref").as_object().at("$id").as_string(), "65a0000000000000000000ab");
  EXPECT_EQ(document.at("nested").as_array()[0].as_object().at("at").as_int64(), 1000);
}

TEST(MongoExport, MalformedExtendedJsonIsRefused) {
  for (const char* text :
       {R"({"a": {"$oid": "xyz"}})", R"({"a": {"$date": "yesterday"}})",
        R"({"a": {"$numberLong": "12x"}})", R"({"a": {"$numberInt": "3000000000"}})",
        R"({"a": {"$date": {"$numberLong": 5.5}}})", R"({"a": {"$uuid": "1234"}})"}) {
    const auto parsed = parse_export(text);
    EXPECT_TRUE(parsed.failure) << text;
  }
  const auto parsed =
      parse_export("{\"ok\": 1}\n{\"created_at\": {\"$date\": \"2024-02-30T00:00:00Z\"}}\n");
  ASSERT_TRUE(parsed.failure);
  EXPECT_EQ(parsed.failure->line, 2U);
  EXPECT_NE(parsed.failure->reason.find("created_at"), std::string::npos);
}

TEST(MongoExport, IsoTimestamps) {
  using importer::parse_iso_timestamp;
  EXPECT_EQ(parse_iso_timestamp("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parse_iso_timestamp("2024-01-15T10:30:00Z"), 1705314600000);
  EXPECT_EQ(parse_iso_timestamp("2024-01-15T10:30:00.1Z"), 1705314600100);
  EXPECT_EQ(parse_iso_timestamp("2024-01-15T10:30:00.123456Z"), 1705314600123);
  EXPECT_EQ(parse_iso_timestamp("2024-01-15T16:00:00+05:30"), 1705314600000);
  EXPECT_EQ(parse_iso_timestamp("2024-01-15T02:30:00-0800"), 1705314600000);
  EXPECT_EQ(parse_iso_timestamp("2024-01-15 10:30:00"), 1705314600000);
  EXPECT_EQ(parse_iso_timestamp("2024-01-15"), 1705276800000);
  EXPECT_EQ(parse_iso_timestamp("2024-02-29T00:00:00Z"), 1709164800000);
  EXPECT_EQ(parse_iso_timestamp("1969-12-31T23:59:59Z"), -1000);
  for (const char* bad :
       {"", "2024", "2023-02-29", "2024-01-15T25:00:00Z", "2024-01-15T10:30:00Zjunk",
        "2024-01-15T10:30:00.Z", "2024-1-15", "2024-01-15T10"}) {
    EXPECT_FALSE(parse_iso_timestamp(bad)) << bad;
  }
}

TEST(MongoExport, ObjectIdTime) {
  EXPECT_EQ(importer::objectid_time_ms("65a4f2c0aaaaaaaaaaaaaaaa"), 0x65a4f2c0LL * 1000);
  EXPECT_FALSE(importer::objectid_time_ms("not an object id"));
}

TEST(MongoExport, FuzzEntryNeverThrows) {
  const std::string inputs[] = {"[",
                                "{",
                                "\"",
                                "{\"a\":\"\\",
                                "[{},",
                                "{\"$date\":{}}",
                                std::string(1, '\0'),
                                "{\"$oid\": \"65b000000000000000000001\"}",
                                "{\"a\":" + std::string(200, '[') + "}"};
  for (const auto& input : inputs) {
    EXPECT_NO_THROW(importer::fuzz_one_input(reinterpret_cast<const std::uint8_t*>(input.data()),
                                             input.size()));
  }
}

// ---- records

importer::RecordOptions options() {
  return {false, 1'700'000'000'000};
}

TEST(OriginalRecords, UsersAreNormalisedAsAtSignup) {
  const auto parsed = parse_export(
      R"({"_id": {"$oid": "65a0000000000000000000ab"}, "name": " Ann ", "email": " Ann.Lee+x@GMail.com ",)"
      R"( "password": "$2b$04$abcdefghijklmnopqrstuu5555555555555555555555555555555", "isAdmin": true})");
  ASSERT_FALSE(parsed.failure);
  const auto users = importer::users_from(parsed.documents, "users.json", options());
  ASSERT_EQ(users.size(), 1U);
  EXPECT_EQ(users[0].email, "ann.lee+x@gmail.com");
  EXPECT_EQ(users[0].canonical_email, "annlee@gmail.com");
  EXPECT_EQ(users[0].name, "Ann");
  EXPECT_TRUE(users[0].is_admin);
  EXPECT_FALSE(users[0].is_verified);
  EXPECT_EQ(users[0].created_at, 0x65a00000LL * 1000);  // from the ObjectId
}

TEST(OriginalRecords, RefusalsCarryFileAndLine) {
  const auto parsed = parse_export(
      "{\"_id\": \"c1\", \"reward_type\": \"SIGNUP\", \"reward_value\": 5, \"reward_unit\": "
      "\"POINTS\"}\n"
      "{\"_id\": \"c2\", \"reward_type\": \"SIGNUP\", \"reward_value\": 5.5, \"reward_unit\": "
      "\"POINTS\"}\n");
  ASSERT_FALSE(parsed.failure);
  try {
    importer::configs_from(parsed.documents, "reward_config.json", options());
    FAIL() << "a fractional reward_value was accepted";
  } catch (const importer::ImportError& error) {
    EXPECT_EQ(error.file(), "reward_config.json");
    EXPECT_EQ(error.line(), 2U);
    EXPECT_NE(std::string(error.what()).find("reward_config.json:2: 'reward_value'"),
              std::string::npos);
  }
}

TEST(OriginalRecords, CodesKeepTheirTextUpperCased) {
  const auto parsed = parse_export(
      R"({"_id": "u-1", "referral_code": " svh-02pwko ", "referred_by": {"$oid": "65a0000000000000000000ab"},)"
      R"( "referred_at": {"$date": "2024-01-01T00:00:00Z"}, "referral_code_used": null})");
  const auto codes = importer::codes_from(parsed.documents, "referral.json", options());
  ASSERT_EQ(codes.size(), 1U);
  EXPECT_EQ(codes[0].code, "SVH-02PWKO");
  EXPECT_FALSE(codes[0].used_by);
  EXPECT_EQ(codes[0].used_at, codes[0].created_at);
}

TEST(OriginalRecords, RewardStatusesAndTypesAreChecked) {
  const auto parsed = parse_export(
      R"({"_id": "r1", "user": "u", "referral": "f", "reward_type": "signup", "reward_value": {"$numberLong": "10"},)"
      R"( "reward_unit": "cash", "status": "credited"})"
      "\n"
      R"({"_id": "r2", "user": "u", "referral": "f", "reward_type": "SIGNUP", "reward_value": 1,)"
      R"( "reward_unit": "POINTS", "status": "PAID"})");
  try {
    importer::rewards_from(parsed.documents, "reward_ledger.json", options());
    FAIL() << "an unknown status was accepted";
  } catch (const importer::ImportError& error) {
    EXPECT_EQ(error.line(), 2U);
  }
  const std::vector<importer::Document> first(parsed.documents.begin(),
                                              parsed.documents.begin() + 1);
  const auto rewards = importer::rewards_from(first, "reward_ledger.json", options());
  EXPECT_EQ(rewards[0].status, "CREDITED");
  EXPECT_EQ(rewards[0].reward_unit, "CASH");
  EXPECT_EQ(rewards[0].reward_value, 10);
}

}  // namespace
