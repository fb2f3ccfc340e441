// The one doctest main shared by every test executable (see reactsock_add_test).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
