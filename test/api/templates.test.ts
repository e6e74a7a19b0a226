import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from './support.js';

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi({ PUBLIC_URL: 'https://mail.example.test/' });
});
afterAll(async () => {
  await api?.close();
});

const welcome = {
  name: 'Welcome',
  subject: 'Welcome, {{ firstName | default: "there" }}!',
  html: '<h1>Hi {{ firstName | default: "there" }}</h1><p>Plan: {{ contact.customFields.plan }}. Order {{ orderId }}.</p><a href="{{ unsubscribeUrl }}">Unsubscribe</a>',
};

async function createTemplate(body: Record<string, unknown> = welcome, key?: string): Promise<number> {
  const res = await api.call('POST', '/api/v1/templates', { body, key });
  expect(res.status, res.text).toBe(201);
  return res.body.data.id;
}

async function createContact(body: Record<string, unknown>, key?: string): Promise<number> {
  const res = await api.call('POST', '/api/v1/contacts', { body, key });
  expect(res.status, res.text).toBe(201);
  return res.body.data.id;
}

describe('template CRUD', () => {
  it('creates, reads, lists, updates and deletes a template', async () => {
    const created = await api.call('POST', '/api/v1/templates', { body: { ...welcome, text: 'Hi {{ firstName }}' } });
    expect(created.status).toBe(201);
    expect(created.body.data).toMatchObject({ ...welcome, text: 'Hi {{ firstName }}' });
    const id = created.body.data.id;

    expect((await api.call('GET', `/api/v1/templates/${id}`)).body.data).toEqual(created.body.data);
    const list = await api.call('GET', '/api/v1/templates?limit=100');
    expect(list.body.data.map((t: { id: number }) => t.id)).toContain(id);
    expect(list.body.pagination).toMatchObject({ page: 1, limit: 100 });

    const updated = await api.call('PATCH', `/api/v1/templates/${id}`, { body: { subject: 'Hello {{ firstName }}', text: null } });
    expect(updated.status).toBe(200);
    expect(updated.body.data).toMatchObject({ subject: 'Hello {{ firstName }}', html: welcome.html, text: null });

    expect((await api.call('DELETE', `/api/v1/templates/${id}`)).status).toBe(204);
    expect((await api.call('GET', `/api/v1/templates/${id}`)).status).toBe(404);
  });

  it('rejects a template without subject or html with 400 naming the fields', async () => {
    const res = await api.call('POST', '/api/v1/templates', { body: { name: 'Empty', subject: '' } });
    expect(res.status).toBe(400);
    expect(res.body.error.details.map((d: { path: string }) => d.path)).toEqual(expect.arrayContaining(['subject', 'html']));
  });

  it('hides another site’s template: get, update, delete and preview answer 404', async () => {
    const id = await createTemplate(welcome, api.siteB.key);
    expect((await api.call('GET', `/api/v1/templates/${id}`)).status).toBe(404);
    expect((await api.call('PATCH', `/api/v1/templates/${id}`, { body: { name: 'mine' } })).status).toBe(404);
    expect((await api.call('DELETE', `/api/v1/templates/${id}`)).status).toBe(404);
    expect((await api.call('POST', `/api/v1/templates/${id}/preview`, { body: {} })).status).toBe(404);
    const theirs = await api.call('GET', `/api/v1/templates/${id}`, { key: api.siteB.key });
    expect(theirs.body.data.name).toBe('Welcome');
  });
});

