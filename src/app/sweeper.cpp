#include "app/sweeper.hpp"

#include "auth/auth_store.hpp"
#include "core/clock.hpp"
#include "core/log.hpp"
#include "idempotency/idempotency_store.hpp"
#include "link/link_store.hpp"
#include "mail/outbox_store.hpp"

namespace app {

namespace {
constexpr long long kKeepSentMailMs = 7 * core::kMsPerDay;
constexpr long long kKeepCodeRequestsMs = core::kMsPerDay;
// The referral same-IP rule looks back this far (docs/API.md).
constexpr long long kKeepLoginIpsMs = 30 * core::kMsPerDay;
constexpr int kPurgeBatch = 500;
}  // namespace

void Sweeper::sweep_once() {
  try {
    const auto now = core::now_ms();
    const auto purged = database_.write([&](soci::session& sql) {
      return auth::store::purge_expired(sql,
                                        {now, now - kKeepCodeRequestsMs, now - kKeepLoginIpsMs});
    });
    const auto keys = database_.write([&](soci::session& sql) { return idempotency::store::purge_expired(sql, now); });
    long long mail = 0;
    for (long long batch = kPurgeBatch; batch == kPurgeBatch;) {
      batch = database_.write([&](soci::session& sql) {
        return mail::store::purge_sent(sql, now - kKeepSentMailMs, kPurgeBatch);
      });
      mail += batch;
    }
    if (purged.sessions + purged.otps + purged.login_ips + mail + keys > 0) {
      core::log::event("info", {{"msg", "sweeper purged expired rows"},
                                {"sessions", purged.sessions},
                                {"otps", purged.otps},
                                {"login_ips", purged.login_ips},
                                {"sent_mail", mail},
                                {"idempotency_keys", keys}});
    }
  } catch (const std::exception& error) {
    core::log::event("warn", {{"msg", "sweeper failed; will retry"}, {"detail", error.what()}});
  }
  sweep_clicks(core::now_ms());
}

void Sweeper::sweep_clicks(long long now) {
  try {
    long long clicks = 0;
    for (long long batch = kPurgeBatch; batch == kPurgeBatch;) {
      batch = database_.write([&](soci::session& sql) {
        return links::store::purge_clicks(sql, now - click_retention_ms_, kPurgeBatch);
      });
      clicks += batch;
    }
    const long long today = now - now % core::kMsPerDay;
    const auto claims = database_.write([&](soci::session& sql) {
      return links::store::purge_visitors(sql, today - core::kMsPerDay);
    });
    if (clicks + claims > 0) {
      core::log::event("info", {{"msg", "sweeper purged old clicks"}, {"clicks", clicks}, {"visitor_claims", claims}});
    }
  } catch (const std::exception& error) {
    core::log::event("warn", {{"msg", "click sweep failed; will retry"}, {"detail", error.what()}});
  }
}

}  // namespace app
