#include <reactsock/stream/stream.hpp>

#include "options.hpp"

#include <stdexcept>

namespace reactsock {

PipeOptions PipeOptions::from_json(const nlohmann::json& json) {
    detail::JsonOptions reader(json, "pipe");
    PipeOptions options;
    reader.read("end", options.end);
    reader.finish();
    return options;
}

void from_json(const nlohmann::json& json, PipeOptions& out) {
    out = PipeOptions::from_json(json);
}

}  // namespace reactsock

namespace reactsock::detail {

namespace {

// The listeners one pipe() added, so that either side's `close` can remove
// them all. Holds the streams weakly: the listeners themselves hold them.
struct PipeLink {
    std::weak_ptr<ReadableStream> source;
    std::weak_ptr<WritableStream> dest;
    ListenerHandle on_data;
    ListenerHandle on_end;
    ListenerHandle on_source_close;
    ListenerHandle on_drain;
    ListenerHandle on_dest_close;

    void detach() const {
        if (auto s = source.lock()) {
            s->remove_listener(on_data);
            s->remove_listener(on_end);
            s->remove_listener(on_source_close);
        }
        if (auto d = dest.lock()) {
            d->remove_listener(on_drain);
            d->remove_listener(on_dest_close);
        }
    }
};

}  // namespace

void pipe_streams(const std::shared_ptr<ReadableStream>& source,
                  const std::shared_ptr<WritableStream>& dest, PipeOptions options) {
    if (!source || !dest)
        throw std::invalid_argument("pipe(): source and destination must not be null");
    if (!source->is_readable())
        return;
    if (!dest->is_writable()) {
        source->pause();
        return;
    }

    dest->emit(ev::pipe, source);
    // A `pipe` listener may have ended or closed either side; listeners added
    // now would never be removed.
    if (!source->is_readable())
        return;
    if (!dest->is_writable()) {
        source->pause();
        return;
    }

    auto link = std::make_shared<PipeLink>();
    link->source = source;
    link->dest = dest;

    // Ownership: source -> (data, end listeners) -> dest -> (drain listener) -> source.
    // The cycle is what keeps an unreferenced pipeline alive; either side's
    // close breaks it by detaching everything below.
    ReadableStream* const source_ptr = source.get();
    link->on_data = source->on(ev::data, [dest, source_ptr](std::string_view chunk) {
        if (!dest->write(chunk))
            source_ptr->pause();
    });
    link->on_drain = dest->on(ev::drain, [source] { source->resume(); });
    if (options.end) {
        link->on_end = source->on(ev::end, [dest] { dest->end(); });
    }
    // The close listeners hold only the link (weak refs): no cycle through them.
    link->on_dest_close = dest->on(ev::close, [link] {
        link->detach();
        if (auto s = link->source.lock())
            s->pause();
    });
    link->on_source_close = source->on(ev::close, [link] { link->detach(); });
}

}  // namespace reactsock::detail
