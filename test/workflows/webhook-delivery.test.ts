import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { and, eq } from 'drizzle-orm';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities, type Activities } from '../../activities/index.js';
import { createWebhookDeliveryActivities } from '../../activities/webhook-delivery.js';
import { loadConfig } from '../../src/config.js';
import { createSecretBox } from '../../src/crypto/secret-box.js';
import { createApiKey } from '../../src/db/repositories/api-keys.js';
import { createSite } from '../../src/db/repositories/sites.js';
import { contacts, emailEvents, webhookDeliveries, webhookEndpoints } from '../../src/db/schema.js';
import type { EmailEventType } from '../../src/domain/email-events.js';
import { workflowIds } from '../../src/domain/ids.js';
import { createLogger } from '../../src/logger.js';
import { startApi } from '../../src/server.js';
import { enqueueWebhookDeliveries, resumePendingWebhookDeliveries } from '../../src/services/outgoing-webhooks.js';
import { TASK_QUEUES } from '../../src/temporal/task-queues.js';
import { webhookOutboxWorkflow } from '../../workflows/webhook-outbox.js';
import { createWorkers } from '../../src/worker.js';
import { httpClient, unreachableTemporal } from '../api/support.js';
import { createTestDb, type TestDb } from '../helpers/db.js';
import { createTimeSkippingEnv, getWorkflowBundle } from '../helpers/temporal.js';

const SECRET = 'webhook-delivery-workflow-test-secret-0123456789';
const logger = createLogger('silent');
const SECOND = 1000;
const HOUR = 3600 * SECOND;

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  status: number;
}

type Answer = number | { status: number; headers: Record<string, string> };
type Script = (call: number) => Answer | Promise<Answer>;

/** A local webhook receiver: each path answers per its script (by call number, from 1), and every request is kept. */
class Receiver {
  readonly requests: Received[] = [];
  url = '';
  private readonly scripts = new Map<string, Script>();
  private readonly server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const path = req.url ?? '/';
      const call = this.requests.filter((r) => r.path === path).length + 1;
      const answer = (await this.scripts.get(path)?.(call)) ?? 200;
      const { status, headers } = typeof answer === 'number' ? { status: answer, headers: {} } : answer;
      this.requests.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), status });
      res.writeHead(status, { 'content-type': 'text/plain', ...headers }).end(status < 300 ? 'ok' : `nope ${call}`);
    });
  });

  static async start(): Promise<Receiver> {
    const receiver = new Receiver();
    await new Promise<void>((resolve) => receiver.server.listen(0, '127.0.0.1', resolve));
    receiver.url = `http://127.0.0.1:${(receiver.server.address() as AddressInfo).port}`;
    return receiver;
  }

  /** A fresh path answering `script(call)`; returns its full URL. */
  route(script: Script): string {
    const path = `/hooks/${randomUUID()}`;
    this.scripts.set(path, script);
    return this.url + path;
  }

  at(url: string): Received[] {
    const path = new URL(url).pathname;
    return this.requests.filter((r) => r.path === path);
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

let env: TestWorkflowEnvironment;
let testDb: TestDb;
let receiver: Receiver;
let api: { url: string; close(): Promise<void> };

beforeAll(async () => {
  [env, testDb, receiver] = await Promise.all([createTimeSkippingEnv(), createTestDb(), Receiver.start()]);
  // The API on the same Temporal as the worker, so the test send starts a real delivery workflow.
  api = await startApi(
    { db: testDb.db, temporal: env.client, config: loadConfig({ NODE_ENV: 'test', TIDINGS_SECRET: SECRET }), logger },
    { port: 0, host: '127.0.0.1' },
  );
});
afterAll(async () => {
  await api?.close();
  await receiver?.close();
  await env?.teardown();
  await testDb?.close();
});

/**
 * Tidings' real main-queue worker (real activities, TIDINGS_SECRET as the API's, unless `activities`
 * are given); a worker runs once.
 */
async function mainWorker(activities?: Activities): Promise<Worker> {
  const [created] = await createWorkers({
    activities,
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    db: testDb.db,
    logger,
    workflowBundle: await getWorkflowBundle(),
    secretBox: createSecretBox(SECRET),
    taskQueues: [TASK_QUEUES.main],
  });
  return created!;
}

/** A new site with an API key and one contact, so each test sees only its own endpoints. */
async function newSite() {
  const site = await createSite(testDb.db, { name: `Site ${randomUUID()}` });
  const { key } = await createApiKey(testDb.db, { siteId: site.id, name: 'test' });
  const [contact] = await testDb.db.insert(contacts).values({ siteId: site.id, email: `ada-${site.id}@example.com` }).returning();
  const call = httpClient(api.url, key);
  return {
    siteId: site.id,
    contact: contact!,
    call,
    async createEndpoint(body: Record<string, unknown>): Promise<{ id: number; secret: string }> {
      const res = await call('POST', '/api/v1/webhook-endpoints', { body });
      expect(res.status).toBe(201);
      return res.body.data;
    },
  };
}

const OCCURRED_AT = new Date('2026-11-20T09:30:00.000Z');

/** Stores an email event as the feedback paths do (one row in email_events) and fans it out. */
async function emit(siteId: number, contactId: number, type: EmailEventType, data: Record<string, unknown> = {}, temporal: Client = env.client) {
  const [event] = await testDb.db
    .insert(emailEvents)
    .values({ siteId, type, contactId, data, dedupeKey: `${type}:${randomUUID()}`, occurredAt: OCCURRED_AT })
    .returning();
  const endpoints = await enqueueWebhookDeliveries({ db: testDb.db, temporal, logger }, event!);
  return { event: event!, endpoints };
}

async function deliveriesOf(endpointId: number) {
  return testDb.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.endpointId, endpointId));
}

