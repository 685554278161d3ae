#include "link/click_stream.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <set>

#include "core/clock.hpp"
#include "core/log.hpp"
#include "core/thread_name.hpp"

namespace links {

namespace {

constexpr std::size_t kMaxClaimsRemembered = 100000;

std::string claim_key(const store::ClickRow& click) {
  return *click.code_id + '|' + std::to_string(click.at / core::kMsPerDay) + '|' +
         std::string(click.visitor_text());
}

std::vector<store::CounterDelta> counter_deltas(const std::vector<store::ClickRow>& batch,
                                                const std::vector<bool>& unique) {
  std::map<std::pair<std::string, long long>, store::CounterDelta>
      sums;  // sorted: see add_counters
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const auto bucket_at = batch[i].at - batch[i].at % kBucketMs;
    auto& delta = sums[{*batch[i].code_id, bucket_at}];
    delta.code_id = *batch[i].code_id;
    delta.bucket_at = bucket_at;
    ++delta.clicks;
    delta.unique_visitors += unique[i] ? 1 : 0;
  }
  std::vector<store::CounterDelta> out;
  out.reserve(sums.size());
  for (auto& entry : sums) out.push_back(std::move(entry.second));
  return out;
}

}  // namespace

ClickStream::ClickStream(db::Database& database, long long flush_interval_ms, std::size_t capacity)
    : database_(database),
      flush_interval_ms_(flush_interval_ms),
      capacity_(capacity),
      flush_early_at_(std::max<std::size_t>(capacity / 2, 1)) {}

ClickStream::~ClickStream() {
  stop();
}

bool ClickStream::record(store::ClickRow click) {
  bool half_full = false;
  {
    std::lock_guard lock(mutex_);
    if (pending_.size() >= capacity_) {
      ++counts_->dropped;
      return false;
    }
    pending_.push_back(std::move(click));
    ++counts_->buffered;
    half_full = pending_.size() == flush_early_at_;
  }
  if (half_full) wake_.notify_one();
  return true;
}

void ClickStream::start() {
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
}

void ClickStream::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  flush();
}

// Flushes start every interval, not an interval after the last write
// ended, and at once when the buffer is half full. Before, at 63k
// redirects/s on SQLite, the wait plus the write let the buffer reach its
// limit: 84,607 of 951,969 clicks were dropped in a 15 s run (bench.py,
// share-link, docs/PERFORMANCE.md).
void ClickStream::run() {
  // bench.py reports this thread's CPU per flushed click.
  core::name_this_thread("click-flusher");
  const auto interval = std::chrono::milliseconds(flush_interval_ms_);
  auto due = std::chrono::steady_clock::now() + interval;
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    wake_.wait_until(lock, due, [this] { return stopping_ || pending_.size() >= flush_early_at_; });
    lock.unlock();
    flush();
    due = std::max(due + interval, std::chrono::steady_clock::now());
    lock.lock();
  }
}

// The two vectors trade places: record() appends into the one the last
// flush emptied, which already has the capacity of a busy interval, so the
// io threads do not regrow (and copy) the buffer after every flush.
void ClickStream::flush() {
  std::lock_guard in_flight(flush_mutex_);
  auto batch = std::move(spare_);
  batch.clear();
  {
    std::lock_guard lock(mutex_);
    batch.swap(pending_);
  }
  if (!batch.empty()) write(batch);
  batch.clear();
  spare_ = std::move(batch);
}

void ClickStream::write(std::vector<store::ClickRow>& batch) {
  // Looked up here, not inside the write: on SQLite that runs on the
  // group-commit writer, and the lookups would lengthen its transaction.
  auto repeats = known_repeats(batch);
  try {
    database_.write([&](soci::session& sql) {
      if (drop_deleted_codes(sql, batch)) repeats = known_repeats(batch);
      const auto unique = store::insert_clicks(sql, batch, repeats);
      store::add_counters(sql, counter_deltas(batch, unique));
    });
    remember_claims(batch);
    const auto size = static_cast<long long>(batch.size());
    counts_->flushed += size;
    counts_->buffered -= size;
  } catch (const std::exception& error) {
    ++counts_->failed_flushes;
    core::log::event("warn", {{"msg", "click flush failed"},
                              {"clicks", static_cast<long long>(batch.size())},
                              {"detail", error.what()}});
    requeue(batch, db::classify(error) == db::Failure::unavailable);
  }
}

// Clicks of a code deleted since they were buffered are dropped alone (and
// counted as dropped); before, the foreign key refused the whole batch, and
// every other code's clicks of that interval were lost with them.
bool ClickStream::drop_deleted_codes(soci::session& sql, std::vector<store::ClickRow>& batch) {
  std::set<std::string> code_ids;
  for (const auto& click : batch) code_ids.insert(*click.code_id);
  const auto live = store::lock_codes(sql, {code_ids.begin(), code_ids.end()});
  if (live.size() == code_ids.size()) return false;
  const auto gone = std::erase_if(
      batch, [&live](const store::ClickRow& click) { return !live.contains(*click.code_id); });
  counts_->dropped += static_cast<long long>(gone);
  counts_->buffered -= static_cast<long long>(gone);
  return true;
}

std::vector<bool> ClickStream::known_repeats(const std::vector<store::ClickRow>& batch) {
  std::vector<bool> repeats(batch.size());
  for (std::size_t i = 0; i < batch.size(); ++i)
    repeats[i] = claimed_.contains(claim_key(batch[i]));
  return repeats;
}

// After the commit only: a claim rolled back with its batch must be made
// again when the batch is retried.
void ClickStream::remember_claims(const std::vector<store::ClickRow>& batch) {
  if (claimed_.size() + batch.size() > kMaxClaimsRemembered) claimed_.clear();
  for (const auto& click : batch) claimed_.insert(claim_key(click));
}

// While the database is away the batch waits for the next interval, as far
// as the buffer has room; a batch the database refused for another reason
// (a code deleted meanwhile) would be refused again, so it is dropped.
void ClickStream::requeue(std::vector<store::ClickRow>& batch, bool database_away) {
  std::lock_guard lock(mutex_);
  const auto room = capacity_ > pending_.size() ? capacity_ - pending_.size() : 0;
  const auto kept = database_away ? std::min(room, batch.size()) : std::size_t{0};
  pending_.insert(pending_.begin(), std::make_move_iterator(batch.begin()),
                  std::make_move_iterator(batch.begin() + static_cast<std::ptrdiff_t>(kept)));
  const auto lost = static_cast<long long>(batch.size() - kept);
  counts_->dropped += lost;
  counts_->buffered -= lost;
}

}  // namespace links
