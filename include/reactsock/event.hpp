// reactsock/event.hpp — the event layer: EventEmitter and the shared tags.
#pragma once

#include <reactsock/event/event_emitter.hpp>
#include <reactsock/event/events.hpp>
#include <reactsock/event/once.hpp>
