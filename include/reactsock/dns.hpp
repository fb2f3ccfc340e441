// reactsock/dns.hpp — the DNS layer.
#pragma once

#include <reactsock/dns/resolver.hpp>
