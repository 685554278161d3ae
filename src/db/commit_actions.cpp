#include "db/commit_actions.hpp"

#include <algorithm>
#include <vector>

namespace db::commit_actions {

namespace {
// Per thread: a write transaction runs on one thread from BEGIN to COMMIT.
// The list stays short: an action registered twice is kept once.
thread_local std::vector<Action> actions;
}  // namespace

void add(Action action) {
  if (std::find(actions.begin(), actions.end(), action) == actions.end()) actions.push_back(action);
}

std::size_t pending() {
  return actions.size();
}

void drop_from(std::size_t first) {
  if (first < actions.size()) actions.resize(first);
}

void run_all() noexcept {
  for (const auto action : actions) action();
  actions.clear();
}

void drop_all() {
  actions.clear();
}

}  // namespace db::commit_actions
