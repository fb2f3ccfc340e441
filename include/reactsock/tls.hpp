// reactsock/tls.hpp — the TLS layer: options, negotiated details, test certificates.
// (SecureServer, SecureConnector and start_tls are in reactsock/socket.hpp.)
#pragma once

#include <reactsock/tls/certificate.hpp>
#include <reactsock/tls/info.hpp>
#include <reactsock/tls/options.hpp>
