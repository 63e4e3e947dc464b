// Storage-market set-up shared by the pallet and explorer tests: dev accounts, providers, a contract.
import { Keyring } from '@polkadot/api';
import { u8aToHex } from '@polkadot/util';
import { base58Encode } from '@polkadot/util-crypto';
import { signAndFinalize } from './node-harness.js';

/** Planck per CAIRN (12 decimals). */
export const UNITS = 10n ** 12n;
/** Bytes in a TiB, the unit of the providers' minimum stake. */
export const TIB = 1n << 40n;
/** Size of every test shard. */
export const SHARD_BYTES = 1n << 20n;

/** What each test provider registers with: 1 TiB backed by 1000 CAIRN (100 CAIRN per TiB needed). */
export const PROVIDER = { stake: 1000n * UNITS, capacity: TIB, price: 1n };
/** The test contract: 2 data + 1 parity shards for 1000 blocks, at most 10 planck per byte per block. */
export const CONTRACT = { k: 2, m: 1, duration: 1000n, maxPrice: 10n };

/** The dev chain's endowed accounts (SS58 prefix 2207); call after `cryptoWaitReady()`. */
export function devAccounts () {
  const keyring = new Keyring({ type: 'sr25519', ss58Format: 2207 });
  const names = ['Alice', 'Bob', 'Charlie', 'Dave', 'Eve', 'Ferdie'];
  return Object.fromEntries(names.map((name) => [name.toLowerCase(), keyring.addFromUri(`//${name}`)]));
}

/**
 * A shard specification: its root is a BN254 field element in little-endian (last byte 0) that is
 * distinct per index; the BLAKE3 digest is arbitrary.
 */
export function shardSpec (index, bytes = SHARD_BYTES) {
  const root = new Uint8Array(32);
  root[0] = index;
  for (let i = 1; i < 31; i += 1) root[i] = i;
  const blake3 = new Uint8Array(32).fill(0xb3);
  blake3[0] = index;
  return { root, blake3, bytes };
}

/**
 * What a provider announces, in libp2p's binary forms as stored on chain, and as text:
 * `peerId` is an identity multihash of an Ed25519 public key (protobuf `PublicKey`; the signer's
 * 32 public-key bytes stand in for the key), shown in base58 (`12D3KooW…`); the multiaddress is
 * `/ip4/127.0.0.1/tcp/<port>`.
 */
export function providerAddresses (signer, port) {
  const peerIdBytes = Uint8Array.from([0x00, 0x24, 0x08, 0x01, 0x12, 0x20, ...signer.publicKey]);
  const multiaddrBytes = Uint8Array.from([0x04, 127, 0, 0, 1, 0x06, port >> 8, port & 0xff]);
  return {
    peerIdBytes,
    multiaddrsBytes: [multiaddrBytes],
    peerId: base58Encode(peerIdBytes),
    multiaddrs: [`/ip4/127.0.0.1/tcp/${port}`]
  };
}

/**
 * Registers `signer` as a provider; resolves `{ blockHash, events, stake, capacity, price }` and
 * what {@link providerAddresses} gives for it.
 *
 * The peer id and multiaddresses go in as `0x` hex: polkadot.js reads a `Uint8Array` given for a
 * `Bytes` argument as already SCALE-encoded (compact length first), which would mangle raw bytes.
 */
export async function registerProvider (api, signer, { stake = PROVIDER.stake, capacity = PROVIDER.capacity, price = PROVIDER.price, port = 30400 } = {}) {
  const addresses = providerAddresses(signer, port);
  const tx = api.tx.providers.registerProvider(stake, capacity, price,
    u8aToHex(addresses.peerIdBytes), addresses.multiaddrsBytes.map((bytes) => u8aToHex(bytes)));
  const result = await signAndFinalize(tx, signer);
  return { ...result, stake, capacity, price, ...addresses };
}

/** The escrow `createContract` holds: every shard at its provider's price for the whole duration. */
export function expectedEscrow (shards, price = PROVIDER.price, duration = CONTRACT.duration) {
  return shards.reduce((sum, shard) => sum + BigInt(shard.bytes) * price * BigInt(duration), 0n);
}

/**
 * `owner` opens a contract with one shard per provider (in order). Resolves the finalized
 * `{ blockHash, events }` with the new contract's `id`, `escrow` and `end` from its
 * `market.ContractCreated` event and the `shards` it was given.
 */
export async function createContract (api, owner, providers, { k = CONTRACT.k, m = CONTRACT.m, duration = CONTRACT.duration, maxPrice = CONTRACT.maxPrice, bytes = SHARD_BYTES, manifest = '0x' } = {}) {
  const shards = providers.map((_, index) => shardSpec(index, bytes));
  const tx = api.tx.market.createContract(shards, k, m, providers.map((p) => p.address), duration, maxPrice, manifest);
  const result = await signAndFinalize(tx, owner);
  const record = result.events.find(({ event }) => api.events.market.ContractCreated.is(event));
  if (!record) {
    throw new Error(`no market.ContractCreated in ${result.events.map(({ event }) => `${event.section}.${event.method}`)}`);
  }
  const { contract, escrow, end } = record.event.data;
  return { ...result, id: contract.toNumber(), escrow: escrow.toBigInt(), end: end.toNumber(), shards };
}

/** The part of `balances.holds` that is contract escrow. */
export function escrowHeld (holds) {
  return heldFor(holds, 'isContractEscrow');
}

/** The part of `holds` the market keeps as contract deposits. */
export function depositHeld (holds) {
  return heldFor(holds, 'isContractDeposit');
}

function heldFor (holds, reason) {
  return holds
    .filter(({ id }) => id.isMarket && id.asMarket[reason])
    .reduce((sum, { amount }) => sum + amount.toBigInt(), 0n);
}

/**
 * The storage market of the tests: Bob, Charlie and Dave register as providers (each followed to
 * finalization), then Ferdie opens a 2 + 1 contract over them.
 */
export async function setUpMarket (api, accounts = devAccounts()) {
  const { bob, charlie, dave, ferdie } = accounts;
  const providers = [bob, charlie, dave];
  const registrations = await Promise.all(providers.map((signer, i) => registerProvider(api, signer, { port: 30400 + i })));
  const contract = await createContract(api, ferdie, providers);
  return { accounts, providers, registrations, contract };
}
