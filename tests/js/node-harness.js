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
 * Starts `cairn-node --dev` and resolves once its JSON-RPC server runs (and, with
 * `explorer: true`, once its block explorer serves on a free port; otherwise the explorer is off).
 * Returns `{ url, explorerUrl, stop, log }`; `explorerUrl` is null without the explorer.
 */
export async function startDevNode ({ timeoutMs = 120_000, explorer = false } = {}) {
  const basePath = mkdtempSync(join(tmpdir(), 'cairn-js-'));
  const rpcPort = await freePort();
  const p2pPort = await freePort();
  const explorerPort = explorer ? await freePort() : null;
  const explorerUrl = explorer ? `http://127.0.0.1:${explorerPort}/` : null;
  const child = spawn(nodeBinary(), [
    '--dev', '--base-path', basePath, '--rpc-port', String(rpcPort),
    '--listen-addr', `/ip4/127.0.0.1/tcp/${p2pPort}`,
    '--no-prometheus', '--no-telemetry', '--no-mdns', '--no-api',
    '--shard-listen', '/ip4/127.0.0.1/tcp/0',
    ...(explorer ? ['--explorer-port', String(explorerPort)] : ['--no-explorer'])
  ], { stdio: ['ignore', 'pipe', 'pipe'] });

  const log = [];
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`node not ready in ${timeoutMs} ms:\n${log.slice(-20).join('\n')}`)), timeoutMs);
    // The node logs to stderr; stdout is read the same way so that no line is missed.
    let rpcReady = false;
    let explorerReady = !explorer;
    const onLine = (line) => {
      log.push(line);
      if (process.env.CAIRN_TEST_LOG) process.stderr.write(`[node] ${line}\n`);
      if (line.includes('Running JSON-RPC server')) rpcReady = true;
      if (explorer && line.includes(`Cairn explorer on ${explorerUrl}`)) explorerReady = true;
      if (rpcReady && explorerReady) {
        clearTimeout(timer);
        resolve();
      }
    };
    for (const stream of [child.stdout, child.stderr]) {
      stream.setEncoding('utf8');
      let partial = '';
      stream.on('data', (chunk) => {
        const lines = (partial + chunk).split('\n');
        partial = lines.pop();
        lines.forEach(onLine);
      });
    }
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`node exited with ${code}:\n${log.slice(-20).join('\n')}`));
    });
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
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
  return { url: `ws://127.0.0.1:${rpcPort}`, explorerUrl, stop, log };
}

/** A failed extrinsic; `module` is `{ section, name }` for a pallet error. */
export class DispatchFailure extends Error {
  constructor (message, module = null) {
    super(message);
    this.name = 'DispatchFailure';
    this.module = module;
  }
}

/** A dispatch error as text: `section.name: docs` for a pallet error, else its kind. */
export function describeDispatchError (registry, dispatchError) {
  if (dispatchError.isModule) {
    const { section, name, docs } = registry.findMetaError(dispatchError.asModule);
    return { message: `${section}.${name}: ${docs.join(' ').trim()}`, module: { section, name } };
  }
  for (const kind of ['Token', 'Arithmetic', 'Transactional']) {
    if (dispatchError[`is${kind}`]) return { message: `${kind}.${dispatchError[`as${kind}`].type}`, module: null };
  }
  return { message: dispatchError.type, module: null };
}

/**
 * Signs and submits `tx` with `signer` and follows it: resolves `{ blockHash, events }` once its
 * block is finalized; rejects with a {@link DispatchFailure} when it fails in a block, or when the
 * pool reports it invalid, dropped or usurped.
 */
export function signAndFinalize (tx, signer, options = {}) {
  return new Promise((resolve, reject) => {
    let unsubscribe = null;
    let done = false;
    const finish = (settle, value) => {
      if (done) return;
      done = true;
      if (unsubscribe) unsubscribe();
      settle(value);
    };
    tx.signAndSend(signer, options, ({ status, events, dispatchError }) => {
      if (dispatchError) {
        const { message, module } = describeDispatchError(tx.registry, dispatchError);
        finish(reject, new DispatchFailure(message, module));
      } else if (status.isInvalid || status.isDropped || status.isUsurped) {
        finish(reject, new DispatchFailure(`transaction ${status.type.toLowerCase()}`));
      } else if (status.isFinalized) {
        finish(resolve, { blockHash: status.asFinalized, events });
      }
    }).then((u) => {
      unsubscribe = u;
      if (done) u();
    }, (error) => finish(reject, error));
  });
}
