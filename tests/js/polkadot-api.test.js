// polkadot.js (@polkadot/api) works against cairn-node out of the box: no hand-written types.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ApiPromise, WsProvider, Keyring } from '@polkadot/api';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { startDevNode, signAndFinalize } from './node-harness.js';

let node;
let api;

before(async () => {
  await cryptoWaitReady();
  node = await startDevNode();
  // `noInitWarn`: any missing type would still fail the calls below.
  api = await ApiPromise.create({ provider: new WsProvider(node.url), noInitWarn: true, throwOnConnect: true });
});

after(async () => {
  if (api) await api.disconnect();
  if (node) await node.stop();
});

test('chain identity and token properties come from the node', async () => {
  assert.equal(api.runtimeVersion.specName.toString(), 'cairn');
  const properties = api.registry.getChainProperties();
  assert.equal(properties.ss58Format.unwrap().toNumber(), 2207);
  assert.equal(properties.tokenSymbol.unwrap()[0].toString(), 'CAIRN');
  assert.equal(properties.tokenDecimals.unwrap()[0].toNumber(), 12);
  assert.equal((await api.rpc.system.chain()).toString(), 'Cairn Development');
});

test('storage reads decode through metadata', async () => {
  const keyring = new Keyring({ type: 'sr25519', ss58Format: 2207 });
  const alice = keyring.addFromUri('//Alice');
  const account = await api.query.system.account(alice.address);
  assert.ok(account.data.free.toBigInt() > 0n, 'Alice is endowed at genesis');
  const authorities = await api.query.babe.authorities();
  assert.equal(authorities.length, 1);
  // Every pallet's storage and calls are described by the runtime's own metadata.
  for (const pallet of ['system', 'balances', 'babe', 'grandpa', 'transactionPayment', 'sudo']) {
    assert.ok(api.query[pallet], `no storage for ${pallet}`);
  }
});

test('a signed transfer is finalized and its events are followed', async () => {
  const keyring = new Keyring({ type: 'sr25519', ss58Format: 2207 });
  const alice = keyring.addFromUri('//Alice');
  const bob = keyring.addFromUri('//Bob');
  const amount = 7n * 10n ** 12n;

  const seen = [];
  const unsubscribeEvents = await api.query.system.events((records) => {
    for (const { event } of records) seen.push(`${event.section}.${event.method}`);
  });

  const { blockHash, events } = await signAndFinalize(api.tx.balances.transferKeepAlive(bob.address, amount), alice);
  unsubscribeEvents();

  const names = events.map(({ event }) => `${event.section}.${event.method}`);
  assert.ok(names.includes('balances.Transfer'), `events: ${names}`);
  assert.ok(names.includes('system.ExtrinsicSuccess'), `events: ${names}`);
  const transfer = events.find(({ event }) => api.events.balances.Transfer.is(event)).event;
  assert.equal(transfer.data.amount.toBigInt(), amount);
  assert.equal(transfer.data.to.toString(), bob.address);
  assert.ok(seen.includes('balances.Transfer'), 'the events subscription saw the transfer');

  const header = await api.rpc.chain.getHeader(blockHash);
  const finalized = await api.rpc.chain.getHeader(await api.rpc.chain.getFinalizedHead());
  assert.ok(finalized.number.toNumber() >= header.number.toNumber());
});
