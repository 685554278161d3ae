#include "importer/export_dir.hpp"

#include <fstream>
#include <sstream>

namespace importer {

namespace {

namespace fs = std::filesystem;

// The original's MongoEngine collection names.
constexpr const char* kCollections[] = {"users",         "referral", "reward_config",
                                        "reward_ledger", "otps",     "session"};

std::optional<fs::path> export_file(const fs::path& dir, const std::string& collection) {
  const auto json = dir / (collection + ".json");
  const auto lines = dir / (collection + ".jsonl");
  const bool has_json = fs::is_regular_file(json);
  const bool has_lines = fs::is_regular_file(lines);
  if (has_json && has_lines) {
    throw ImportError(lines.string(), 0,
                      "both " + json.filename().string() + " and " + lines.filename().string() +
                          " exist; keep one");
  }
  if (has_json) return json;
  if (has_lines) return lines;
  return std::nullopt;
}

std::string read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ImportError(path.string(), 0, "cannot be read");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

struct Collection {
  std::string file;  // the name errors and notes cite
  std::vector<Document> documents;
};

// Parsed documents of one collection; none when its file is absent.
Collection collection_of(const fs::path& dir, const std::string& name) {
  const auto path = export_file(dir, name);
  if (!path) return {name + ".json", {}};
  Collection collection{path->filename().string(), {}};
  auto parsed = parse_export(read_all(*path));
  if (parsed.failure)
    throw ImportError(collection.file, parsed.failure->line, parsed.failure->reason);
  collection.documents = std::move(parsed.documents);
  return collection;
}

template <class Convert>
auto records_of(const fs::path& dir, const std::string& name, const RecordOptions& options,
                Convert convert, std::string& file) {
  const auto collection = collection_of(dir, name);
  file = collection.file;
  return convert(collection.documents, collection.file, options);
}

void require_some_file(const fs::path& dir) {
  if (!fs::is_directory(dir)) throw ImportError(dir.string(), 0, "is not a folder");
  for (const char* collection : kCollections) {
    if (export_file(dir, collection)) return;
  }
  throw ImportError(
      dir.string(), 0,
      "holds none of users.json, referral.json, reward_config.json, reward_ledger.json, "
      "otps.json, session.json (.jsonl is accepted too)");
}

}  // namespace

OriginalData read_export_dir(const fs::path& dir, const RecordOptions& options) {
  require_some_file(dir);
  OriginalData data;
  data.users = records_of(dir, "users", options, users_from, data.users_file);
  data.codes = records_of(dir, "referral", options, codes_from, data.codes_file);
  data.configs = records_of(dir, "reward_config", options, configs_from, data.configs_file);
  data.rewards = records_of(dir, "reward_ledger", options, rewards_from, data.rewards_file);
  data.otps = collection_of(dir, "otps").documents.size();
  data.sessions = collection_of(dir, "session").documents.size();
  return data;
}

}  // namespace importer
