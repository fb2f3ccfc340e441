#include <reactsock/socket/detail/listening_server.hpp>

#include "socket/listener.hpp"
#include "socket/socket_connection.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

namespace reactsock::detail {

ListeningServer::ListeningServer(std::shared_ptr<Loop> loop) : loop_(loop ? std::move(loop) : Loop::get()) {}

ListeningServer::~ListeningServer() {
    if (listener_) listener_->close();
}

void ListeningServer::listen_on(int fd, std::string address, bool tcp_nodelay) {
    // The family of accepted sockets is the listener's.
    // (Only Unix or not matters to the connection; 0 makes it ask.)
    const int family = address.rfind("unix://", 0) == 0 ? AF_UNIX : address.rfind("tcp://", 0) == 0 ? AF_INET : 0;
    address_ = std::move(address);
    // The handlers capture `this`: the listener drops them in close(), which
    // the destructor calls.
    listener_ = std::make_shared<Listener>(
        *loop_, fd,
        [this, tcp_nodelay, family](int client, const sockaddr* peer, socklen_t length) {
            if (tcp_nodelay) {
                const int one = 1;
                ::setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            }
            auto connection = SocketConnection::adopt(*loop_, client, family, peer, length);
            auto keep = weak_from_this().lock();  // a listener may drop the server
            emit(ev::connection, std::shared_ptr<Connection>(std::move(connection)));
        },
        [this](const Error& error) {
            auto keep = weak_from_this().lock();
            emit(ev::error, error);
        });
    listener_->start();
}

std::optional<std::string> ListeningServer::address() const {
    if (closed_ || !listener_) return std::nullopt;
    return address_;
}

void ListeningServer::pause() {
    if (listener_) listener_->pause();
}

void ListeningServer::resume() {
    if (listener_) listener_->resume();
}

void ListeningServer::close() {
    if (closed_) return;
    closed_ = true;
    if (listener_) listener_->close();
    after_close();
    remove_all_listeners();
}

}  // namespace reactsock::detail
