// The node's block explorer in a real (headless) Chromium: providers, a contract and its shards,
// live updates and search, read from a dev node through the cairn_* RPC methods.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ApiPromise, WsProvider } from '@polkadot/api';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { chromium } from 'playwright-core';
import { startDevNode, signAndFinalize } from './node-harness.js';
import { setUpMarket } from './cairn-fixtures.js';

const SCREENSHOT = fileURLToPath(new URL('../artifacts/explorer.png', import.meta.url));
const WAIT = { timeout: 60_000 };

let node;
let api;
let market;
let browser;
let page;
const pageErrors = [];

before(async () => {
  await cryptoWaitReady();
  node = await startDevNode({ explorer: true });
  api = await ApiPromise.create({ provider: new WsProvider(node.url), noInitWarn: true, throwOnConnect: true });
  market = await setUpMarket(api);
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync']
  }).catch((error) => {
    throw new Error(`cannot launch Chromium (install the chromium package or set CHROMIUM): ${error.message}`);
  });
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (message) => { if (message.type() === 'error') pageErrors.push(message.text()); });
});

after(async () => {
  if (browser) await browser.close();
  if (api) await api.disconnect();
  if (node) await node.stop();
});

test('the node serves the explorer and its configuration', async () => {
  const index = await fetch(node.explorerUrl);
  assert.equal(index.status, 200);
  assert.match(index.headers.get('content-type'), /^text\/html/);
  assert.match(await index.text(), /<title>Cairn explorer<\/title>/);
  for (const [file, type] of [['explorer.js', /javascript/], ['explorer.css', /^text\/css/]]) {
    const response = await fetch(new URL(file, node.explorerUrl));
    assert.equal(response.status, 200, file);
    assert.match(response.headers.get('content-type'), type, file);
  }
  const config = await (await fetch(new URL('config.json', node.explorerUrl))).json();
  assert.deepEqual(config, { rpc: node.url });
});

test('the explorer shows the providers, the contract and its shards', async () => {
  const { contract, providers, accounts } = market;
  const addresses = providers.map((p) => p.address);

  await page.goto(node.explorerUrl);
  await page.waitForSelector('#status[data-state="connected"]', WAIT);
  await page.waitForSelector(`#contracts tr[data-contract-id="${contract.id}"]`, WAIT);
  assert.equal(await page.textContent('#chain-name'), 'Cairn Development');
  assert.ok(Number(await page.getAttribute('#best-block', 'data-number')) >= 1);
  await page.waitForSelector('#blocks tr[data-block-number]', WAIT);

  // Providers: the three registered accounts, in full in each row's title.
  const listed = await page.$$eval('#providers tr[data-provider]', (rows) => rows.map((row) => ({
    account: row.dataset.provider,
    title: row.querySelector('.account').getAttribute('title'),
    stake: row.querySelector('.amount').textContent
  })));
  assert.deepEqual(listed.map((p) => p.account).sort(), [...addresses].sort());
  for (const provider of listed) {
    assert.equal(provider.title, provider.account);
    assert.equal(provider.stake, '1,000 CAIRN');
  }

  // The contract's detail: one row per shard with its provider and a proofs count.
  await page.click(`#contracts tr[data-contract-id="${contract.id}"]`);
  await page.waitForSelector(`#contract-detail[data-state="loaded"][data-contract-id="${contract.id}"] tr[data-shard-index="2"]`, WAIT);
  const shards = await page.$$eval('#contract-detail tr[data-shard-index]', (rows) => rows.map((row) => ({
    index: Number(row.dataset.shardIndex),
    provider: row.querySelector('.account').textContent,
    status: row.dataset.status,
    proofs: row.querySelector('.proofs') && row.querySelector('.proofs').textContent
  })));
  assert.deepEqual(shards, addresses.map((provider, index) => ({ index, provider, status: 'pending', proofs: '0' })));

  // Live updates: Bob confirms shard 0; the detail and the activity follow the new heads.
  const confirmed = await signAndFinalize(api.tx.market.confirmShard(contract.id, 0), accounts.bob);
  await page.waitForSelector('#contract-detail tr[data-shard-index="0"][data-status="active"]', WAIT);
  // The activity lists the event from the block it is in, with Bob as the provider (the node gives
  // his public key; the page shows his address).
  const event = await page.waitForSelector(
    `#activity tr[data-event-name="ShardConfirmed"][data-block-hash="${confirmed.blockHash.toHex()}"]`, WAIT);
  assert.equal(await event.getAttribute('data-pallet'), 'Market');
  assert.equal(await event.$eval('.event-name', (cell) => cell.textContent), 'Market.ShardConfirmed');
  assert.match(await event.$eval('.details', (cell) => cell.textContent), new RegExp(`^contract: ${contract.id}, shard: 0, provider: `));
  assert.equal(await event.$eval('.details [data-account]', (link) => link.dataset.account), accounts.bob.address);

  const text = await page.evaluate(() => document.body.innerText);
  assert.ok(!text.includes('{"'), 'no raw JSON on the page');
  assert.equal(await page.$eval('#banner', (banner) => banner.hidden), true, await page.textContent('#banner'));

  mkdirSync(new URL('../artifacts/', import.meta.url), { recursive: true });
  await page.screenshot({ path: SCREENSHOT, fullPage: true });
  assert.deepEqual(pageErrors, []);
});

test('search finds contracts and accounts', async () => {
  const { contract, accounts } = market;
  const search = async (query) => {
    await page.fill('#search', query);
    await page.press('#search', 'Enter');
  };

  await search(String(contract.id + 1000));
  await page.waitForSelector(`#contract-detail[data-state="not-found"]`, WAIT);
  assert.match(await page.textContent('#contract-detail .not-found'), /not found/);

  await search(accounts.ferdie.address);
  await page.waitForSelector(`#account-view[data-state="loaded"] #account-contracts tr[data-contract-id="${contract.id}"]`, WAIT);
  assert.equal(await page.isVisible('#account-view .not-provider'), true);

  await search(accounts.bob.address);
  await page.waitForSelector(`#account-view[data-state="loaded"] #account-provider tr[data-provider="${accounts.bob.address}"]`, WAIT);

  await search(String(contract.id));
  await page.waitForSelector(`#contract-detail[data-state="loaded"][data-contract-id="${contract.id}"]`, WAIT);
  assert.equal(await page.isHidden('#account-view'), true);
  assert.deepEqual(pageErrors, []);
});
