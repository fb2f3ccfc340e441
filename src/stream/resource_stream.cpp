#include <reactsock/stream/resource_stream.hpp>

#include <reactsock/error.hpp>
#include <reactsock/loop/loop.hpp>

#include "options.hpp"
#include "stream/stream_reader.hpp"
#include "stream/write_buffer.hpp"

#include <asio/io_context.hpp>
#include <asio/posix/basic_stream_descriptor.hpp>
#include <asio/post.hpp>

#include <fcntl.h>

#include <csignal>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>

namespace reactsock {

namespace detail {

namespace {

// What the first writable stream does to SIGPIPE (see resource_stream.hpp).
void ignore_sigpipe_once() {
    static std::once_flag once;
    std::call_once(once, [] {
        struct sigaction current {};
        if (::sigaction(SIGPIPE, nullptr, &current) != 0)
            return;
        if ((current.sa_flags & SA_SIGINFO) == 0 && current.sa_handler == SIG_DFL) {
            struct sigaction ignore {};
            ignore.sa_handler = SIG_IGN;
            sigemptyset(&ignore.sa_mask);
            ::sigaction(SIGPIPE, &ignore, nullptr);
        }
    });
}

}  // namespace

/// The implementation of the three resource streams: one descriptor, an
/// optional reader, an optional writer, and ReactPHP's duplex state machine.
/// Emits its events on `owner`, the public stream object.
class ResourceStreamCore final : private ReaderEvents, private WriterEvents {
public:
    using Descriptor = asio::posix::basic_stream_descriptor<asio::io_context::executor_type>;

    enum class Mode { read, write, duplex };

    ResourceStreamCore(Stream& owner, int fd, const std::shared_ptr<Loop>& loop, Mode mode,
                       std::size_t read_chunk_size, std::size_t soft_limit)
        : owner_(owner),
          descriptor_((loop ? loop : Loop::get())->context().get_executor()),
          readable_(mode != Mode::write),
          writable_(mode != Mode::read) {
        if (readable_ && read_chunk_size == 0) {
            throw std::invalid_argument("Invalid read chunk size given (must be greater than 0)");
        }
        const int flags = fd < 0 ? -1 : ::fcntl(fd, F_GETFL);
        if (flags == -1) {
            throw std::invalid_argument("First parameter must be a valid stream resource");
        }
        const int access = flags & O_ACCMODE;
        if (mode == Mode::read && access != O_RDONLY && access != O_RDWR) {
            throw std::invalid_argument("Given stream resource is not opened in read mode");
        }
        if (mode == Mode::write && access != O_WRONLY && access != O_RDWR) {
            throw std::invalid_argument("Given stream resource is not opened in write mode");
        }
        if (mode == Mode::duplex && access != O_RDWR) {
            throw std::invalid_argument(
                "Given stream resource is not opened in read and write mode");
        }
        restore_blocking_ = (flags & O_NONBLOCK) == 0;
        fd_ = fd;

        asio::error_code ec;
        descriptor_.assign(fd, ec);
        if (ec)
            throw make_errno_error(ec.value(), "Unable to add stream resource to the loop: ");
        try {
            descriptor_.non_blocking(true, ec);
            if (ec) {
                throw make_errno_error(ec.value(),
                                       "Unable to set stream resource to non-blocking mode: ");
            }
            if (writable_) {
                ignore_sigpipe_once();
                writer_.emplace(descriptor_, static_cast<WriterEvents&>(*this), soft_limit);
            }
            if (readable_) {
                reader_.emplace(descriptor_, static_cast<ReaderEvents&>(*this), read_chunk_size);
                // Not from the constructor: the stream is not owned by its
                // shared_ptr yet, and its listeners are not added yet.
                asio::post(descriptor_.get_executor(), [this, alive = std::weak_ptr<void>(alive_)] {
                    if (alive.expired())
                        return;
                    if (readable_ && reader_)
                        reader_->start();
                });
            }
        } catch (...) {
            // Leave `fd` as it was given to us.
            if (restore_blocking_)
                descriptor_.non_blocking(false, ec);
            descriptor_.release();
            throw;
        }
    }

