#include "link/link_service.hpp"

#include <sodium.h>

#include <algorithm>
#include <tuple>

#include "analytics/analytics_store.hpp"
#include "analytics/local_days.hpp"
#include "core/clock.hpp"
#include "core/ip_network.hpp"
#include "core/random.hpp"
#include "link/link_store.hpp"
#include "link/visitor.hpp"
#include "referral/referral_code.hpp"
#include "referral/referral_store.hpp"

namespace links {

namespace {

// Enough for every code that is shared at any one time. A full cache stops
// taking codes instead of evicting: the lane chooser sends a cached code to
// the io thread, so an entry must never leave between that choice and the
// handler's lookup (an eviction there would put a database read on an io
// thread). Codes past the cap are answered on the db lane.
constexpr std::size_t kCodeCacheCapacity = 100000;
constexpr std::size_t kMaxCodeBytes = 64;
constexpr int kTopReferrers = 10;

// `landing` split around the code of `ref=CODE`, which goes at the end of
// its query (keeping what it has), before any fragment.
std::pair<std::string, std::string> split_landing(const std::string& landing) {
  const auto hash = landing.find('#');
  std::string base = landing.substr(0, hash);
  std::string fragment = hash == std::string::npos ? "" : landing.substr(hash);
  if (base.find('?') == std::string::npos) {
    base += '?';
  } else if (!base.ends_with('?') && !base.ends_with('&')) {
    base += '&';
  }
  return {base + "ref=", std::move(fragment)};
}

// Sums events into the local days of a funnel's range.
class DayTally {
 public:
  DayTally(analytics::DayRange range, std::vector<long long> starts)
      : range_(range), starts_(std::move(starts)), days_(starts_.size() - 1) {}

  long long from() const { return starts_.front(); }
  long long to() const { return starts_.back(); }
  const std::vector<long long>& starts() const { return starts_; }
  FunnelCounts& day(std::size_t index) { return days_.at(index); }

  // The day an instant falls in; every store read is bounded by from()..to().
  FunnelCounts& day_of(long long at) {
    const auto next = std::upper_bound(starts_.begin(), starts_.end(), at);
    const auto index = std::clamp<std::ptrdiff_t>(next - starts_.begin() - 1, 0,
                                                  static_cast<std::ptrdiff_t>(days_.size()) - 1);
    return days_[static_cast<std::size_t>(index)];
  }

  Funnel result() const {
    Funnel funnel;
    for (std::size_t i = 0; i < days_.size(); ++i) {
      const auto& day = days_[i];
      funnel.totals.clicks += day.clicks;
      funnel.totals.unique_visitors += day.unique_visitors;
      funnel.totals.signups += day.signups;
      funnel.totals.verified += day.verified;
      funnel.totals.referrals += day.referrals;
      funnel.totals.successful += day.successful;
      if (day.clicks + day.signups + day.referrals == 0) continue;
      funnel.days.push_back(
          {analytics::format_day(range_.first + static_cast<analytics::DayNumber>(i)), day});
    }
    return funnel;
  }

