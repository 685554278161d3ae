#include "webapp/webapp_assets.hpp"

#include <stdexcept>

#include "core/embedded.hpp"
#include "core/random.hpp"

namespace webapp {

namespace {

constexpr std::string_view kFolder = "web/";
constexpr std::string_view kAssetsPlaceholder = "{{ASSETS}}";

std::string content_type_of(std::string_view file) {
  const auto dot = file.rfind('.');
  const auto extension = dot == std::string_view::npos ? std::string_view{} : file.substr(dot);
  if (extension == ".js") return "text/javascript; charset=utf-8";
  if (extension == ".css") return "text/css; charset=utf-8";
  if (extension == ".html") return "text/html; charset=utf-8";
  if (extension == ".svg") return "image/svg+xml";
  return "application/octet-stream";
}

std::string hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (const unsigned char byte : bytes) {
    out += kDigits[byte >> 4];
    out += kDigits[byte & 15];
  }
  return out;
}

std::string replace_all(std::string text, std::string_view from, std::string_view to) {
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

}  // namespace

WebAssets::WebAssets() {
  std::string everything;
  for (const auto& file : core::embedded_files()) {
    if (!file.name.starts_with(kFolder)) continue;
    const auto name = std::string(file.name.substr(kFolder.size()));
    everything.append(name).append(1, '\0').append(file.content).append(1, '\0');
    auto& slot = name.ends_with(".html") ? pages_[name] : assets_[name];
    slot = {content_type_of(name), std::string(file.content)};
  }
  // 12 bytes of a keyed hash: collisions between two builds are not a concern.
  build_ = hex(core::hmac_sha256("referrald web build", everything).substr(0, 12));
  etag_ = "\"" + build_ + "\"";
  for (const char* required : {"index.html", "admin.html"}) {
    if (!pages_.contains(required))
      throw std::logic_error(std::string("web/") + required + " is not embedded");
  }
  for (auto& [name, page] : pages_)
    page.body = replace_all(page.body, kAssetsPlaceholder, "/assets/" + build_);
}

const Asset* WebAssets::asset(std::string_view build, std::string_view file) const {
  if (build != build_) return nullptr;
  const auto found = assets_.find(file);
  return found == assets_.end() ? nullptr : &found->second;
}

}  // namespace webapp
