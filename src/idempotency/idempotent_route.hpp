#pragma once
#include "http/router.hpp"
#include "idempotency/idempotency_service.hpp"

namespace idempotency {

// Wraps an authenticated handler so it honours the Idempotency-Key header.
http::Handler idempotent(IdempotencyService& service, http::Handler handler);

}  // namespace idempotency
