#pragma once
#include <soci/session.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// The event spine: "after this change committed, tell X". A domain publishes
// an event inside the transaction of its change, so the event exists exactly
// when the change does; consumers (webhooks, ...) each read the events after
// their own cursor and advance it in their own transaction. Delivery to a
// consumer is at least once: a consumer that crashes after acting but before
// its advance committed reads those events again.
namespace events {

// Event types (the schema CHECKs the same list).
inline constexpr std::string_view kUserVerified = "user.verified";
inline constexpr std::string_view kReferralCreated = "referral.created";
inline constexpr std::string_view kReferralFlagged = "referral.flagged";
inline constexpr std::string_view kReferralStatusChanged = "referral.status_changed";
inline constexpr std::string_view kRewardCreated = "reward.created";
inline constexpr std::string_view kRewardCredited = "reward.credited";
inline constexpr std::string_view kRewardRevoked = "reward.revoked";
inline constexpr std::string_view kMilestoneReached = "milestone.reached";

struct NewEvent {
  std::string type;
  std::string aggregate_id;
  std::string data_json;  // the resource as the API shows it
};

// Appends one event to the caller's open write transaction, so it commits or
// rolls back with the change. The row is inserted when the transaction is
// about to commit (db::before_commit), with the transaction's other events in
// one statement; outside a transaction, at once.
void publish(soci::session& sql, const NewEvent& event, std::int64_t now_ms);

// Appends `events` as publish does, in this order.
void publish_all(soci::session& sql, const std::vector<NewEvent>& events, std::int64_t now_ms);

struct Event {
  std::int64_t seq = 0;
  std::string id;  // "evt_" + UUIDv7
  std::string type;
  std::string aggregate_id;
  std::string data_json;
  std::int64_t created_at_ms = 0;
};

// A consumer's feed: up to `limit` events after its cursor that no still-running
// transaction can precede (safe on PostgreSQL, where sequence order is not
// commit order). Call inside a write transaction (Database::write): the
// consumer's cursor row stays locked until it ends, so another instance
// reading for the same consumer meanwhile gets nothing rather than the same
// events. A consumer seen for the first time starts at the first event.
std::vector<Event> read_next(soci::session& sql, std::string_view consumer, int limit);

// Moves the consumer's cursor past the event `seq` (one read_next returned),
// in the caller's transaction. Never moves it back.
void advance(soci::session& sql, std::string_view consumer, std::int64_t seq);

// The events with these ids (any order; unknown ids are left out). Events are
// never changed, so a consumer may rebuild what it made of one from it.
std::vector<Event> find(soci::session& sql, const std::vector<std::string>& ids);

// How far each consumer is behind: the newest seq minus the consumer's last
// seq (seq arithmetic, no count; rolled-back seqs count until passed).
std::vector<std::pair<std::string, std::int64_t>> backlog(soci::session& sql);

}  // namespace events
