// ODR check, translation unit 2 of 2: the umbrella header, nothing else.
#include <reactsock/reactsock.hpp>

int reactsock_odr_tu2() { return 1; }
