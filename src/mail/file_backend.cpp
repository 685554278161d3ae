#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "core/clock.hpp"
#include "core/random.hpp"
#include "mail/mail_backend.hpp"
#include "mail/mime.hpp"

namespace mail {

namespace {

[[noreturn]] void fail(const std::string& what, const std::filesystem::path& path) {
  throw std::runtime_error(what + " " + path.string() + ": " + std::strerror(errno));
}

// Writes and fsyncs `data` into `path`: the message is on disk before the
// outbox row is marked sent.
void write_durably(const std::filesystem::path& path, const std::string& data) {
  // The message holds a one-time code: for the server's user only.
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) fail("cannot create", path);
  std::size_t done = 0;
  while (done < data.size()) {
    const auto n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      fail("cannot write", path);
    }
    done += static_cast<std::size_t>(n);
  }
  const bool synced = ::fsync(fd) == 0;
  if (::close(fd) != 0 || !synced) fail("cannot write", path);
}

// The rename itself is durable only once the directory is synced.
void sync_directory(const std::filesystem::path& directory) {
  const int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) fail("cannot open", directory);
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!synced) fail("cannot sync", directory);
}

// The folder of codes is the server user's alone (0700): created so, and
// tightened if an existing one lets others in (an operator's `mkdir` gives
// 0755, where every local user could list and read codes).
void make_private_directory(const std::filesystem::path& directory) {
  namespace fs = std::filesystem;
  fs::create_directories(directory);
  constexpr auto kOthers = fs::perms::group_all | fs::perms::others_all;
  if ((fs::status(directory).permissions() & kOthers) != fs::perms::none) {
    fs::permissions(directory, fs::perms::owner_all, fs::perm_options::replace);
  }
}

// One .eml per message, like Django's file backend. A reader never sees a
// half-written file: it is written under a hidden temporary name and renamed.
class FileBackend final : public Backend {
 public:
  FileBackend(std::string directory, std::string from)
      : directory_(std::move(directory)), from_(std::move(from)) {}

  void send(const Email& email) override {
    make_private_directory(directory_);
    // UUIDv7 names are unique across threads and servers and sort by time.
    const auto name = core::new_id();
    const auto temporary = directory_ / ("." + name + ".tmp");
    const auto final_path = directory_ / (name + ".eml");
    try {
      write_durably(temporary, build_mime(email, from_, core::now_ms()));
      std::filesystem::rename(temporary, final_path);
      sync_directory(directory_);
    } catch (...) {
      std::error_code ignored;
      std::filesystem::remove(temporary, ignored);
      throw;
    }
  }

 private:
  std::filesystem::path directory_;
  std::string from_;
};

}  // namespace

std::unique_ptr<Backend> make_file_backend(std::string directory, std::string from) {
  return std::make_unique<FileBackend>(std::move(directory), std::move(from));
}

}  // namespace mail
