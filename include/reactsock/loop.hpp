// reactsock/loop.hpp — the loop layer.
#pragma once

#include <reactsock/loop/loop.hpp>
