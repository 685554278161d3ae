#pragma once
#include <optional>
#include <string>
#include <vector>

#include "core/cursor.hpp"
#include "http/message.hpp"

namespace http {

struct PageRequest {
  int limit = 50;
  std::optional<core::Cursor> after;
};

// Reads ?limit= (default 50, 1..200) and ?cursor=; 400 validation_error otherwise.
PageRequest page_request(const Request& request, int default_limit = 50, int max_limit = 200);

// Adds `Link: <path?limit=N&cursor=...>; rel="next"` (RFC 8288) when there is a next page,
// keeping the request's other query parameters.
void link_next_page(Response& response, const Request& request, const PageRequest& page,
                    const std::optional<core::Cursor>& next);

// The next cursor when `fetched` reached the limit (the page was full).
template <class Item, class Key>
std::optional<core::Cursor> next_cursor(const std::vector<Item>& items, const PageRequest& page, Key key) {
  if (static_cast<int>(items.size()) < page.limit || items.empty()) return std::nullopt;
  return key(items.back());
}

}  // namespace http
