// bench_echo's modes, one function each; main.cpp picks one from the
// command line. Each returns the process's exit status.
#pragma once

#include "echo/options.hpp"

#include <map>
#include <string>

namespace bench::echo {

// The full benchmark (driver.cpp): 0, 1 if any run failed, 2 for a bad selection.
int run_benchmark(Options options);

// --self-test (selftest.cpp): the load generator against every broken server.
int self_test();

// --connect HOST:PORT (connect.cpp): one load against a running server, a
// JSON line of results on stdout. `args` maps option names to values.
int connect_only(const std::map<std::string, std::string>& args);

// --serve-broken KIND HOST:PORT and --serve-broken-tls KIND HOST:PORT CERT KEY
// (selftest_servers.cpp): the servers --self-test starts. They never return
// once listening.
int serve_broken(const std::string& kind, const std::string& uri);
int serve_broken_tls(const std::string& kind, const std::string& uri, const std::string& cert,
                     const std::string& key);

}  // namespace bench::echo
