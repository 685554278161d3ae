#pragma once
#include <string>

#include "ledger/ledger_entry.hpp"
#include "ledger/ledger_store.hpp"

// The ledger's wire formats: an entry as one JSON line (the stream a third
// party re-verifies from, scripts/ledger_verify.py) and a reward as one
// RFC 4180 CSV record (the payout export).
namespace ledger {

// {"seq", "kind", "reward_id", "user_id", "amount", "unit", "actor", "reason",
// "at" (ISO 8601), "at_ms" (the integer the hash covers), "prev_hash", "hash"} + "\n"
void append_json_line(std::string& out, const Entry& entry);

// The export's header record, CRLF-terminated.
const std::string& csv_header();
void append_csv_record(std::string& out, const store::ExportRow& row);

}  // namespace ledger
