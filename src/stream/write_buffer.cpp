#include "stream/write_buffer.hpp"

#include <algorithm>

namespace reactsock::detail {

namespace {
// An empty buffer keeps its capacity (so steady-state writes do not allocate)
// unless it grew beyond this, e.g. after one huge write.
constexpr std::size_t kRetainedCapacity = std::size_t{1} << 20;
}  // namespace

void WriteBuffer::append(std::string_view data) {
    // Compact before growing when the sent prefix is at least as long as what
    // is pending: the move then costs no more than the bytes already sent.
    if (head_ > 0 && head_ >= size()) {
        bytes_.erase(0, head_);
        head_ = 0;
    }
    bytes_.append(data);
}

bool WriteBuffer::consume(std::size_t n) noexcept {
    head_ += std::min(n, size());
    if (head_ == bytes_.size()) {
        head_ = 0;
        const std::size_t retained = soft_limit_ > kRetainedCapacity / 4
                                         ? std::max(kRetainedCapacity, soft_limit_)
                                         : kRetainedCapacity;
        if (bytes_.capacity() > retained) {
            std::string().swap(bytes_);
        } else {
            bytes_.clear();
        }
    }
    if (drain_armed_ && size() < soft_limit_) {
        drain_armed_ = false;
        return true;
    }
    return false;
}

void WriteBuffer::clear() noexcept {
    std::string().swap(bytes_);
    head_ = 0;
    drain_armed_ = false;
}

}  // namespace reactsock::detail
