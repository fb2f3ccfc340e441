// reactsock/socket/detail/listening_server.hpp — implementation detail: what
// TcpServer, UnixServer and FdServer share (a listening socket, the accept
// loop, pause/resume/close). Not for direct use.
#pragma once

#include <reactsock/loop/loop.hpp>
#include <reactsock/socket/server.hpp>

#include <memory>
#include <optional>
#include <string>

namespace reactsock::detail {

class Listener;

class ListeningServer : public ServerInterface {
public:
    ~ListeningServer() override;
    ListeningServer(const ListeningServer&) = delete;
    ListeningServer& operator=(const ListeningServer&) = delete;

    [[nodiscard]] std::optional<std::string> address() const override;
    void pause() override;
    void resume() override;
    void close() override;

protected:
    explicit ListeningServer(std::shared_ptr<Loop> loop);
    // Starts accepting on the listening socket `fd` (owned from now on).
    void listen_on(int fd, std::string address, bool tcp_nodelay = false);
    // Called once by close(), after the socket is closed.
    virtual void after_close() {}
    [[nodiscard]] Loop& loop() const noexcept { return *loop_; }

private:
    std::shared_ptr<Loop> loop_;
    std::shared_ptr<Listener> listener_;
    std::string address_;
    bool closed_ = false;
};

}  // namespace reactsock::detail
