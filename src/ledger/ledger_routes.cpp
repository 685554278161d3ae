#include "ledger/ledger_routes.hpp"

#include <boost/json.hpp>
#include <charconv>
#include <memory>

#include "core/api_error.hpp"
#include "core/clock.hpp"
#include "core/read_ahead.hpp"
#include "ledger/ledger_wire.hpp"

namespace ledger {

using http::Access;
using http::Lane;
using http::Request;
using http::Response;

namespace {

// Rows per streamed part: a few hundred kilobytes, whatever the total.
constexpr int kStreamBatch = 2000;
constexpr auto kFullBatch = static_cast<std::size_t>(kStreamBatch);

long long after_parameter(const Request& request) {
  const auto text = request.query("after");
  if (!text) return 0;
  long long after = -1;
  const auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), after);
  if (error != std::errc() || end != text->data() + text->size() || after < 0) {
    throw core::validation_error("'after' must be a sequence number (a non-negative integer).");
  }
  return after;
}

Response head(LedgerService& service) {
  const auto head = service.head();
  boost::json::object body{{"seq", head.seq}, {"hash", head.hash}, {"at", nullptr}};
  if (head.seq > 0) body["at"] = core::format_timestamp(head.at);
  return Response::json(200, body);
}

Response streamed(std::string content_type, std::function<bool(std::string&)> parts) {
  Response response;
  response.set_header("Content-Type", std::move(content_type));
  response.stream = std::move(parts);
  return response;
}

// Entries after `after` up to the head at the time of the request, so the
// stream ends even while entries keep coming.
class EntryParts {
 public:
  EntryParts(LedgerService& service, long long after, long long last)
      : service_(service), after_(after), last_(last) {}

  bool operator()(std::string& chunk) {
    chunk.clear();
    const auto batch = service_.entries_after(after_, kStreamBatch);
    for (const auto& entry : batch) {
      if (entry.seq > last_) return false;
      append_json_line(chunk, entry);
      after_ = entry.seq;
    }
    return batch.size() == kFullBatch && after_ < last_;
  }

 private:
  LedgerService& service_;
  long long after_;
  long long last_;
};

using ExportPages = core::ReadAhead<store::ExportQuery, std::vector<store::ExportRow>>;

// `filter`'s page after `page`, which starts after its last row; none after
// a page shorter than the limit.
std::optional<store::ExportQuery> query_after(const store::ExportQuery& filter,
                                              const std::vector<store::ExportRow>& page) {
  if (page.size() < static_cast<std::size_t>(filter.limit)) return std::nullopt;
  auto next = filter;
  next.after_time = page.back().reward.created_at;
  next.after_id = page.back().reward.id;
  return next;
}

// The header, then the rewards a page at a time in (created_at, id) order,
// the next page read while this one is formatted and sent: reading was 68%
// of the export's CPU (perf record over 1.8M rows, docs/PERFORMANCE.md).
// Shared, as a stream's parts must be copyable; ending the stream early
// waits for the page being read (one page, milliseconds).
class CsvParts {
 public:
  CsvParts(LedgerService& service, store::ExportQuery query) {
    query.limit = kStreamBatch;
    pages_ = std::make_shared<ExportPages>(
        [&service](const store::ExportQuery& page) { return service.export_page(page); },
        [filter = query](const std::vector<store::ExportRow>& page) {
          return query_after(filter, page);
        },
        std::move(query));
  }

  bool operator()(std::string& chunk) {
    chunk = header_sent_ ? "" : csv_header();
    header_sent_ = true;
    const auto rows = pages_->next();
    if (!rows) return false;
    for (const auto& row : *rows) append_csv_record(chunk, row);
    return pages_->more();
  }

 private:
  std::shared_ptr<ExportPages> pages_;
  bool header_sent_ = false;
};

Response entries(LedgerService& service, const Request& request) {
  const auto after = after_parameter(request);
  return streamed("application/x-ndjson", EntryParts(service, after, service.head().seq));
}

Response export_csv(LedgerService& service, const Request& request) {
  auto query = service.export_query(
      {request.query("status"), request.query("unit"), request.query("from"), request.query("to")});
  auto response =
      streamed("text/csv; charset=utf-8; header=present", CsvParts(service, std::move(query)));
  response.set_header("Content-Disposition", "attachment; filename=\"rewards.csv\"");
  return response;
}

}  // namespace

void add_routes(http::Router& router, LedgerService& service) {
  router.add("GET", "/api/admin/ledger/head", Access::admin, Lane::db,
             [&service](Request&) { return head(service); });
  router.add("GET", "/api/admin/ledger", Access::admin, Lane::db,
             [&service](Request& request) { return entries(service, request); });
  router.add("GET", "/api/admin/rewards/export.csv", Access::admin, Lane::db,
             [&service](Request& request) { return export_csv(service, request); });
}

}  // namespace ledger
