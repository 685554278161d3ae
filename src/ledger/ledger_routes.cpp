#include "ledger/ledger_routes.hpp"

#include <boost/json.hpp>
#include <charconv>

#include "core/api_error.hpp"
#include "core/clock.hpp"
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

// The header, then the rewards a page at a time in (created_at, id) order.
class CsvParts {
 public:
  CsvParts(LedgerService& service, store::ExportQuery query)
      : service_(service), query_(std::move(query)) {
    query_.limit = kStreamBatch;
  }

  bool operator()(std::string& chunk) {
    chunk = header_sent_ ? "" : csv_header();
    header_sent_ = true;
    const auto rows = service_.export_page(query_);
    for (const auto& row : rows) append_csv_record(chunk, row);
    if (rows.empty()) return false;
    query_.after_time = rows.back().reward.created_at;
    query_.after_id = rows.back().reward.id;
    return rows.size() == kFullBatch;
  }

 private:
  LedgerService& service_;
  store::ExportQuery query_;
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