 private:
  analytics::DayRange range_;
  std::vector<long long> starts_;
  std::vector<FunnelCounts> days_;
};

DayTally tally_for(const FunnelQuery& query) {
  const auto zone = analytics::LocalZone::parse(query.tz.value_or("UTC"));
  const auto range = analytics::day_range(query.from, query.to, zone);
  return DayTally(range, analytics::day_starts(range, zone));
}

// The counters of one code ("" = every code) into the tally. Buckets are
// quarter hours and local days start on a quarter hour, so a bucket lies in
// exactly one local day.
void add_clicks_and_signups(soci::session& sql, const std::string& code_id, DayTally& tally) {
  store::click_days(sql, code_id, tally.starts(),
                    [&](std::size_t index, long long clicks, long long unique) {
                      auto& day = tally.day(index);
                      day.clicks += clicks;
                      day.unique_visitors += unique;
                    });
  store::attributed_signups(sql, code_id, tally.from(), tally.to(),
                            [&](long long at, bool verified) {
                              auto& day = tally.day_of(at);
                              ++day.signups;
                              day.verified += verified ? 1 : 0;
                            });
}

std::function<void(long long, bool)> referral_counter(DayTally& tally) {
  return [&tally](long long at, bool successful) {
    auto& day = tally.day_of(at);
    ++day.referrals;
    day.successful += successful ? 1 : 0;
  };
}

}  // namespace

bool well_formed_code(std::string_view code) {
  return !code.empty() && code.size() <= kMaxCodeBytes &&
         std::all_of(code.begin(), code.end(), [](unsigned char c) {
           return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
         });
}

LinkService::LinkService(const core::Config& config, db::Database& database,
                         referral::ReferralService& referrals, ClickStream& clicks,
                         const std::string& server_secret)
    : config_(config),
      database_(database),
      referrals_(referrals),
      clicks_(clicks),
      signer_(server_secret),
      visitor_secret_(core::hmac_sha256(server_secret, "referrald visitor key")),
      day_key_(visitor_secret_) {
  std::tie(landing_before_code_, landing_after_code_) = split_landing(config.referral_landing_url);
}

bool LinkService::answers_from_memory(std::string_view raw_code) const {
  const auto code = referral::normalize_code(std::string(raw_code));
  if (!well_formed_code(code)) return true;
  std::shared_lock lock(cache_mutex_);
  return cache_.contains(code);
}

LinkService::CodeRef LinkService::find_code(const std::string& code) {
  {
    std::shared_lock lock(cache_mutex_);
    if (const auto it = cache_.find(code); it != cache_.end()) return it->second;
  }
  const auto stored =
      database_.read([&](soci::session& sql) { return referral::store::find_code(sql, code); });
  if (!stored) return nullptr;
  auto entry = std::make_shared<const CodeEntry>(CodeEntry{stored->id, stored->user_id});
  std::unique_lock lock(cache_mutex_);
  if (cache_.size() < kCodeCacheCapacity) cache_.emplace(code, entry);
  return entry;
}

// A keyed hash of the client's network (its IP, an IPv6 client's /64:
// core::client_network) under a key of the UTC day: the same visitor is
// recognised within a day (unique visitors) but not across days. The day
// keys are derived from the server secret, so every instance agrees, and
// only today's is held.
store::VisitorHash LinkService::visitor_hash(std::string_view client_ip, long long now_ms) {
  const long long day = now_ms / core::kMsPerDay;
  std::unique_lock lock(day_key_mutex_);
  if (day != day_key_day_) {
    day_key_ = core::HmacKey(core::hmac_sha256(visitor_secret_, "day " + std::to_string(day)));
    day_key_day_ = day;
  }
  const auto key = day_key_;
  lock.unlock();
  const auto mac = key.mac(core::client_network(client_ip));
  store::VisitorHash out;
  char encoded[sizeof out + 1];  // sodium writes a NUL after the text
  sodium_bin2base64(encoded, sizeof encoded, mac.data(), mac.size(),
                    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  std::copy_n(encoded, out.size(), out.begin());
  return out;
}

Redirect LinkService::visit(std::string_view raw_code, const Visitor& visitor) {
  const auto code = referral::normalize_code(std::string(raw_code));
  if (!well_formed_code(code)) return {config_.referral_landing_url, std::nullopt};
  const auto entry = find_code(code);
  if (!entry) return {config_.referral_landing_url, std::nullopt};
  const auto now = core::now_ms();
  // Unique, not secret: the id only links a signup to its click, and the
  // cookie carrying it is signed; a getrandom() call per click showed in perf.
  const auto click_id = core::new_unique_id();
  const auto family = agent_family(visitor.user_agent);
  if (family != AgentFamily::bot) {
    clicks_.record({click_id, std::shared_ptr<const std::string>(entry, &entry->code_id), now,
                    visitor_hash(visitor.client_ip, now), family_name(family),
                    referrer_host(visitor.referer)});
  }
  Redirect redirect{landing_before_code_ + code + landing_after_code_, std::nullopt};
  // First touch wins: a visitor already carrying a valid cookie keeps it.
  if (!read_cookie(visitor.attribution_cookie)) {
    redirect.attribution_token = signer_.sign(
        {code, {click_id.data(), click_id.size()}, now + config_.attribution_window_ms});
  }
  return redirect;
}

std::optional<AttributionClaim> LinkService::read_cookie(std::string_view token) const {
  if (token.empty()) return std::nullopt;
  return signer_.verify(token, core::now_ms());
}

void LinkService::record_signup(soci::session& sql, const std::string& user_id,
                                const std::string& code, const std::optional<std::string>& click_id,
                                bool from_cookie) const {
  const auto stored = referral::store::find_code(sql, referral::normalize_code(code));
  if (!stored) return;
  store::insert_attribution(sql, user_id, stored->id, click_id, from_cookie ? "cookie" : "code",
                            core::now_ms());
}

ShareLink LinkService::share_link(const std::string& user_id) {
  const auto generated = referrals_.generate(user_id);
  auto base = config_.public_url;
  while (base.ends_with('/')) base.pop_back();
  return {generated.code.code, base + "/r/" + generated.code.code};
}

Funnel LinkService::funnel(const std::string& user_id, const FunnelQuery& query) {
  auto tally = tally_for(query);
  database_.read([&](soci::session& sql) {
    const auto code = referral::store::find_code_of_user(sql, user_id);
    if (!code) return;  // no code: no clicks, no signups, no referrals
    add_clicks_and_signups(sql, code->id, tally);
    analytics::store::referral_times(sql, user_id, tally.from(), tally.to(),
                                     referral_counter(tally));
  });
  return tally.result();
}

Funnel LinkService::admin_funnel(const FunnelQuery& query) {
  auto tally = tally_for(query);
  std::vector<TopReferrer> top;
  database_.read([&](soci::session& sql) {
    add_clicks_and_signups(sql, "", tally);
    store::all_referral_times(sql, tally.from(), tally.to(), referral_counter(tally));
    for (auto& leader : store::top_by_clicks(sql, tally.from(), tally.to(), kTopReferrers)) {
      TopReferrer row{leader.user_id, leader.email, leader.clicks, 0};
      analytics::store::referral_times(sql, leader.user_id, tally.from(), tally.to(),
                                       [&row](long long, bool) { ++row.referrals; });
      top.push_back(std::move(row));
    }
  });
  auto funnel = tally.result();
  funnel.top_referrers = std::move(top);
  return funnel;
}

}  // namespace links
