#include <gtest/gtest.h>

#include "db/database_host.hpp"

TEST(DatabaseHost, LoopbackAndUnixSocketsAreThisHost) {
  for (const char* url :
       {"postgresql://postgres@127.0.0.1:5432/referrald", "postgresql://u:p@localhost/referrald",
        "postgres://u@127.8.9.10/referrald", "postgresql://u@[::1]:5433/referrald",
        "postgresql:///referrald", "postgresql:///referrald?host=/var/run/postgresql",
        "postgresql://u@%2Fvar%2Frun%2Fpostgresql/referrald",
        "postgresql://u@127.0.0.1:5432,localhost:5433/referrald"}) {
    EXPECT_TRUE(db::postgresql_on_this_host(url)) << url;
  }
}

TEST(DatabaseHost, AnyOtherHostIsElsewhere) {
  for (const char* url :
       {"postgresql://u@db.internal:5432/referrald", "postgresql://u@10.0.0.5/referrald",
        "postgresql://u@[fd00::5]/referrald", "postgresql://u@127.0.0.1,db.internal/referrald",
        "postgresql:///referrald?host=db.internal", "postgresql://u@128.0.0.1/referrald"}) {
    EXPECT_FALSE(db::postgresql_on_this_host(url)) << url;
  }
}

TEST(DatabaseHost, UnparsableAndSqliteUrlsAreNotPostgresqlHere) {
  EXPECT_FALSE(db::postgresql_on_this_host("sqlite://referrald.db"));
  EXPECT_FALSE(db::postgresql_on_this_host("postgresql://u@127.0.0.1/db?no_such_option=1"));
  EXPECT_FALSE(db::postgresql_on_this_host("host=127.0.0.1 dbname=referrald"));
}
