#include <reactsock/socket/detail/server_decorator.hpp>

#include <stdexcept>
#include <string>

namespace reactsock::detail {

ServerDecorator::ServerDecorator(std::shared_ptr<ServerInterface> inner, const char* name)
    : inner_(std::move(inner)) {
    if (!inner_) throw std::invalid_argument(std::string(name) + " needs a server to wrap");
    // `this` is safe: the destructor removes both listeners.
    connection_listener_ = inner_->on(ev::connection, [this](const std::shared_ptr<Connection>& connection) {
        auto keep = weak_from_this().lock();
        on_connection(connection);
    });
    error_listener_ = inner_->on(ev::error, [this](const std::system_error& error) { emit_alive(ev::error, error); });
}

ServerDecorator::~ServerDecorator() {
    inner_->remove_listener(connection_listener_);
    inner_->remove_listener(error_listener_);
}

void ServerDecorator::on_connection(const std::shared_ptr<Connection>& connection) {
    emit(ev::connection, connection);  // on_connection's caller keeps us alive
}

void ServerDecorator::close() {
    if (closed_) return;
    closed_ = true;
    inner_->close();
    on_close();
    remove_all_listeners();
}

}  // namespace reactsock::detail
