#include "echo/server_process.hpp"

#include "common/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>

namespace bench::echo {

bool ServerProcess::start(const std::vector<std::string>& argv, int cpu,
                          const std::string& log_path, std::string& error) {
    int out[2];
    if (::pipe2(out, O_CLOEXEC) != 0) {
        error = "pipe2: " + std::string(std::strerror(errno));
        return false;
    }
    const int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    pid_ = spawn(argv, {.stdout_fd = out[1], .stderr_fd = log, .cpu = cpu});
    const int spawn_errno = errno;
    if (log >= 0)
        ::close(log);
    ::close(out[1]);
    if (pid_ < 0) {
        ::close(out[0]);
        error = "fork: " + std::string(std::strerror(spawn_errno));
        return false;
    }
    stdout_ = out[0];

    std::string line;
    if (!read_first_line(log_path, line, error)) {
        stop();
        return false;
    }
    const auto colon = line.rfind(':');
    if (line.rfind("Listening on ", 0) != 0 || colon == std::string::npos) {
        error = "unexpected first line: \"" + line + "\"";
        stop();
        return false;
    }
    port_ = std::atoi(line.c_str() + colon + 1);
    if (port_ <= 0) {
        error = "no port in \"" + line + "\"";
        stop();
        return false;
    }
    return true;
}

bool ServerProcess::read_first_line(const std::string& log_path, std::string& line,
                                    std::string& error) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (line.find('\n') == std::string::npos) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                              deadline - std::chrono::steady_clock::now())
                              .count();
        pollfd p{stdout_, POLLIN, 0};
        if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) <= 0) {
            error = "no \"Listening on\" line within 15 s";
            return false;
        }
        char buffer[256];
        const ssize_t n = ::read(stdout_, buffer, sizeof buffer);
        if (n <= 0) {
            error = "exited before listening (see " + log_path + ")";
            return false;
        }
        line.append(buffer, static_cast<std::size_t>(n));
    }
    line.resize(line.find('\n'));
    return true;
}

std::string ServerProcess::stop() {
    if (pid_ <= 0)
        return "";
    const std::string result = terminate(pid_, std::chrono::seconds(5));
    pid_ = -1;
    if (stdout_ >= 0)
        ::close(stdout_);
    stdout_ = -1;
    return result;
}

}  // namespace bench::echo
