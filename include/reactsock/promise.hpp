// reactsock/promise.hpp — the promise layer.
#pragma once

#include <reactsock/promise/await.hpp>
#include <reactsock/promise/combinators.hpp>
#include <reactsock/promise/promise.hpp>
#include <reactsock/promise/timer.hpp>
