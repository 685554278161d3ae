#include "auth/auth_mail.hpp"

namespace auth {

namespace {

constexpr const char* kReplacedNotice =
    "A new signup for this email address replaced an earlier one that was not verified yet. "
    "If you did not make this new signup, do not enter this code: sign up again instead.";

}  // namespace

const char* purpose_name(CodePurpose purpose) {
  return purpose == CodePurpose::signup ? "signup" : "password_reset";
}

mail::Email code_email(const CodeMail& mail) {
  const bool signup = mail.purpose == CodePurpose::signup;
  const std::string action = signup ? "verify your email address" : "reset your password";
  const std::string minutes = std::to_string(mail.valid_minutes);
  const std::string notice = mail.replaces_earlier_signup ? kReplacedNotice : "";
  mail::Email email;
  email.to = mail.to;
  email.subject = signup ? "Your verification code" : "Your password reset code";
  email.text = "Hello,\n\n" + (notice.empty() ? "" : notice + "\n\n") + "Your code to " + action +
               " is: " + mail.code + "\n\nIt is valid for " + minutes +
               " minutes. If you did not ask for it, ignore this email.\n";
  email.html = "<p>Hello,</p>" + (notice.empty() ? "" : "<p>" + notice + "</p>") +
               "<p>Your code to " + action +
               " is:</p><p style=\"font-size:24px;font-weight:bold;letter-spacing:4px\">" +
               mail.code + "</p><p>It is valid for " + minutes +
               " minutes. If you did not ask for it, ignore this email.</p>";
  return email;
}

}  // namespace auth
