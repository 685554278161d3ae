#pragma once
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/storage_ptr.hpp>

namespace core {

// Storage for the JSON of one response page. Each field of each row would
// otherwise be a malloc and a free (a 50-row page: hundreds); here they come
// from one stack buffer (and rarely one more block), and freeing the page
// skips the per-element destructors since monotonic deallocation is a no-op.
class JsonArena {
 public:
  JsonArena() = default;
  JsonArena(const JsonArena&) = delete;
  JsonArena& operator=(const JsonArena&) = delete;

  boost::json::storage_ptr storage() { return &resource_; }

 private:
  alignas(16) unsigned char buffer_[16 * 1024];
  boost::json::monotonic_resource resource_{buffer_, sizeof buffer_};
};

}  // namespace core
