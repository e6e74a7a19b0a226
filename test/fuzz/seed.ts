/**
 * A little of everything, created through the API the way a user would, so that path parameters the
 * fuzzer tries (ids are small integers, and the document's examples say `1`) reach real rows and the
 * success answers get checked against their schemas, not only the 404s.
 *
 * Each deletable resource also gets a bait twin, and the run points that resource's DELETE at the
 * bait: otherwise an early `DELETE /tags/1` would leave every later operation on tag 1 a 404, and
 * `DELETE /api-keys/{id}` could revoke the fuzzer's own key.
 */
export interface Seeded {
  /** One id per resource, for the summary. */
  ids: Record<string, number>;
  /** `DELETE` path → the path parameters it must use (the bait's). */
  deleteOverrides: Record<string, Record<string, number>>;
}

type Json = Record<string, unknown>;

export async function seed(url: string, key: string): Promise<Seeded> {
  const call = async (method: string, path: string, body?: unknown, expected = [200, 201, 202]): Promise<Json> => {
    const res = await fetch(`${url}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!expected.includes(res.status)) throw new Error(`seed: ${method} ${path} answered ${res.status}: ${text}`);
    return (JSON.parse(text) as { data: Json }).data;
  };
  const id = (row: Json) => row.id as number;

  const [sendingConfig] = (await call('GET', '/sending-configs')) as unknown as Json[];
  if (!sendingConfig) throw new Error('seed: npm start created no `log` sending config');
  const sendingConfigId = id(sendingConfig);

  const list = await call('POST', '/lists', { name: 'Readers' });
  const tag = await call('POST', '/tags', { name: 'vip' });
  const ada = await call('POST', '/contacts', {
    email: 'ada@example.com',
    firstName: 'Ada',
    city: 'Paris',
    customFields: { plan: 'pro' },
    lists: [id(list)],
    tags: ['vip'],
  });
  await call('POST', '/contacts', { email: 'grace@example.com', firstName: 'Grace', lists: [id(list)] });
  const template = await call('POST', '/templates', {
    name: 'Welcome',
    subject: 'Welcome, {{ firstName | default: "there" }}',
    html: '<p>Hi {{ firstName | default: "there" }}</p>',
  });
  const segment = await call('POST', '/segments', {
    name: 'Pro in Paris',
    rules: { operator: 'AND', conditions: [{ type: 'attribute', field: 'city', op: 'eq', value: 'Paris' }] },
  });
  const sequence = await call('POST', '/sequences', { name: 'Onboarding', sendingConfigId });
  const step = await call('POST', `/sequences/${id(sequence)}/steps`, { subject: 'Welcome!', html: '<p>Hi</p>', delayValue: 1, delayUnit: 'days' });
  await call('PATCH', `/sequences/${id(sequence)}`, { status: 'active' });
  await call('POST', `/sequences/${id(sequence)}/enroll`, { contactId: id(ada) });
  const campaign = await call('POST', '/campaigns', {
    name: 'March Newsletter',
    subject: 'What is new',
    html: '<h1>News</h1>',
    listId: id(list),
    sendingConfigId,
  });
  const send = await call('POST', '/send', { to: 'ada@example.com', subject: 'Hello', html: '<p>Hello</p>', sendingConfigId });
  await call('POST', `/contacts/${id(ada)}/events`, { name: 'signed_up' });
  await call('POST', '/suppressions', { email: 'blocked@example.com', reason: 'manual' });

  // Dashboard users come from sign-up links: an owner (the only one, so the fuzzer's PATCHes and
  // DELETEs meet the last-owner rule) and, below, a bait editor for DELETE /users/{id}.
  const signUp = async (role: string, email: string): Promise<Json> => {
    const { url: link } = await call('POST', '/users/invites', { role });
    const token = new URL(link as string).searchParams.get('token');
    const res = await fetch(`${url}/api/v1/auth/setup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token, email, name: email.split('@')[0], password: 'fuzz password 1234' }),
    });
    if (res.status !== 200) throw new Error(`seed: POST /auth/setup answered ${res.status}: ${await res.text()}`);
    return ((await res.json()) as { user: Json }).user;
  };
  const owner = await signUp('owner', 'owner@example.com');

  const bait = {
    user: await signUp('editor', 'bait-user@example.com'),
    apiKey: await call('POST', '/api-keys', { name: 'fuzz bait' }),
    contact: await call('POST', '/contacts', { email: 'bait@example.com' }),
    list: await call('POST', '/lists', { name: 'Bait' }),
    tag: await call('POST', '/tags', { name: 'bait' }),
    template: await call('POST', '/templates', { name: 'Bait', subject: 'Bait', html: '<p>Bait</p>' }),
    segment: await call('POST', '/segments', { name: 'Bait', rules: { operator: 'AND', conditions: [{ type: 'tag', op: 'has', tag: 'bait' }] } }),
    sequence: await call('POST', '/sequences', { name: 'Bait', sendingConfigId }),
    step: await call('POST', `/sequences/${id(sequence)}/steps`, { subject: 'Bait', html: '<p>Bait</p>', delayValue: 2, delayUnit: 'days' }),
    campaign: await call('POST', '/campaigns', { name: 'Bait', subject: 'Bait', html: '<p>Bait</p>', listId: id(list), sendingConfigId }),
    sendingConfig: await call('POST', '/sending-configs', { name: 'Bait', provider: 'log', fromEmail: 'bait@example.com' }),
  };

  return {
    ids: {
      sendingConfig: sendingConfigId,
      list: id(list),
      tag: id(tag),
      contact: id(ada),
      template: id(template),
      segment: id(segment),
      sequence: id(sequence),
      step: id(step),
      campaign: id(campaign),
      send: send.sendId as number,
      user: id(owner),
    },
    deleteOverrides: {
      '/api/v1/api-keys/{id}': { id: id(bait.apiKey) },
      '/api/v1/contacts/{id}': { id: id(bait.contact) },
      '/api/v1/lists/{id}': { id: id(bait.list) },
      '/api/v1/tags/{id}': { id: id(bait.tag) },
      '/api/v1/templates/{id}': { id: id(bait.template) },
      '/api/v1/segments/{id}': { id: id(bait.segment) },
      '/api/v1/sequences/{id}': { id: id(bait.sequence) },
      '/api/v1/sequences/{id}/steps/{stepId}': { id: id(sequence), stepId: id(bait.step) },
      '/api/v1/campaigns/{id}': { id: id(bait.campaign) },
      '/api/v1/sending-configs/{id}': { id: id(bait.sendingConfig) },
      '/api/v1/users/{id}': { id: id(bait.user) },
    },
  };
}
