// reactsock/event/events.hpp — the event tags shared by every layer.
//
// Layers declare their own tags next to their classes (`ev::connection` in
// socket/, `ev::pipe` in stream/); all of them live in namespace reactsock::ev.
#pragma once

#include <reactsock/event/event_emitter.hpp>

#include <string_view>
#include <system_error>

namespace reactsock::ev {

/// A chunk of data arrived. The view is valid only during the call: copy what
/// you keep (the bytes live in a buffer the stream reuses).
struct data_t : Event<std::string_view> {};
inline constexpr data_t data{};

/// The peer finished sending (EOF). At most once, never after `close`.
struct end_t : Event<> {};
inline constexpr end_t end{};

/// A fatal error; `close` follows. The argument is a reactsock::Error (or
/// another std::system_error): `code()` is the errno condition.
struct error_t : Event<const std::system_error&> {};
inline constexpr error_t error{};

/// The object closed. Exactly once, last; listeners are dropped afterwards.
struct close_t : Event<> {};
inline constexpr close_t close{};

/// A writable's buffer went back below its soft limit: write more.
struct drain_t : Event<> {};
inline constexpr drain_t drain{};

}  // namespace reactsock::ev
