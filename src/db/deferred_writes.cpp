#include "db/deferred_writes.hpp"

#include <algorithm>

namespace db::deferred_writes {

namespace {
// Per thread: a write transaction runs on one thread from BEGIN to COMMIT.
thread_local std::vector<const DeferredWrite*> registered;
}  // namespace

void add(const DeferredWrite& write) {
  if (std::find(registered.begin(), registered.end(), &write) == registered.end())
    registered.push_back(&write);
}

Mark mark() {
  Mark mark;
  for (const auto* write : registered) mark.kept.push_back(write->kept());
  return mark;
}

void roll_back_to(const Mark& mark) {
  // The writes registered before the mark are its prefix; the later ones
  // forget everything they kept.
  for (std::size_t n = 0; n < registered.size(); ++n) {
    registered[n]->forget_from(n < mark.kept.size() ? mark.kept[n] : 0);
  }
  registered.resize(std::min(registered.size(), mark.kept.size()));
}

void write_all(soci::session& sql) {
  for (const auto order : {DeferredWrite::Order::first, DeferredWrite::Order::last}) {
    for (const auto* write : registered)
      if (write->order == order) write->write(sql);
  }
  registered.clear();
}

void forget_all() {
  for (const auto* write : registered) write->forget_from(0);
  registered.clear();
}

}  // namespace db::deferred_writes
