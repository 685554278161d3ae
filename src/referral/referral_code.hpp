#pragma once
#include <string>

namespace referral {

// "<PREFIX>-<8 chars>" from an alphabet without look-alikes (no 0/O/1/I/L).
std::string generate_code(const std::string& prefix);

// Codes match case-insensitively with surrounding spaces ignored.
std::string normalize_code(const std::string& input);

}  // namespace referral
