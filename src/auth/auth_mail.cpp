#include "auth/auth_mail.hpp"

namespace auth {

namespace {

std::string escape_html(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

}  // namespace

const char* purpose_name(CodePurpose purpose) {
  return purpose == CodePurpose::signup ? "signup" : "password_reset";
}

mail::Email code_email(CodePurpose purpose, const std::string& to, const std::string& name,
                       const std::string& code, long long valid_minutes) {
  const bool signup = purpose == CodePurpose::signup;
  const std::string action = signup ? "verify your email address" : "reset your password";
  const std::string minutes = std::to_string(valid_minutes);
  mail::Email email;
  email.to = to;
  email.subject = signup ? "Your verification code" : "Your password reset code";
  email.text = "Hello " + name + ",\n\nYour code to " + action + " is: " + code +
               "\n\nIt is valid for " + minutes +
               " minutes. If you did not ask for it, ignore this email.\n";
  email.html = "<p>Hello " + escape_html(name) + ",</p><p>Your code to " + action +
               " is:</p><p style=\"font-size:24px;font-weight:bold;letter-spacing:4px\">" + code +
               "</p><p>It is valid for " + minutes +
               " minutes. If you did not ask for it, ignore this email.</p>";
  return email;
}

}  // namespace auth
