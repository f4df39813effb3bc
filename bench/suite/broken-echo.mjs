// A broken echo server, for the test that the C load generator's byte check fails it: each
// chunk goes back with its first two bytes swapped.
import net from 'node:net';

const server = net.createServer((socket) => {
  socket.on('data', (data) => {
    if (data.length > 1) [data[0], data[1]] = [data[1], data[0]];
    socket.write(data);
  });
  socket.on('error', () => {});
});
server.listen(0, '127.0.0.1', () => console.log(`listening on 127.0.0.1:${server.address().port}`));
