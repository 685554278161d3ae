#pragma once

namespace core {

// curl_global_init is not thread-safe: every user of libcurl calls this
// before creating its first handle; it runs the init once.
void init_curl_once();

}  // namespace core
