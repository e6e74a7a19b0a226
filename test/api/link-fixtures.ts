import { and, eq } from 'drizzle-orm';
import { createSecretBox } from '../../src/crypto/secret-box.js';
import { createSendingConfig } from '../../src/db/repositories/sending-configs.js';
import { insertSend, reserveSendIds } from '../../src/db/repositories/sends.js';
import { emailEvents } from '../../src/db/schema.js';
import { createLinks, type Links } from '../../src/mail/links.js';
import { startTestApi, type TestApi } from './support.js';

/** A desktop browser: Node's fetch says `node`, which isbot rightly takes for a bot. */
export const BROWSER_UA = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15';

export interface LinkFixture {
  api: TestApi;
  /** The same secret and PUBLIC_URL (the test API) the worker would use. */
  links: Links;
  configId: number;
  listId: number;
  /** A draft campaign whose counters the events move. */
  campaignId: number;
  newContact(email: string): Promise<number>;
  /** Records a sent campaign email to the contact, decorated the way the worker decorates it. */
  campaignSend(contactId: number, html: string): Promise<{ sendId: number; html: string; unsubscribeUrl: string; headers: Record<string, string> }>;
  /** The site's events of one type for one send. */
  events(sendId: number, type: string): Promise<(typeof emailEvents.$inferSelect)[]>;
  close(): Promise<void>;
}

export async function startLinkFixture(secret: string): Promise<LinkFixture> {
  const api = await startTestApi({ TIDINGS_SECRET: secret });
  const links = createLinks({ secret, publicUrl: api.url });
  const configId = (
    await createSendingConfig(api.db, createSecretBox(secret), api.siteA.id, { name: 'Log', provider: 'log', fromEmail: 'news@acme.test' })
  ).id;
  const listId = (await api.call('POST', '/api/v1/lists', { body: { name: 'Readers' } })).body.data.id as number;
  const campaign = await api.call('POST', '/api/v1/campaigns', {
    body: { name: 'March', subject: 'March', html: '<p>March</p>', listId, sendingConfigId: configId },
  });
  const campaignId = campaign.body.data.id as number;
  let seq = 0;

  return {
    api,
    links,
    configId,
    listId,
    campaignId,
    async newContact(email) {
      const res = await api.call('POST', '/api/v1/contacts', { body: { email } });
      if (res.status !== 201) throw new Error(`contact ${email}: ${res.status} ${res.text}`);
      return res.body.data.id as number;
    },
    async campaignSend(contactId, source) {
      seq += 1;
      const [sendId] = await reserveSendIds(api.db, 1);
      const mail = links.forSend({ siteId: api.siteA.id, contactId, sendId: sendId!, trackOpens: true, trackClicks: true });
      const html = mail.decorate(source.replaceAll('{{ unsubscribeUrl }}', mail.unsubscribeUrl));
      await insertSend(api.db, {
        id: sendId!,
        siteId: api.siteA.id,
        kind: 'campaign',
        contactId,
        campaignId,
        toEmail: `contact-${contactId}@example.test`,
        subject: 'March',
        html,
        text: 'March',
        headers: mail.headers,
        sendingConfigId: configId,
        status: 'sent',
        idempotencyKey: `test:links:${campaignId}:${contactId}:${seq}`,
      });
      return { sendId: sendId!, html, unsubscribeUrl: mail.unsubscribeUrl, headers: mail.headers };
    },
    events: (sendId, type) =>
      api.db
        .select()
        .from(emailEvents)
        .where(and(eq(emailEvents.sendId, sendId), eq(emailEvents.type, type))),
    close: () => api.close(),
  };
}

/** Every tracked link (`…/t/c/<token>`) in an email's HTML, in order. */
export function trackedLinks(html: string, publicUrl: string): string[] {
  return [...html.matchAll(/href="([^"]+)"/g)].map((m) => m[1]!).filter((href) => href.startsWith(`${publicUrl}/t/c/`));
}

/** The open pixel's URL in an email's HTML. */
export function pixelUrl(html: string, publicUrl: string): string {
  const match = new RegExp(`<img src="(${publicUrl.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}/t/o/[^"]+)"`).exec(html);
  if (!match) throw new Error('no open pixel in the email');
  return match[1]!;
}
