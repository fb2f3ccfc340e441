// reactsock/socket/unix_server.hpp — a Unix domain socket server.
//
//     auto server = std::make_shared<rs::UnixServer>("unix:///tmp/app.sock");
//
// URIs: "unix:///path", a plain "/path", or "unix://@name" for a Linux
// abstract socket (no file). Any other scheme throws std::invalid_argument
// `Given URI "<uri>" is invalid (EINVAL)`.
//
// An existing socket file is never unlinked: listening on it fails with
// reactsock::Error `Failed to listen on Unix domain socket "unix:///path":
// Address already in use (EADDRINUSE)` — remove stale files yourself. When
// the server closes (or is destroyed) it removes the socket file it created,
// if that file is still its own.
//
// Accepted connections have local_address() "unix:///path" and, usually, no
// remote address (unnamed client sockets). Events and lifetime as TcpServer.
#pragma once

#include <reactsock/loop/loop.hpp>
#include <reactsock/socket/detail/listening_server.hpp>

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace reactsock {

/// Options of UnixServer (also UnixServer::Options).
struct UnixServerOptions {
    int backlog = 511;
    /// Permissions for the socket file (e.g. 0660); unset keeps the umask's.
    std::optional<unsigned> mode{};


    static UnixServerOptions from_json(const nlohmann::json& json);
};

/// nlohmann::json ADL hook: `json.get<UnixServerOptions>()`; same rules as UnixServerOptions::from_json.
void from_json(const nlohmann::json& json, UnixServerOptions& out);

class UnixServer final : public detail::ListeningServer {
public:
    using Options = UnixServerOptions;

    explicit UnixServer(std::string_view uri, std::shared_ptr<Loop> loop = nullptr,
                        const Options& options = {});
    UnixServer(std::string_view uri, std::shared_ptr<Loop> loop, const nlohmann::json& options);
    ~UnixServer() override;

private:
    void after_close() override;

    std::string path_;  // empty for abstract sockets
    std::uint64_t inode_ = 0;
    std::uint64_t device_ = 0;
};

}  // namespace reactsock
