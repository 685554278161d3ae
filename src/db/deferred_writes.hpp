#pragma once
#include <soci/session.h>

#include <cstddef>
#include <vector>

namespace db {

// Rows a domain keeps per thread and writes only when the write transaction
// open on this thread is about to commit (db::before_commit): the ledger
// appends its batch there, so the head's row lock is held from its last
// round trips to the COMMIT and not across the rest of the transaction.
struct DeferredWrite {
  // A write that locks a row until the COMMIT (the ledger's head) goes last,
  // so that nothing else is written while it holds the lock.
  enum class Order { first, last };

  void (*write)(soci::session& sql);       // writes what is kept, then forgets it
  std::size_t (*kept)();                   // how many rows are kept
  void (*forget_from)(std::size_t first);  // drops the rows from `first` on
  Order order = Order::last;
};

// The bookkeeping of the code that ends write transactions: Database::write
// (PostgreSQL, nested writes) and the SQLite write job.
namespace deferred_writes {

// Registers `write` for this thread's transaction, unless it is already.
void add(const DeferredWrite& write);

// What was kept when a savepoint or a group-commit job began, to go back to
// if it rolls back: how many rows each write registered then kept, in the
// order they were registered (the writes registered later are not in it).
struct Mark {
  std::vector<std::size_t> kept;
};
Mark mark();
void roll_back_to(const Mark& mark);

// The transaction is about to commit: writes everything kept, the `first`
// writes before the `last` ones, each in the order they were registered. A
// throw fails the transaction.
void write_all(soci::session& sql);
// The transaction rolled back (or is about to start afresh).
void forget_all();

}  // namespace deferred_writes
}  // namespace db
