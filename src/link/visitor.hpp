#pragma once
#include <string>
#include <string_view>

// What a click keeps of its visitor: a family for the user agent, the host of
// the referring page, never more (the client IP only through a keyed hash,
// see LinkService).
namespace links {

enum class AgentFamily { browser, bot, other };

// `bot` for crawlers and link-preview fetchers (they get the redirect but are
// not counted), `browser` for agents that say Mozilla/Opera, `other` else.
AgentFamily agent_family(std::string_view user_agent);
const char* family_name(AgentFamily family);

// "https://news.example.com:8443/a?b" -> "news.example.com"; "" when the
// header is absent or not an absolute http(s) URL. Lower case, at most 253 bytes.
std::string referrer_host(std::string_view referer);

}  // namespace links
