// src/dns/config.hpp — private: Resolver::Config checked and turned into c-ares options.
#pragma once

#include "dns/ares_channel.hpp"

#include <reactsock/dns/resolver.hpp>

namespace reactsock::detail {

/// Validates `config` (std::invalid_argument with the documented texts) and
/// returns what the channel needs.
AresChannelOptions make_channel_options(const Resolver::Config& config);

}  // namespace reactsock::detail
