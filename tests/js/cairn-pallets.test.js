// The storage market through polkadot.js, from the runtime's metadata alone (no hand-written types),
// and the node's cairn_* RPC methods against the same state.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ApiPromise, WsProvider } from '@polkadot/api';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { startDevNode, signAndFinalize } from './node-harness.js';
import {
  UNITS, SHARD_BYTES, PROVIDER, CONTRACT, devAccounts, shardSpec, registerProvider, createContract,
  expectedEscrow, escrowHeld, depositHeld, providerAddresses
} from './cairn-fixtures.js';

let node;
let wsProvider; // the provider under `api`, for the cairn_* methods (ApiPromise has no public `provider`)
let api;
let accounts;
let contract; // the contract Ferdie opens

const hex = (bytes) => `0x${Buffer.from(bytes).toString('hex')}`;
const names = (events) => events.map(({ event }) => `${event.section}.${event.method}`);

before(async () => {
  await cryptoWaitReady();
  node = await startDevNode();
  wsProvider = new WsProvider(node.url);
  api = await ApiPromise.create({ provider: wsProvider, noInitWarn: true, throwOnConnect: true });
  accounts = devAccounts();
});

after(async () => {
  if (api) await api.disconnect();
  if (node) await node.stop();
});

test('metadata describes the providers and market pallets', async () => {
  const pallets = new Map(api.runtimeMetadata.asLatest.pallets.map((p) => [p.name.toString(), p.index.toNumber()]));
  assert.equal(pallets.get('Providers'), 7);
  assert.equal(pallets.get('Market'), 8);

  const calls = {
    providers: ['registerProvider', 'addStake', 'beginExit', 'withdraw', 'updateProvider'],
    market: ['createContract', 'confirmShard', 'submitProof', 'endContract']
  };
  for (const [pallet, expected] of Object.entries(calls)) {
    assert.ok(api.tx[pallet], `no calls for ${pallet}`);
    assert.ok(api.query[pallet], `no storage for ${pallet}`);
    for (const call of expected) {
      assert.equal(typeof api.tx[pallet][call], 'function', `${pallet}.${call}`);
      const docs = api.tx[pallet][call].meta.docs.map((line) => line.toString()).join(' ').trim();
      assert.ok(docs.length > 0, `${pallet}.${call} has no docs`);
    }
  }
  assert.ok(api.tx.market.createContract.meta.docs.length > 0);
  assert.ok(api.events.market.ContractCreated && api.events.providers.ProviderRegistered);
  assert.ok(api.errors.market.ZeroDataShards);

  assert.ok(api.consts.market.maxShards.toNumber() >= 3);
  assert.equal(api.consts.providers.minStakePerTib.toBigInt(), 100n * UNITS);
  assert.ok((await api.query.market.provingPeriod()).toNumber() > 0);
  assert.equal((await api.query.market.nextContractId()).toNumber(), 0);
});

test('Bob registers as a provider; the event and the record follow', async () => {
  const { bob } = accounts;
  const seen = [];
  const unsubscribe = await api.query.system.events((records) => seen.push(...names(records)));
  const before = await api.query.system.account(bob.address);

  const registration = await registerProvider(api, bob);
  unsubscribe();

  assert.ok(names(registration.events).includes('providers.ProviderRegistered'), `events: ${names(registration.events)}`);
  assert.ok(seen.includes('providers.ProviderRegistered'), 'the system.events subscription saw the registration');
  const event = registration.events.find(({ event }) => api.events.providers.ProviderRegistered.is(event)).event;
  assert.equal(event.data.provider.toString(), bob.address);
  assert.equal(event.data.stake.toBigInt(), PROVIDER.stake);
  assert.equal(event.data.capacity.toBigInt(), PROVIDER.capacity);

  const info = (await api.query.providers.providers(bob.address)).unwrap();
  assert.equal(info.stake.toBigInt(), PROVIDER.stake);
  assert.equal(info.capacity.toBigInt(), PROVIDER.capacity);
  assert.equal(info.used.toNumber(), 0);
  assert.equal(info.shards.toNumber(), 0);
  assert.equal(info.pricePerByteBlock.toBigInt(), PROVIDER.price);
  // The raw libp2p bytes are stored as given: the identity multihash of Bob's (stand-in) Ed25519
  // key, and `/ip4/127.0.0.1/tcp/30400`.
  assert.equal(info.peerId.toHex(), hex(registration.peerIdBytes));
  assert.equal(info.peerId.toHex(), hex([0x00, 0x24, 0x08, 0x01, 0x12, 0x20, ...bob.publicKey]));
  assert.deepEqual(info.multiaddrs.map((a) => a.toHex()), registration.multiaddrsBytes.map(hex));
  assert.deepEqual(info.multiaddrs.map((a) => a.toHex()), ['0x047f0000010676c0']);
  assert.ok(info.status.isActive);

  // The stake is held, not spent.
  const after = await api.query.system.account(bob.address);
  assert.equal(after.data.reserved.toBigInt() - before.data.reserved.toBigInt(), PROVIDER.stake);
});