/** Runs a worker until the delivery's workflow completes; returns its result and its span on the server's (skipped) clock. */
async function settle(deliveryId: number, activities?: Activities) {
  const handle = env.client.workflow.getHandle(workflowIds.webhookDelivery(deliveryId));
  const result = await (await mainWorker(activities)).runUntil(handle.result());
  const description = await handle.describe();
  return { result, serverMs: description.closeTime!.getTime() - description.startTime.getTime() };
}

/** A local port nothing listens on (it was free a moment ago). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function verify(secret: string, request: Received): unknown {
  return new Webhook(secret).verify(request.body, request.headers as Record<string, string>);
}

describe('webhook delivery workflow', () => {
  it('retries a receiver that fails twice, which then gets the event once as a success, signed with the endpoint’s secret', async () => {
    const site = await newSite();
    const url = receiver.route((call) => (call <= 2 ? 500 : 200));
    const endpoint = await site.createEndpoint({ url, events: ['email.opened'] });

    const { event, endpoints } = await emit(site.siteId, site.contact.id, 'opened', { userAgent: 'Mail/1.0' });
    expect(endpoints).toBe(1);
    // Another type is not for this endpoint; fanning the same event out again delivers nothing new.
    expect((await emit(site.siteId, site.contact.id, 'delivered')).endpoints).toBe(0);
    expect(await enqueueWebhookDeliveries({ db: testDb.db, temporal: env.client, logger }, event)).toBe(1);
    const [delivery, ...others] = await deliveriesOf(endpoint.id);
    expect(others).toEqual([]);

    const { result, serverMs } = await settle(delivery!.id);
    expect(result).toMatchObject({ deliveryId: delivery!.id, status: 'succeeded', attempts: 3, lastStatusCode: 200 });
    // Backoff of 5 s then 10 s before the third attempt (on the time-skipping server's clock).
    expect(serverMs).toBeGreaterThanOrEqual(15 * SECOND);
    expect(serverMs).toBeLessThan(60 * SECOND);

    const requests = receiver.at(url);
    expect(requests.map((r) => r.status)).toEqual([500, 500, 200]);
    expect(requests.filter((r) => r.status === 200)).toHaveLength(1);
    expect(new Set(requests.map((r) => r.headers['webhook-id']))).toEqual(new Set([`msg_evt_${event.id}`]));
    const expectedPayload = {
      type: 'email.opened',
      timestamp: OCCURRED_AT.toISOString(),
      data: {
        eventId: event.id,
        sendId: null,
        contactId: site.contact.id,
        email: site.contact.email,
        campaignId: null,
        sequenceId: null,
        stepId: null,
        userAgent: 'Mail/1.0',
      },
    };
    for (const request of requests) {
      expect(request.headers['content-type']).toBe('application/json');
      expect(request.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
      expect(verify(endpoint.secret, request)).toEqual(expectedPayload);
    }
    expect(() => verify(`whsec_${Buffer.alloc(32, 7).toString('base64')}`, requests[2]!)).toThrow(/signature/i);

    const log = await site.call('GET', `/api/v1/webhook-endpoints/${endpoint.id}/deliveries`);
    expect(log.status).toBe(200);
    expect(log.body.pagination.total).toBe(1);
    const [entry] = log.body.data;
    expect(entry).toMatchObject({
      id: delivery!.id,
      messageId: `msg_evt_${event.id}`,
      eventType: 'email.opened',
      status: 'succeeded',
      attemptCount: 3,
      lastStatusCode: 200,
      lastError: null,
      payload: expectedPayload,
    });
    expect(entry.deliveredAt).not.toBeNull();
    expect(entry.attempts.map((a: { attempt: number; statusCode: number }) => [a.attempt, a.statusCode])).toEqual([
      [1, 500],
      [2, 500],
      [3, 200],
    ]);
    expect(entry.attempts[0]).toMatchObject({ error: 'HTTP 500 Internal Server Error', responseBody: 'nope 1' });
    expect(entry.attempts[2]).toMatchObject({ error: null, responseBody: 'ok' });
    for (const attempt of entry.attempts) expect(attempt.durationMs).toBeGreaterThanOrEqual(0);
    expect((await site.call('GET', `/api/v1/webhook-endpoints/${endpoint.id}/deliveries?status=failed`)).body.data).toEqual([]);
  });

  it('delivers an event only to the endpoints subscribed to its type', async () => {
    const site = await newSite();
    const clicksOnly = await site.createEndpoint({ url: receiver.route(() => 200), events: ['email.clicked'] });
    const allUrl = receiver.route(() => 200);
    const all = await site.createEndpoint({ url: allUrl });
    const disabled = await site.createEndpoint({ url: receiver.route(() => 200), enabled: false });

    const { event, endpoints } = await emit(site.siteId, site.contact.id, 'opened');
    expect(endpoints).toBe(1);
    expect(await deliveriesOf(clicksOnly.id)).toEqual([]);
    expect(await deliveriesOf(disabled.id)).toEqual([]);
    const [delivery] = await deliveriesOf(all.id);
    expect((await settle(delivery!.id)).result.status).toBe('succeeded');
    expect(receiver.at(allUrl).map((r) => JSON.parse(r.body).type)).toEqual(['email.opened']);
    expect(receiver.at(allUrl)[0]!.headers['webhook-id']).toBe(`msg_evt_${event.id}`);

    const unsubscribed = await emit(site.siteId, site.contact.id, 'unsubscribed');
    expect(unsubscribed.endpoints).toBe(1);
    const [second] = (await deliveriesOf(all.id)).filter((d) => d.eventType === 'contact.unsubscribed');
    expect(second).toBeDefined();
  });

  it('stops at a 410 Gone: one attempt, the delivery failed and the endpoint disabled', async () => {
    const site = await newSite();
    const url = receiver.route(() => 410);
    const endpoint = await site.createEndpoint({ url });
    await emit(site.siteId, site.contact.id, 'bounced', { bounceType: 'hard' });
    const [delivery] = await deliveriesOf(endpoint.id);

    const { result } = await settle(delivery!.id);
    expect(result).toMatchObject({ status: 'failed', attempts: 1, lastStatusCode: 410 });
    expect(receiver.at(url)).toHaveLength(1);
    const log = (await site.call('GET', `/api/v1/webhook-endpoints/${endpoint.id}/deliveries?status=failed`)).body.data;
    expect(log).toHaveLength(1);
    expect(log[0].attempts.map((a: { statusCode: number }) => a.statusCode)).toEqual([410]);
    expect((await site.call('GET', `/api/v1/webhook-endpoints/${endpoint.id}`)).body.data.enabled).toBe(false);
    expect((await emit(site.siteId, site.contact.id, 'complained')).endpoints).toBe(0);
  });

  it('waits as long as a 429 answer’s Retry-After asks before trying again', async () => {
    const site = await newSite();
    const url = receiver.route((call) => (call === 1 ? { status: 429, headers: { 'retry-after': '120' } } : 200));
    const endpoint = await site.createEndpoint({ url });
    await emit(site.siteId, site.contact.id, 'sent');
    const [delivery] = await deliveriesOf(endpoint.id);

    const { result, serverMs } = await settle(delivery!.id);
    expect(result).toMatchObject({ status: 'succeeded', attempts: 2 });
    expect(serverMs).toBeGreaterThanOrEqual(120 * SECOND);
    expect(serverMs).toBeLessThan(130 * SECOND);
    expect(receiver.at(url).map((r) => r.status)).toEqual([429, 200]);
  });

  it('stops retrying once the endpoint is disabled or deleted', async () => {
    const site = await newSite();
    let disabledId = 0;
    const disableUrl = receiver.route(async () => {
      await testDb.db.update(webhookEndpoints).set({ enabled: false }).where(eq(webhookEndpoints.id, disabledId));
      return 503;
    });
    let deletedId = 0;
    const deleteUrl = receiver.route(async () => {
      await testDb.db.delete(webhookEndpoints).where(eq(webhookEndpoints.id, deletedId));
      return 500;
    });
    disabledId = (await site.createEndpoint({ url: disableUrl })).id;
    deletedId = (await site.createEndpoint({ url: deleteUrl })).id;
    await emit(site.siteId, site.contact.id, 'clicked', { url: 'https://example.com/pricing' });
    const [toDisabled] = await deliveriesOf(disabledId);
    const [toDeleted] = await deliveriesOf(deletedId);

    expect((await settle(toDisabled!.id)).result).toMatchObject({ status: 'failed', attempts: 1, error: 'the endpoint is disabled' });
    expect((await settle(toDeleted!.id)).result).toMatchObject({ status: 'skipped', error: 'the endpoint was deleted' });
    expect(receiver.at(disableUrl)).toHaveLength(1);
    expect(receiver.at(deleteUrl)).toHaveLength(1);
  });

  it('gives up after about a day of retries against an endpoint that never answers, logging every attempt', async () => {
    const site = await newSite();
    // A port that was just free: every attempt is a refused connection.
    const endpoint = await site.createEndpoint({ url: `http://127.0.0.1:${await closedPort()}/hooks` });
    await emit(site.siteId, site.contact.id, 'delivery_delayed');
    const [delivery] = await deliveriesOf(endpoint.id);

    const { result, serverMs } = await settle(delivery!.id);
    expect(result).toMatchObject({ status: 'failed', attempts: 33, lastStatusCode: null });
    expect(result.error).toMatch(/^gave up after 33 attempts; last: connect ECONNREFUSED/);
    expect(serverMs).toBeGreaterThan(20 * HOUR);
    expect(serverMs).toBeLessThan(25 * HOUR);

    const [entry] = (await site.call('GET', `/api/v1/webhook-endpoints/${endpoint.id}/deliveries`)).body.data;
    expect(entry).toMatchObject({ status: 'failed', attemptCount: 33 });
    expect(entry.attempts).toHaveLength(33);
    expect(entry.attempts.every((a: { statusCode: number | null; error: string }) => a.statusCode === null && /ECONNREFUSED/.test(a.error))).toBe(true);
  });

  it('delivers later an event fanned out while Temporal was unreachable, once resumed', async () => {
    const site = await newSite();
    const url = receiver.route(() => 200);
    const endpoint = await site.createEndpoint({ url });
    const down = unreachableTemporal();
    try {
      expect((await emit(site.siteId, site.contact.id, 'opened', {}, down.client)).endpoints).toBe(1);
    } finally {
      await down.connection.close();
    }
    const [delivery] = await deliveriesOf(endpoint.id);
    expect(delivery).toMatchObject({ status: 'pending', attempts: 0 });

    const deps = { db: testDb.db, temporal: env.client, logger };
    expect(await resumePendingWebhookDeliveries(deps, { olderThanMs: 0 })).toBeGreaterThanOrEqual(1);
    // A second sweep while the workflow runs starts nothing new.
    await resumePendingWebhookDeliveries(deps, { olderThanMs: 0 });
    expect((await settle(delivery!.id)).result).toMatchObject({ status: 'succeeded', attempts: 1 });
    expect(receiver.at(url)).toHaveLength(1);
    expect(await resumePendingWebhookDeliveries(deps, { olderThanMs: 0 })).toBe(0);
  });

  it('starts, from the webhook-outbox relay, a delivery stranded while Temporal was unreachable, and only once', async () => {
    const site = await newSite();
    const url = receiver.route(() => 200);
    const endpoint = await site.createEndpoint({ url });
    const down = unreachableTemporal();
    try {
      await emit(site.siteId, site.contact.id, 'clicked', {}, down.client);
    } finally {
      await down.connection.close();
    }
    const [delivery] = await deliveriesOf(endpoint.id);
    expect(delivery).toMatchObject({ status: 'pending', attempts: 0 });

    const relay = await env.client.workflow.start(webhookOutboxWorkflow, {
      taskQueue: TASK_QUEUES.main,
      workflowId: `${workflowIds.webhookOutbox()}-${randomUUID()}`,
      args: [{ everyMs: 1000, strandedAfterMs: 0 }],
    });
    const handle = env.client.workflow.getHandle(workflowIds.webhookDelivery(delivery!.id));
    const result = await (await mainWorker()).runUntil(async () => {
      // The relay starts the delivery as an abandoned child under the delivery's own id.
      for (;;) {
        try {
          return await handle.result();
        } catch (err) {
          if (!(err instanceof WorkflowNotFoundError)) throw err;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    });
    await relay.terminate('test over');
    expect(result).toMatchObject({ status: 'succeeded', attempts: 1 });
    expect(receiver.at(url)).toHaveLength(1);
  });

  it('sends a webhook.test event through the same signed delivery, once per Idempotency-Key', async () => {
    const site = await newSite();
    const url = receiver.route((call) => (call === 1 ? 502 : 200));
    const endpoint = await site.createEndpoint({ url, events: ['email.bounced'] });

    const headers = { 'idempotency-key': `test-${randomUUID()}` };
    const first = await site.call('POST', `/api/v1/webhook-endpoints/${endpoint.id}/test`, { headers });
    expect(first.status).toBe(202);
    expect(first.body.data).toMatchObject({ endpointId: endpoint.id, eventType: 'webhook.test', status: 'pending', attempts: [] });
    const again = await site.call('POST', `/api/v1/webhook-endpoints/${endpoint.id}/test`, { headers });
    expect(again.status).toBe(202);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body.data.id).toBe(first.body.data.id);

    expect((await settle(first.body.data.id)).result).toMatchObject({ status: 'succeeded', attempts: 2 });
    const requests = receiver.at(url);
    expect(requests.map((r) => r.status)).toEqual([502, 200]);
    expect(verify(endpoint.secret, requests[1]!)).toMatchObject({ type: 'webhook.test', data: { endpointId: endpoint.id } });
    const log = (await site.call('GET', `/api/v1/webhook-endpoints/${endpoint.id}/deliveries?status=succeeded`)).body.data;
    expect(log.map((d: { id: number }) => d.id)).toEqual([first.body.data.id]);
    const rows = await testDb.db
      .select()
      .from(webhookDeliveries)
      .where(and(eq(webhookDeliveries.endpointId, endpoint.id), eq(webhookDeliveries.eventType, 'webhook.test')));
    expect(rows).toHaveLength(1);
  });

  it('signs with the new secret after a rotation', async () => {
    const site = await newSite();
    const url = receiver.route(() => 200);
    const endpoint = await site.createEndpoint({ url });
    const rotated = (await site.call('POST', `/api/v1/webhook-endpoints/${endpoint.id}/rotate-secret`)).body.data.secret as string;
    const sent = await site.call('POST', `/api/v1/webhook-endpoints/${endpoint.id}/test`);
    expect((await settle(sent.body.data.id)).result.status).toBe('succeeded');
    const [request] = receiver.at(url);
    expect(verify(rotated, request!)).toMatchObject({ type: 'webhook.test' });
    expect(() => verify(endpoint.secret, request!)).toThrow();
  });
});

/**
 * The real activities, with the delivery activity as production builds it (`publicAddressesOnly`, the
 * default when NODE_ENV=production) or not, and a resolver that answers for made-up host names.
 */
