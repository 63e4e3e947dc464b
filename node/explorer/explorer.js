// Cairn explorer: a live view of a cairn-node through its JSON-RPC WebSocket, without dependencies.
// The node serves this file with index.html, explorer.css and config.json ({"rpc": "ws://..."});
// `?rpc=ws://host:port` in the page address overrides the RPC endpoint.
'use strict';

const DECIMALS = 12n;
const PLANCK_PER_CAIRN = 10n ** DECIMALS;
const MAX_BLOCKS = 12;
const MAX_ACTIVITY = 50;
const CALL_TIMEOUT_MS = 30000;
const REFRESH_DEBOUNCE_MS = 300;
const FALLBACK_RPC = 'ws://127.0.0.1:9944';

// ---------------------------------------------------------------------------------------------
// DOM and formatting

const $ = (selector) => document.querySelector(selector);

/** `el('td', { class: 'mono', title: 'x' }, 'text', child)`: attributes, then children. */
function el (tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

const group = (digits) => digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
const formatNumber = (n) => (n === null || n === undefined ? '—' : group(String(n)));

function toBigInt (value) {
  try { return BigInt(value); } catch { return null; }
}

/** Planck (decimal string) to CAIRN with up to 12 decimals: "1,000 CAIRN", "0.003145728 CAIRN". */
function formatCairn (planck) {
  let value = toBigInt(planck);
  if (value === null) return String(planck);
  const sign = value < 0n ? '-' : '';
  if (value < 0n) value = -value;
  const fraction = (value % PLANCK_PER_CAIRN).toString().padStart(Number(DECIMALS), '0').replace(/0+$/, '');
  return `${sign}${group((value / PLANCK_PER_CAIRN).toString())}${fraction ? '.' + fraction : ''} CAIRN`;
}

function formatBytes (bytes) {
  let n = Number(bytes);
  if (!Number.isFinite(n)) return String(bytes);
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  let unit = 0;
  while (n >= 1024 && unit < units.length - 1) { n /= 1024; unit += 1; }
  return `${+n.toFixed(2)} ${units[unit]}`;
}

const shorten = (text, head = 6, tail = 6) =>
  (typeof text === 'string' && text.length > head + tail + 1 ? `${text.slice(0, head)}…${text.slice(-tail)}` : String(text ?? '—'));

const amountCell = (planck) => el('td', { class: 'amount', title: `${planck} planck` }, formatCairn(planck));
const numberCell = (n, cls = 'num') => el('td', { class: cls }, formatNumber(n));

/** An account: shortened (full address in the title) or in full, by default linking to its account view. */
function accountCell (account, { full = false, link = true } = {}) {
  const text = full ? account : shorten(account);
  return el('td', { class: 'mono account', title: account, 'data-account': account },
    link ? el('a', { href: `#/account/${encodeURIComponent(account)}` }, text) : text);
}

// ---------------------------------------------------------------------------------------------
// Event details: the node renders event fields as Rust prints them (accounts as hex public keys
// with a generic SS58 hint, byte arrays as lists of numbers); shown here in the page's own terms.

const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

/** The public key (lower-case hex, no `0x`) of an SS58 address, or null. */
function publicKeyHex (address) {
  let n = 0n;
  for (const char of address) {
    const digit = BASE58.indexOf(char);
    if (digit < 0) return null;
    n = n * 58n + BigInt(digit);
  }
  const bytes = [];
  for (; n > 0n; n >>= 8n) bytes.unshift(Number(n & 0xffn));
  for (let i = 0; i < address.length && address[i] === '1'; i += 1) bytes.unshift(0);
  // Prefix (one byte below 64, else two), 32 key bytes, 2 checksum bytes.
  const prefixLength = bytes[0] < 64 ? 1 : 2;
  if (bytes.length !== prefixLength + 34) return null;
  return bytes.slice(prefixLength, prefixLength + 32).map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** Public key (hex) → SS58 address, for the accounts the page has seen in this chain's format. */
const knownAccounts = new Map();

function learnAccounts (addresses) {
  for (const address of addresses) {
    if (typeof address !== 'string' || knownAccounts.has(address)) continue;
    const key = publicKeyHex(address);
    if (key) knownAccounts.set(key, address);
  }
}

const AMOUNT_FIELDS = new Set([
  'stake', 'escrow', 'amount', 'payment', 'slashed', 'compensation', 'burned', 'paid', 'refunded',
]);
// An account (`<hex key> (<SS58 hint>...)`), a byte array of 16 or more numbers, or `field: <integer>`.
const DETAIL_TOKEN = /\b([0-9a-f]{64}) \([1-9A-HJ-NP-Za-km-z]+\.{3}\)|\[(\d{1,3}(?:, \d{1,3}){15,})\]|\b([a-z_]+): (\d+)\b/g;

/** An event's `text` as nodes: accounts in SS58 (linked), amounts in CAIRN, long bytes as short hex. */
function eventDetails (text) {
  const parts = [];
  let last = 0;
  for (const match of String(text ?? '').matchAll(DETAIL_TOKEN)) {
    const [whole, key, bytes, field, integer] = match;
    parts.push(text.slice(last, match.index));
    last = match.index + whole.length;
    if (key) {
      const address = knownAccounts.get(key);
      parts.push(address
        ? el('a', { class: 'account', href: `#/account/${encodeURIComponent(address)}`, title: address, 'data-account': address }, shorten(address))
        : el('span', { class: 'account', title: `0x${key}`, 'data-public-key': `0x${key}` }, shorten(`0x${key}`, 8, 6)));
    } else if (bytes) {
      const hex = `0x${bytes.split(', ').map((b) => Number(b).toString(16).padStart(2, '0')).join('')}`;
      parts.push(el('span', { class: 'hash', title: hex }, shorten(hex, 8, 6)));
    } else if (field === 'contract') {
      parts.push(`${field}: `, el('a', { href: `#/contract/${integer}` }, integer));
    } else if (AMOUNT_FIELDS.has(field)) {
      parts.push(`${field}: `, el('span', { title: `${integer} planck` }, formatCairn(integer)));
    } else if (field === 'capacity') {
      parts.push(`${field}: `, el('span', { title: `${formatNumber(integer)} bytes` }, formatBytes(integer)));
    } else {
      parts.push(whole);
    }
  }
  parts.push(String(text ?? '').slice(last));
  return parts.filter((part) => part !== '');
}

/** `ShardConfirmed`: a node may name pallet events with their type's path (`Event::ShardConfirmed`). */
const eventName = (name) => String(name).replace(/^.*::/, '');

// ---------------------------------------------------------------------------------------------
// JSON-RPC 2.0 over WebSocket: ids, pending promises, subscriptions, reconnection with backoff.

class RpcError extends Error {
  constructor (method, message, code) {
    super(`${method}: ${message}`);
    this.method = method;
    this.code = code;
  }

  get missingMethod () { return this.code === -32601 || /method not found/i.test(this.message); }
  get connection () { return this.code === undefined; }
}

class RpcClient {
  constructor (url, { onStatus, onConnect }) {
    Object.assign(this, { url, onStatus, onConnect });
    this.nextId = 1;
    this.pending = new Map(); // id -> { resolve, reject, timer, method }
    this.subscriptions = new Map(); // subscription id -> callback
    this.early = new Map(); // notifications that arrived before their subscription id was known
    this.attempt = 0;
    this.ws = null;
  }

  get open () { return this.ws !== null && this.ws.readyState === WebSocket.OPEN; }

  connect () {
    this.onStatus('connecting', 'connecting…');
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch (error) {
      this.onStatus('disconnected', `disconnected: ${error.message}`);
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      this.attempt = 0;
      this.onStatus('connected', 'connected');
      this.onConnect();
    };
    ws.onmessage = (message) => this.receive(message.data);
    ws.onclose = () => this.closed(ws);
    ws.onerror = () => {}; // a close event follows
  }

  closed (ws) {
    if (ws !== this.ws) return;
    this.ws = null;
    for (const { reject, timer, method } of this.pending.values()) {
      clearTimeout(timer);
      reject(new RpcError(method, 'connection closed'));
    }
    this.pending.clear();
    this.subscriptions.clear();
    this.early.clear();
    const delay = Math.min(30000, 1000 * 2 ** this.attempt);
    this.attempt += 1;
    this.onStatus('disconnected', `disconnected · retrying in ${Math.round(delay / 1000)} s`);
    setTimeout(() => this.connect(), delay);
  }

  call (method, params = []) {
    if (!this.open) return Promise.reject(new RpcError(method, 'not connected'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new RpcError(method, `no answer in ${CALL_TIMEOUT_MS / 1000} s`));
      }, CALL_TIMEOUT_MS);
      this.pending.set(id, { resolve, reject, timer, method });
      this.ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    });
  }

  async subscribe (method, params, callback) {
    const id = await this.call(method, params);
    this.subscriptions.set(id, callback);
    for (const result of this.early.get(id) || []) callback(result);
    this.early.delete(id);
    return id;
  }

  receive (data) {
    let message;
    try { message = JSON.parse(data); } catch { return; }
    if (message.id !== undefined && message.id !== null) {
      const pending = this.pending.get(message.id);
      if (!pending) return;
      this.pending.delete(message.id);
      clearTimeout(pending.timer);
      if (message.error) pending.reject(new RpcError(pending.method, message.error.message, message.error.code));
      else pending.resolve(message.result);
    } else if (message.params && message.params.subscription !== undefined) {
      const { subscription, result } = message.params;
      const callback = this.subscriptions.get(subscription);
      if (callback) callback(result);
      else if (this.early.size < 16) this.early.set(subscription, [...(this.early.get(subscription) || []), result]);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Errors: one banner line per source, cleared when that source succeeds again.

const problems = new Map();

function setProblem (source, text) {
  if (text === null) problems.delete(source); else problems.set(source, text);
  const banner = $('#banner');
  banner.replaceChildren(...[...problems].map(([key, line]) => el('li', { 'data-source': key }, line)));
  banner.hidden = problems.size === 0;
}

function report (error, source = (error && error.method) || 'explorer') {
  if (error instanceof RpcError && error.connection) return; // the status shows it
  if (error instanceof RpcError && error.missingMethod) {
    setProblem(source, `This node does not provide ${error.method} (method not found): the explorer needs a cairn-node with the Cairn RPC methods.`);
  } else {
    setProblem(source, (error && error.message) || String(error));
  }
}

/** Calls an RPC method; on failure shows the error and resolves to `undefined`. */
async function call (method, params = []) {
  try {
    const result = await rpc.call(method, params);
    setProblem(method, null);
    return result;
  } catch (error) {
    report(error);
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Tables: columns are [heading, cell(item) → <td>] pairs.

function fillTable (table, columns, items, rowAttrs, emptyText) {
  const head = el('thead', {}, el('tr', {}, columns.map(([heading]) => el('th', { scope: 'col' }, heading))));
  const rows = items.map((item) => el('tr', rowAttrs(item), columns.map(([, cell]) => cell(item))));
  const body = el('tbody', {}, rows.length ? rows : el('tr', { class: 'empty' }, el('td', { colspan: columns.length }, emptyText)));
  table.replaceChildren(head, body);
  return table;
}

const BLOCK_COLUMNS = [
  ['Block', (b) => numberCell(b.number)],
  ['Hash', (b) => el('td', { class: 'mono hash', title: b.hash }, shorten(b.hash, 10, 8))],
  ['Extrinsics', (b) => numberCell(b.extrinsics)],
  ['Cairn events', (b) => numberCell(b.events)]
];

const EVENT_KINDS = {
  ProofAccepted: 'proof', ProofRejected: 'fault', ShardFaulted: 'slash', ProviderSlashed: 'slash',
  LossReported: 'slash', ShardLost: 'repair', ShardReassigned: 'repair', ShardRepaired: 'repair',
  ContractCreated: 'contract', ContractEnded: 'contract', ShardAssigned: 'contract', ShardConfirmed: 'contract',
  ProviderRegistered: 'provider', ProviderUpdated: 'provider', StakeAdded: 'provider', ExitStarted: 'provider',
  ProviderWithdrawn: 'provider', PeriodOpened: 'period'
};
const KIND_LABELS = { proof: 'proof · payout', slash: 'slash', fault: 'fault', repair: 'repair' };

const ACTIVITY_COLUMNS = [
  ['Block', (e) => numberCell(e.block)],
  ['Kind', (e) => { const kind = EVENT_KINDS[e.name] || 'other'; return el('td', {}, el('span', { class: `badge ${kind}` }, KIND_LABELS[kind] || kind)); }],
  ['Event', (e) => el('td', { class: 'event-name' }, `${e.pallet}.${e.name}`)],
  ['Details', (e) => el('td', { class: 'details' }, eventDetails(e.text))]
];

const PROVIDER_COLUMNS = [
  ['Account', (p) => accountCell(p.account)],
  ['Stake', (p) => amountCell(p.stake)],
  ['Capacity', (p) => el('td', { class: 'num' }, formatBytes(p.capacity))],
  ['Used', (p) => el('td', { class: 'num', title: `${formatNumber(p.used)} bytes` }, formatBytes(p.used))],
  ['Shards', (p) => numberCell(p.shards)],
  ['Price (planck / byte / block)', (p) => numberCell(p.pricePerByteBlock)],
  ['Faults', (p) => numberCell(p.faults, p.faults > 0 ? 'num warn' : 'num')],
  ['Status', (p) => el('td', { class: `provider-status ${p.status}` },
    p.status === 'exiting' && p.unlockAt !== null ? `exiting (unlock at ${formatNumber(p.unlockAt)})` : p.status)],
  ['Peer', (p) => el('td', { class: 'mono', title: [p.peerId, ...(p.multiaddrs || [])].join('\n') }, shorten(p.peerId, 8, 6))]
];

function shardSummary (shards) {
  const counts = {};
  for (const shard of shards) counts[shard.status] = (counts[shard.status] || 0) + 1;
  const repairing = shards.filter((shard) => shard.repair).length;
  const parts = ['active', 'pending', 'lost', 'vacant'].filter((status) => counts[status]).map((status) => `${counts[status]} ${status}`);
  if (repairing) parts.push(`${repairing} repairing`);
  return parts.join(' · ') || 'none';
}

const totalProofs = (contract) => contract.shards.reduce((sum, shard) => sum + Number(shard.proofs || 0), 0);

const CONTRACT_COLUMNS = [
  ['Id', (c) => el('td', { class: 'num' }, el('a', { href: `#/contract/${c.id}` }, String(c.id)))],
  ['Owner', (c) => accountCell(c.owner, { link: false })], // the whole row opens the contract
  ['Size', (c) => el('td', { class: 'num', title: `${formatNumber(c.bytes)} bytes` }, formatBytes(c.bytes))],
  ['k + m', (c) => el('td', { class: 'num' }, `${c.k} + ${c.m}`)],
  ['Shards', (c) => el('td', { class: 'shard-summary' }, shardSummary(c.shards))],
  ['Ends at block', (c) => numberCell(c.end)],
  ['Escrow left', (c) => amountCell(c.escrow)],
  ['Paid', (c) => amountCell(c.paid)],
  ['Proofs', (c) => numberCell(totalProofs(c), 'num proofs')]
];

const SHARD_COLUMNS = [
  ['Shard', (s) => numberCell(s.index, 'num index')],
  ['Provider', (s) => accountCell(s.provider, { full: true })],
  ['Status', (s) => el('td', { class: `shard-status ${s.status}` },
    s.status === 'pending' && s.deadline !== null ? `pending (confirm by ${formatNumber(s.deadline)})` : s.status)],
  ['Size', (s) => el('td', { class: 'num', title: `${formatNumber(s.bytes)} bytes` }, formatBytes(s.bytes))],
  ['Proofs', (s) => numberCell(s.proofs, 'num proofs')],
  ['Last proven period', (s) => numberCell(s.lastProven, 'num last-proven')],
  ['Consecutive faults', (s) => numberCell(s.consecutiveFaults, s.consecutiveFaults > 0 ? 'num faults warn' : 'num faults')],
  ['Repair', (s) => el('td', { class: 'repair' }, s.repair ? 'yes' : 'no')],
  ['Root', (s) => el('td', { class: 'mono hash', title: `root ${s.root}\nBLAKE3 ${s.blake3}` }, shorten(s.root, 10, 6))]
];

const contractRow = (c) => ({
  'data-contract-id': c.id,
  class: 'clickable',
  onclick: () => { location.hash = `#/contract/${c.id}`; }
});
const providerRow = (p) => ({ 'data-provider': p.account });

// ---------------------------------------------------------------------------------------------
// State and rendering

const state = { best: null, blocks: [], activity: [], seen: new Set(), providers: null, contracts: null };
let blockQueue = Promise.resolve();

function setBest (number) {
  if (state.best !== null && number < state.best) return;
  state.best = number;
  const best = $('#best-block');
  best.textContent = formatNumber(number);
  best.dataset.number = String(number);
}

function renderBlocks () {
  fillTable($('#blocks'), BLOCK_COLUMNS, state.blocks, (b) => ({ 'data-block-number': b.number, 'data-block-hash': b.hash }), 'No blocks yet.');
}

function renderActivity () {
  fillTable($('#activity'), ACTIVITY_COLUMNS, state.activity,
    (e) => ({ 'data-event-name': e.name, 'data-pallet': e.pallet, 'data-block': e.block, 'data-block-hash': e.blockHash }),
    'No storage-market activity in the recent blocks.');
}

function renderOverview () {
  const pending = (method) => (problems.has(method) ? 'Unavailable: see the message above.'
    : rpc && rpc.open ? 'Loading…' : 'Waiting for the node…');
  fillTable($('#providers'), PROVIDER_COLUMNS, state.providers || [], providerRow,
    state.providers === null ? pending('cairn_providers') : 'No providers registered.');
  fillTable($('#contracts'), CONTRACT_COLUMNS, state.contracts || [], contractRow,
    state.contracts === null ? pending('cairn_contracts') : 'No contracts.');
}

function addActivity (events) {
  for (const event of events) {
    const key = `${event.blockHash}:${event.index}`;
    if (state.seen.has(key)) continue;
    state.seen.add(key);
    state.activity.push({ ...event, name: eventName(event.name) });
  }
  state.activity.sort((a, b) => b.block - a.block || b.index - a.index);
  for (const dropped of state.activity.splice(MAX_ACTIVITY)) state.seen.delete(`${dropped.blockHash}:${dropped.index}`);
  renderActivity();
}

async function loadBlock (number) {
  const hash = await rpc.call('chain_getBlockHash', [number]);
  if (!hash) return;
  const [block, events] = await Promise.all([call('chain_getBlock', [hash]), call('cairn_events', [hash])]);
  const entry = {
    number, hash, extrinsics: block ? block.block.extrinsics.length : null, events: Array.isArray(events) ? events.length : null
  };
  state.blocks = [entry, ...state.blocks.filter((b) => b.number !== number)].sort((a, b) => b.number - a.number).slice(0, MAX_BLOCKS);
  renderBlocks();
  if (Array.isArray(events)) addActivity(events);
}

function queueBlock (number) {
  blockQueue = blockQueue.then(() => loadBlock(number)).catch((error) => report(error));
}

// ---------------------------------------------------------------------------------------------
// Views: the overview is always shown; `#/contract/<id>` and `#/account/<ss58>` add a view on top.

let routeToken = 0;

function parseRoute () {
  let path;
  try { path = decodeURIComponent(location.hash.replace(/^#\/?/, '')); } catch { return { view: 'overview' }; }
  let match;
  if ((match = /^contract\/(\d+)$/.exec(path))) return { view: 'contract', id: Number(match[1]) };
  if ((match = /^account\/([1-9A-HJ-NP-Za-km-z]{20,64})$/.exec(path))) return { view: 'account', account: match[1] };
  return { view: 'overview' };
}

function setView (section, viewState, heading, ...content) {
  section.hidden = false;
  section.dataset.state = viewState;
  section.querySelector('h2 .mono').textContent = heading;
  section.querySelector('div').replaceChildren(...content);
}

async function renderRoute ({ scroll = false } = {}) {
  const token = ++routeToken;
  const route = parseRoute();
  const detail = $('#contract-detail');
  const account = $('#account-view');
  if (route.view !== 'contract') { detail.hidden = true; detail.dataset.state = 'idle'; delete detail.dataset.contractId; }
  if (route.view !== 'account') { account.hidden = true; account.dataset.state = 'idle'; }
  if (route.view === 'overview') return;

  const section = route.view === 'contract' ? detail : account;
  const heading = route.view === 'contract' ? String(route.id) : route.account;
  if (section.dataset.state === 'idle' || section.dataset.key !== heading) {
    section.dataset.key = heading;
    delete section.dataset.contractId;
    setView(section, 'loading', heading, el('p', { class: 'note' }, rpc.open ? 'Loading…' : 'Waiting for the node…'));
  }
  if (scroll) section.scrollIntoView({ block: 'start' });
  if (!rpc.open) return;

  if (route.view === 'contract') {
    const contract = await call('cairn_contract', [route.id]);
    if (token !== routeToken) return;
    if (contract === undefined) return unavailable(detail, heading);
    if (contract === null) {
      setView(detail, 'not-found', heading, el('p', { class: 'not-found' }, `Contract ${route.id} not found.`));
      return;
    }
    detail.dataset.contractId = String(contract.id);
    setView(detail, 'loaded', heading, contractFacts(contract),
      fillTable(el('table', { id: 'shards', class: 'data' }), SHARD_COLUMNS, contract.shards,
        (s) => ({ 'data-shard-index': s.index, 'data-provider': s.provider, 'data-status': s.status }), 'No shards.'));
  } else {
    const [providers, contracts] = await Promise.all([call('cairn_providers'), call('cairn_contracts', [route.account])]);
    if (token !== routeToken) return;
    if (providers === undefined || contracts === undefined) return unavailable(account, heading);
    const provider = providers.filter((p) => p.account === route.account);
    setView(account, 'loaded', heading,
      el('h3', {}, 'Provider record'),
      provider.length
        ? fillTable(el('table', { id: 'account-provider', class: 'data' }), PROVIDER_COLUMNS, provider, providerRow, '')
        : el('p', { class: 'note not-provider' }, 'Not a registered provider.'),
      el('h3', {}, 'Contracts owned'),
      fillTable(el('table', { id: 'account-contracts', class: 'data' }), CONTRACT_COLUMNS, contracts, contractRow, 'No contracts owned by this account.'));
  }
}

function unavailable (section, heading) {
  if (!rpc.open) return;
  setView(section, 'error', heading, el('p', { class: 'note' }, 'Could not load this view: see the message above.'));
}

function contractFacts (c) {
  const left = state.best !== null ? Math.max(0, c.end - state.best) : null;
  const fact = (term, ...value) => [el('dt', {}, term), el('dd', {}, ...value)];
  return el('dl', { class: 'facts' },
    fact('Owner', el('span', { class: 'mono', title: c.owner }, el('a', { href: `#/account/${encodeURIComponent(c.owner)}` }, c.owner))),
    fact('Erasure code', `${c.k} data + ${c.m} parity shards (any ${c.k} rebuild the file)`),
    fact('Size', `${formatBytes(c.bytes)} (${formatNumber(c.bytes)} bytes)`),
    fact('Blocks', `${formatNumber(c.start)} → ${formatNumber(c.end)}`, left !== null ? ` (${formatNumber(left)} blocks left)` : ''),
    fact('Escrow left', el('span', { title: `${c.escrow} planck` }, formatCairn(c.escrow))),
    fact('Paid', el('span', { title: `${c.paid} planck` }, formatCairn(c.paid))),
    fact('Proofs accepted', formatNumber(totalProofs(c))),
    fact('Shards', shardSummary(c.shards)));
}

// ---------------------------------------------------------------------------------------------
// Live updates: every new head loads its block and events and (debounced) refreshes the lists.

let refreshTimer = null;
let refreshing = false;
let refreshAgain = false;

function scheduleRefresh (delay = REFRESH_DEBOUNCE_MS) {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(refresh, delay);
}

async function refresh () {
  if (refreshing) { refreshAgain = true; return; }
  refreshing = true;
  try {
    const [providers, contracts] = await Promise.all([call('cairn_providers'), call('cairn_contracts', [null])]);
    if (Array.isArray(providers)) state.providers = providers;
    if (Array.isArray(contracts)) state.contracts = contracts.slice().sort((a, b) => b.id - a.id);
    const before = knownAccounts.size;
    learnAccounts([...(state.providers || []).map((p) => p.account),
      ...(state.contracts || []).flatMap((c) => [c.owner, ...c.shards.map((shard) => shard.provider)])]);
    if (knownAccounts.size !== before) renderActivity(); // the new accounts show in SS58
    renderOverview();
    await renderRoute();
  } finally {
    refreshing = false;
    if (refreshAgain) { refreshAgain = false; scheduleRefresh(); }
  }
}

function onNewHead (header) {
  const number = parseInt(header.number, 16);
  setBest(number);
  queueBlock(number);
  scheduleRefresh();
}

async function onConnect () {
  // The node may have restarted with another chain: start over.
  Object.assign(state, { best: null, blocks: [], activity: [] });
  state.seen.clear();
  try {
    $('#chain-name').textContent = await rpc.call('system_chain');
    const header = await rpc.call('chain_getHeader');
    const best = parseInt(header.number, 16);
    setBest(best);
    for (let n = Math.max(0, best - MAX_BLOCKS + 1); n <= best; n += 1) queueBlock(n);
    await rpc.subscribe('chain_subscribeNewHeads', [], onNewHead);
    setProblem('chain_subscribeNewHeads', null);
  } catch (error) {
    report(error);
  }
  scheduleRefresh(0);
}

function setStatus (connection, text) {
  const status = $('#status');
  status.dataset.state = connection;
  status.textContent = text;
  status.title = rpc ? rpc.url : '';
  if (connection !== 'connected') {
    for (const section of [$('#contract-detail'), $('#account-view')]) {
      if (!section.hidden && section.dataset.state === 'loading') section.querySelector('div').replaceChildren(el('p', { class: 'note' }, 'Waiting for the node…'));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Search: a number opens that contract, an SS58 address its account view.

function search (event) {
  event.preventDefault();
  const query = $('#search').value.trim();
  const message = $('#search-message');
  message.hidden = true;
  if (/^\d+$/.test(query)) location.hash = `#/contract/${Number(query)}`;
  else if (/^[1-9A-HJ-NP-Za-km-z]{20,64}$/.test(query)) location.hash = `#/account/${query}`;
  else if (query) {
    message.textContent = `“${query}” is neither a contract id nor an SS58 address.`;
    message.hidden = false;
  }
}

async function rpcUrl () {
  const override = new URLSearchParams(location.search).get('rpc');
  if (override) return override;
  try {
    const response = await fetch('config.json', { cache: 'no-store' });
    if (response.ok) {
      const config = await response.json();
      if (config && typeof config.rpc === 'string') return config.rpc;
    }
  } catch { /* fall through */ }
  setProblem('config', `No RPC address in config.json; trying ${FALLBACK_RPC}.`);
  return FALLBACK_RPC;
}

let rpc;

async function main () {
  fillTable($('#blocks'), BLOCK_COLUMNS, [], () => ({}), 'Waiting for the node…');
  fillTable($('#activity'), ACTIVITY_COLUMNS, [], () => ({}), 'Waiting for the node…');
  renderOverview();
  window.addEventListener('error', (event) => setProblem('page', `Explorer error: ${event.message}`));
  window.addEventListener('unhandledrejection', (event) => report(event.reason, 'page'));
  $('#search-form').addEventListener('submit', search);

  const url = await rpcUrl();
  $('#rpc-url').textContent = url;
  rpc = new RpcClient(url, { onStatus: setStatus, onConnect });
  window.addEventListener('hashchange', () => renderRoute({ scroll: true }));
  renderRoute();
  rpc.connect();
}

document.addEventListener('DOMContentLoaded', main);
