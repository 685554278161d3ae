#include "db/statement_cache.hpp"

#include <map>
#include <mutex>
#include <utility>

namespace db {

namespace {

// std::map: references to its values survive inserts by other threads.
using Key = std::pair<const soci::session*, std::type_index>;
std::mutex cache_mutex;
std::map<Key, std::shared_ptr<void>> cache;

}  // namespace

std::shared_ptr<void>& detail::cache_slot(soci::session& sql, std::type_index query) {
  std::lock_guard lock(cache_mutex);
  return cache[Key{&sql, query}];
}

void forget_cached(soci::session& sql) {
  std::lock_guard lock(cache_mutex);
  for (auto it = cache.begin(); it != cache.end();) {
    it = it->first.first == &sql ? cache.erase(it) : std::next(it);
  }
}

}  // namespace db
