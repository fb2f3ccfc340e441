// reactsock/stream.hpp — the stream layer: interfaces, pipe(), ThroughStream,
// CompositeStream and the resource streams over file descriptors.
#pragma once

#include <reactsock/stream/composite_stream.hpp>
#include <reactsock/stream/resource_stream.hpp>
#include <reactsock/stream/stream.hpp>
#include <reactsock/stream/through_stream.hpp>
