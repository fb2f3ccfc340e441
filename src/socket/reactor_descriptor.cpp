#include "socket/reactor_descriptor.hpp"

#if defined(REACTSOCK_DIRECT_REACTOR)

#include <asio/error.hpp>
#include <asio/system_error.hpp>

#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>

namespace reactsock::detail {

ReactorDescriptor::ReactorDescriptor(asio::io_context& io)
    : io_(&io), reactor_(&asio::use_service<reactor>(io)) {}

ReactorDescriptor::~ReactorDescriptor() {
    asio::error_code ignored;
    close(ignored);
}

void ReactorDescriptor::assign(int fd) {
    if (fd_ >= 0) throw asio::system_error(asio::error::already_open);
    if (const int error = reactor_->register_descriptor(fd, data_)) {
        throw asio::system_error(asio::error_code(error, asio::error::get_system_category()));
    }
    fd_ = fd;
}

void ReactorDescriptor::non_blocking(bool mode, asio::error_code& ec) {
    int value = mode ? 1 : 0;
    if (::ioctl(fd_, FIONBIO, &value) != 0) {
        ec = asio::error_code(errno, asio::error::get_system_category());
        return;
    }
    ec = {};
}

void ReactorDescriptor::cancel(asio::error_code& ec) {
    if (fd_ < 0) {
        ec = asio::error::bad_descriptor;
        return;
    }
    reactor_->cancel_ops(fd_, data_);
    ec = {};
}

void ReactorDescriptor::close(asio::error_code& ec) {
    ec = {};
    if (fd_ < 0) return;
    // closing = true: the descriptor is ours alone, so closing it removes it
    // from the epoll set; pending waits complete with operation_aborted.
    reactor_->deregister_descriptor(fd_, data_, true);
    if (::close(fd_) != 0 && errno != EINTR) ec = asio::error_code(errno, asio::error::get_system_category());
    reactor_->cleanup_descriptor_data(data_);
    fd_ = -1;
}

}  // namespace reactsock::detail

#endif
