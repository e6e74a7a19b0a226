import type { DbOrTx } from '../db/client.js';
import { frozenContentOf } from '../db/repositories/campaigns.js';
import type { SendRow } from '../db/repositories/sends.js';
import { sendMessage } from '../mail/campaign-copy.js';
import type { SendContent } from '../mail/compose.js';
import type { Links } from '../mail/links.js';

/**
 * The message of a send as it was sent, for whoever shows or checks it (the send log, click tracking):
 * its stored body, or its campaign copy rendered again from the campaign's frozen content. Null once
 * the retention purge took the body.
 */
export async function loadSendMessage(db: DbOrTx, send: SendRow, links: Links | undefined): Promise<SendContent | null> {
  const content = send.copyContext && send.campaignId !== null ? await frozenContentOf(db, send.campaignId) : null;
  return sendMessage(send, content, links);
}
