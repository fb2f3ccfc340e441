#include "common/process.hpp"

#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <thread>

namespace bench {

pid_t spawn(const std::vector<std::string>& argv, const SpawnOptions& options) {
    // Built before fork: the child only calls what exec needs.
    std::vector<char*> args;
    for (const auto& a : argv)
        args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);

    const pid_t pid = ::fork();
    if (pid != 0)
        return pid;
    if (options.cpu >= 0)
        pin_to_cpu(0, options.cpu);
    if (options.stdin_fd >= 0)
        ::dup2(options.stdin_fd, STDIN_FILENO);
    if (options.stdout_fd >= 0)
        ::dup2(options.stdout_fd, STDOUT_FILENO);
    if (options.stderr_fd >= 0)
        ::dup2(options.stderr_fd, STDERR_FILENO);
    ::execvp(args[0], args.data());
    std::fprintf(stderr, "exec %s: %s\n", args[0], std::strerror(errno));
    ::_exit(127);
}

pid_t fork_call(const std::function<int()>& body) {
    const pid_t pid = ::fork();
    if (pid != 0)
        return pid;
    ::_exit(body());
}

std::optional<int> wait_for(pid_t pid, rusage* usage) {
    int status = 0;
    for (;;) {
        const pid_t r = ::wait4(pid, &status, 0, usage);
        if (r == pid)
            return status;
        if (r < 0 && errno == EINTR)
            continue;
        return std::nullopt;
    }
}

std::string describe_status(int status) {
    if (WIFSIGNALED(status))
        return std::string("killed by signal ") + ::strsignal(WTERMSIG(status));
    if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
        return "exited with status " + std::to_string(WEXITSTATUS(status));
    return "";
}

std::string terminate(pid_t pid, std::chrono::seconds grace) {
    ::kill(pid, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + grace;
    int status = 0;
    for (;;) {
        const pid_t r = ::waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return describe_status(status);
        if (r < 0)
            return "waitpid: " + std::string(std::strerror(errno));
        if (std::chrono::steady_clock::now() > deadline) {
            ::kill(pid, SIGKILL);
            wait_for(pid);
            return "did not exit within " + std::to_string(grace.count()) +
                   " s of SIGTERM (killed)";
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

bool pin_to_cpu(pid_t pid, int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return ::sched_setaffinity(pid, sizeof set, &set) == 0;
}

std::string self_exe() {
    char path[4096];
    const ssize_t len = ::readlink("/proc/self/exe", path, sizeof path - 1);
    if (len <= 0)
        return "";
    return std::string(path, static_cast<std::size_t>(len));
}

}  // namespace bench
