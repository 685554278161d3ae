#include <curl/curl.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <mutex>
#include <stdexcept>

#include "core/curl_global.hpp"
#include "core/clock.hpp"
#include "mail/mail_backend.hpp"
#include "mail/mime.hpp"

namespace mail {

namespace {

struct Upload {
  std::string_view remaining;
};

std::size_t read_upload(char* buffer, std::size_t size, std::size_t count, void* user) {
  auto& upload = *static_cast<Upload*>(user);
  const auto n = std::min(size * count, upload.remaining.size());
  std::memcpy(buffer, upload.remaining.data(), n);
  upload.remaining.remove_prefix(n);
  return n;
}

std::string server_url(const core::Config& config) {
  const bool ipv6 = config.email_host.find(':') != std::string::npos;
  const auto host = ipv6 ? "[" + config.email_host + "]" : config.email_host;
  // smtps:// is TLS from the first byte (EMAIL_USE_SSL); smtp:// may upgrade
  // with STARTTLS (EMAIL_USE_TLS, enforced by CURLOPT_USE_SSL).
  return (config.email_use_ssl ? "smtps://" : "smtp://") + host + ":" +
         std::to_string(config.email_port);
}

using Handle = std::unique_ptr<CURL, decltype(&curl_easy_cleanup)>;
using List = std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)>;

class SmtpBackend final : public Backend {
 public:
  explicit SmtpBackend(const core::Config& config)
      : url_(server_url(config)),
        from_(config.default_from_email),
        envelope_from_("<" + mailbox_address(config.default_from_email) + ">"),
        user_(config.email_host_user),
        password_(config.email_host_password),
        require_tls_(config.email_use_tls),
        timeout_ms_(config.email_timeout_ms) {
    core::init_curl_once();
  }

  void send(const Email& email) override {
    const auto message = build_mime(email, from_, core::now_ms());
    Upload upload{message};
    List recipients(curl_slist_append(nullptr, ("<" + mailbox_address(email.to) + ">").c_str()),
                    &curl_slist_free_all);
    Handle curl(curl_easy_init(), &curl_easy_cleanup);
    if (!curl || !recipients) throw std::runtime_error("smtp: out of memory");
    char error[CURL_ERROR_SIZE] = {};
    configure(curl.get(), error);
    curl_easy_setopt(curl.get(), CURLOPT_MAIL_RCPT, recipients.get());
    curl_easy_setopt(curl.get(), CURLOPT_READDATA, &upload);
    const auto code = curl_easy_perform(curl.get());
    if (code != CURLE_OK) throw std::runtime_error(describe(curl.get(), code, error));
  }

 private:
  void configure(CURL* curl, char* error) const {
    curl_easy_setopt(curl, CURLOPT_URL, url_.c_str());
    curl_easy_setopt(curl, CURLOPT_MAIL_FROM, envelope_from_.c_str());
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_upload);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);  // timeouts must not raise SIGALRM in threads
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(timeout_ms_));
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_ms_));
    if (require_tls_) curl_easy_setopt(curl, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
    if (!user_.empty()) {
      curl_easy_setopt(curl, CURLOPT_USERNAME, user_.c_str());
      curl_easy_setopt(curl, CURLOPT_PASSWORD, password_.c_str());
    }
  }

  // curl's own words plus the server's last reply code, e.g.
  // "smtp: Failed sending data to the peer (reply 452)".
  static std::string describe(CURL* curl, CURLcode code, const char* error) {
    std::string out = "smtp: ";
    out += error[0] != '\0' ? error : curl_easy_strerror(code);
    long reply = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply);
    if (reply != 0) out += " (reply " + std::to_string(reply) + ")";
    return out;
  }

  std::string url_;
  std::string from_;
  std::string envelope_from_;
  std::string user_;
  std::string password_;
  bool require_tls_;
  std::int64_t timeout_ms_;
};

}  // namespace

std::unique_ptr<Backend> make_smtp_backend(const core::Config& config) {
  return std::make_unique<SmtpBackend>(config);
}

}  // namespace mail
