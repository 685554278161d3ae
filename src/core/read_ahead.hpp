#pragma once
#include <functional>
#include <future>
#include <optional>
#include <utility>

namespace core {

// Pages read one ahead: while the caller works on the page next() returned,
// the page after it is read on a second thread, so the reads overlap the
// work. `key_after(page)` names the page after `page`, or nullopt when
// `page` was the last; the first page is read on the caller's thread. Used
// where reading is most of the CPU and the work on a page the rest (ledger
// verify, the payout export: docs/PERFORMANCE.md). An exception thrown by a
// read comes out of the next() that wanted its page. Destroying the reader
// waits for a read still under way.
template <class Key, class Page>
class ReadAhead {
 public:
  using Read = std::function<Page(const Key&)>;
  using KeyAfter = std::function<std::optional<Key>(const Page&)>;

  ReadAhead(Read read, KeyAfter key_after, Key first)
      : read_(std::move(read)),
        key_after_(std::move(key_after)),
        pending_(std::async(std::launch::deferred, read_, std::move(first))) {}

  // The next page, or nullopt after the last.
  std::optional<Page> next() {
    if (!pending_.valid()) return std::nullopt;
    auto page = pending_.get();
    if (auto key = key_after_(page)) {
      pending_ = std::async(std::launch::async, read_, std::move(*key));
    }
    return page;
  }

  // False once next() has returned the last page.
  bool more() const { return pending_.valid(); }

 private:
  Read read_;
  KeyAfter key_after_;
  std::future<Page> pending_;
};

}  // namespace core
