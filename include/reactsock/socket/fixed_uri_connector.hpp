// reactsock/socket/fixed_uri_connector.hpp — always connects to one URI.
//
//     // Hand a Unix-socket connection to code that insists on a URI of its own:
//     rs::FixedUriConnector connector("unix:///run/app.sock", std::make_shared<rs::UnixConnector>());
//     connector.connect("localhost:80");      // connects to unix:///run/app.sock
//
// Ignores the URI it is given and connects the wrapped connector to the fixed
// one; everything else (rejections, cancellation) is the wrapped connector's.
#pragma once

#include <reactsock/socket/connector_interface.hpp>

#include <memory>
#include <string>

namespace reactsock {

class FixedUriConnector final : public ConnectorInterface {
public:
    FixedUriConnector(std::string uri, std::shared_ptr<ConnectorInterface> connector);
    /// The wrapped connector's connect() of the fixed URI; `uri` is ignored.
    /// Resolves, rejects, settles and cancels as the wrapped connector does.
    /// Threads: the loop's thread only.
    [[nodiscard]] Promise<std::shared_ptr<Connection>> connect(std::string_view uri) override;

private:
    std::string uri_;
    std::shared_ptr<ConnectorInterface> connector_;
};

}  // namespace reactsock
