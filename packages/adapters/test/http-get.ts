// One GET with node's own http client, for the tests that serve node:http over a loop.
import http from 'node:http';

/**
 * GETs `path` from 127.0.0.1:`port` over `agent`; resolves with the status and the body. A
 * server that goes 10 s without a byte fails the request with its path, so a stalled loop fails
 * the test rather than leaving it to the runner's timeout.
 */
export function get(port: number, path: string, agent: http.Agent): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http
      .get({ host: '127.0.0.1', port, path, agent }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => {
          body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      })
      .on('error', reject);
    request.setTimeout(10_000, () => request.destroy(new Error(`GET ${path}: nothing from the server for 10000 ms`)));
  });
}
