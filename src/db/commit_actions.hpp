#pragma once
#include <cstddef>

// The actions db::after_commit registered on this thread's write transaction,
// for the code that ends it: Database::write on PostgreSQL and for nested
// writes, GroupCommitter on SQLite (whose writes run on its thread).
namespace db::commit_actions {

// noexcept: the commit stands whatever happens after it.
using Action = void (*)() noexcept;

// Adds `action` unless it is pending already.
void add(Action action);
// How many are pending: a savepoint or a group-commit job notes it before
// its work and drops what came after if it rolls back.
std::size_t pending();
void drop_from(std::size_t first);
// The transaction committed: runs every pending action once, in order.
void run_all() noexcept;
// The transaction rolled back (or is about to start afresh).
void drop_all();

}  // namespace db::commit_actions
