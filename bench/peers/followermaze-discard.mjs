// The ceiling of the followermaze benchmark: a server on the two follower-maze ports that reads
// everything the event source sends and discards it, and accepts user clients without ever
// writing to them. Running the harness against it measures the harness's own send rate.
import { createServer } from 'node:net';

let bytes = 0;
const events = createServer((socket) => {
  socket.on('data', (chunk) => {
    bytes += chunk.length;
  });
  socket.on('error', () => {});
});
const clients = createServer((socket) => {
  socket.resume();
  socket.on('error', () => {});
});
await new Promise((resolve) => events.listen(0, '127.0.0.1', resolve));
await new Promise((resolve) => clients.listen(0, '127.0.0.1', resolve));
console.log(`listening events ${events.address().port} clients ${clients.address().port}`);
process.on('SIGTERM', () => {
  console.log(`read ${bytes} bytes`);
  process.exit(0);
});
