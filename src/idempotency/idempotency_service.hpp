#pragma once
#include <string>

#include "db/database.hpp"

namespace idempotency {

enum class Start { run, replay, mismatch, in_progress };

struct Begin {
  Start start = Start::run;
  int status = 0;    // for replay
  std::string body;  // for replay
};

// Idempotency-Key (docs/API.md): the first request with a key runs; a retry with
// the same request gets the stored answer; the same key with another
// request is refused; a retry while the first runs is told so.
class IdempotencyService {
 public:
  explicit IdempotencyService(db::Database& database) : database_(database) {}

  Begin begin(const std::string& scope, const std::string& key, const std::string& fingerprint);
  void finish(const std::string& scope, const std::string& key, int status, const std::string& body);
  // The first attempt failed without an answer worth keeping (5xx): a retry runs again.
  void forget(const std::string& scope, const std::string& key);

 private:
  db::Database& database_;
};

}  // namespace idempotency
