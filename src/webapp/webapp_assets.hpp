#pragma once
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace webapp {

struct Asset {
  std::string content_type;
  std::string body;
};

// The console's files (web/ in the repository, compiled into the binary).
// Every asset is served under /assets/<build>/<file>, where <build> is a
// hash of all of web/: a changed file changes the directory, so assets can
// be cached for ever, and an ES module's relative import ('./api.js')
// resolves into the same directory without rewriting any file.
class WebAssets {
 public:
  WebAssets();  // reads the embedded files; throws std::logic_error if a page is missing

  const std::string& build() const { return build_; }
  const std::string& etag() const {
    return etag_;
  }  // "\"<build>\"", the same for every file of a build
  // The HTML pages with their asset URLs filled in: "index.html", "admin.html".
  const Asset& page(const std::string& name) const { return pages_.at(name); }
  const Asset* asset(std::string_view build, std::string_view file) const;  // null when unknown

 private:
  std::string build_;
  std::string etag_;
  std::map<std::string, Asset, std::less<>> assets_;
  std::map<std::string, Asset> pages_;
};

}  // namespace webapp
