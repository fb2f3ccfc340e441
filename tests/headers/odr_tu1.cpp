// ODR check, translation unit 1 of 2: the umbrella header, nothing else.
#include <reactsock/reactsock.hpp>

int reactsock_odr_tu1() { return 1; }
