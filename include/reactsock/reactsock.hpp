// reactsock/reactsock.hpp — everything in reactsock.
#pragma once

#include <reactsock/dns.hpp>
#include <reactsock/error.hpp>
#include <reactsock/event.hpp>
#include <reactsock/loop.hpp>
#include <reactsock/promise.hpp>
#include <reactsock/stream.hpp>
#include <reactsock/tls.hpp>
#include <reactsock/socket.hpp>
