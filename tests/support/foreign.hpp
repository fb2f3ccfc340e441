// A Connection, a server and a connector that reactsock did not make: what a
// user's own Connection class (a mock, an in-memory pipe) looks like to
// SecureServer, SecureConnector and start_tls. They can only refuse it, with
// Error(EINVAL, ...), and close it.
#pragma once

#include <reactsock/promise/promise.hpp>
#include <reactsock/socket/connection.hpp>
#include <reactsock/socket/connector_interface.hpp>
#include <reactsock/socket/server.hpp>

#include <nlohmann/json.hpp>

#include <memory>
#include <optional>
#include <string>

namespace testnet {

class ForeignConnection final : public reactsock::Connection {
public:
    std::optional<std::string> remote_address() const override { return "tcp://127.0.0.1:1"; }
    std::optional<std::string> local_address() const override { return "tcp://127.0.0.1:2"; }
    void set_allow_half_open(bool) override {}
    void set_timeout(double) override {}
    void set_no_delay(bool) override {}
    void set_keep_alive(const reactsock::KeepAliveOptions&) override {}
    void set_option(int, int, int) override {}
    int get_option(int, int) const override { return 0; }
    std::size_t buffered_amount() const noexcept override { return 0; }
    void set_soft_limit(std::size_t) override {}
    int native_handle() const noexcept override { return -1; }
    nlohmann::json info() const override { return nlohmann::json::object(); }
    bool is_readable() const override { return open_; }
    bool is_writable() const override { return open_; }
    void pause() override {}
    void resume() override {}
    bool write(std::string_view) override { return open_; }
    void end(std::string_view) override { close(); }
    void close() override {
        if (!open_) return;
        open_ = false;
        emit(reactsock::ev::close);
        remove_all_listeners();
    }

private:
    bool open_ = true;
};

class ForeignServer final : public reactsock::ServerInterface {
public:
    std::optional<std::string> address() const override { return "tcp://127.0.0.1:3"; }
    void pause() override {}
    void resume() override {}
    void close() override {}
    void accept(std::shared_ptr<reactsock::Connection> connection) { emit(reactsock::ev::connection, connection); }
};

class ForeignConnector final : public reactsock::ConnectorInterface {
public:
    explicit ForeignConnector(std::shared_ptr<reactsock::Connection> connection) : connection_(std::move(connection)) {}
    reactsock::Promise<std::shared_ptr<reactsock::Connection>> connect(std::string_view) override {
        return reactsock::resolve(connection_);
    }

private:
    std::shared_ptr<reactsock::Connection> connection_;
};

}  // namespace testnet
