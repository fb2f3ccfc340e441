// node_tls_echo: the Node.js baseline of bench_echo's TLS scenarios —
// Node's tls module, written the idiomatic way: socket.pipe(socket) (echo with
// backpressure) on every secure connection.
//
//   node node_tls_echo.js host:port CERT.pem KEY.pem   ("tls://" or "tcp://" prefix allowed)
//
// Node's defaults otherwise: TLS 1.2 and 1.3, its default ciphersuites and
// groups, session tickets on (TLS 1.3: tickets after each handshake).
// TCP_NODELAY on accepted sockets (from accept on, before the handshake), as
// the other servers of the benchmark.
// Contract shared with examples/echo-server and the other baselines: prints
// "Listening on tls://HOST:PORT" once listening, echoes every byte, exits 0 on
// SIGINT/SIGTERM.
'use strict';
const fs = require('fs');
const tls = require('tls');

if (process.argv.length !== 5) {
  console.error('usage: node node_tls_echo.js host:port CERT.pem KEY.pem');
  process.exit(2);
}
let uri = process.argv[2];
for (const scheme of ['tls://', 'tcp://']) {
  if (uri.startsWith(scheme)) uri = uri.slice(scheme.length);
}
const colon = uri.lastIndexOf(':');
if (colon < 0) {
  console.error('usage: node node_tls_echo.js host:port CERT.pem KEY.pem');
  process.exit(2);
}
const host = uri.slice(0, colon).replace(/^\[|\]$/g, '');
const port = Number(uri.slice(colon + 1));

const server = tls.createServer(
  {
    cert: fs.readFileSync(process.argv[3]),
    key: fs.readFileSync(process.argv[4]),
    noDelay: true, // at accept, so the handshake flights go out at once too
  },
  (socket) => {
    socket.on('error', () => {}); // ECONNRESET from clients that close with RST
    socket.pipe(socket);
  });
server.on('tlsClientError', () => {}); // a client reset during its handshake
server.on('error', (err) => {
  console.error(err.message);
  process.exit(1);
});
server.listen(port, host, () => {
  const address = server.address();
  process.stdout.write(`Listening on tls://${address.address}:${address.port}\n`);
});

const shutdown = () => {
  server.close();
  process.exit(0);
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
