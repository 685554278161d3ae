#include "http/metrics.hpp"

#include <cstdio>

namespace http {

namespace {
constexpr double kBuckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};
constexpr std::size_t kBucketCount = sizeof kBuckets / sizeof kBuckets[0];

std::string number(double value) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", value);
  return buf;
}
}  // namespace

Metrics& metrics() {
  static Metrics registry;
  return registry;
}

void Metrics::observe_request(const std::string& route, const std::string& method, int status,
                              double seconds) {
  std::lock_guard lock(mutex_);
  ++requests_[{route, method, status}];
  auto& histogram = durations_[route];
  if (histogram.buckets.empty()) histogram.buckets.assign(kBucketCount, 0);
  for (std::size_t i = 0; i < kBucketCount; ++i) {
    if (seconds <= kBuckets[i]) ++histogram.buckets[i];
  }
  ++histogram.count;
  histogram.sum += seconds;
}

void Metrics::add_collector(Collector collector) {
  std::lock_guard lock(mutex_);
  collectors_.push_back(std::move(collector));
}

void append_metric(std::string& out, const std::string& name, const std::string& type,
                   const std::string& help, double value, const std::string& labels) {
  out += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
  out += name + (labels.empty() ? "" : "{" + labels + "}") + " " + number(value) + "\n";
}

std::string Metrics::render() const {
  std::string out;
  std::vector<Collector> collectors;
  {
    std::lock_guard lock(mutex_);
    out += "# HELP http_requests_total HTTP requests by route, method and status.\n"
           "# TYPE http_requests_total counter\n";
    for (const auto& [key, count] : requests_) {
      const auto& [route, method, status] = key;
      out += "http_requests_total{route=\"" + route + "\",method=\"" + method + "\",status=\"" +
             std::to_string(status) + "\"} " + std::to_string(count) + "\n";
    }
    out += "# HELP http_request_duration_seconds Time from request read to response ready.\n"
           "# TYPE http_request_duration_seconds histogram\n";
    for (const auto& [route, histogram] : durations_) {
      const std::string label = "route=\"" + route + "\"";
      for (std::size_t i = 0; i < kBucketCount; ++i) {
        out += "http_request_duration_seconds_bucket{" + label + ",le=\"" + number(kBuckets[i]) +
               "\"} " + std::to_string(histogram.buckets[i]) + "\n";
      }
      out += "http_request_duration_seconds_bucket{" + label + ",le=\"+Inf\"} " +
             std::to_string(histogram.count) + "\n";
      out += "http_request_duration_seconds_sum{" + label + "} " + number(histogram.sum) + "\n";
      out += "http_request_duration_seconds_count{" + label + "} " +
             std::to_string(histogram.count) + "\n";
    }
    collectors = collectors_;
  }
  for (const auto& collector : collectors) collector(out);
  return out;
}

}  // namespace http
