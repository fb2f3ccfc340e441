#include <reactsock/stream/through_stream.hpp>

#include <reactsock/error.hpp>

#include <cerrno>
#include <exception>
#include <system_error>

namespace reactsock {

namespace {

// The error a throwing transform is reported with.
Error transform_error(const std::exception_ptr& failure) {
    try {
        std::rethrow_exception(failure);
    } catch (const std::system_error& e) {
        return Error(e.code(), e.what());
    } catch (const std::exception& e) {
        return Error(EINVAL, e.what());
    } catch (...) {
        return Error(EINVAL, "Unknown exception thrown by the transformation callback");
    }
}

}  // namespace

// Marks a transform (and the emit of its output) in progress; releases the
// transform afterwards if close() was called meanwhile, also when a listener throws.
class ThroughStream::TransformScope {
public:
    explicit TransformScope(ThroughStream& stream) : stream_(stream) { ++stream_.transforming_; }
    ~TransformScope() {
        if (--stream_.transforming_ == 0 && stream_.closed_)
            stream_.transform_ = nullptr;
    }
    TransformScope(const TransformScope&) = delete;
    TransformScope& operator=(const TransformScope&) = delete;

private:
    ThroughStream& stream_;
};

ThroughStream::~ThroughStream() = default;

void ThroughStream::pause() {
    // Only while readable, as ReactPHP: a paused, ended stream would report
    // write() == false forever.
    paused_ = readable_;
}

void ThroughStream::resume() {
    paused_ = false;
    if (drain_) {
        drain_ = false;
        auto guard = keep_alive();
        emit(ev::drain);
    }
}

bool ThroughStream::write(std::string_view data) {
    if (!writable_)
        return false;
    auto guard = keep_alive();  // a listener may drop the last reference

    if (transform_) {
        // Nested writes (from a `data` listener) must not overwrite output_
        // while the outer emit still hands out views of it.
        std::string nested_output;
        std::string& out = transforming_ == 0 ? output_ : nested_output;
        std::exception_ptr failure;
        {
            TransformScope scope(*this);
            try {
                out.clear();
                transform_(data, out);
            } catch (...) {
                failure = std::current_exception();
            }
            // (The transform itself may have closed the stream.)
            if (!failure && !closed_)
                emit(ev::data, std::string_view(out));
        }
        if (failure) {
            if (!closed_) {
                emit(ev::error, transform_error(failure));
                close();
            }
            return false;
        }
    } else {
        emit(ev::data, data);
    }

    // A throttled write: tell the writer to continue on the next resume().
    if (paused_)
        drain_ = true;
    return writable_ && !paused_;
}

void ThroughStream::end(std::string_view data) {
    if (!writable_)
        return;
    auto guard = keep_alive();
    if (!data.empty()) {
        write(data);
        if (!writable_)
            return;  // a listener (or the transform) ended or closed it
    }
    readable_ = false;
    writable_ = false;
    paused_ = false;
    drain_ = false;
    emit(ev::end);
    close();
}

void ThroughStream::close() {
    if (closed_)
        return;
    auto guard = keep_alive();
    readable_ = false;
    writable_ = false;
    paused_ = false;
    drain_ = false;
    closed_ = true;
    // Release what the transform captured, unless it is running (close() was
    // called from inside it or from a `data` listener): write() does it then.
    if (transforming_ == 0)
        transform_ = nullptr;
    emit(ev::close);
    remove_all_listeners();
}

}  // namespace reactsock
