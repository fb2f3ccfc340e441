// One echo server under test: a child process that announces its port with
// "Listening on SCHEME://HOST:PORT" on stdout, as examples/echo-server and
// every baseline do.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace bench::echo {

class ServerProcess {
public:
    ServerProcess() = default;
    ServerProcess(const ServerProcess&) = delete;
    ServerProcess& operator=(const ServerProcess&) = delete;
    ~ServerProcess() { stop(); }

    // Starts `argv` (pinned to `cpu` unless negative) and waits up to 15 s for
    // its "Listening on" line. stderr goes to `log_path`. False, with
    // `error` set and the process gone, if it did not come up.
    bool start(const std::vector<std::string>& argv, int cpu, const std::string& log_path,
               std::string& error);

    // SIGTERM, then SIGKILL after 5 s. Returns "" when the server exited 0
    // (or was not running).
    std::string stop();

    [[nodiscard]] pid_t pid() const { return pid_; }
    [[nodiscard]] int port() const { return port_; }

private:
    // The first line of the server's stdout; false (with `error`) on timeout or EOF.
    bool read_first_line(const std::string& log_path, std::string& line, std::string& error);

    pid_t pid_ = -1;
    int stdout_ = -1;
    int port_ = 0;
};

}  // namespace bench::echo
