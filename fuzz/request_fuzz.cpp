// The whole request path in process: raw bytes -> Beast's request parser
// with the server's limits -> the server's routing (http/dispatch.cpp) ->
// every route of the App on a real, migrated SQLite (or PostgreSQL) database
// -> a response.
// An input may hold several pipelined requests, like a keep-alive connection.
//
// Every answer must be a 2xx-4xx, or 503 with the codes the server uses on
// purpose (database_unavailable, server_busy): a 500 is a finding. Error
// bodies must be docs/API.md's {"error", "code"} without internal details, JSON
// answers must parse, and no exception may escape.
//
// So that the corpus reaches authenticated handlers, the harness seeds a
// user (with a referral code, a referee and a reward) and an admin, and
// replaces placeholders in each input before parsing: {{USER}} {{ADMIN}}
// (bearer tokens), {{USER_ID}} {{REFERRAL_CODE}} {{REWARD_ID}} {{CONFIG_ID}}.
// Inputs may log a seeded account out; the harness then logs in again, so
// the next input's tokens work.
#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <variant>

#include "app/app.hpp"
#include "http/beast_message.hpp"
#include "http/dispatch.hpp"

namespace {

namespace bhttp = boost::beast::http;
namespace json = boost::json;

constexpr std::string_view kPeer = "127.0.0.1";
constexpr std::string_view kPassword = "fuzzing-password-1";

[[noreturn]] void fail(std::string_view why, const http::Response& response) {
  std::fprintf(stderr, "request_fuzz: %.*s: status %d body %s\n", static_cast<int>(why.size()), why.data(),
               response.status, response.body.c_str());
  __builtin_trap();
}

std::filesystem::path make_scratch_dir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "referrald-fuzz-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) std::abort();
  return pattern;
}

// A SQLite file in `dir`, or REQUEST_FUZZ_DATABASE_URL: an empty PostgreSQL
// database (fuzz/request_postgresql.py makes one), which refuses text that
// SQLite stores (bytes that are not UTF-8), so it finds 500s SQLite cannot.
std::string database_url(const std::filesystem::path& dir) {
  if (const char* url = std::getenv("REQUEST_FUZZ_DATABASE_URL")) return url;
  return "sqlite://" + (dir / "fuzz.db").string();
}

// Cheap hashing, no per-IP limit and no account lockout: otherwise a few
// fuzzed logins would throttle every later input (and the harness's own
// re-login). synchronous=OFF: a crash of the fuzzer need not keep the data.
core::Config fuzz_config(const std::filesystem::path& dir) {
  return core::parse_config({{"DATABASE_URL", database_url(dir)},
                             {"JWT_SECRET", "request fuzzing secret, long enough to be accepted"},
                             {"ALLOW_WEAK_PASSWORD_HASHING", "true"},
                             {"ARGON2_OPS", "1"},
                             {"ARGON2_MEMORY_KIB", "8"},
                             {"EMAIL_BACKEND", "file"},
                             {"EMAIL_FILE_PATH", (dir / "mail").string()},
                             {"RATE_LIMIT_PER_IP", "0"},
                             {"LOGIN_MAX_FAILURES", "1000000"},
                             {"SQLITE_SYNCHRONOUS", "OFF"},
                             {"DB_POOL_SIZE", "2"},
                             {"CORS_ALLOWED_ORIGINS", "https://app.example"},
                             {"TRUSTED_PROXIES", std::string(kPeer)}});
}

struct Account {
  std::string email;
  std::string token;
  std::string id;
};

class Fixture {
 public:
  Fixture() : dir_(make_scratch_dir()), config_(fuzz_config(dir_)) {
    middleware_ = {config_.cors_allowed_origins, config_.trusted_proxies};
    create_account(admin_.email, true);
    create_account(user_.email, false);
    create_account(referee_.email, false);
    app_ = std::make_unique<app::App>(config_);
    router_ = &app_->build_in_process();
    for (Account* account : {&admin_, &user_, &referee_}) log_in(*account);
    seed_ledger();
  }

