#pragma once
#include <string>

namespace db {

// True when a postgresql:// URL reaches PostgreSQL on this machine: a Unix
// socket (no host, or a host that is a directory) or loopback addresses
// only. Then its backends run on the server's own cores, which decides how
// many calls the server should keep in flight (app.cpp, database_threads).
// False for anything libpq cannot parse, and for sqlite:// URLs.
bool postgresql_on_this_host(const std::string& url);

}  // namespace db
