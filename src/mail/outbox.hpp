#pragma once
#include <soci/session.h>

#include <string>

#include "core/secret_box.hpp"

namespace mail {

struct Email {
  std::string to;
  std::string subject;
  std::string text;
  std::string html;
};

// Writes emails into the outbox table, inside the caller's transaction, so
// an email exists exactly when the change that caused it commits. The
// payload is encrypted with a key derived from the server secret: a leaked
// database does not reveal the one-time codes of queued mail.
class Outbox {
 public:
  explicit Outbox(const std::string& server_secret);
  void enqueue(soci::session& sql, const Email& email) const;
  // For the sender: the email back from a stored payload.
  Email open(const std::string& recipient, const std::string& payload) const;

 private:
  core::SecretBox box_;
};

}  // namespace mail
