// Child processes for the benchmark harnesses (bench_echo, bench_stream_pipe):
// fork/exec with redirected standard streams, waiting with a deadline, and
// the exit status in words. Linux only, no reactsock.
//
// None of these functions is safe to call while other threads of the caller
// hold locks a forked child might need: the harnesses call them from their
// single main thread.
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace bench {

// What a spawned child gets. Descriptors are dup2'ed onto 0, 1 and 2 in the
// child; -1 leaves the parent's. Everything else the parent opened with
// O_CLOEXEC stays behind at exec.
struct SpawnOptions {
    int stdin_fd = -1;
    int stdout_fd = -1;
    int stderr_fd = -1;
    int cpu = -1;  // pin the child to this CPU before exec; -1: not pinned
};

// Forks and execs argv (argv[0] searched on PATH). If exec fails the child
// prints "exec ARGV0: REASON" on its stderr and exits with 127. Returns the
// child's pid, or -1 with errno set when fork failed.
pid_t spawn(const std::vector<std::string>& argv, const SpawnOptions& options = {});

// Forks a child that runs `body` without exec and exits with what it
// returns (std::_Exit: no atexit handlers, no stdio flush). Returns the
// child's pid, or -1 with errno set when fork failed.
pid_t fork_call(const std::function<int()>& body);

// Waits for `pid` (retrying on EINTR) and returns its wait status; with
// `usage`, also its resource usage (wait4). nullopt when waiting failed.
std::optional<int> wait_for(pid_t pid, rusage* usage = nullptr);

// The wait status in words: "" for exit status 0, else "exited with status
// N" or "killed by signal NAME".
std::string describe_status(int status);

// SIGTERM, then SIGKILL if `pid` has not exited within `grace`. Returns ""
// when it exited with status 0, else what went wrong (describe_status, "did
// not exit within N s of SIGTERM (killed)" or "waitpid: REASON").
std::string terminate(pid_t pid, std::chrono::seconds grace);

// sched_setaffinity(pid, {cpu}); pid 0 is the calling thread.
bool pin_to_cpu(pid_t pid, int cpu);

// This executable's path (/proc/self/exe); "" if it cannot be read.
std::string self_exe();

}  // namespace bench
