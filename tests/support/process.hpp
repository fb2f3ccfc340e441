// Test support: run a program with pipes on its stdin/stdout/stderr.
#pragma once

#include <doctest/doctest.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

namespace testproc {

class Process {
public:
    explicit Process(std::vector<std::string> argv) {
        int in[2], out[2], err[2];
        REQUIRE(::pipe2(in, O_CLOEXEC) == 0);
        REQUIRE(::pipe2(out, O_CLOEXEC) == 0);
        REQUIRE(::pipe2(err, O_CLOEXEC) == 0);
        pid_ = ::fork();
        REQUIRE(pid_ >= 0);
        if (pid_ == 0) {
            ::dup2(in[0], STDIN_FILENO);
            ::dup2(out[1], STDOUT_FILENO);
            ::dup2(err[1], STDERR_FILENO);
            std::vector<char*> args;
            for (auto& a : argv) args.push_back(a.data());
            args.push_back(nullptr);
            ::execv(args[0], args.data());
            ::_exit(127);
        }
        ::close(in[0]);
        ::close(out[1]);
        ::close(err[1]);
        stdin_ = in[1];
        stdout_ = out[0];
        stderr_ = err[0];
    }
    ~Process() {
        close_stdin();
        if (pid_ > 0 && !exited_) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
        ::close(stdout_);
        ::close(stderr_);
    }
    Process(const Process&) = delete;
    Process& operator=(const Process&) = delete;

    void write_stdin(const std::string& data) {
        std::size_t done = 0;
        while (done < data.size()) {
            const ssize_t n = ::write(stdin_, data.data() + done, data.size() - done);
            REQUIRE(n > 0);
            done += static_cast<std::size_t>(n);
        }
    }
    void close_stdin() {
        if (stdin_ >= 0) ::close(stdin_);
        stdin_ = -1;
    }

    // One line of stdout (without '\n'); "" on EOF or after `seconds`.
    std::string read_line(double seconds = 30) { return read_until(stdout_, stdout_buffer_, seconds, true); }
    // Everything until EOF.
    std::string read_stdout(double seconds = 30) { return read_until(stdout_, stdout_buffer_, seconds, false); }
    std::string read_stderr(double seconds = 30) { return read_until(stderr_, stderr_buffer_, seconds, false); }

    void signal(int signo) const { ::kill(pid_, signo); }

    // The exit status (or 128 + signal); -1 if it does not exit in time.
    int wait(double seconds = 30) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
        while (std::chrono::steady_clock::now() < deadline) {
            int status = 0;
            const pid_t r = ::waitpid(pid_, &status, WNOHANG);
            if (r == pid_) {
                exited_ = true;
                if (WIFEXITED(status)) return WEXITSTATUS(status);
                if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
                return -1;
            }
            ::poll(nullptr, 0, 10);  // waitpid has no timeout; re-check shortly
        }
        return -1;
    }

private:
    static std::string read_until(int fd, std::string& buffer, double seconds, bool line) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
        for (;;) {
            if (line) {
                const auto nl = buffer.find('\n');
                if (nl != std::string::npos) {
                    std::string out = buffer.substr(0, nl);
                    buffer.erase(0, nl + 1);
                    return out;
                }
            }
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) break;
            pollfd p{fd, POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
            char chunk[4096];
            const ssize_t n = ::read(fd, chunk, sizeof chunk);
            if (n <= 0) break;
            buffer.append(chunk, static_cast<std::size_t>(n));
        }
        std::string out;
        out.swap(buffer);
        return out;
    }

    pid_t pid_ = -1;
    bool exited_ = false;
    int stdin_ = -1;
    int stdout_ = -1;
    int stderr_ = -1;
    std::string stdout_buffer_;
    std::string stderr_buffer_;
};

}  // namespace testproc
