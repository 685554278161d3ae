#pragma once
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace core {

// A background thread that runs `pass` at once, then every `interval`
// until stop() (which wakes it from its wait and joins it).
class PeriodicThread {
 public:
  PeriodicThread() = default;
  PeriodicThread(const PeriodicThread&) = delete;
  PeriodicThread& operator=(const PeriodicThread&) = delete;
  ~PeriodicThread() { stop(); }

  // `name`: the thread's name (core::name_this_thread); a string literal, as
  // the thread reads it when it starts.
  void start(const char* name, std::chrono::milliseconds interval, std::function<void()> pass);
  void stop();

 private:
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace core
