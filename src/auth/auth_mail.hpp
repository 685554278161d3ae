#pragma once
#include <string>

#include "mail/outbox.hpp"

namespace auth {

enum class CodePurpose { signup, password_reset };

const char* purpose_name(CodePurpose purpose);  // as stored: "signup", "password_reset"

// The email that carries a one-time code, as text and simple HTML.
mail::Email code_email(CodePurpose purpose, const std::string& to, const std::string& name,
                       const std::string& code, long long valid_minutes);

}  // namespace auth
