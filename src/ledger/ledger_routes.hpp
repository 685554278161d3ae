#pragma once
#include "http/router.hpp"
#include "ledger/ledger_service.hpp"

namespace ledger {

// docs/API.md, "The ledger": the head, the entry stream, the payout export.
void add_routes(http::Router& router, LedgerService& service);

}  // namespace ledger
