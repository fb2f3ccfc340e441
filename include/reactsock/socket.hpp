// reactsock/socket.hpp — the socket layer: connections, servers, connectors.
#pragma once

#include <reactsock/socket/connection.hpp>
#include <reactsock/socket/connector.hpp>
#include <reactsock/socket/connector_interface.hpp>
#include <reactsock/socket/dns_connector.hpp>
#include <reactsock/socket/fd_server.hpp>
#include <reactsock/socket/fixed_uri_connector.hpp>
#include <reactsock/socket/happy_eyeballs_connector.hpp>
#include <reactsock/socket/limiting_server.hpp>
#include <reactsock/socket/secure_connector.hpp>
#include <reactsock/socket/secure_server.hpp>
#include <reactsock/socket/server.hpp>
#include <reactsock/socket/socket_server.hpp>
#include <reactsock/socket/start_tls.hpp>
#include <reactsock/socket/tcp_connector.hpp>
#include <reactsock/socket/tcp_server.hpp>
#include <reactsock/socket/timeout_connector.hpp>
#include <reactsock/socket/unix_connector.hpp>
#include <reactsock/socket/unix_server.hpp>
