#include "auth/session_cache.hpp"

#include <gtest/gtest.h>

#include <memory>

#include "core/config.hpp"

namespace {

constexpr long long kNow = 1'000'000;

auth::store::SessionCheck session_of(const std::string& user_id, long long expires_at) {
  auth::store::SessionCheck check;
  check.user.id = user_id;
  check.user.password_hash = "$argon2id$...";
  check.expires_at = expires_at;
  return check;
}

// A cache whose feed is fresh until kNow + 100.
std::unique_ptr<auth::SessionCache> fresh_cache(auth::SessionCache::Limits limits = {}) {
  auto cache = std::make_unique<auth::SessionCache>(limits);
  cache->confirm_fresh(kNow + 100);
  return cache;
}

void put(auth::SessionCache& cache, const std::string& sid, const std::string& user_id,
         long long expires_at = kNow + 1'000'000) {
  cache.store(cache.ticket(), sid, session_of(user_id, expires_at), kNow);
}

}  // namespace

TEST(SessionCache, AnswersWhatItStoredWithoutThePasswordHash) {
  auto owned = fresh_cache();
  auto& cache = *owned;
  put(cache, "s1", "u1");
  const auto found = cache.find("s1", kNow + 1);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->user.id, "u1");
  EXPECT_TRUE(found->user.password_hash.empty());
  EXPECT_FALSE(cache.find("s2", kNow + 1));
}

TEST(SessionCache, NothingIsTrustedBeforeTheFeedIsFreshOrAfterItsDeadline) {
  auth::SessionCache cache({});
  put(cache, "s1", "u1");
  EXPECT_FALSE(cache.find("s1", kNow)) << "stored while the feed was never fresh";
  cache.confirm_fresh(kNow + 100);
  put(cache, "s1", "u1");
  EXPECT_TRUE(cache.find("s1", kNow + 99));
  EXPECT_FALSE(cache.find("s1", kNow + 100)) << "the feed's deadline passed";
}

// The feed's connection stayed up: what it said during the lapse was
// applied, so what the cache holds afterwards is as current as its proof.
TEST(SessionCache, AFeedThatLapsedKeepsWhatItHeldAndStillAppliesItsMessages) {
  auto owned = fresh_cache();
  auto& cache = *owned;
  put(cache, "s1", "u1");
  put(cache, "s2", "u2");
  EXPECT_FALSE(cache.find("s1", kNow + 120)) << "not trusted past the deadline";
  cache.invalidate("s:s2");  // heard during the lapse
  cache.store(cache.ticket(), "s3", session_of("u3", kNow + 1'000'000), kNow + 120);  // not kept
  cache.confirm_fresh(kNow + 250);  // the late proof
  EXPECT_TRUE(cache.find("s1", kNow + 160));
  EXPECT_FALSE(cache.find("s2", kNow + 160));
  EXPECT_FALSE(cache.find("s3", kNow + 160)) << "stored while the feed was not trusted";
  EXPECT_EQ(cache.shared_counts()->drops.load(), 0);
}

TEST(SessionCache, ALostFeedDropsEverything) {
  auto owned = fresh_cache();
  auto& cache = *owned;
  put(cache, "s1", "u1");
  cache.lost();
  cache.confirm_fresh(kNow + 100);
  EXPECT_FALSE(cache.find("s1", kNow + 2));
  EXPECT_EQ(cache.shared_counts()->drops.load(), 1);
}

TEST(SessionCache, ARowReadBeforeAnInvalidationIsNotStoredAfterIt) {
  auto owned = fresh_cache();
  auto& cache = *owned;
  const auto ticket = cache.ticket();  // the read begins
  cache.invalidate("s:s1");            // the logout commits and is heard
  cache.store(ticket, "s1", session_of("u1", kNow + 1'000'000), kNow);  // the read ends
  EXPECT_FALSE(cache.find("s1", kNow + 1));
}