    ~ResourceStreamCore() {
        // Destroyed without close() (last reference dropped, or the loop went
        // away): release the fd quietly, no events.
        if (!closed_)
            release_fd();
    }

    ResourceStreamCore(const ResourceStreamCore&) = delete;
    ResourceStreamCore& operator=(const ResourceStreamCore&) = delete;

    [[nodiscard]] bool is_readable() const noexcept { return readable_; }
    [[nodiscard]] bool is_writable() const noexcept { return writable_ && writer_->is_writable(); }

    void pause() {
        if (reader_)
            reader_->pause();
    }

    void resume() {
        if (readable_ && reader_)
            reader_->resume();
    }

    bool write(std::string_view data) {
        if (!writable_)
            return false;
        return writer_->write(data);
    }

    void end(std::string_view data) {
        if (!writable_)
            return;
        auto guard = owner_.weak_from_this().lock();
        if (reader_) {
            // Duplex: stop reading at once, close when the output is flushed.
            readable_ = false;
            reader_->pause();
        }
        writable_ = false;
        writer_->end(data);  // may close synchronously (on_writer_finished)
    }

    void close() {
        if (closed_)
            return;
        auto guard =
            owner_.weak_from_this().lock();  // a close listener may drop the last reference
        closed_ = true;
        readable_ = false;
        writable_ = false;
        if (reader_)
            reader_->stop();
        if (writer_)
            writer_->close();
        release_fd();  // aborts a pending read or wait: their handlers find the stream closed
        owner_.emit(ev::close);
        owner_.remove_all_listeners();
    }

    [[nodiscard]] std::size_t buffered_amount() const noexcept {
        return writer_ ? writer_->buffered_amount() : 0;
    }

    [[nodiscard]] int fd() const noexcept { return descriptor_.is_open() ? fd_ : -1; }

private:
    void release_fd() noexcept {
        if (!descriptor_.is_open())
            return;
        asio::error_code ec;
        if (restore_blocking_)
            descriptor_.non_blocking(false, ec);
        descriptor_.close(ec);
    }

    // ReaderEvents. They run inside asio handlers, which hold a strong reference.
    void on_reader_data(std::string_view chunk) override { owner_.emit(ev::data, chunk); }

    void on_reader_eof() override {
        readable_ = false;
        owner_.emit(ev::end);
        if (closed_)
            return;
        if (writer_) {
            // Duplex: a reply still buffered (or an end() from an `end`
            // listener) is flushed before the stream closes; a reply whose
            // write failed is reported (`error`, then `close`) on a later turn.
            if (writer_->is_ending() || writer_->is_failed())
                return;
            if (writable_ && writer_->buffered_amount() > 0) {
                writable_ = false;
                writer_->end({});
                return;
            }
        }
        close();
    }

    void on_reader_error(const Error& error) override {
        owner_.emit(ev::error, error);
        close();
    }

    [[nodiscard]] std::shared_ptr<void> reader_keep_alive() override {
        return owner_.weak_from_this().lock();
    }

    // WriterEvents.
    void on_writer_drain() override { owner_.emit(ev::drain); }

    void on_writer_error(const Error& error) override {
        auto guard = owner_.weak_from_this().lock();
        owner_.emit(ev::error, error);
        close();
    }

    void on_writer_finished() override { close(); }

    [[nodiscard]] std::shared_ptr<void> writer_keep_alive() override {
        return owner_.shared_from_this();  // throws std::bad_weak_ptr if not shared-owned
    }

