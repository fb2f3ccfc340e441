#include <reactsock/stream/composite_stream.hpp>

#include <stdexcept>
#include <utility>

namespace reactsock {

CompositeStream::CompositeStream(std::shared_ptr<ReadableStream> readable,
                                 std::shared_ptr<WritableStream> writable)
    : readable_(std::move(readable)), writable_(std::move(writable)) {
    if (!readable_ || !writable_) {
        throw std::invalid_argument("CompositeStream: readable and writable must not be null");
    }
    if (!readable_->is_readable() || !writable_->is_writable()) {
        close();
        return;
    }
    // The listeners capture `this` without owning it: the destructor removes
    // them. Each takes a strong reference for the duration of its emit, since
    // a listener of the composite may drop the last reference to it.
    readable_handles_[0] = readable_->on(ev::data, [this](std::string_view chunk) {
        auto guard = keep_alive();
        emit(ev::data, chunk);
    });
    readable_handles_[1] = readable_->on(ev::end, [this] {
        auto guard = keep_alive();
        emit(ev::end);
    });
    readable_handles_[2] = readable_->on(ev::error, [this](const std::system_error& error) {
        auto guard = keep_alive();
        emit(ev::error, error);
    });
    readable_handles_[3] = readable_->on(ev::close, [this] { close(); });

    writable_handles_[0] = writable_->on(ev::drain, [this] {
        auto guard = keep_alive();
        emit(ev::drain);
    });
    writable_handles_[1] = writable_->on(ev::error, [this](const std::system_error& error) {
        auto guard = keep_alive();
        emit(ev::error, error);
    });
    writable_handles_[2] =
        writable_->on(ev::pipe, [this](const std::shared_ptr<ReadableStream>& source) {
            auto guard = keep_alive();
            emit(ev::pipe, source);
        });
    writable_handles_[3] = writable_->on(ev::close, [this] { close(); });
}

CompositeStream::~CompositeStream() {
    detach();
}

void CompositeStream::detach() noexcept {
    for (const ListenerHandle& handle : readable_handles_) {
        if (handle)
            readable_->remove_listener(handle);
    }
    for (const ListenerHandle& handle : writable_handles_) {
        if (handle)
            writable_->remove_listener(handle);
    }
}

bool CompositeStream::is_readable() const {
    return readable_->is_readable();
}

bool CompositeStream::is_writable() const {
    return writable_->is_writable();
}

void CompositeStream::pause() {
    readable_->pause();
}

void CompositeStream::resume() {
    if (!writable_->is_writable())
        return;
    readable_->resume();
}

bool CompositeStream::write(std::string_view data) {
    return writable_->write(data);
}

void CompositeStream::end(std::string_view data) {
    auto guard = keep_alive();
    readable_->pause();
    writable_->end(data);
}

void CompositeStream::close() {
    if (closed_)
        return;
    closed_ = true;
    auto guard = keep_alive();
    // Our listeners first, so that the sides' `close` events do not come back here.
    detach();
    readable_->close();
    writable_->close();
    emit(ev::close);
    remove_all_listeners();
}

}  // namespace reactsock
