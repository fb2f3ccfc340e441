// Standalone Asio's implementation, compiled exactly once for the whole library
// (ASIO_SEPARATE_COMPILATION is a PUBLIC definition of the reactsock target, so
// every TU that includes Asio headers — ours and our users' — only declares).
// Warnings are disabled for this one file in CMakeLists.txt: it is third-party code.
//
// Every TU must see the same Asio configuration (see CMakeLists.txt): this one
// includes no standard header before Asio, which is exactly the case that used
// to differ, so refuse to build without the definition that makes it uniform.
#if !defined(ASIO_DISABLE_STD_ALIGNED_ALLOC)
#error "reactsock: build with -DASIO_DISABLE_STD_ALIGNED_ALLOC (the reactsock target defines it)"
#endif
#include <asio/impl/src.hpp>

// Asio's TLS layer is compiled separately from the rest of Asio as well.
#include <asio/ssl/impl/src.hpp>
