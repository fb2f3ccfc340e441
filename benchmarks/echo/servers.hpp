// The echo servers bench_echo compares, as the command lines that start them.
#pragma once

#include "echo/options.hpp"
#include "echo/scenarios.hpp"

#include <string>
#include <vector>

namespace bench::echo {

// Every server --servers accepts, in report order.
inline const char* const kServerNames[] = {"reactsock", "asio", "epoll", "node"};

struct ServerSpec {
    std::string name;
    std::vector<std::string> argv;      // plain TCP scenarios
    std::vector<std::string> tls_argv;  // TLS scenarios; empty: no TLS server (epoll)
};

// Every server, with the paths of --reactsock, --asio, ... or the build
// tree's, on 127.0.0.1:0; TLS servers get options.tls_cert and tls_key.
std::vector<ServerSpec> server_specs(const Options& options);

// A server takes part in a scenario if it has a server for it (no TLS epoll).
bool runs_in(const ServerSpec& server, const Scenario& scenario);

// The directory of this executable (the build tree's benchmarks/), "." if unknown.
std::string exe_dir();

}  // namespace bench::echo