    Stream& owner_;
    Descriptor descriptor_;  // declared before reader_/writer_, which refer to it
    std::optional<StreamReader<Descriptor>> reader_;
    std::optional<BufferedWriter<Descriptor>> writer_;
    std::shared_ptr<void> alive_ = std::make_shared<char>('\0');  // for the deferred start
    bool readable_;
    bool writable_;
    bool closed_ = false;
    bool restore_blocking_ = false;
    int fd_ = -1;
};

}  // namespace detail

namespace {

using detail::ResourceStreamCore;

}  // namespace

void from_json(const nlohmann::json& json, ReadableResourceStreamOptions& options) {
    detail::JsonOptions reader(json, "ReadableResourceStream");
    reader.read("read_chunk_size", options.read_chunk_size);
    reader.finish();
}

void from_json(const nlohmann::json& json, WritableResourceStreamOptions& options) {
    detail::JsonOptions reader(json, "WritableResourceStream");
    reader.read("soft_limit", options.soft_limit);
    reader.finish();
}

void from_json(const nlohmann::json& json, DuplexResourceStreamOptions& options) {
    detail::JsonOptions reader(json, "DuplexResourceStream");
    reader.read("read_chunk_size", options.read_chunk_size);
    reader.read("soft_limit", options.soft_limit);
    reader.finish();
}

// The static forms start from the defaults; reactsock:: names the free hooks
// above (inside the struct, from_json is the static member itself).
ReadableResourceStreamOptions ReadableResourceStreamOptions::from_json(const nlohmann::json& json) {
    ReadableResourceStreamOptions options;
    reactsock::from_json(json, options);
    return options;
}

WritableResourceStreamOptions WritableResourceStreamOptions::from_json(const nlohmann::json& json) {
    WritableResourceStreamOptions options;
    reactsock::from_json(json, options);
    return options;
}

DuplexResourceStreamOptions DuplexResourceStreamOptions::from_json(const nlohmann::json& json) {
    DuplexResourceStreamOptions options;
    reactsock::from_json(json, options);
    return options;
}

// --- ReadableResourceStream -------------------------------------------------

ReadableResourceStream::ReadableResourceStream(int fd, std::shared_ptr<Loop> loop, Options options)
    : core_(std::make_unique<ResourceStreamCore>(*this, fd, loop, ResourceStreamCore::Mode::read,
                                                 options.read_chunk_size, 0)) {}

ReadableResourceStream::~ReadableResourceStream() = default;

bool ReadableResourceStream::is_readable() const {
    return core_->is_readable();
}
void ReadableResourceStream::pause() {
    core_->pause();
}
void ReadableResourceStream::resume() {
    core_->resume();
}
void ReadableResourceStream::close() {
    core_->close();
}
int ReadableResourceStream::fd() const noexcept {
    return core_->fd();
}

// --- WritableResourceStream -------------------------------------------------

WritableResourceStream::WritableResourceStream(int fd, std::shared_ptr<Loop> loop, Options options)
    : core_(std::make_unique<ResourceStreamCore>(*this, fd, loop, ResourceStreamCore::Mode::write,
                                                 0, options.soft_limit)) {}

WritableResourceStream::~WritableResourceStream() = default;

bool WritableResourceStream::is_writable() const {
    return core_->is_writable();
}
bool WritableResourceStream::write(std::string_view data) {
    return core_->write(data);
}
void WritableResourceStream::end(std::string_view data) {
    core_->end(data);
}
void WritableResourceStream::close() {
    core_->close();
}
std::size_t WritableResourceStream::buffered_amount() const noexcept {
    return core_->buffered_amount();
}
int WritableResourceStream::fd() const noexcept {
    return core_->fd();
}

// --- DuplexResourceStream ---------------------------------------------------

DuplexResourceStream::DuplexResourceStream(int fd, std::shared_ptr<Loop> loop, Options options)
    : core_(std::make_unique<ResourceStreamCore>(*this, fd, loop, ResourceStreamCore::Mode::duplex,
                                                 options.read_chunk_size, options.soft_limit)) {}

DuplexResourceStream::~DuplexResourceStream() = default;

bool DuplexResourceStream::is_readable() const {
    return core_->is_readable();
}
bool DuplexResourceStream::is_writable() const {
    return core_->is_writable();
}
void DuplexResourceStream::pause() {
    core_->pause();
}
void DuplexResourceStream::resume() {
    core_->resume();
}
bool DuplexResourceStream::write(std::string_view data) {
    return core_->write(data);
}
void DuplexResourceStream::end(std::string_view data) {
    core_->end(data);
}
void DuplexResourceStream::close() {
    core_->close();
}
std::size_t DuplexResourceStream::buffered_amount() const noexcept {
    return core_->buffered_amount();
}
int DuplexResourceStream::fd() const noexcept {
    return core_->fd();
}

}  // namespace reactsock
