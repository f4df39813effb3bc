// What each worker of multicore-echo.mjs runs with its own loop: the echo server of
// echo-server.mjs, on a port it shares with the other workers (reusePort).
export default async function start(loop, { data }) {
  await loop.listen({ host: '127.0.0.1', port: data.port, reusePort: true }, () => ({
    onRead: (channel, lease) => channel.write(lease.bytes, () => lease.release()),
    onEnd: (channel) => channel.shutdown(),
    onError: () => undefined, // a peer's reset ends only its own connection
  }));
}
