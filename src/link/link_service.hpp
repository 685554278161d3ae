#pragma once
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/config.hpp"
#include "core/hmac_key.hpp"
#include "db/database.hpp"
#include "link/attribution_token.hpp"
#include "link/click_stream.hpp"
#include "referral/referral_service.hpp"

namespace links {

// Who asked for /r/{code}, as far as a click keeps it.
struct Visitor {
  std::string client_ip;
  std::string user_agent;
  std::string referer;
  std::string attribution_cookie;  // the `referral` cookie it already has, if any
};

struct Redirect {
  std::string location;
  std::optional<std::string> attribution_token;  // the `referral` cookie; none for an unknown code
};

struct ShareLink {
  std::string code;
  std::string url;
};

struct FunnelCounts {
  long long clicks = 0;
  long long unique_visitors = 0;
  long long signups = 0;
  long long verified = 0;  // totals only: of the signups in the range, those verified by now
  long long referrals = 0;
  long long successful = 0;
};
struct FunnelDay {
  std::string date;
  FunnelCounts counts;
};
struct TopReferrer {
  std::string user_id;
  std::string email;
  long long clicks = 0;
  long long referrals = 0;
};
struct Funnel {
  FunnelCounts totals;
  std::vector<FunnelDay> days;             // ascending, days with nothing left out
  std::vector<TopReferrer> top_referrers;  // the admin funnel only
};
struct FunnelQuery {
  std::optional<std::string> from, to, tz;  // as the timeline reads them
};

// Share links: the redirect answered from memory, the click stream,
// attribution of signups, and the funnel.
class LinkService {
 public:
  LinkService(const core::Config& config, db::Database& database,
              referral::ReferralService& referrals, ClickStream& clicks,
              const std::string& server_secret);

  // True when visit() needs no database (the code is cached, or malformed):
  // the route then answers on the io lane.
  bool answers_from_memory(std::string_view raw_code) const;
  Redirect visit(std::string_view raw_code, const Visitor& visitor);

  // The code a valid, unexpired `referral` cookie names, and its click.
  std::optional<AttributionClaim> read_cookie(std::string_view token) const;
  // In the signup's transaction: the new user came through `code` (and
  // `click_id`, from the cookie). A code that no longer exists is skipped.
  void record_signup(soci::session& sql, const std::string& user_id, const std::string& code,
                     const std::optional<std::string>& click_id, bool from_cookie) const;

  long long attribution_window_ms() const { return config_.attribution_window_ms; }
  ShareLink share_link(const std::string& user_id);
  Funnel funnel(const std::string& user_id, const FunnelQuery& query);
  Funnel admin_funnel(const FunnelQuery& query);

 private:
  struct CodeEntry {
    std::string code_id;
    std::string user_id;
  };
  // Shared, so a click holds the code id without copying it.
  using CodeRef = std::shared_ptr<const CodeEntry>;
  CodeRef find_code(const std::string& code);
  store::VisitorHash visitor_hash(std::string_view client_ip, long long now_ms);

  const core::Config& config_;
  db::Database& database_;
  referral::ReferralService& referrals_;
  ClickStream& clicks_;
  AttributionSigner signer_;
  const std::string visitor_secret_;

  // Known codes only: a miss asks the database, so a code created a moment
  // ago (on any instance) works at once. Codes are never renamed; a code
  // whose owner is deleted may linger here until the cache is cleared
  // (its clicks are then refused by the foreign key and dropped).
  mutable std::shared_mutex cache_mutex_;
  std::unordered_map<std::string, CodeRef> cache_;

  // REFERRAL_LANDING_URL split where `ref=CODE` goes: before any fragment,
  // after the query it already has.
  std::string landing_before_code_;
  std::string landing_after_code_;

  std::mutex day_key_mutex_;
  long long day_key_day_ = -1;
  core::HmacKey day_key_;
};

// "REF-ABCD2345" style: letters, digits, '-' (after normalizing), at most 64.
bool well_formed_code(std::string_view code);

}  // namespace links