  ~Fixture() {
    app_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  void run(std::string input) {
    const bool uses_tokens = substitute(input);
    std::string_view rest(input);
    while (!rest.empty()) {
      bool keep_alive = false;
      const auto used = serve_one(rest, keep_alive);
      if (used == 0 || !keep_alive) break;
      rest.remove_prefix(used);
    }
    if (uses_tokens) {
      for (Account* account : {&admin_, &user_}) refresh(*account);
    }
  }

 private:
  // A verified account through the command line's own path (`users
  // create-admin`, then `demote`): each command builds its App, as the CLI does.
  void create_account(const std::string& email, bool is_admin) {
    app::App(config_).create_admin(email, "Fuzz " + email.substr(0, email.find('@')), std::string(kPassword));
    if (!is_admin) app::App(config_).set_admin(email, false);
  }

  http::Response call(const std::string& method, const std::string& path, const std::string& token,
                      const std::string& body) {
    http::Request request;
    request.method = method;
    request.path = request.raw_target = path;
    request.client_ip = kPeer;
    request.request_id = "request-fuzz-seed";
    if (!token.empty()) request.headers.emplace_back("Authorization", "Bearer " + token);
    if (!body.empty()) request.headers.emplace_back("Content-Type", "application/json");
    request.body = body;
    return http::handle_in_process(*router_, request, middleware_);
  }

  json::value seed_call(const std::string& method, const std::string& path, const std::string& token,
                        const std::string& body = "") {
    const auto response = call(method, path, token, body);
    if (response.status >= 300) fail("seeding " + path, response);
    return json::parse(response.body);
  }

  void log_in(Account& account) {
    const json::object body{{"email", account.email}, {"password", kPassword}};
    const auto answer = seed_call("POST", "/api/auth/login", "", json::serialize(body));
    account.token = answer.at("token").as_string();
    account.id = answer.at("user").at("id").as_string();
  }

  // A SIGNUP config, the user's code applied by the referee: one reward.
  void seed_ledger() {
    const auto config = seed_call("POST", "/api/admin/reward-config", admin_.token,
                                  R"({"reward_type": "SIGNUP", "reward_value": 100, "reward_unit": "POINTS"})");
    config_id_ = config.at("id").as_string();
    referral_code_ = seed_call("POST", "/api/referral/generate", user_.token).at("referral_code").as_string();
    seed_call("POST", "/api/referral/apply", referee_.token,
              json::serialize(json::object{{"referral_code", referral_code_}}));
    reward_id_ = seed_call("GET", "/api/rewards/history", user_.token).at(0).at("reward_id").as_string();
  }

  void refresh(Account& account) {
    if (call("POST", "/api/auth/verify-session", account.token, "").status == 401) log_in(account);
  }

  // Returns whether the input names a token.
  bool substitute(std::string& input) const {
    const std::pair<std::string_view, const std::string*> values[] = {
        {"{{USER}}", &user_.token},        {"{{ADMIN}}", &admin_.token},
        {"{{USER_ID}}", &user_.id},        {"{{REFERRAL_CODE}}", &referral_code_},
        {"{{REWARD_ID}}", &reward_id_},    {"{{CONFIG_ID}}", &config_id_}};
    bool tokens = false;
    for (const auto& [name, value] : values) {
      for (auto at = input.find(name); at != std::string::npos; at = input.find(name, at + value->size())) {
        input.replace(at, name.size(), *value);
        tokens = tokens || value == &user_.token || value == &admin_.token;
      }
    }
    return tokens;
  }

  // Reads one request from the front of `bytes` as the server's connection
  // does (an input that ends early is the client closing), answers it and
  // checks the answer. Returns the bytes used; 0 ends the connection.
  std::size_t serve_one(std::string_view bytes, bool& keep_alive) {
    if (const auto refusal = http::refuse_raw_header(bytes, middleware_)) {
      check(*refusal);
      return 0;
    }
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(config_.max_header_bytes));
    parser.body_limit(config_.max_body_bytes);
    parser.eager(true);
    boost::beast::error_code ec;
    std::size_t used = 0;
    while (!parser.is_done()) {
      const auto n = parser.put(boost::asio::buffer(bytes.data() + used, bytes.size() - used), ec);
      used += n;
      if (ec && ec != bhttp::error::need_more) break;
      ec = {};
      if (n > 0) continue;
      // No progress: the request needs bytes the input does not have, so
      // the client closed the connection here.
      if (!parser.got_some()) return 0;
      parser.put_eof(ec);
      if (!ec && !parser.is_done()) return 0;
      break;
    }
    if (ec) {
      check(http::read_error_response(ec, middleware_));
      return 0;
    }
    auto message = parser.release();
    keep_alive = message.keep_alive();
    auto accepted = http::accept_request(message, std::string(kPeer), middleware_);
    if (const auto* refusal = std::get_if<http::Response>(&accepted)) {
      check(*refusal);
      return 0;
    }
    check(http::handle_in_process(*router_, std::get<http::Request>(accepted), middleware_));
    return used;
  }

