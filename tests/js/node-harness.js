// Starts a real cairn-node on 127.0.0.1 for the JavaScript tests and stops it afterwards.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, homedir } from 'node:os';
import { join } from 'node:path';

/** The cairn-node binary: $CAIRN_NODE, else the release build in the target directory. */
export function nodeBinary () {
  if (process.env.CAIRN_NODE) return process.env.CAIRN_NODE;
  const target = process.env.CARGO_TARGET_DIR || join(homedir(), '.cache', 'cairn', 'target');
  const binary = join(target, 'release', 'cairn-node');
  if (!existsSync(binary)) {
    throw new Error(`${binary} does not exist: build it first (cargo build --release -p cairn-node)`);
  }
  return binary;
}

/** A port on 127.0.0.1 that was free a moment ago. */
export function freePort () {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts `cairn-node --dev` and resolves once its JSON-RPC server runs.
 * Returns `{ url, stop }`.
 */
export async function startDevNode ({ timeoutMs = 120_000 } = {}) {
  const basePath = mkdtempSync(join(tmpdir(), 'cairn-js-'));
  const rpcPort = await freePort();
  const p2pPort = await freePort();
  const child = spawn(nodeBinary(), [
    '--dev', '--base-path', basePath, '--rpc-port', String(rpcPort),
    '--listen-addr', `/ip4/127.0.0.1/tcp/${p2pPort}`,
    '--no-prometheus', '--no-telemetry', '--no-mdns', '--rpc-cors', 'all'
  ], { stdio: ['ignore', 'ignore', 'pipe'] });

  const log = [];
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`node not ready in ${timeoutMs} ms:\n${log.slice(-20).join('\n')}`)), timeoutMs);
    child.stderr.setEncoding('utf8');
    let partial = '';
    child.stderr.on('data', (chunk) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop();
      for (const line of lines) {
        log.push(line);
        if (process.env.CAIRN_TEST_LOG) process.stderr.write(`[node] ${line}\n`);
        if (line.includes('Running JSON-RPC server')) {
          clearTimeout(timer);
          resolve();
        }
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`node exited with ${code}:\n${log.slice(-20).join('\n')}`));
    });
  });
  await ready;

  const stop = () => new Promise((resolve) => {
    if (child.exitCode !== null) {
      rmSync(basePath, { recursive: true, force: true });
      return resolve();
    }
    const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.once('exit', () => {
      clearTimeout(killer);
      rmSync(basePath, { recursive: true, force: true });
      resolve();
    });
    child.kill('SIGTERM');
  });
  return { url: `ws://127.0.0.1:${rpcPort}`, stop, log };
}
