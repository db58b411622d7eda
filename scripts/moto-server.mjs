// moto_server (the independent AWS emulator, `pip install 'moto[server]'`) as the DynamoDB of the
// key-store tests and the hierarchical bench: started on a free loopback port, ready when it says
// so on stderr (no polling, no sleeps), stopped by its caller. A missing moto_server is an error
// that says so: the tests that need DynamoDB fail rather than skip.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { request } from 'node:http';

export const MOTO_MISSING =
  'moto_server is not installed (not on PATH): the DynamoDB key-store tests need it; install it with pip install "moto[server]"';

/** A free TCP port on 127.0.0.1 (asked of the OS, then released for moto_server to bind). */
function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/**
 * Starts `moto_server -H 127.0.0.1 -p PORT`. Resolves with { url, port, reset(), stop() } once it
 * prints that it is running; rejects with MOTO_MISSING when it is not installed, or with its last
 * output when it exits first or is not up within `timeoutMs`.
 */
export async function startMotoServer({ timeoutMs = 30_000 } = {}) {
  const port = await freePort();
  const child = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, PYTHONUNBUFFERED: '1' },
  });
  let tail = '';
  let exited = false;
  const exit = new Promise((resolve) =>
    child.once('exit', () => {
      exited = true;
      resolve();
    }),
  );
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`moto_server did not start within ${timeoutMs} ms: ${tail.trim()}`)), timeoutMs);
    let settled = false;
    function fail(e) {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(e);
    }
    child.once('error', (e) => fail(e.code === 'ENOENT' ? new Error(MOTO_MISSING) : e));
    child.once('exit', (code) => fail(new Error(`moto_server exited (${code}) before it was ready: ${tail.trim()}`)));
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk) => {
      tail = (tail + chunk).slice(-2000);
      if (!settled && tail.includes(`Running on http://127.0.0.1:${port}`)) {
        settled = true;
        clearTimeout(timer);
        // Keep draining stderr (moto logs every request) so it never blocks on a full pipe.
        child.stderr.removeAllListeners('data');
        child.stderr.resume();
        resolve();
      }
    });
  });
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    port,
    /** Forgets every table and item (moto's own reset endpoint). */
    async reset() {
      const status = await new Promise((resolve, reject) => {
        const req = request(`${url}/moto-api/reset`, { method: 'POST', timeout: 10_000 }, (res) => {
          res.resume();
          resolve(res.statusCode);
        });
        req.once('timeout', () => req.destroy(new Error('moto reset: no answer within 10 s')));
        req.once('error', reject);
        req.end();
      });
      if (status !== 200) throw new Error(`moto reset: HTTP ${status}`);
    },
    /** Stops the server (SIGTERM, then SIGKILL after 5 s) and waits for it to exit. */
    async stop() {
      if (exited) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exit;
      clearTimeout(t);
    },
  };
}