function activitiesWith(opts: { publicAddressesOnly: boolean; resolve: Record<string, string> }) {
  const resolved: string[] = [];
  const base = { db: testDb.db, logger, secretBox: createSecretBox(SECRET) };
  const resolveHost = async (hostname: string) => {
    resolved.push(hostname);
    const address = opts.resolve[hostname];
    if (!address) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return [{ address, family: address.includes(':') ? 6 : 4 }];
  };
  const activities: Activities = {
    ...createActivities(base),
    ...createWebhookDeliveryActivities({ ...base, publicAddressesOnly: opts.publicAddressesOnly, resolveHost }),
  };
  return { activities, resolved };
}

/** A receiver route under a made-up host name (resolved by the test's resolver) instead of 127.0.0.1. */
function namedRoute(hostname: string): string {
  const url = new URL(receiver.route(() => 200));
  url.hostname = hostname;
  return url.href;
}

describe('receiver addresses at delivery time', () => {
  it('refuses in production a host name that now resolves to a private address: one failed attempt in the log, no retry, nothing sent', async () => {
    const site = await newSite();
    const hostname = `hooks-${randomUUID()}.example.test`;
    const url = namedRoute(hostname);
    // Created outside production (as if the name was public then); it re-resolves to the server's own network.
    const endpoint = await site.createEndpoint({ url });
    await emit(site.siteId, site.contact.id, 'opened');
    const [delivery] = await deliveriesOf(endpoint.id);

    const { activities, resolved } = activitiesWith({ publicAddressesOnly: true, resolve: { [hostname]: '127.0.0.1' } });
    const { result, serverMs } = await settle(delivery!.id, activities);
    expect(result).toMatchObject({ status: 'failed', attempts: 1, lastStatusCode: null });
    expect(result.error).toMatch(new RegExp(`^refused: ${hostname.replaceAll('.', '\\.')} resolves to 127\\.0\\.0\\.1, a private or reserved address`));
    expect(serverMs).toBeLessThan(5 * SECOND);
    expect(resolved).toEqual([hostname]);
    expect(receiver.at(url)).toEqual([]);

    const [entry] = (await site.call('GET', `/api/v1/webhook-endpoints/${endpoint.id}/deliveries?status=failed`)).body.data;
    expect(entry).toMatchObject({ id: delivery!.id, status: 'failed', attemptCount: 1, lastStatusCode: null, lastError: result.error });
    expect(entry.attempts).toEqual([expect.objectContaining({ attempt: 1, statusCode: null, error: result.error })]);
    // Only this delivery failed: later events are checked again when they are delivered.
    expect((await site.call('GET', `/api/v1/webhook-endpoints/${endpoint.id}`)).body.data.enabled).toBe(true);
  });

  it('refuses in production a private IP in the URL and a name resolving to the cloud metadata address', async () => {
    const site = await newSite();
    const literal = receiver.route(() => 200);
    const metadataHost = `metadata-${randomUUID()}.example.test`;
    const first = await site.createEndpoint({ url: literal });
    const second = await site.createEndpoint({ url: `http://${metadataHost}/latest/meta-data/` });
    await emit(site.siteId, site.contact.id, 'clicked');
    const [toLiteral] = await deliveriesOf(first.id);
    const [toMetadata] = await deliveriesOf(second.id);

    const { activities } = activitiesWith({ publicAddressesOnly: true, resolve: { [metadataHost]: '169.254.169.254' } });
    expect((await settle(toLiteral!.id, activities)).result).toMatchObject({
      status: 'failed',
      attempts: 1,
      error: expect.stringMatching(/^refused: 127\.0\.0\.1 is a private or reserved address/),
    });
    expect((await settle(toMetadata!.id, activities)).result).toMatchObject({
      status: 'failed',
      attempts: 1,
      error: expect.stringMatching(/resolves to 169\.254\.169\.254, a private or reserved address/),
    });
    expect(receiver.at(literal)).toEqual([]);
  });

  it('connects to the address it resolved and checked, with the URL’s host name in the Host header', async () => {
    const site = await newSite();
    const hostname = `receiver-${randomUUID()}.example.test`;
    const url = namedRoute(hostname);
    const endpoint = await site.createEndpoint({ url });
    await emit(site.siteId, site.contact.id, 'delivered');
    const [delivery] = await deliveriesOf(endpoint.id);

    // Outside production a local receiver is fine: the made-up name reaches it only through the resolver's answer.
    const { activities, resolved } = activitiesWith({ publicAddressesOnly: false, resolve: { [hostname]: '127.0.0.1' } });
    expect((await settle(delivery!.id, activities)).result).toMatchObject({ status: 'succeeded', attempts: 1, lastStatusCode: 200 });
    expect(resolved).toEqual([hostname]);
    const [request] = receiver.at(url);
    expect(request!.headers.host).toBe(new URL(url).host);
    expect(verify(endpoint.secret, request!)).toMatchObject({ type: 'email.delivered' });
  });

  it('delivers to a port that fetch would refuse as a "bad port"', async () => {
    // Ports on fetch's blocklist; the first one free here is used.
    let server: Server | undefined;
    for (const port of [10080, 6000, 6665, 6666, 6667, 6668, 6669, 6697, 4190, 6566]) {
      const candidate = createServer((req, res) => {
        req.resume();
        req.on('end', () => res.writeHead(204).end());
      });
      const ok = await new Promise<boolean>((resolve) => {
        candidate.once('error', () => resolve(false));
        candidate.listen(port, '127.0.0.1', () => resolve(true));
      });
      if (ok) {
        server = candidate;
        break;
      }
    }
    expect(server, 'no port of the blocklist is free on this machine').toBeDefined();
    try {
      const site = await newSite();
      const { port } = server!.address() as AddressInfo;
      const endpoint = await site.createEndpoint({ url: `http://127.0.0.1:${port}/hooks` });
      await emit(site.siteId, site.contact.id, 'sent');
      const [delivery] = await deliveriesOf(endpoint.id);
      expect((await settle(delivery!.id)).result).toMatchObject({ status: 'succeeded', attempts: 1, lastStatusCode: 204 });
    } finally {
      server!.closeAllConnections();
      await new Promise((resolve) => server!.close(resolve));
    }
  });
});
