// The README quotes these examples; this runs them as a user would, as separate processes.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = fileURLToPath(new URL('.', import.meta.url));

/** Starts an example server on a free port; resolves with its port once its output matches `ready`. */
async function startServer(script, ready, ...args) {
  const child = spawn(process.execPath, [`${here}${script}`, '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const port = await new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      output += chunk;
      const port = /listening on \S+:(\d+)/.exec(output)?.[1];
      if (port && ready.test(output)) resolve(Number(port));
    });
    child.stderr.on('data', (chunk) => {
      output += chunk;
    });
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}: ${output}`)));
  });
  return { child, port, output: () => output };
}

function run(script, ...args) {
  const child = spawn(process.execPath, [`${here}${script}`, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
  });
  return once(child, 'exit').then(([code]) => ({ code, stdout }));
}

describe('examples', () => {
  it('echo-server (uring) answers echo-client and exits cleanly on SIGTERM', async () => {
    const server = await startServer('echo-server.mjs', /talk to it: .*\n/, 'uring');
    expect(server.output()).toContain(`node examples/echo-client.mjs ${server.port}`);
    const result = await run('echo-client.mjs', String(server.port), 'round trip through io_uring');
    expect(result).toEqual({ code: 0, stdout: 'round trip through io_uring\n' });
    server.child.kill('SIGTERM');
    const [code, signal] = await once(server.child, 'exit');
    expect({ code, signal }).toEqual({ code: 0, signal: null });
  });

  it('echo-server (net) answers echo-client', async () => {
    const server = await startServer('echo-server.mjs', /talk to it: .*\n/, 'net');
    expect(server.output()).toContain('echo server (node:net) listening');
    const result = await run('echo-client.mjs', String(server.port), 'round trip through node:net');
    expect(result).toEqual({ code: 0, stdout: 'round trip through node:net\n' });
    server.child.kill('SIGTERM');
    await once(server.child, 'exit');
  });

  it('echo-server refuses an unknown backend with a coded error', async () => {
    const result = await run('echo-server.mjs', '0', 'carrier-pigeon');
    expect(result.code).toBe(2);
  });

  it.each(['uring', 'net', 'plain'])('http-server (%s) answers GET / with the same body', async (mode) => {
    const server = await startServer('http-server.mjs', /listening/, mode);
    const response = await fetch(`http://127.0.0.1:${server.port}/`);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('hello from iolease\n');
    server.child.kill('SIGTERM');
    const [code] = await once(server.child, 'exit');
    expect(code).toBe(0);
  });
});
