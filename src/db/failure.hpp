#pragma once
#include <exception>

namespace db {

// How a database error should be handled; see classify().
enum class Failure { retryable, unavailable, unique_violation, other };
Failure classify(const std::exception& error);

}  // namespace db
