import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { Kit } from '../kit.js';

/** Runs an ES module script in a child Node; resolves with its exit code and stdout. */
function runNode(script: string): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout }));
  });
}

/** Registers the suite against one backend: what a loop does to its whole process. */
export function processSuite(kit: Kit): void {
  const child = kit.backend.inChildProcess;

  describe.skipIf(child === undefined)('the host process', () => {
    const prelude = `${child?.import}\nconst loop = await (${child?.create});\n`;

    it('LOOP-6 an open listener keeps the process alive; a closed loop lets it exit', async () => {
      const lingering = await runNode(
        `${prelude}
         await loop.listen({ port: 0 }, () => undefined);
         setTimeout(() => { console.log('still alive'); process.exit(0); }, 300).unref();`,
      );
      expect(lingering.stdout).toContain('still alive');
      const exiting = await runNode(
        `${prelude}
         await loop.listen({ port: 0 }, () => undefined);
         await loop.close();
         process.on('exit', () => console.log('exited by itself'));
         setTimeout(() => { console.log('kept alive'); process.exit(1); }, 2000).unref();`,
      );
      expect(exiting).toEqual({ code: 0, stdout: 'exited by itself\n' });
    });

    it('LOOP-5 an exception in a handler is reported as uncaught and the loop keeps serving', async () => {
      const result = await runNode(
        `import net from 'node:net';
         ${prelude}
         let uncaught = 0;
         process.on('uncaughtException', () => uncaught++);
         let first = true;
         const l = await loop.listen({ port: 0 }, () => ({ onRead(c, lease) {
           c.write(lease.bytes, () => lease.release());
           if (first) { first = false; throw new Error('application bug'); }
         } }));
         const s = net.connect(l.address.port, '127.0.0.1');
         let got = '';
         s.on('data', (d) => { got += d; if (got === 'onetwo') { console.log('uncaught', uncaught, 'echo', got); process.exit(0); } });
         s.write('one');
         setTimeout(() => s.write('two'), 50);`,
      );
      expect(result.stdout.trim()).toBe('uncaught 1 echo onetwo');
    });
  });
}
