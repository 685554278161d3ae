#include "referral/referral_events.hpp"

#include <stdexcept>

#include "events/event_log.hpp"
#include "referral/referral_json.hpp"

namespace referral {

namespace {

std::string data_of(const store::FlaggedReferral& item) {
  core::JsonWriter out;
  write_admin_referral(out, item);
  return out.take();
}

void publish(soci::session& sql, std::string_view type, const store::FlaggedReferral& item,
             std::int64_t now_ms) {
  events::publish(sql, {std::string(type), item.referral.id, data_of(item)}, now_ms);
}

void publish_current(soci::session& sql, std::string_view type, const std::string& referral_id,
                     std::int64_t now_ms) {
  const auto item = store::find_with_emails(sql, referral_id);
  if (!item) throw std::logic_error("referral " + referral_id + " changed but is not found");
  publish(sql, type, *item, now_ms);
}

}  // namespace

void publish_created(soci::session& sql, const store::FlaggedReferral& item, std::int64_t now_ms) {
  std::vector<events::NewEvent> published{
      {std::string(events::kReferralCreated), item.referral.id, data_of(item)}};
  if (!item.referral.flags.empty()) {
    published.push_back(published.front());
    published.back().type = events::kReferralFlagged;
  }
  events::publish_all(sql, published, now_ms);
}

void publish_flagged(soci::session& sql, const std::string& referral_id, std::int64_t now_ms) {
  publish_current(sql, events::kReferralFlagged, referral_id, now_ms);
}

void publish_status_changed(soci::session& sql, const std::string& referral_id,
                            std::int64_t now_ms) {
  publish_current(sql, events::kReferralStatusChanged, referral_id, now_ms);
}

}  // namespace referral
