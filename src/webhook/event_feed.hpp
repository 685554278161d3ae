#pragma once
#include <soci/session.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace webhook {

// One committed domain event, as the webhook fan-out needs it.
struct FeedEvent {
  std::int64_t seq = 0;
  std::string id;  // "evt_..."
  std::string type;
  std::string data_json;
  std::int64_t created_at_ms = 0;
};

// The webhooks' consumer of the event log: the events after its cursor, and
// moving the cursor inside the caller's transaction. The composition root
// (app/) connects it to the event log, so this folder does not depend on it.
struct EventFeed {
  // A read without locks: false when there is surely nothing to read.
  std::function<bool(soci::session&)> may_have_events;
  // Inside a write transaction.
  std::function<std::vector<FeedEvent>(soci::session&, int limit)> read_next;
  std::function<void(soci::session&, std::int64_t seq)> advance;
  // The events with these ids (events never change: a retry's body is
  // rebuilt from its event, the same bytes as the first attempt's).
  std::function<std::vector<FeedEvent>(soci::session&, const std::vector<std::string>& ids)> find;
};

}  // namespace webhook
