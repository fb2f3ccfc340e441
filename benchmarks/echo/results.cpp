#include "echo/results.hpp"

#include <algorithm>

namespace bench::echo {

double median(std::vector<double> values) {
    if (values.empty())
        return std::nan("");
    std::sort(values.begin(), values.end());
    const std::size_t n = values.size();
    return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

RunMetrics medians(const std::vector<RunMetrics>& runs) {
    auto pick = [&](double RunMetrics::*field) {
        std::vector<double> values;
        for (const auto& r : runs) {
            if (r.ok)
                values.push_back(r.*field);
        }
        return median(values);
    };
    RunMetrics m;
    m.ok = true;
    m.seconds = pick(&RunMetrics::seconds);
    m.rate = pick(&RunMetrics::rate);
    m.cpu_per_op = pick(&RunMetrics::cpu_per_op);
    m.server_util = pick(&RunMetrics::server_util);
    m.client_util = pick(&RunMetrics::client_util);
    m.p50 = pick(&RunMetrics::p50);
    m.p99 = pick(&RunMetrics::p99);
    m.p999 = pick(&RunMetrics::p999);
    m.rss_before_kib = pick(&RunMetrics::rss_before_kib);
    m.rss_after_kib = pick(&RunMetrics::rss_after_kib);
    m.kib_per_conn = pick(&RunMetrics::kib_per_conn);
    m.server_softirq_per_op = pick(&RunMetrics::server_softirq_per_op);
    m.other_load = pick(&RunMetrics::other_load);
    m.resumed_fraction = pick(&RunMetrics::resumed_fraction);
    for (const auto& r : runs) {  // every distinct negotiation, in order of appearance
        if (r.ok && !r.tls.empty() && m.tls.find(r.tls) == std::string::npos)
            m.tls += (m.tls.empty() ? "" : " / ") + r.tls;
    }
    std::vector<double> ops;
    for (const auto& r : runs) {
        if (r.ok)
            ops.push_back(static_cast<double>(r.ops));
    }
    m.ops = ops.empty() ? 0 : static_cast<std::uint64_t>(median(ops));
    return m;
}

Spread spread_of(const std::vector<double>& values) {
    if (values.empty())
        return {};
    return {median(values), *std::min_element(values.begin(), values.end()),
            *std::max_element(values.begin(), values.end())};
}

namespace {

const Cell* find_cell(const Cells& cells, const std::string& id, const std::string& server) {
    const auto s = cells.find(id);
    if (s == cells.end())
        return nullptr;
    const auto c = s->second.find(server);
    return c == s->second.end() ? nullptr : &c->second;
}

// The cell of a server that ran in scenario `id` and never failed, or null.
const Cell* good_cell(const Cells& cells, const std::string& id, const std::string& server) {
    const Cell* cell = find_cell(cells, id, server);
    return cell && !cell->failed ? cell : nullptr;
}

}  // namespace

const Cell& cell_at(const Cells& cells, const std::string& id, const std::string& server) {
    static const Cell never_ran;
    const Cell* cell = find_cell(cells, id, server);
    return cell ? *cell : never_ran;
}

Spread ratio_spread(const Cells& cells, const std::string& id, const std::string& base,
                    double RunMetrics::*field) {
    const Cell* a = good_cell(cells, id, "reactsock");
    const Cell* b = good_cell(cells, id, base);
    if (!a || !b)
        return Spread{};
    std::vector<double> ratios;
    for (std::size_t i = 0; i < std::min(a->runs.size(), b->runs.size()); ++i) {
        ratios.push_back(a->runs[i].*field / b->runs[i].*field);
    }
    return spread_of(ratios);
}

namespace {

// One target of the issue. A ratio target compares reactsock with `base`:
// CPU per op at most `limit` × the baseline's, or the rate at least; without
// `base`, reactsock's own memory per idle connection is at most `limit` KiB.
struct TargetSpec {
    const char* id;  // scenario
    const char* text;
    const char* base;
    double RunMetrics::*field;
    double limit;
};

constexpr auto kCpu = &RunMetrics::cpu_per_op;
constexpr auto kRate = &RunMetrics::rate;

// In report order. The TLS targets: handshakes/s and TLS echo ≥ 0.95× raw
// Asio + asio::ssl; the load generator's core can be the limit (a TLS client
// works as hard as the server), so the CPU form of each is listed too.
constexpr TargetSpec kTargets[] = {
    {"pingpong-c100", "pingpong C=100: CPU/round trip ≤ 1.0× asio", "asio", kCpu, 1.0},
    {"pingpong-c100", "pingpong C=100: CPU/round trip ≤ 1.1× epoll", "epoll", kCpu, 1.1},
    {"pingpong-c1", "pingpong-c1: round trips/s ≥ 0.95× asio", "asio", kRate, 0.95},
    {"pingpong-c100", "pingpong-c100: round trips/s ≥ 0.95× asio", "asio", kRate, 0.95},
    {"pingpong-c1000", "pingpong-c1000: round trips/s ≥ 0.95× asio", "asio", kRate, 0.95},
    {"connrate-w50", "connrate: CPU/connection ≤ 1.0× asio", "asio", kCpu, 1.0},
    {"stream-64k-c1", "stream-64k-c1: CPU/GB ≤ 1.05× asio", "asio", kCpu, 1.05},
    {"stream-64k-c1", "stream-64k-c1: MB/s ≥ 0.95× asio", "asio", kRate, 0.95},
    {"stream-4k-c100", "stream-4k-c100: CPU/GB ≤ 1.05× asio", "asio", kCpu, 1.05},
    {"stream-4k-c100", "stream-4k-c100: MB/s ≥ 0.95× asio", "asio", kRate, 0.95},
    {"idle", "idle: ≤ 2 KiB server memory per connection (KiB)", nullptr, &RunMetrics::kib_per_conn,
     2.0},
    {"pingpong-c1", "pingpong-c1: CPU/round trip ≤ 0.6× node", "node", kCpu, 0.6},
    {"pingpong-c100", "pingpong-c100: CPU/round trip ≤ 0.6× node", "node", kCpu, 0.6},
    {"pingpong-c1000", "pingpong-c1000: CPU/round trip ≤ 0.6× node", "node", kCpu, 0.6},
    {"connrate-w50", "connrate: CPU/connection ≤ 0.6× node", "node", kCpu, 0.6},
    {"tls-handshake-w50", "tls-handshake-w50: handshakes/s ≥ 0.95× asio", "asio", kRate, 0.95},
    {"tls-handshake-w50", "tls-handshake-w50: CPU/handshake ≤ 1.05× asio", "asio", kCpu, 1.05},
    {"tls-resume-w50", "tls-resume-w50: handshakes/s ≥ 0.95× asio", "asio", kRate, 0.95},
    {"tls-resume-w50", "tls-resume-w50: CPU/handshake ≤ 1.05× asio", "asio", kCpu, 1.05},
    {"tls-stream-64k-c1", "tls-stream-64k-c1: MB/s ≥ 0.95× asio", "asio", kRate, 0.95},
    {"tls-stream-64k-c1", "tls-stream-64k-c1: CPU/GB ≤ 1.05× asio", "asio", kCpu, 1.05},
};

// reactsock's own `field` over its runs in scenario `id`.
Spread own_spread(const Cells& cells, const std::string& id, double RunMetrics::*field) {
    std::vector<double> values;
    if (const Cell* cell = good_cell(cells, id, "reactsock")) {
        for (const auto& r : cell->runs)
            values.push_back(r.*field);
    }
    return spread_of(values);
}

}  // namespace

std::vector<Target> evaluate_targets(const Cells& cells) {
    std::vector<Target> targets;
    for (const TargetSpec& t : kTargets) {
        const Spread measured =
            t.base ? ratio_spread(cells, t.id, t.base, t.field) : own_spread(cells, t.id, t.field);
        targets.push_back({t.text, measured, t.limit, t.field != kRate});
    }
    return targets;
}

std::vector<double> other_loads(const Cells& cells) {
    std::vector<double> loads;
    for (const auto& [id, by_server] : cells) {
        for (const auto& [name, cell] : by_server) {
            for (const auto& r : cell.runs) {
                if (r.ok && r.seconds > 0)
                    loads.push_back(r.other_load);
            }
        }
    }
    return loads;
}

}  // namespace bench::echo
