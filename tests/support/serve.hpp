// Test support: run a loop (serving an in-process server) while a child
// process talks to it, until the child has exited.
#pragma once

#include "support/net.hpp"
#include "support/process.hpp"

#include <memory>
#include <string>
#include <thread>
#include <utility>

namespace testproc {

// Reads `child`'s whole stdout and waits for it on a thread while `loop` runs
// here; returns that output and the exit status once the child is gone.
inline std::pair<std::string, int> serve_until_exit(const std::shared_ptr<reactsock::Loop>& loop, Process& child) {
    bool done = false;
    std::string output;
    int status = -1;
    std::thread reader([&] {
        output = child.read_stdout();
        status = child.wait();
        loop->post([&] { done = true; });
    });
    testnet::run_until(loop, [&] { return done; });
    reader.join();
    return {output, status};
}

}  // namespace testproc
