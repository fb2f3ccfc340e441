#include "socket/connector_util.hpp"

#include <reactsock/error.hpp>

#include <cctype>
#include <cerrno>
#include <stdexcept>
#include <system_error>

namespace reactsock::detail {

std::string uri_with_ip(const Uri& parts, bool had_scheme, const std::string& ip, const std::string& host) {
    std::string out;
    if (had_scheme) out += parts.scheme + "://";
    out += ip.find(':') != std::string::npos ? "[" + ip + "]" : ip;
    if (parts.port) out += ":" + std::to_string(*parts.port);
    out += parts.path;
    std::string query = parts.query;
    if (host != ip && !query_param(query, "hostname")) {
        // rawurlencode() of a host name: only unreserved characters stay.
        std::string encoded;
        for (unsigned char c : host) {
            if (std::isalnum(c) != 0 || c == '-' || c == '.' || c == '_' || c == '~') {
                encoded += static_cast<char>(c);
            } else {
                static const char* digits = "0123456789ABCDEF";
                encoded += '%';
                encoded += digits[c >> 4];
                encoded += digits[c & 15];
            }
        }
        query += (query.empty() ? "" : "&") + std::string("hostname=") + encoded;
    }
    if (!query.empty()) out += "?" + query;
    if (!parts.fragment.empty()) out += "#" + parts.fragment;
    return out;
}

std::optional<NamedTarget> parse_named_target(const std::string& uri) {
    NamedTarget target;
    target.had_scheme = uri.find("://") != std::string::npos;
    target.described = target.had_scheme ? uri : "tcp://" + uri;
    auto parsed = parse_uri(target.described);
    if (!parsed || parsed->host.empty()) return std::nullopt;
    target.parts = std::move(*parsed);
    return target;
}

std::string strip_hostname_query(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    std::size_t i = 0;
    while (i < text.size()) {
        const bool at_param = (text[i] == '?' || text[i] == '&') && text.substr(i + 1, 9) == "hostname=";
        if (!at_param) {
            out += text[i++];
            continue;
        }
        std::size_t end = i + 10;
        while (end < text.size() && text[end] != '&' && text[end] != ' ' && text[end] != '#') ++end;
        // "?hostname=a&b=c" keeps "?b=c"
        if (text[i] == '?' && end < text.size() && text[end] == '&') {
            out += '?';
            end += 1;
        }
        i = end;
    }
    return out;
}

std::exception_ptr reword_failure(const std::exception_ptr& error,
                                  const std::function<std::string(std::string_view what)>& reword,
                                  std::optional<int> other_code) {
    try {
        std::rethrow_exception(error);
    } catch (const std::invalid_argument&) {
        return error;
    } catch (const std::system_error& e) {
        return std::make_exception_ptr(Error(e.code(), reword(e.what())));
    } catch (...) {
        if (!other_code) return error;
        return std::make_exception_ptr(Error(*other_code, reword(describe_exception(error))));
    }
}

std::exception_ptr wrap_connect_failure(const std::exception_ptr& inner, const std::string& uri) {
    return reword_failure(inner, [&](std::string_view what) {
        return "Connection to " + uri + " failed: " + strip_hostname_query(what);
    });
}

int error_code_of(const std::exception_ptr& error) {
    try {
        std::rethrow_exception(error);
    } catch (const std::system_error& e) {
        return e.code().value();
    } catch (...) {
        return EIO;
    }
}

}  // namespace reactsock::detail