test('Charlie and Dave register too', async () => {
  const { charlie, dave } = accounts;
  await Promise.all([registerProvider(api, charlie, { port: 30401 }), registerProvider(api, dave, { port: 30402 })]);
  for (const provider of [charlie, dave]) {
    const info = await api.query.providers.providers(provider.address);
    assert.ok(info.isSome, `${provider.address} is registered`);
    assert.equal(info.unwrap().stake.toBigInt(), PROVIDER.stake);
  }
});

test('Ferdie opens a 2 + 1 contract over Bob, Charlie and Dave; the escrow is held', async () => {
  const { bob, charlie, dave, ferdie } = accounts;
  const providers = [bob, charlie, dave];
  const accountBefore = await api.query.system.account(ferdie.address);
  const holdsBefore = await api.query.balances.holds(ferdie.address);
  const heldBefore = escrowHeld(holdsBefore);
  const depositBefore = depositHeld(holdsBefore);
  const nextId = (await api.query.market.nextContractId()).toNumber();

  // A sealed manifest as the node makes one: opaque bytes, kept with the contract for a deposit.
  const manifest = new Uint8Array(64).map((_, i) => (i * 37 + 11) & 0xff);
  contract = await createContract(api, ferdie, providers, { manifest: hex(manifest) });
  assert.equal(contract.id, nextId);
  const kept = await api.query.market.manifests(contract.id);
  assert.equal(kept.unwrap().toHex(), hex(manifest));
  assert.ok(api.consts.market.maxManifestBytes.toNumber() >= manifest.length);
  const escrow = expectedEscrow(contract.shards);
  assert.equal(contract.escrow, escrow);

  // The event is in the finalized block's own events.
  const atBlock = await api.at(contract.blockHash);
  const blockEvents = names(await atBlock.query.system.events());
  assert.ok(blockEvents.includes('market.ContractCreated'), `events: ${blockEvents}`);
  assert.equal(blockEvents.filter((name) => name === 'market.ShardAssigned').length, 3);
  assert.ok((await api.query.market.nextContractId()).toNumber() > contract.id);

  const stored = (await api.query.market.contracts(contract.id)).unwrap();
  assert.equal(stored.owner.toString(), ferdie.address);
  assert.equal(stored.k.toNumber(), CONTRACT.k);
  assert.equal(stored.m.toNumber(), CONTRACT.m);
  assert.equal(stored.end.toNumber(), contract.end);
  assert.equal(stored.escrow.toBigInt(), escrow);
  assert.equal(stored.paid.toBigInt(), 0n);
  assert.equal(stored.shards.length, 3);
  stored.shards.forEach((shard, i) => {
    assert.ok(shard.status.isPending, `shard ${i} is ${shard.status.type}`);
    assert.equal(shard.provider.toString(), providers[i].address);
    assert.equal(shard.spec.bytes.toBigInt(), SHARD_BYTES);
    assert.equal(shard.spec.root.toHex(), hex(contract.shards[i].root));
    assert.equal(shard.pricePerByteBlock.toBigInt(), PROVIDER.price);
    assert.equal(shard.repair.isTrue, false);
    assert.ok(shard.lastProven.isNone);
  });

  // The escrow and the deposit (per contract, per shard and per manifest byte, from the
  // runtime's constants) are held from Ferdie: reserved grew by exactly their sum, each under
  // its own hold reason.
  const deposit = api.consts.market.contractDeposit.toBigInt() +
    3n * api.consts.market.shardDeposit.toBigInt() +
    64n * api.consts.market.manifestByteDeposit.toBigInt();
  assert.ok(deposit > 0n);
  assert.equal(stored.deposit.toBigInt(), deposit);
  const accountAfter = await api.query.system.account(ferdie.address);
  assert.equal(accountAfter.data.reserved.toBigInt() - accountBefore.data.reserved.toBigInt(), escrow + deposit);
  const holdsAfter = await api.query.balances.holds(ferdie.address);
  assert.equal(escrowHeld(holdsAfter) - heldBefore, escrow);
  assert.equal(depositHeld(holdsAfter) - depositBefore, deposit);

  // Each provider reserved room for its shard.
  for (const provider of providers) {
    const info = (await api.query.providers.providers(provider.address)).unwrap();
    assert.equal(info.used.toBigInt(), SHARD_BYTES);
    assert.equal(info.shards.toNumber(), 1);
  }
});

