/**
 * The SMTP sink's own process (started by bench/lib/smtp-sink.ts, never imported): a minimal SMTP
 * server on node:net that accepts every message on 127.0.0.1 and only counts. It parses nothing but
 * the command lines, the end of DATA and the Message-ID header, so that at tens of thousands of
 * messages per second it is not what limits the system under test; and it runs apart from the bench
 * so that its CPU counts for neither system and it shares no event loop with the bench's polling.
 *
 * Protocol with the parent over the IPC channel: it sends `{ type: 'ready', port }` once listening;
 * it answers `{ type: 'stats', id }` with `{ type: 'stats', id, stats }` and `{ type: 'reset', id }`
 * with `{ type: 'reset', id }` after zeroing its counters.
 */
import { createServer, type Socket } from 'node:net';
import { monotonicMs } from './proc.js';

/** What the sink counted since its start or its last reset. */
export interface SinkStats {
  /** Messages accepted (DATA ended with 250). */
  messages: number;
  /** TCP connections opened by clients. */
  connections: number;
  /** Most connections open at once. */
  maxOpenConnections: number;
  /** Distinct RCPT TO addresses (lower-cased) among accepted messages. */
  uniqueRecipients: number;
  /** Distinct Message-ID header values among accepted messages. */
  uniqueMessageIds: number;
  /** Accepted messages with no Message-ID header. */
  withoutMessageId: number;
  /** Bytes of message data (between DATA and its terminator). */
  dataBytes: number;
  /** Monotonic ms (see monotonicMs) when the first and the last message of the period were accepted. */
  firstAt: number | null;
  lastAt: number | null;
}

const TERMINATOR = Buffer.from('\r\n.\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');
/** Headers beyond this are not searched for a Message-ID (real ones are a few hundred bytes). */
const MAX_HEADER_BYTES = 64 * 1024;
/**
 * What it offers is what Postfix offers by default, PIPELINING (RFC 2920) included: a client that
 * uses it sends MAIL, RCPT and DATA in one packet; one that does not still works command by command.
 */
const EHLO_REPLY = '250-sink.localhost\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-SIZE 52428800\r\n250 SMTPUTF8\r\n';

let counters = fresh();
let open = 0;

function fresh() {
  return {
    messages: 0,
    connections: 0,
    maxOpenConnections: 0,
    recipients: new Set<string>(),
    messageIds: new Set<string>(),
    withoutMessageId: 0,
    dataBytes: 0,
    firstAt: null as number | null,
    lastAt: null as number | null,
  };
}

function stats(): SinkStats {
  const { recipients, messageIds, ...rest } = counters;
  return { ...rest, uniqueRecipients: recipients.size, uniqueMessageIds: messageIds.size };
}

/** The Message-ID header's value (unfolded, trimmed) in a header block, or null. */
function messageIdOf(header: string): string | null {
  const match = /(?:^|\n)message-id:([^\n]*(?:\n[ \t][^\n]*)*)/i.exec(header);
  return match ? match[1]!.replace(/\r?\n/g, '').trim() : null;
}

/** The address inside `MAIL FROM:<…>` / `RCPT TO:<…>` (parameters after it ignored). */
function pathOf(line: string): string {
  const start = line.indexOf('<');
  const end = line.indexOf('>', start + 1);
  return start >= 0 && end > start ? line.slice(start + 1, end) : line.slice(line.indexOf(':') + 1).trim().split(' ')[0]!;
}

