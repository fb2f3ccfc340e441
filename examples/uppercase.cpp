// uppercase: copies stdin to stdout in upper case, through a ThroughStream.
//
//     $ printf 'hello, world\n' | ./uppercase
//     HELLO, WORLD
//
// pipe() carries the backpressure: when stdout cannot keep up, stdin is paused
// until stdout drains. The loop returns once stdin ended and stdout flushed.
#include <reactsock/reactsock.hpp>

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

namespace rs = reactsock;

int main() {
    auto in = std::make_shared<rs::ReadableResourceStream>(STDIN_FILENO);
    auto out = std::make_shared<rs::WritableResourceStream>(STDOUT_FILENO);
    auto upper =
        std::make_shared<rs::ThroughStream>([](std::string_view chunk, std::string& result) {
            result.resize(chunk.size());
            std::transform(chunk.begin(), chunk.end(), result.begin(),
                           [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
        });

    int status = 0;
    auto report = [&status](const std::system_error& error) {
        std::fprintf(stderr, "uppercase: %s\n", error.what());
        status = 1;
    };
    in->on(rs::ev::error, report);
    out->on(rs::ev::error, report);

    in->pipe(upper)->pipe(out);
    rs::Loop::get()->run();
    return status;
}