test('the cairn_* RPC methods agree with storage', async (t) => {
  assert.ok(contract, 'needs the contract of the previous test');
  const { bob, charlie, dave, ferdie } = accounts;
  const providers = [bob, charlie, dave];
  const ports = new Map([[bob.address, 30400], [charlie.address, 30401], [dave.address, 30402]]);
  const stored = (await api.query.market.contracts(contract.id)).unwrap();

  const view = await wsProvider.send('cairn_contract', [contract.id]);
  assert.equal(view.id, contract.id);
  assert.equal(view.owner, ferdie.address);
  assert.equal(view.k, CONTRACT.k);
  assert.equal(view.m, CONTRACT.m);
  assert.equal(view.start, stored.start.toNumber());
  assert.equal(view.end, contract.end);
  assert.equal(view.escrow, contract.escrow.toString());
  assert.equal(view.paid, '0');
  assert.equal(view.bytes, 3 * Number(SHARD_BYTES));
  assert.equal(view.shards.length, 3);
  view.shards.forEach((shard, i) => {
    const onChain = stored.shards[i];
    const expected = {
      index: i,
      provider: providers[i].address,
      root: onChain.spec.root.toHex(),
      blake3: onChain.spec.blake3.toHex(),
      bytes: Number(SHARD_BYTES),
      pricePerByteBlock: PROVIDER.price.toString(),
      status: 'pending',
      deadline: onChain.status.asPending.deadline.toNumber(),
      repair: false,
      lastProven: null,
      proofs: 0,
      consecutiveFaults: 0
    };
    for (const [field, value] of Object.entries(expected)) assert.deepEqual(shard[field], value, `shard ${i} ${field}`);
  });

  assert.equal(await wsProvider.send('cairn_contract', [contract.id + 1000]), null);
  const owned = await wsProvider.send('cairn_contracts', [ferdie.address]);
  assert.deepEqual(owned.map((c) => c.id), [contract.id]);
  assert.deepEqual(owned[0], view);
  assert.ok((await wsProvider.send('cairn_contracts', [null])).some((c) => c.id === contract.id));
  assert.deepEqual(await wsProvider.send('cairn_contracts', [accounts.eve.address]), []);

  const listed = await wsProvider.send('cairn_providers', []);
  for (const provider of providers) {
    const entry = listed.find((p) => p.account === provider.address);
    assert.ok(entry, `${provider.address} in cairn_providers`);
    assert.equal(entry.stake, PROVIDER.stake.toString());
    assert.equal(entry.capacity, Number(PROVIDER.capacity));
    assert.equal(entry.used, Number(SHARD_BYTES));
    assert.equal(entry.shards, 1);
    assert.equal(entry.pricePerByteBlock, PROVIDER.price.toString());
    assert.equal(entry.status, 'active');
    assert.equal(entry.unlockAt, null);
    assert.equal(entry.faults, 0);
    // Shown in libp2p's text forms.
    const { peerId, multiaddrs } = providerAddresses(provider, ports.get(provider.address));
    assert.match(entry.peerId, /^12D3KooW/);
    assert.equal(entry.peerId, peerId);
    assert.deepEqual(entry.multiaddrs, multiaddrs);
  }

  await t.test('cairn_events lists the Cairn events of a block', async () => {
    const events = await wsProvider.send('cairn_events', [contract.blockHash.toHex()]);
    const created = events.find((e) => e.pallet === 'Market' && e.name === 'ContractCreated');
    assert.ok(created, `events: ${events.map((e) => e.name)}`);
    assert.equal(created.blockHash, contract.blockHash.toHex());
    assert.equal(created.block, (await api.rpc.chain.getHeader(contract.blockHash)).number.toNumber());
    assert.equal(typeof created.text, 'string');
    assert.ok(!created.text.includes('{"'), created.text);
    assert.ok(events.every((e) => e.pallet === 'Market' || e.pallet === 'Providers'));
    assert.ok(Array.isArray(await wsProvider.send('cairn_events', [null])));
  });
});

test('bad calls reject with readable module errors', async () => {
  const { bob, charlie, ferdie } = accounts;
  const zeroK = api.tx.market.createContract([shardSpec(0), shardSpec(1)], 0, 2, [bob.address, charlie.address], CONTRACT.duration, CONTRACT.maxPrice, '0x');
  await assert.rejects(signAndFinalize(zeroK, ferdie), (error) => {
    assert.match(error.message, /^market\.ZeroDataShards: \S/);
    assert.deepEqual(error.module, { section: 'market', name: 'ZeroDataShards' });
    return true;
  });
  await assert.rejects(registerProvider(api, bob), { name: 'DispatchFailure', message: /^providers\.AlreadyRegistered: \S/ });
});
