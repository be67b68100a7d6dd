'use strict';
/**
 * The tiny HTTP service that Dockerfile and rseq-slice.service start (through `rseq-slice exec`):
 * it counts requests in a SharedArrayBuffer under a SliceMutex, the shape a service with a
 * worker_threads pool uses (each worker builds its own SliceMutex over the same buffer); here the
 * one thread takes the lock uncontended. GET / answers the count, the backend and section stats.
 *
 *   PORT=8080 node server.js      serve until SIGTERM or SIGINT
 *   node server.js --check        serve on a free port, request / once, print it, stop (exit 0)
 *
 * At start it logs GLIBC_TUNABLES and who registered the rseq area: under `rseq-slice exec` on
 * glibc 2.35-2.40 that is rseq-slice (`addon`, optimized), which the kernel can grant to.
 * Exit 0: stopped cleanly; 1: the check failed or the server could not start; 2: bad arguments.
 */
const http = require('node:http');
const { detect, open, SliceMutex, SLICE_MUTEX_BYTES } = require('rseq-slice');

const args = process.argv.slice(2);
const check = args.includes('--check');
const unknown = args.filter((a) => a !== '--check');
if (unknown.length > 0) {
  console.error(`server: unknown argument ${JSON.stringify(unknown[0])}; usage: node server.js [--check]`);
  process.exit(2);
}
const port = check ? 0 : Number(process.env.PORT ?? 8080);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`server: PORT must be an integer from 0 to 65535; got ${JSON.stringify(process.env.PORT)}`);
  process.exit(2);
}

const d = detect();
console.log(`GLIBC_TUNABLES=${process.env.GLIBC_TUNABLES ?? '(unset)'}`);
console.log(
  `rseq area: ${d.rseq.registered ? `registered by ${d.rseq.owner}, ${d.rseq.mode}` : 'none'}; ` +
    `slice extension: ${d.sliceExtension.available ? 'available' : `not available (${d.sliceExtension.reason})`}`,
);

const slice = open();
const shared = new SharedArrayBuffer(SLICE_MUTEX_BYTES + 4); // [mutex word, request count]
const mutex = new SliceMutex(shared, 0, { slice });
const requests = new Int32Array(shared, SLICE_MUTEX_BYTES, 1);

const server = http.createServer((req, res) => {
  const count = mutex.withLock(() => ++requests[0]);
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ requests: count, backend: slice.backend, stats: slice.stats }) + '\n');
});

// PID 1 in a container gets no default SIGTERM handler: without this, `docker stop` waits for SIGKILL.
for (const signal of ['SIGTERM', 'SIGINT']) process.once(signal, () => server.close());

server.on('error', (err) => {
  console.error(`server: ${err.message}`);
  process.exitCode = 1;
});

server.listen(port, () => {
  const { port: bound } = server.address();
  console.log(`listening on port ${bound}, backend ${slice.backend}`);
  if (!check) return;
  http
    .get({ host: '127.0.0.1', port: bound, path: '/' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => {
        console.log(`GET / ${res.statusCode}: ${body.trim()}`);
        if (res.statusCode !== 200) process.exitCode = 1;
        server.close();
      });
    })
    .on('error', (err) => {
      console.error(`server: check request failed: ${err.message}`);
      process.exitCode = 1;
      server.close();
    });
});
