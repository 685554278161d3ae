#include "webhook/delivery_metrics.hpp"

#include "core/clock.hpp"
#include "http/metrics.hpp"
#include "webhook/webhook_store.hpp"

namespace webhook {

std::shared_ptr<DeliveryMetrics> DeliveryMetrics::registered(db::Database& database) {
  std::shared_ptr<DeliveryMetrics> metrics(new DeliveryMetrics(database));
  http::metrics().add_collector([metrics](std::string& out) { metrics->render(out); });
  return metrics;
}

void DeliveryMetrics::detach() {
  std::lock_guard lock(mutex_);
  database_ = nullptr;
}

void DeliveryMetrics::render(std::string& out) {
  std::lock_guard lock(mutex_);
  if (database_ == nullptr) return;
  out +=
      "# HELP webhook_deliveries_total Webhook delivery attempts by result (retried: failed, tried "
      "again later).\n"
      "# TYPE webhook_deliveries_total counter\n";
  for (const auto& [result, count] : {std::pair{"delivered", delivered_.load()},
                                      {"retried", retried_.load()},
                                      {"failed", failed_.load()}}) {
    out += std::string("webhook_deliveries_total{result=\"") + result + "\"} " +
           std::to_string(count) + "\n";
  }
  http::append_metric(out, "webhook_dispatcher_rounds_total", "counter",
                      "Write transactions of this instance's webhook dispatcher.",
                      static_cast<double>(rounds_.load()));
  http::append_metric(out, "webhook_dispatcher_round_seconds_total", "counter",
                      "Time in those transactions, waiting for the writer included.",
                      static_cast<double>(round_us_.load()) / 1e6);
  try {
    const auto now = core::now_ms();
    const auto stats =
        database_->read([now](soci::session& sql) { return store::pending_stats(sql, now); });
    http::append_metric(out, "webhook_queue_depth", "gauge",
                        "Webhook deliveries pending (due, waiting or in flight).",
                        static_cast<double>(stats.depth));
    const auto lag_ms = stats.oldest_due_at ? now - *stats.oldest_due_at : 0;
    http::append_metric(out, "webhook_oldest_pending_seconds", "gauge",
                        "How long the longest-due pending delivery has been due.",
                        static_cast<double>(lag_ms) / 1000.0);
  } catch (const std::exception&) {
    // The database is down: /readyz says so; the queue series are absent.
  }
}

}  // namespace webhook
