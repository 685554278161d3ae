// referrald command line: serve (default) | migrate | routes | users | api-keys | import-mongo | ledger verify
#include <CLI/CLI.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "app/app.hpp"
#include "core/config.hpp"
#include "core/log.hpp"

namespace {

struct Flags {
  std::string env_file = "./.env";
  bool env_file_given = false;
  std::vector<std::string> overrides;  // NAME=VALUE
  std::string host, port, database_url;
};

core::RawSettings load_settings(const Flags& flags) {
  core::RawSettings raw;
  if (std::filesystem::exists(flags.env_file)) {
    std::ifstream in(flags.env_file);
    std::stringstream text;
    text << in.rdbuf();
    raw = core::parse_env_file(text.str());
  } else if (flags.env_file_given) {
    throw core::ConfigError("--env-file: " + flags.env_file + " does not exist");
  }
  for (auto& [name, value] : core::settings_from_environment()) raw[name] = value;
  for (const auto& item : flags.overrides) {
    const auto eq = item.find('=');
    if (eq == std::string::npos) throw core::ConfigError("--set: expected NAME=VALUE, got '" + item + "'");
    raw[item.substr(0, eq)] = item.substr(eq + 1);
  }
  if (!flags.host.empty()) raw["HOST"] = flags.host;
  if (!flags.port.empty()) raw["PORT"] = flags.port;
  if (!flags.database_url.empty()) raw["DATABASE_URL"] = flags.database_url;
  return raw;
}

std::string read_password_line() {
  std::string password;
  std::getline(std::cin, password);
  if (!password.empty() && password.back() == '\r') password.pop_back();
  return password;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{"referrald: referral & reward API server"};
  cli.set_version_flag("--version", std::string("referrald ") + REFERRALD_VERSION);
  // Subcommands inherit this, so `referrald serve --port 9000` works as well
  // as `referrald --port 9000 serve`.
  cli.fallthrough();
  Flags flags;
  cli.add_option("--env-file", flags.env_file, "Read settings from this .env file (default ./.env)")
      ->each([&](const std::string&) { flags.env_file_given = true; });
  cli.add_option("--host", flags.host, "Listen address (HOST)");
  cli.add_option("--port", flags.port, "Listen port (PORT)");
  cli.add_option("--database-url", flags.database_url, "DATABASE_URL");
  cli.add_option("-s,--set", flags.overrides, "Override any setting: NAME=VALUE (repeatable)");

  auto* serve = cli.add_subcommand("serve", "Migrate, then serve HTTP (the default)");
  auto* migrate = cli.add_subcommand("migrate", "Apply pending schema migrations");
  auto* routes = cli.add_subcommand("routes", "List every route the server answers");
  auto* users = cli.add_subcommand("users", "Manage accounts");
  users->require_subcommand(1);
  std::string admin_email, admin_name, role_email;
  bool password_stdin = false;
  auto* create_admin = users->add_subcommand("create-admin", "Create a verified admin (or promote the account)");
  create_admin->add_option("--email", admin_email, "Email")->required();
  create_admin->add_option("--name", admin_name, "Name")->required();
  create_admin->add_flag("--password-stdin", password_stdin, "Read the password from standard input")->required();
  auto* promote = users->add_subcommand("promote", "Make an account an admin");
  promote->add_option("email", role_email, "Email")->required();
  auto* demote = users->add_subcommand("demote", "Take admin rights away");
  demote->add_option("email", role_email, "Email")->required();
  auto* api_keys = cli.add_subcommand("api-keys", "Manage API keys");
  api_keys->require_subcommand(1);
  std::string api_key_name;
  std::vector<std::string> api_key_scopes;
  auto* create_api_key =
      api_keys->add_subcommand("create", "Create an API key and print it (shown only once)");
  create_api_key->add_option("--name", api_key_name, "Name, 1 to 100 characters")->required();
  create_api_key
      ->add_option("--scope", api_key_scopes,
                   "A scope (repeatable): events:write, rewards:read, "
                   "rewards:write, referrals:read, webhooks:manage")
      ->required();
  std::string import_dir;
  auto* import_mongo = cli.add_subcommand("import-mongo", "Import the original service's mongoexport JSON files");
  import_mongo->add_option("dir", import_dir, "Folder with users.json, referral.json, reward_config.json, ...")
      ->required();
  auto* ledger = cli.add_subcommand("ledger", "Audit the reward ledger");
  ledger->require_subcommand(1);
  auto* ledger_verify =
      ledger->add_subcommand("verify", "Re-walk the hash chain and the projections; exit 1 at the first break");
  cli.require_subcommand(0, 1);
  CLI11_PARSE(cli, argc, argv);

  std::unique_ptr<app::App> application;
  try {
    application = std::make_unique<app::App>(core::parse_config(load_settings(flags)));
  } catch (const core::ConfigError& error) {
    std::cerr << "referrald: configuration error: " << error.what() << '\n';
    return 2;
  }
  try {
    if (*migrate) return application->migrate();
    if (*routes) return application->print_routes();
    if (*create_admin) return application->create_admin(admin_email, admin_name, read_password_line());
    if (*promote) return application->set_admin(role_email, true);
    if (*demote) return application->set_admin(role_email, false);
    if (*import_mongo) return application->import_mongo(import_dir);
    if (*create_api_key) return application->create_api_key(api_key_name, api_key_scopes);
    if (*ledger_verify) return application->ledger_verify();
    (void)serve;
    return application->serve();
  } catch (const std::exception& error) {
    core::log::error(error.what());
    std::cerr << "referrald: " << error.what() << '\n';
    return 1;
  }
}
