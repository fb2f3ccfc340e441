#include <reactsock/socket/connection.hpp>

#include <reactsock/error.hpp>

#include <cerrno>
#include <memory>

namespace reactsock {

namespace {

// Held by the close listener: resolves on the close event, or when the
// listener is dropped without it (the connection was destroyed).
struct CloseWaiter {
    explicit CloseWaiter(Deferred<void> d) : deferred(std::move(d)) {}
    CloseWaiter(const CloseWaiter&) = delete;
    CloseWaiter& operator=(const CloseWaiter&) = delete;
    ~CloseWaiter() { settle(); }
    void settle() {
        if (deferred.is_pending()) deferred.resolve();
    }
    Deferred<void> deferred;
};

}  // namespace

Promise<void> Connection::closed() {
    if (is_closed()) return resolve();
    auto handle = std::make_shared<ListenerHandle>();
    std::weak_ptr<Stream> weak = weak_from_this();
    Deferred<void> deferred([weak, handle](Deferred<void>& self) {
        self.reject(Error(ECANCELED, "Waiting for the connection to close was cancelled (ECANCELED)"));
        if (auto stream = weak.lock()) stream->remove_listener(*handle);
    });
    auto waiter = std::make_shared<CloseWaiter>(deferred);
    *handle = once(ev::close, [waiter] { waiter->settle(); });
    return deferred.promise();
}

}  // namespace reactsock
