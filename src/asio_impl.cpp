// Standalone Asio's implementation, compiled exactly once for the whole library
// (ASIO_SEPARATE_COMPILATION is a PUBLIC definition of the reactsock target, so
// every TU that includes Asio headers — ours and our users' — only declares).
// Warnings are disabled for this one file in CMakeLists.txt: it is third-party code.
#include <asio/impl/src.hpp>

// Asio's TLS layer is compiled separately from the rest of Asio as well.
#include <asio/ssl/impl/src.hpp>
