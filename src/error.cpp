#include <reactsock/error.hpp>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <utility>

namespace reactsock {

Error::Error(std::error_code code, std::string message)
    : std::system_error(code), message_(std::move(message)) {}

Error::Error(int errno_value, std::string message)
    : Error(std::error_code(errno_value, std::generic_category()), std::move(message)) {}

std::string_view errno_name(int errno_value) noexcept {
    switch (errno_value) {
#define REACTSOCK_ERRNO_CASE(name) \
    case name:                     \
        return #name;
        REACTSOCK_ERRNO_CASE(EPERM)
        REACTSOCK_ERRNO_CASE(ENOENT)
        REACTSOCK_ERRNO_CASE(EINTR)
        REACTSOCK_ERRNO_CASE(EIO)
        REACTSOCK_ERRNO_CASE(EBADF)
        REACTSOCK_ERRNO_CASE(EAGAIN)
        REACTSOCK_ERRNO_CASE(ENOMEM)
        REACTSOCK_ERRNO_CASE(EACCES)
        REACTSOCK_ERRNO_CASE(EFAULT)
        REACTSOCK_ERRNO_CASE(EBUSY)
        REACTSOCK_ERRNO_CASE(EEXIST)
        REACTSOCK_ERRNO_CASE(ENOTDIR)
        REACTSOCK_ERRNO_CASE(EISDIR)
        REACTSOCK_ERRNO_CASE(EINVAL)
        REACTSOCK_ERRNO_CASE(ENFILE)
        REACTSOCK_ERRNO_CASE(EMFILE)
        REACTSOCK_ERRNO_CASE(ENOSPC)
        REACTSOCK_ERRNO_CASE(EPIPE)
        REACTSOCK_ERRNO_CASE(ERANGE)
        REACTSOCK_ERRNO_CASE(ENAMETOOLONG)
        REACTSOCK_ERRNO_CASE(ENOSYS)
        REACTSOCK_ERRNO_CASE(ENOTSOCK)
        REACTSOCK_ERRNO_CASE(EDESTADDRREQ)
        REACTSOCK_ERRNO_CASE(EMSGSIZE)
        REACTSOCK_ERRNO_CASE(EPROTOTYPE)
        REACTSOCK_ERRNO_CASE(ENOPROTOOPT)
        REACTSOCK_ERRNO_CASE(EPROTONOSUPPORT)
        REACTSOCK_ERRNO_CASE(EOPNOTSUPP)
        REACTSOCK_ERRNO_CASE(EAFNOSUPPORT)
        REACTSOCK_ERRNO_CASE(EADDRINUSE)
        REACTSOCK_ERRNO_CASE(EADDRNOTAVAIL)
        REACTSOCK_ERRNO_CASE(ENETDOWN)
        REACTSOCK_ERRNO_CASE(ENETUNREACH)
        REACTSOCK_ERRNO_CASE(ENETRESET)
        REACTSOCK_ERRNO_CASE(ECONNABORTED)
        REACTSOCK_ERRNO_CASE(ECONNRESET)
        REACTSOCK_ERRNO_CASE(ENOBUFS)
        REACTSOCK_ERRNO_CASE(EISCONN)
        REACTSOCK_ERRNO_CASE(ENOTCONN)
        REACTSOCK_ERRNO_CASE(ESHUTDOWN)
        REACTSOCK_ERRNO_CASE(ETIMEDOUT)
        REACTSOCK_ERRNO_CASE(ECONNREFUSED)
        REACTSOCK_ERRNO_CASE(EHOSTDOWN)
        REACTSOCK_ERRNO_CASE(EHOSTUNREACH)
        REACTSOCK_ERRNO_CASE(EALREADY)
        REACTSOCK_ERRNO_CASE(EINPROGRESS)
        REACTSOCK_ERRNO_CASE(ECANCELED)
        REACTSOCK_ERRNO_CASE(EPROTO)
        REACTSOCK_ERRNO_CASE(EBADMSG)
        REACTSOCK_ERRNO_CASE(EOVERFLOW)
#undef REACTSOCK_ERRNO_CASE
        default:
            return {};
    }
}

std::string describe_errno(int errno_value) {
    std::string text = std::generic_category().message(errno_value);
    const std::string_view name = errno_name(errno_value);
    if (!name.empty()) {
        text += " (";
        text += name;
        text += ')';
    }
    return text;
}

Error make_errno_error(int errno_value, std::string_view prefix) {
    std::string message(prefix);
    message += describe_errno(errno_value);
    return Error(errno_value, std::move(message));
}

std::string format_seconds(double seconds) {
    if (std::isnan(seconds)) return "NAN";
    if (std::isinf(seconds)) return seconds > 0 ? "INF" : "-INF";
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%.14G", seconds);
    return buffer;
}

std::string describe_exception(const std::exception_ptr& error) {
    if (!error) return "no exception";
    try {
        std::rethrow_exception(error);
    } catch (const std::exception& e) {
        return e.what();
    } catch (...) {
        return "unknown exception";
    }
}

std::string escape_for_message(std::string_view text) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        switch (c) {
            case '\\': out += "\\\\"; continue;
            case '"': out += "\\\""; continue;
            case '\n': out += "\\n"; continue;
            case '\r': out += "\\r"; continue;
            case '\t': out += "\\t"; continue;
            default: break;
        }
        if (byte >= 0x20 && byte < 0x7f) {
            out += c;
        } else {
            out += "\\x";
            out += hex[byte >> 4];
            out += hex[byte & 0xf];
        }
    }
    return out;
}

}  // namespace reactsock
