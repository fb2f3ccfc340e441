// Built against an installed reactsock by tests/install/run.cmake.
#include <reactsock/reactsock.hpp>

#include <cstdio>

int main() {
    auto loop = reactsock::Loop::get();
    bool fired = false;
    loop->add_timer(0.01, [&fired] {
        fired = true;
        std::puts("reactsock consumer: timer fired");
    });
    loop->run();
    return fired ? 0 : 1;
}
