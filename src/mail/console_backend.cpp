#include "core/log.hpp"
#include "mail/mail_backend.hpp"

namespace mail {

namespace {

// For development: the email, code included, appears in the log.
class ConsoleBackend final : public Backend {
 public:
  void send(const Email& email) override {
    core::log::event(
        "info",
        {{"msg", "email"}, {"to", email.to}, {"subject", email.subject}, {"text", email.text}});
    core::log::flush();
  }
};

}  // namespace

std::unique_ptr<Backend> make_console_backend() {
  return std::make_unique<ConsoleBackend>();
}

}  // namespace mail
