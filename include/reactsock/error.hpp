// reactsock/error.hpp — the error type every layer reports failures with.
//
// A failed asynchronous operation rejects its promise (or emits `error`) with a
// reactsock::Error, which *is a* std::system_error: `code()` carries the errno
// condition (compare with std::errc), and `what()` is the complete
// ReactPHP-style message, e.g.
//   "Connection to tcp://127.0.0.1:1 failed: Connection refused (ECONNREFUSED)".
// (std::system_error's own constructors append ": <strerror>" to what();
// reactsock::Error does not, so messages read exactly as documented.)
#pragma once

#include <exception>
#include <string>
#include <string_view>
#include <system_error>

namespace reactsock {

/// A std::system_error whose what() is exactly the message given.
class Error : public std::system_error {
public:
    /// `code` is the condition (usually std::generic_category errno);
    /// `message` is returned verbatim by what().
    Error(std::error_code code, std::string message);

    /// Shorthand for an errno value in std::generic_category().
    Error(int errno_value, std::string message);

    [[nodiscard]] const char* what() const noexcept override { return message_.c_str(); }

private:
    std::string message_;
};

/// The symbolic name of an errno value ("ECONNREFUSED"), or "" when unknown.
[[nodiscard]] std::string_view errno_name(int errno_value) noexcept;

/// `strerror(errno_value)` followed by " (ENAME)" when the name is known, as
/// ReactPHP formats system errors: "Connection refused (ECONNREFUSED)".
[[nodiscard]] std::string describe_errno(int errno_value);

/// An Error for errno `errno_value` with the message
/// "<prefix><strerror> (ENAME)", e.g. prefix "Connection to tcp://x:1 failed: ".
[[nodiscard]] Error make_errno_error(int errno_value, std::string_view prefix);

/// Formats seconds as ReactPHP (PHP's float to string) does: 60.0 -> "60",
/// 0.5 -> "0.5", 1.25 -> "1.25".
[[nodiscard]] std::string format_seconds(double seconds);

/// `text` made safe to print inside a message: printable ASCII stays as it is,
/// `\` and `"` are escaped, `\n` `\r` `\t` are written so, and every other byte
/// (control characters, DEL, bytes of 0x80 and above) becomes `\xNN`. Every
/// message of reactsock's that echoes input (URIs, option keys, host names)
/// passes it through this, so a hostile URI can neither forge log lines nor
/// send escape sequences to a terminal:
///     escape_for_message("a\r\nb\x1b[2J")  ==  R"(a\r\nb\x1b[2J)"
[[nodiscard]] std::string escape_for_message(std::string_view text);

/// Readable one-line description of any exception_ptr: the what() of a
/// std::exception, or "unknown exception".
[[nodiscard]] std::string describe_exception(const std::exception_ptr& error);

}  // namespace reactsock
