import { Router, type Request, type Response } from 'express';
import { isbot } from 'isbot';
import { trackedSend } from '../../db/repositories/email-events.js';
import { getSendById } from '../../db/repositories/sends.js';
import { createLinkTokens, httpUrl } from '../../mail/links.js';
import { recordEmailEvent, sendEventKey } from '../../services/email-events.js';
import { loadSendMessage } from '../../services/send-message.js';
import type { AppDeps } from '../deps.js';
import { sendPage } from './page.js';
import './tracking.schema.js';

/** A transparent 1×1 GIF. */
const PIXEL = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

/**
 * Whether this request is a person reading the email. Link scanners (security gateways, chat
 * unfurlers, crawlers) are recognised by user agent (`isbot`), and HEAD requests are link checkers
 * too: they still get the pixel or the redirect, so nothing breaks for them, but they record nothing.
 */
function isHuman(req: Request): boolean {
  return req.method === 'GET' && !isbot(req.get('user-agent'));
}

/**
 * Open pixel `GET /t/o/:token` and click redirect `GET /t/c/:token` (HEAD is served by the GET routes).
 * Events are recorded once per send (`opened:<sendId>`, `clicked:<sendId>`), so repeated opens, a
 * provider's own open event and our pixel all collapse into one. A failure to record is logged and
 * never keeps the reader from the image or the link.
 */
export function trackingRouter(deps: AppDeps): Router {
  const router = Router();
  const log = deps.logger.child({ component: 'tracking' });
  // Without a secret no token can be verified: every pixel is blank and every click link invalid.
  const tokens = deps.config.TIDINGS_SECRET ? createLinkTokens(deps.config.TIDINGS_SECRET) : null;

  async function record(send: { id: number; siteId: number; contactId: number | null }, type: 'opened' | 'clicked', data?: Record<string, unknown>) {
    await recordEmailEvent(deps, {
      siteId: send.siteId,
      type,
      sendId: send.id,
      contactId: send.contactId,
      dedupeKey: sendEventKey(type, send.id),
      ...(data ? { data } : {}),
    });
  }

  router.get('/t/o/:token', async (req: Request<{ token: string }>, res: Response) => {
    const open = tokens?.verifyOpen(req.params.token);
    if (open && isHuman(req)) {
      try {
        const send = await trackedSend(deps.db, open.sendId);
        if (send && !send.opened) await record(send, 'opened');
      } catch (err) {
        log.warn({ err, sendId: open.sendId }, 'could not record an open');
      }
    }
    // Always the same image, valid token or not: the answer tells a prober nothing.
    res
      .status(200)
      // Webmail shows the pixel from its own origin: the global same-origin resource policy would block it.
      .set({ 'Cache-Control': 'no-store, no-cache, must-revalidate, max-age=0', Pragma: 'no-cache', Expires: '0', 'Cross-Origin-Resource-Policy': 'cross-origin' })
      .type('image/gif')
      .send(PIXEL);
  });

  router.get('/t/c/:token', async (req: Request<{ token: string }>, res: Response) => {
    const { token } = req.params;
    const click = tokens?.verifyClick(token);
    if (!click) {
      sendPage(res, 404, { title: 'Link not valid', message: 'This link is not valid. Please check that it was copied completely.' });
      return;
    }
    const target = httpUrl(click.url);
    if (!target) {
      sendPage(res, 400, { title: 'Link not valid', message: 'This link does not lead to a web page.' });
      return;
    }
    // The signature already proves we issued the token; requiring it in the email as sent as well means
    // the redirect can only go to a URL of that very email, even if a token were ever minted elsewhere.
    // Once the retention purge took the body, the signature is all there is left to check.
    const [send, row] = await Promise.all([trackedSend(deps.db, click.sendId), getSendById(deps.db, click.sendId)]);
    const message = row && (await loadSendMessage(deps.db, row, deps.links));
    if (!send || (message && !message.html.includes(token))) {
      sendPage(res, 404, { title: 'Link not valid', message: 'This link is no longer valid.' });
      return;
    }
    if (isHuman(req)) {
      try {
        // A click proves the email was opened, even with images blocked: the open comes first.
        if (!send.opened) await record(send, 'opened');
        if (!send.clicked) await record(send, 'clicked', { url: target.href });
      } catch (err) {
        log.warn({ err, sendId: send.id }, 'could not record a click');
      }
    }
    res.set({ 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' }).redirect(302, target.href);
  });

  return router;
}
