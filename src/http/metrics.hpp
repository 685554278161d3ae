#pragma once
#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

namespace http {

// Process-wide Prometheus registry. HTTP series are built in; other modules
// add collectors that append their own families when /metrics is scraped.
class Metrics {
 public:
  using Collector = std::function<void(std::string& out)>;

  void observe_request(const std::string& route, const std::string& method, int status,
                       double seconds);
  void add_collector(Collector collector);
  std::string render() const;

 private:
  struct Histogram {
    std::vector<std::uint64_t> buckets;
    std::uint64_t count = 0;
    double sum = 0;
  };
  mutable std::mutex mutex_;
  std::map<std::tuple<std::string, std::string, int>, std::uint64_t> requests_;
  std::map<std::string, Histogram> durations_;
  std::vector<Collector> collectors_;
};

Metrics& metrics();

// Appends one "# TYPE" header and sample; for collectors.
void append_metric(std::string& out, const std::string& name, const std::string& type,
                   const std::string& help, double value, const std::string& labels = "");

}  // namespace http
