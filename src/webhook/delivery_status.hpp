#pragma once

// A webhook delivery's status (webhook_deliveries.status, CHECKed to these
// three by the schema: migrations/0014_webhooks.sql, 0022). The store, the
// delivery list's filter and its answer use these names.
namespace webhook::delivery_status {

inline constexpr const char* kPending = "pending";
inline constexpr const char* kDelivered = "delivered";
inline constexpr const char* kFailed = "failed";
// Every status, in that order.
inline constexpr const char* kAll[] = {kPending, kDelivered, kFailed};

}  // namespace webhook::delivery_status
