#include "link/visitor.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace links {

namespace {

// The one list of agents that are redirected but never counted: link
// previews (chat apps unfurling a pasted link), search crawlers, and the
// usual HTTP libraries and tools. Matched case-insensitively as substrings.
constexpr std::array<std::string_view, 23> kBotMarkers = {
    "bot",  // Googlebot, bingbot, Twitterbot, Discordbot, TelegramBot, LinkedInBot, Slackbot, ...
    "crawler",
    "spider",
    "slurp",
    "facebookexternalhit",
    "facebookcatalog",
    "whatsapp",
    "skypeuripreview",
    "embedly",
    "vkshare",
    "pinterest",
    "redditbot",
    "applebot",
    "curl/",
    "wget/",
    "python-requests",
    "python-urllib",
    "aiohttp",
    "go-http-client",
    "okhttp",
    "java/",
    "libwww-perl",
    "httpie"};

std::string lowered(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

constexpr std::size_t kMaxHostBytes = 253;

}  // namespace

AgentFamily agent_family(std::string_view user_agent) {
  const auto agent = lowered(user_agent);
  for (const auto marker : kBotMarkers) {
    if (agent.find(marker) != std::string::npos) return AgentFamily::bot;
  }
  if (agent.starts_with("mozilla/") || agent.starts_with("opera/")) return AgentFamily::browser;
  return AgentFamily::other;
}

const char* family_name(AgentFamily family) {
  switch (family) {
    case AgentFamily::browser:
      return "browser";
    case AgentFamily::bot:
      return "bot";
    case AgentFamily::other:
      return "other";
  }
  return "other";
}

std::string referrer_host(std::string_view referer) {
  auto text = lowered(referer);
  for (const std::string_view scheme : {"https://", "http://"}) {
    if (!text.starts_with(scheme)) continue;
    auto host = text.substr(scheme.size());
    host = host.substr(0, host.find_first_of("/?#"));
    if (const auto at = host.rfind('@'); at != std::string::npos) host = host.substr(at + 1);
    // The port goes; an IPv6 literal keeps its brackets.
    host = host.starts_with('[') ? host.substr(0, host.find(']') + 1) : host.substr(0, host.find(':'));
    const bool plain = std::all_of(host.begin(), host.end(), [](unsigned char c) {
      return std::isalnum(c) || c == '.' || c == '-' || c == '[' || c == ']' || c == ':';
    });
    if (!plain || host.size() > kMaxHostBytes) return "";
    return host;
  }
  return "";
}

}  // namespace links