  static void check(const http::Response& response) {
    // REQUEST_FUZZ_TRACE=1 prints every answer: to see what a seed reaches.
    static const bool trace = std::getenv("REQUEST_FUZZ_TRACE") != nullptr;
    if (trace) std::fprintf(stderr, "request_fuzz: %d %s\n", response.status, response.body.substr(0, 300).c_str());
    if (response.status < 200 || response.status > 599) fail("status out of range", response);
    if (response.header("X-Request-Id").empty()) fail("no X-Request-Id", response);
    const bool deliberate_503 = response.status == 503 && (response.error_code == "database_unavailable" ||
                                                           response.error_code == "server_busy");
    if (response.status >= 500 && !deliberate_503) fail("server error", response);
    if (response.status >= 400) {
      check_error_body(response);
    } else if (response.header("Content-Type").starts_with("application/json")) {
      boost::system::error_code ec;
      (void)json::parse(response.body, ec);
      if (ec) fail("invalid JSON", response);
    }
  }

  // docs/API.md, Errors: exactly {"error": "<sentence>", "code": "<snake_case>"}.
  static void check_error_body(const http::Response& response) {
    boost::system::error_code ec;
    const auto body = json::parse(response.body, ec);
    if (ec || !body.is_object() || body.as_object().size() != 2) fail("error body shape", response);
    const auto* error = body.as_object().if_contains("error");
    const auto* code = body.as_object().if_contains("code");
    if (!error || !error->is_string() || error->as_string().empty()) fail("error sentence", response);
    if (!code || !code->is_string() || code->as_string().empty()) fail("error code", response);
    for (const char c : code->as_string()) {
      if (!(c == '_' || (c >= 'a' && c <= 'z'))) fail("error code not snake_case", response);
    }
    if (mentions_internals(error->as_string())) fail("internal details in an error", response);
  }

  // docs/API.md, Errors: internal details (SQL, library errors) never reach a client.
  static bool mentions_internals(std::string_view sentence) {
    std::string lower(sentence);
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (const char* word : {"sqlite", "soci", "postgres", "constraint", "syntax error", "exception"}) {
      if (lower.find(word) != std::string::npos) return true;
    }
    return false;
  }

  std::filesystem::path dir_;
  core::Config config_;
  http::MiddlewareConfig middleware_;
  std::unique_ptr<app::App> app_;
  const http::Router* router_ = nullptr;
  Account admin_{"admin@fuzz.test", "", ""};
  Account user_{"user@fuzz.test", "", ""};
  Account referee_{"referee@fuzz.test", "", ""};
  std::string config_id_;
  std::string referral_code_;
  std::string reward_id_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Fixture fixture;
  fixture.run(std::string(reinterpret_cast<const char*>(data), size));
  return 0;
}
