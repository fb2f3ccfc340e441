// Links odr_tu1.cpp and odr_tu2.cpp, which both include <reactsock/reactsock.hpp>:
// a non-inline function or variable defined in a public header makes this link fail.
#include <cstdio>

int reactsock_odr_tu1();
int reactsock_odr_tu2();

int main() {
    std::printf("odr check: %d translation units linked\n", reactsock_odr_tu1() + reactsock_odr_tu2());
    return 0;
}
