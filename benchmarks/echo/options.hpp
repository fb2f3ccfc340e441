// What a full benchmark run (bench_echo without --connect, --self-test, ...)
// is asked to do: the command line, parsed.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace bench::echo {

struct Options {
    std::vector<std::string> scenarios;  // selectors
    std::vector<std::string> servers;
    int repeats = 7;
    int tls_repeats = 5;  // at most this many repeats of the TLS scenarios
    double duration = 1.5;
    double warmup = 0.5;
    int idle_conns = 10000;
    std::string out;
    int server_cpu = 0;
    int client_cpu = 1;
    bool pin = true;
    bool realtime = false;
    // reactsock, asio, asio-tls, epoll, node, node-script, node-tls-script
    std::map<std::string, std::string> paths;
    std::string tls_cert, tls_key;  // TLS scenarios: the files every server gets
    bool quick = false;
};

}  // namespace bench::echo
