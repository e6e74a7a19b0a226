import { Router, type Request, type Response } from 'express';
import { getUnsubscribeContact } from '../../db/repositories/contacts.js';
import { createLinkTokens, type UnsubscribeToken } from '../../mail/links.js';
import { recordEmailEvent, unsubscribeEventKey } from '../../services/email-events.js';
import type { AppDeps } from '../deps.js';
import { sendPage } from './page.js';
import './unsubscribe.schema.js';

const INVALID = { title: 'Link not valid', message: 'This unsubscribe link is not valid. Please check that it was copied completely.' };

/**
 * The per-recipient unsubscribe link of campaign and sequence email (`/u/:token`, signed; see
 * src/mail/links.ts). GET only shows a confirmation page with a button, because mail scanners fetch
 * links; POST unsubscribes at once. POST is also the RFC 8058 one-click request a mailbox provider
 * sends from the List-Unsubscribe-Post header (body `List-Unsubscribe=One-Click`, urlencoded or
 * multipart). The signed token alone authorises it, so the body is not read: whatever form the
 * provider posts, the unsubscribe happens with no further click. The link keeps working: a contact who
 * resubscribed and uses it again is unsubscribed again.
 */
export function unsubscribeRouter(deps: AppDeps): Router {
  const router = Router();
  const tokens = deps.config.TIDINGS_SECRET ? createLinkTokens(deps.config.TIDINGS_SECRET) : null;

  const contactOf = (token: UnsubscribeToken) => getUnsubscribeContact(deps.db, token.siteId, token.contactId);

  router.get('/u/:token', async (req: Request<{ token: string }>, res: Response) => {
    const token = tokens?.verifyUnsubscribe(req.params.token);
    const contact = token ? await contactOf(token) : null;
    if (!contact) {
      sendPage(res, 404, INVALID);
      return;
    }
    if (contact.status !== 'subscribed') {
      sendUnsubscribed(res, contact.email);
      return;
    }
    // No action attribute: the form posts back to this very URL, token included.
    sendPage(res, 200, {
      title: 'Unsubscribe',
      message: `Stop sending these emails to ${contact.email}?`,
      bodyHtml: `<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">Unsubscribe</button></form>`,
    });
  });

  router.post('/u/:token', async (req: Request<{ token: string }>, res: Response) => {
    const token = tokens?.verifyUnsubscribe(req.params.token);
    const contact = token ? await contactOf(token) : null;
    if (!token || !contact) {
      sendPage(res, 404, INVALID);
      return;
    }
    // An unsubscribe event is a status change: a click while not subscribed (a repeat, or a bounced
    // address) records nothing. Otherwise it sets the contact unsubscribed, counts it on the campaign
    // (once per send) and ends the contact's enrollments. Concurrent clicks (the provider's one-click and
    // the page's button) read the same subscription, so share one dedupe key and record one event.
    if (contact.status === 'subscribed') {
      await recordEmailEvent(deps, {
        siteId: token.siteId,
        type: 'unsubscribed',
        sendId: token.sendId,
        contactId: contact.id,
        dedupeKey: unsubscribeEventKey(token.sendId, contact.subscribedAt),
      });
    }
    sendUnsubscribed(res, contact.email);
  });

  return router;
}

function sendUnsubscribed(res: Response, email: string): void {
  sendPage(res, 200, { title: 'You are unsubscribed', message: `${email} will not receive these emails any more.` });
}
