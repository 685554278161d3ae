#pragma once
#include <soci/session.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "auth/auth_store.hpp"
#include "referral/referral_store.hpp"
#include "reward/reward_store.hpp"

// SQL for the import. Inserts go in multi-row VALUES chunks and look-ups in
// IN (...) chunks: one round trip per few hundred rows, not per row, which
// is what makes 100k documents practical on PostgreSQL.
namespace importer::store {

// Which of `ids` exist already.
std::vector<std::string> existing_user_ids(soci::session& sql, const std::vector<std::string>& ids);
std::vector<std::string> existing_referral_ids(soci::session& sql,
                                               const std::vector<std::string>& ids);
std::vector<std::string> existing_config_ids(soci::session& sql,
                                             const std::vector<std::string>& ids);
std::vector<std::string> existing_reward_ids(soci::session& sql,
                                             const std::vector<std::string>& ids);

// email -> user id, for the emails already taken.
std::map<std::string, std::string> users_by_email(soci::session& sql,
                                                  const std::vector<std::string>& emails);
// user id -> code id, for the users who have a code already.
std::map<std::string, std::string> codes_of_users(soci::session& sql,
                                                  const std::vector<std::string>& user_ids);
// code text -> owner's user id, for the texts already taken (codes and aliases).
std::map<std::string, std::string> code_owners(soci::session& sql,
                                               const std::vector<std::string>& codes);
// referee id -> referral id, for the users already referred.
std::map<std::string, std::string> referrals_of_referees(
    soci::session& sql, const std::vector<std::string>& referee_ids);
// referral id -> referee id.
std::map<std::string, std::string> referees_of(soci::session& sql,
                                               const std::vector<std::string>& referral_ids);
// (referral id, user id + "|" + reward type) of the rewards these referrals have.
std::vector<std::pair<std::string, std::string>> reward_keys_of(
    soci::session& sql, const std::vector<std::string>& referral_ids);
// Reward types that have an active config for the REFERRER.
std::vector<std::string> active_referrer_config_types(soci::session& sql);

void insert_users(soci::session& sql, const std::vector<auth::store::User>& users);
void insert_codes(soci::session& sql, const std::vector<referral::store::Code>& codes);
void insert_code_aliases(soci::session& sql,
                         const std::vector<referral::store::CodeAlias>& aliases);
void insert_referrals(soci::session& sql, const std::vector<referral::store::Referral>& referrals);
void insert_configs(soci::session& sql, const std::vector<reward::store::Config>& configs);
void insert_rewards(soci::session& sql, const std::vector<reward::store::Reward>& rewards);

// Counters recomputed from the referrals table, so they are right however
// the imported rows mix with rows the server already had.
void recount_code_uses(soci::session& sql, const std::vector<std::string>& code_ids);
void recount_referrer_stats(soci::session& sql, const std::vector<std::string>& referrer_ids);

}  // namespace importer::store