TEST(SessionCache, InvalidationsBySessionByUserAndUnknownMessages) {
  auto owned = fresh_cache();
  auto& cache = *owned;
  put(cache, "s1", "u1");
  put(cache, "s2", "u1");
  put(cache, "s3", "u2");
  cache.invalidate("s:s1");
  EXPECT_FALSE(cache.find("s1", kNow));
  EXPECT_TRUE(cache.find("s2", kNow));
  cache.invalidate("u:u1");
  EXPECT_FALSE(cache.find("s2", kNow));
  EXPECT_TRUE(cache.find("s3", kNow));
  cache.invalidate("something new");
  EXPECT_FALSE(cache.find("s3", kNow));
}

// A user's change reaches its sessions through the per-user index, which
// must follow every way an entry comes and goes: stored again, forgotten
// alone, evicted to make room.
TEST(SessionCache, AUsersChangeEndsExactlyItsSessionsAfterAnyChurn) {
  auto owned = fresh_cache({8, 60'000});
  auto& cache = *owned;
  put(cache, "a1", "ua");
  put(cache, "a1", "ua");  // stored again: one entry
  put(cache, "a2", "ua");
  cache.forget_session("a2");
  for (int i = 0; i < 20; ++i) put(cache, "b" + std::to_string(i), "ub");  // evicts
  put(cache, "a3", "ua");
  put(cache, "c1", "uc");
  cache.forget_user("ua");
  EXPECT_FALSE(cache.find("a1", kNow));
  EXPECT_FALSE(cache.find("a3", kNow));
  EXPECT_TRUE(cache.find("c1", kNow));
  EXPECT_TRUE(cache.find("b19", kNow));
  cache.forget_user("ub");
  for (int i = 0; i < 20; ++i) EXPECT_FALSE(cache.find("b" + std::to_string(i), kNow)) << i;
  EXPECT_TRUE(cache.find("c1", kNow));
  cache.forget_user("nobody");
  put(cache, "a1", "ua");  // a user forgotten can come back
  EXPECT_TRUE(cache.find("a1", kNow));
  cache.forget_user("ua");
  EXPECT_FALSE(cache.find("a1", kNow));
}

TEST(SessionCache, AnEntryNeverOutlivesItsTtlOrItsSession) {
  auto owned = fresh_cache({100, 50});
  auto& cache = *owned;
  cache.confirm_fresh(kNow + 1'000);
  put(cache, "short-ttl", "u1");
  put(cache, "expiring", "u1", kNow + 20);
  EXPECT_TRUE(cache.find("short-ttl", kNow + 49));
  EXPECT_FALSE(cache.find("short-ttl", kNow + 50));
  EXPECT_TRUE(cache.find("expiring", kNow + 19));
  EXPECT_FALSE(cache.find("expiring", kNow + 20));
}

TEST(SessionCache, ItHoldsAtMostItsSize) {
  auto owned = fresh_cache({8, 60'000});
  auto& cache = *owned;
  for (int i = 0; i < 100; ++i) put(cache, "s" + std::to_string(i), "u");
  int held = 0;
  for (int i = 0; i < 100; ++i) held += cache.find("s" + std::to_string(i), kNow) ? 1 : 0;
  EXPECT_LE(held, 8);
  EXPECT_TRUE(cache.find("s99", kNow)) << "the newest entry is kept";
}

TEST(SessionCache, SizeZeroKeepsNothing) {
  auto owned = fresh_cache({0, 60'000});
  auto& cache = *owned;
  put(cache, "s1", "u1");
  EXPECT_FALSE(cache.find("s1", kNow));
}

TEST(Config, SessionCacheAndPoolerSettings) {
  const auto config = core::parse_config({{"DATABASE_PREPARED_STATEMENTS", "false"},
                                          {"DATABASE_LISTEN_URL", "postgresql://pg:5432/app"},
                                          {"SESSION_CACHE_SIZE", "10"},
                                          {"SESSION_CACHE_TTL", "5s"}});
  EXPECT_FALSE(config.database_prepared_statements);
  EXPECT_EQ(config.database_listen_url, "postgresql://pg:5432/app");
  EXPECT_EQ(config.session_cache_size, 10);
  EXPECT_EQ(config.session_cache_ttl_ms, 5000);
  EXPECT_EQ(core::parse_config({{"DATABASE_LISTEN_URL", "off"}}).database_listen_url, "off");
  EXPECT_THROW(core::parse_config({{"DATABASE_LISTEN_URL", "sqlite://x.db"}}), core::ConfigError);
}
