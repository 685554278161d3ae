#include "core/thread_name.hpp"

#include <pthread.h>

#include <algorithm>
#include <cstring>
#include <string>

namespace core {

void name_this_thread(const char* name) {
  constexpr std::size_t kLongest = 15;  // the kernel's limit, without the terminating zero
  const std::string cut(name, std::min(std::strlen(name), kLongest));
  pthread_setname_np(pthread_self(), cut.c_str());
}

}  // namespace core
