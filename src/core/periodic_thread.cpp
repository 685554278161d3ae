#include "core/periodic_thread.hpp"

#include "core/thread_name.hpp"

namespace core {

void PeriodicThread::start(const char* name, std::chrono::milliseconds interval,
                           std::function<void()> pass) {
  thread_ = std::thread([this, name, interval, pass = std::move(pass)] {
    name_this_thread(name);
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      lock.unlock();
      pass();
      lock.lock();
      wake_.wait_for(lock, interval, [this] { return stopping_; });
    }
  });
}

void PeriodicThread::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace core
