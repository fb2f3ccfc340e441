#include <reactsock/socket/fixed_uri_connector.hpp>

#include <stdexcept>

namespace reactsock {

FixedUriConnector::FixedUriConnector(std::string uri, std::shared_ptr<ConnectorInterface> connector)
    : uri_(std::move(uri)), connector_(std::move(connector)) {
    if (!connector_) throw std::invalid_argument("FixedUriConnector needs a connector");
}

Promise<std::shared_ptr<Connection>> FixedUriConnector::connect(std::string_view) { return connector_->connect(uri_); }

}  // namespace reactsock
