#pragma once
#include <functional>
#include <string>

#include "db/database.hpp"

namespace idempotency {

enum class Start { run, replay, mismatch };

// A request's answer as the key keeps it.
struct Answer {
  int status = 0;
  std::string body;
};

struct Outcome {
  Start start = Start::run;
  Answer answer;  // the stored one, for replay
};

// Idempotency-Key (docs/API.md): the first request with a key runs; a retry
// with the same request gets the stored answer; the same key with another
// request is refused.
//
// The key is recorded in the transaction of the request's effect, so a
// crash leaves the effect with its key or neither (a separate claim
// transaction left keys "running" for minutes after a kill -9 whose request
// never took effect). A concurrent duplicate waits on the key's row until
// the first commits (PostgreSQL: the unique index; SQLite: one writer),
// then replays its answer.
class IdempotencyService {
 public:
  explicit IdempotencyService(db::Database& database) : database_(database) {}

  // Runs `work` once per (scope, key) inside one write transaction with the
  // key's row; its writes through this Database join that transaction.
  // `work` throws to roll everything back (the key included).
  Outcome once(const std::string& scope, const std::string& key, const std::string& fingerprint,
               const std::function<Answer()>& work);

 private:
  db::Database& database_;
};

}  // namespace idempotency
