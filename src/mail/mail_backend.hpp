#pragma once
#include <memory>
#include <string>

#include "core/config.hpp"
#include "mail/outbox.hpp"

namespace mail {

// Delivers one email; throws std::exception with a readable reason when it
// could not (the sender then retries later).
class Backend {
 public:
  virtual ~Backend() = default;
  virtual void send(const Email& email) = 0;
};

// EMAIL_BACKEND: console (a log line), file (.eml files in EMAIL_FILE_PATH),
// smtp (libcurl).
std::unique_ptr<Backend> make_backend(const core::Config& config);

std::unique_ptr<Backend> make_console_backend();
std::unique_ptr<Backend> make_file_backend(std::string directory, std::string from);
std::unique_ptr<Backend> make_smtp_backend(const core::Config& config);

}  // namespace mail