function serve(socket: Socket): void {
  counters.connections += 1;
  open += 1;
  counters.maxOpenConnections = Math.max(counters.maxOpenConnections, open);
  socket.setNoDelay(true);
  socket.on('close', () => (open -= 1));
  socket.on('error', () => socket.destroy());

  let inData = false;
  /** A command line not yet ended by LF. */
  let partial = '';
  /** The transaction's RCPT TO addresses. */
  let rcpts: string[] = [];
  /** The last (up to 4) bytes of DATA so far: a terminator can straddle two chunks. */
  let tail = Buffer.alloc(0);
  /** DATA bytes of the header block, complete once `headerDone`. */
  let header = Buffer.alloc(0);
  let headerDone = false;

  const reply = (text: string) => socket.write(text);

  const endMessage = () => {
    const id = messageIdOf(header.toString('latin1'));
    if (id) counters.messageIds.add(id);
    else counters.withoutMessageId += 1;
    for (const r of rcpts) counters.recipients.add(r);
    const now = monotonicMs();
    counters.firstAt ??= now;
    counters.lastAt = now;
    counters.messages += 1;
    rcpts = [];
    inData = false;
    reply('250 2.0.0 Ok: queued\r\n');
  };

  const command = (line: string) => {
    const verb = line.slice(0, 4).toUpperCase();
    switch (verb) {
      case 'EHLO':
        return reply(EHLO_REPLY);
      case 'HELO':
        return reply('250 sink.localhost\r\n');
      case 'MAIL':
        rcpts = [];
        return reply('250 2.1.0 Ok\r\n');
      case 'RCPT':
        rcpts.push(pathOf(line).toLowerCase());
        return reply('250 2.1.5 Ok\r\n');
      case 'DATA':
        if (rcpts.length === 0) return reply('503 5.5.1 Error: need RCPT command\r\n');
        inData = true;
        // The CRLF that ended the DATA line counts as the one before a lone-dot terminator.
        tail = Buffer.from('\r\n');
        header = Buffer.alloc(0);
        headerDone = false;
        return reply('354 End data with <CR><LF>.<CR><LF>\r\n');
      case 'RSET':
        rcpts = [];
        return reply('250 2.0.0 Ok\r\n');
      case 'NOOP':
        return reply('250 2.0.0 Ok\r\n');
      case 'VRFY':
        return reply('252 2.0.0 Cannot VRFY\r\n');
      case 'QUIT':
        reply('221 2.0.0 Bye\r\n');
        return socket.end();
      default:
        return reply('502 5.5.2 Error: command not recognized\r\n');
    }
  };

  /** Consumes command bytes from `offset`; answers where the next unread byte is. */
  const onCommandBytes = (chunk: Buffer, offset: number): number => {
    const lf = chunk.indexOf(10, offset);
    if (lf < 0) {
      partial += chunk.toString('latin1', offset);
      return chunk.length;
    }
    const line = (partial + chunk.toString('latin1', offset, lf)).replace(/\r$/, '');
    partial = '';
    command(line);
    return lf + 1;
  };

  /** Keeps the header block's bytes, up to its blank line (a block too long is searched as it is). */
  const collectHeader = (part: Buffer) => {
    if (headerDone) return;
    header = Buffer.concat([header, part]);
    const end = header.indexOf(HEADER_END);
    if (end >= 0) header = header.subarray(0, end + 2);
    headerDone = end >= 0 || header.length > MAX_HEADER_BYTES;
  };

  /** Consumes DATA bytes from `offset` up to and including the terminator; answers the next unread byte. */
  const onDataBytes = (chunk: Buffer, offset: number): number => {
    // A terminator that starts in the previous chunk's tail and ends in this one.
    let end = -1;
    const joined = Buffer.concat([tail, chunk.subarray(offset, offset + TERMINATOR.length - 1)]);
    const straddling = joined.indexOf(TERMINATOR);
    if (straddling >= 0 && straddling < tail.length) end = offset + straddling + TERMINATOR.length - tail.length;
    else {
      const inside = chunk.indexOf(TERMINATOR, offset);
      if (inside >= 0) end = inside + TERMINATOR.length;
    }
    const stop = end >= 0 ? end : chunk.length;
    counters.dataBytes += stop - offset;
    collectHeader(chunk.subarray(offset, stop));
    if (end < 0) {
      const combined = Buffer.concat([tail, chunk.subarray(offset)]);
      tail = combined.subarray(Math.max(0, combined.length - (TERMINATOR.length - 1)));
      return chunk.length;
    }
    endMessage();
    return end;
  };

  socket.on('data', (chunk: Buffer) => {
    let offset = 0;
    while (offset < chunk.length) offset = inData ? onDataBytes(chunk, offset) : onCommandBytes(chunk, offset);
  });
  reply('220 sink.localhost ESMTP\r\n');
}

const server = createServer(serve);
// Many connections opening at once (a pool filling up) must not see refusals.
server.listen({ host: '127.0.0.1', port: 0, backlog: 1024 }, () => {
  const address = server.address();
  process.send!({ type: 'ready', port: typeof address === 'object' && address ? address.port : 0 });
});

process.on('message', (msg: { type: string; id: number }) => {
  if (msg.type === 'stats') process.send!({ type: 'stats', id: msg.id, stats: stats() });
  else if (msg.type === 'reset') {
    counters = fresh();
    counters.maxOpenConnections = open;
    process.send!({ type: 'reset', id: msg.id });
  }
});
// The parent went away: nothing left to count for.
process.on('disconnect', () => process.exit(0));
