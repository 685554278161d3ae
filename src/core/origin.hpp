#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace core {

// The web origin of an absolute http(s) URL, as browsers write it in an
// Origin header: "scheme://host[:port]", scheme and host in lower case, the
// scheme's default port left out. nullopt for anything else ("null", a
// relative reference, another scheme).
std::optional<std::string> web_origin(std::string_view url);

}  // namespace core
