// --self-test: the load generator against each broken server of
// selftest_servers.cpp in every mode. Every broken one must fail its runs and
// the correct one ("none") must pass; so must "noresume" everywhere but in
// tls-resume. Prints a Markdown table; exit status 1 if any verdict was wrong.
#include "echo/cert.hpp"
#include "echo/commands.hpp"
#include "echo/scenarios.hpp"
#include "echo/server_process.hpp"
#include "echo/servers.hpp"

#include "common/process.hpp"
#include "loadgen.hpp"

#include <signal.h>

#include <cstdio>
#include <string>
#include <vector>

namespace bench::echo {

namespace {

struct Case {
    const char* kind;
    std::vector<Mode> modes;
    bool tls;
};

std::vector<Case> self_test_cases() {
    const std::vector<Mode> plain = {Mode::pingpong, Mode::stream, Mode::connrate, Mode::idle};
    const std::vector<Mode> tls = {Mode::tls_handshake, Mode::tls_resume, Mode::tls_stream};
    std::vector<Case> cases;
    for (const char* kind : {"none", "flip", "extra", "drop", "stall", "close"})
        cases.push_back({kind, plain, false});
    for (const char* kind : {"none", "flip", "extra", "drop", "stall", "close", "noresume"})
        cases.push_back({kind, tls, true});
    return cases;
}

// Whether a correct load generator passes `kind` in `mode`.
bool should_pass(const std::string& kind, Mode mode) {
    // noresume echoes correctly: only tls-resume must catch it.
    return kind == "none" || (kind == "noresume" && mode != Mode::tls_resume);
}

// One short load against a fresh broken server; prints its row. False if the
// verdict was wrong or the server did not start.
bool check(const Case& test, Mode mode, const std::string& self, const std::string& cert,
           const std::string& key) {
    const char* kind = test.kind;
    ServerProcess server;
    std::string error;
    const std::vector<std::string> argv =
        test.tls
            ? std::vector<std::string>{self, "--serve-broken-tls", kind, "127.0.0.1:0", cert, key}
            : std::vector<std::string>{self, "--serve-broken", kind, "127.0.0.1:0"};
    if (!server.start(argv, -1, "/dev/null", error)) {
        std::printf("| %s | %s | - | cannot start: %s |\n", kind, mode_name(mode), error.c_str());
        return false;
    }
    LoadConfig config;
    config.mode = mode;
    config.port = server.port();
    config.conns = mode == Mode::idle ? 50 : 4;
    config.size = is_stream(mode) ? 16 * 1024 : 64;
    config.warmup = 0.2;
    config.duration = 0.5;
    config.stall_timeout = 1.0;
    const LoadResult r = run_load(config);
    server.stop();
    const bool expected = should_pass(kind, mode);
    const bool right = r.ok == expected;
    std::printf("| %s%s | %s | %s | %s%s |\n", test.tls ? "TLS " : "", kind, mode_name(mode),
                expected ? "pass" : "fail", r.ok ? "passed" : ("failed: " + r.error).c_str(),
                right ? "" : " **WRONG**");
    return right;
}

}  // namespace

int self_test() {
    ::signal(SIGPIPE, SIG_IGN);
    const std::string self = self_exe();
    std::string cert, key;
    if (!write_certificate(exe_dir() + "/../bench-tls", cert, key))
        return 1;
    int wrong = 0;
    std::printf("| broken server | mode | expected | result |\n|---|---|---|---|\n");
    for (const Case& test : self_test_cases()) {
        for (Mode mode : test.modes)
            wrong += check(test, mode, self, cert, key) ? 0 : 1;
    }
    std::printf("\nself-test: %s\n",
                wrong == 0 ? "every broken server was caught, the correct one passed" : "FAILED");
    return wrong == 0 ? 0 : 1;
}

}  // namespace bench::echo
