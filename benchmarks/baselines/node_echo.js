// node_echo: the Node.js baseline of bench_echo (benchmarks/echo/) — Node's net module,
// written the idiomatic way: socket.pipe(socket) (echo with backpressure).
//
//   node node_echo.js [host:port]      (default 127.0.0.1:0; "tcp://" prefix allowed)
//
// TCP_NODELAY on accepted sockets, as the other servers of the benchmark.
// Contract shared with examples/echo-server and the other baselines: prints
// "Listening on tcp://HOST:PORT" once listening, echoes every byte, exits 0 on
// SIGINT/SIGTERM.
'use strict';
const net = require('net');

let uri = process.argv[2] || '127.0.0.1:0';
if (uri.startsWith('tcp://')) uri = uri.slice(6);
const colon = uri.lastIndexOf(':');
if (colon < 0) {
  console.error('usage: node node_echo.js [host:port]');
  process.exit(2);
}
const host = uri.slice(0, colon).replace(/^\[|\]$/g, '');
const port = Number(uri.slice(colon + 1));

const server = net.createServer((socket) => {
  socket.setNoDelay(true);
  socket.on('error', () => {}); // ECONNRESET from clients that close with RST
  socket.pipe(socket);
});
server.on('error', (err) => {
  console.error(err.message);
  process.exit(1);
});
server.listen(port, host, () => {
  const address = server.address();
  process.stdout.write(`Listening on tcp://${address.address}:${address.port}\n`);
});

const shutdown = () => {
  server.close();
  process.exit(0);
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