describe('template syntax errors', () => {
  it('answers 400 template_syntax with the field, line and column of the mistake', async () => {
    const res = await api.call('POST', '/api/v1/templates', {
      body: { name: 'Broken', subject: 'Hi', html: '<p>Hello</p>\n<p>{% if vip %}VIP</p>' },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('template_syntax');
    expect(res.body.error.details).toEqual([
      { path: 'html', field: 'html', line: 2, column: 4, message: 'tag {% if vip %} not closed' },
    ]);
    const list = await api.call('GET', '/api/v1/templates?limit=100');
    expect(list.body.data.map((t: { name: string }) => t.name)).not.toContain('Broken');
  });

  it('catches an unknown filter in the subject at save time', async () => {
    const res = await api.call('POST', '/api/v1/templates', { body: { name: 'Shout', subject: 'Hi {{ firstName | shout }}', html: '<p>x</p>' } });
    expect(res.status).toBe(400);
    expect(res.body.error.details[0]).toMatchObject({ field: 'subject', line: 1, column: 4, message: 'undefined filter: shout' });
  });

  it('refuses an update that would break the template and keeps the saved version', async () => {
    const id = await createTemplate();
    const res = await api.call('PATCH', `/api/v1/templates/${id}`, { body: { text: 'line one\nline two {{ name' } });
    expect(res.status).toBe(400);
    expect(res.body.error.details[0]).toMatchObject({ field: 'text', line: 2 });
    expect((await api.call('GET', `/api/v1/templates/${id}`)).body.data.text).toBeNull();
  });
});

describe('preview of unsaved source', () => {
  it('renders subject, HTML and text for a contact without saving anything', async () => {
    const contactId = await createContact({ email: 'ada@example.test', firstName: 'Ada' });
    const res = await api.call('POST', '/api/v1/templates/preview', {
      body: { contactId, subject: 'Hi {{ firstName }}', html: '<p>Hello {{ firstName }}, order {{ orderId }}</p>', text: 'Hello {{ firstName }}', variables: { orderId: 7 } },
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body.data).toEqual({ subject: 'Hi Ada', html: '<p>Hello Ada, order 7</p>', text: 'Hello Ada' });
    expect((await api.call('GET', '/api/v1/templates?limit=100')).body.data.map((t: { subject: string }) => t.subject)).not.toContain('Hi {{ firstName }}');
  });

  it('answers a syntax error with 400 template_syntax naming the field, line and column', async () => {
    const res = await api.call('POST', '/api/v1/templates/preview', { body: { subject: 'Hi', html: '<p>one</p>\n<p>{% if x %}two</p>' } });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('template_syntax');
    expect(res.body.error.details).toEqual([expect.objectContaining({ path: 'html', field: 'html', line: 2, column: 4 })]);
  });

  it('answers a render error with 422 and the field, and 404 for a contact of another site', async () => {
    const bad = await api.call('POST', '/api/v1/templates/preview', { body: { subject: 'Hi', html: '{{ "x" | divided_by: 0 | append: nothing.x.y }}{% for i in (1..100000000) %}{% endfor %}' } });
    expect(bad.status).toBe(422);
    expect(bad.body.error.code).toBe('template_render_failed');
    expect(bad.body.error.details[0]).toMatchObject({ path: 'html', field: 'html' });
    const foreign = await createContact({ email: 'theirs@example.test' }, api.siteB.key);
    const res = await api.call('POST', '/api/v1/templates/preview', { body: { contactId: foreign, subject: 'Hi', html: '<p>x</p>' } });
    expect(res.status).toBe(404);
  });
});

describe('template preview', () => {
  it('renders for a contact with contact fields, custom fields and variables, sending nothing', async () => {
    const id = await createTemplate();
    const contactId = await createContact({ email: 'grace@example.test', firstName: 'Grace', customFields: { plan: 'pro' } });
    const res = await api.call('POST', `/api/v1/templates/${id}/preview`, { body: { contactId, variables: { orderId: 'A-1001' } } });
    expect(res.status).toBe(200);
    expect(res.body.data.subject).toBe('Welcome, Grace!');
    expect(res.body.data.html).toBe(
      '<h1>Hi Grace</h1><p>Plan: pro. Order A-1001.</p><a href="https://mail.example.test/u/preview">Unsubscribe</a>',
    );
    // Derived from the HTML (headings upper-cased, links spelled out) since the template has no text part.
    expect(res.body.data.text).toBe('HI GRACE\n\nPlan: pro. Order A-1001.\n\nUnsubscribe [https://mail.example.test/u/preview]');
    const sends = await api.call('GET', '/api/v1/sends');
    expect(sends.body.pagination.total).toBe(0);
  });

  it('escapes contact data in the HTML so a name cannot inject markup, and keeps it plain in the subject', async () => {
    const id = await createTemplate();
    const contactId = await createContact({ email: 'mallory@example.test', firstName: '<script>alert("x")</script> & co' });
    const res = await api.call('POST', `/api/v1/templates/${id}/preview`, { body: { contactId } });
    expect(res.status).toBe(200);
    expect(res.body.data.html).toContain('<h1>Hi &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; co</h1>');
    expect(res.body.data.html).not.toContain('<script>');
    expect(res.body.data.subject).toBe('Welcome, <script>alert("x")</script> & co!');
  });

  it('renders defaults when there is no contact and no body at all', async () => {
    const id = await createTemplate();
    const res = await api.call('POST', `/api/v1/templates/${id}/preview`);
    expect(res.status).toBe(200);
    expect(res.body.data.subject).toBe('Welcome, there!');
    expect(res.body.data.html).toContain('<h1>Hi there</h1><p>Plan: . Order .</p>');
  });

  it('answers 404 for a contact of another site, and 400 for a malformed contact id', async () => {
    const id = await createTemplate();
    const foreign = await createContact({ email: 'other@example.test', firstName: 'Other' }, api.siteB.key);
    const res = await api.call('POST', `/api/v1/templates/${id}/preview`, { body: { contactId: foreign } });
    expect(res.status).toBe(404);
    expect(res.body.error.message).toBe(`Contact ${foreign} not found`);
    const bad = await api.call('POST', `/api/v1/templates/${id}/preview`, { body: { contactId: 'abc', variables: [] } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.map((d: { path: string }) => d.path)).toEqual(expect.arrayContaining(['contactId', 'variables']));
  });
});
