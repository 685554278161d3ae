#include "mail/mail_backend.hpp"

namespace mail {

std::unique_ptr<Backend> make_backend(const core::Config& config) {
  switch (config.email_backend) {
    case core::EmailBackend::file:
      return make_file_backend(config.email_file_path, config.default_from_email);
    case core::EmailBackend::smtp:
      return make_smtp_backend(config);
    case core::EmailBackend::console:
      break;
  }
  return make_console_backend();
}

}  // namespace mail
