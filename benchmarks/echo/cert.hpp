// The throwaway certificate of the TLS scenarios (and of --make-certificate).
#pragma once

#include <string>

namespace bench::echo {

// A self-signed certificate (EC P-256, CN=localhost) and its key as
// DIR/cert.pem and DIR/key.pem (key mode 0600), DIR created if needed: the
// same files for every TLS server of a run. Sets the absolute paths; false,
// with a message on stderr, if they could not be written.
bool write_certificate(const std::string& dir, std::string& cert_path, std::string& key_path);

}  // namespace bench::echo
