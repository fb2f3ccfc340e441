#include "echo/servers.hpp"

#include "common/process.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>

#ifndef REACTSOCK_BENCH_SOURCE_DIR
#define REACTSOCK_BENCH_SOURCE_DIR "."
#endif

namespace bench::echo {

std::vector<ServerSpec> server_specs(const Options& options) {
    const auto path = [&](const std::string& key, const std::string& fallback) {
        const auto it = options.paths.find(key);
        return it != options.paths.end() ? it->second : fallback;
    };
    const std::string dir = exe_dir();
    const std::string address = "127.0.0.1:0";
    const std::string baselines = std::string(REACTSOCK_BENCH_SOURCE_DIR) + "/baselines/";
    const nlohmann::json reactsock_tls = {
        {"tcp", {{"tcp_nodelay", true}}},
        {"tls", {{"local_cert", options.tls_cert}, {"local_pk", options.tls_key}}}};
    const std::string reactsock = path("reactsock", dir + "/../examples/echo-server");
    return {
        {"reactsock",
         {reactsock, address, "--options", R"({"tcp":{"tcp_nodelay":true}})"},
         {reactsock, "tls://" + address, "--options", reactsock_tls.dump()}},
        {"asio",
         {path("asio", dir + "/bench_asio_echo"), address},
         {path("asio-tls", dir + "/bench_asio_tls_echo"), address, options.tls_cert,
          options.tls_key}},
        {"epoll", {path("epoll", dir + "/bench_epoll_echo"), address}, {}},
        {"node",
         {path("node", "node"), path("node-script", baselines + "node_echo.js"), address},
         {path("node", "node"), path("node-tls-script", baselines + "node_tls_echo.js"), address,
          options.tls_cert, options.tls_key}},
    };
}

bool runs_in(const ServerSpec& server, const Scenario& scenario) {
    return !is_tls(scenario.mode) || !server.tls_argv.empty();
}

std::string exe_dir() {
    const std::string self = self_exe();
    return self.empty() ? std::string(".") : std::filesystem::path(self).parent_path().string();
}

}  // namespace bench::echo
