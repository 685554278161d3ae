#pragma once
#include <string>

#include "mail/outbox.hpp"

namespace auth {

enum class CodePurpose { signup, password_reset };

const char* purpose_name(CodePurpose purpose);  // as stored: "signup", "password_reset"

struct CodeMail {
  CodePurpose purpose = CodePurpose::signup;
  std::string to;
  std::string code;
  long long valid_minutes = 0;
  // A signup that replaced an earlier, unverified one for the same address:
  // the mail says so, since the reader may not have made this one.
  bool replaces_earlier_signup = false;
};

// The email that carries a one-time code, as text and simple HTML. It holds
// no text the signup chose (not even the name): anyone can sign up with
// someone else's address, and the mail must not speak for them.
mail::Email code_email(const CodeMail& mail);

}  // namespace auth
