import { fork } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { monotonicMs, treeCpuMs } from './proc.js';
import { onCleanup } from './run.js';
import type { SinkStats } from './smtp-sink-server.js';

export type { SinkStats } from './smtp-sink-server.js';

const SERVER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'smtp-sink-server.ts');

export interface SmtpSink {
  port: number;
  /** The sink's process, so a bench can leave it out of every system's CPU. */
  pid: number;
  stats(): Promise<SinkStats>;
  /** Zeroes every counter (between two systems). */
  reset(): Promise<void>;
}

/**
 * Starts the counting SMTP sink (bench/lib/smtp-sink-server.ts) in its own Node process on
 * 127.0.0.1 and a free port; it is stopped by the run's cleanup (bench/lib/run.ts).
 */
export async function startSmtpSink(): Promise<SmtpSink> {
  const child = fork(SERVER, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  onCleanup('stop the SMTP sink', async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the SMTP sink exited (${code}) before listening`)));
    child.once('message', (msg: { type: string; port: number }) => (msg.type === 'ready' ? resolve(msg.port) : reject(new Error(`unexpected ${msg.type}`))));
  });

  let nextId = 0;
  const pending = new Map<number, (msg: { stats?: SinkStats }) => void>();
  child.on('message', (msg: { type: string; id?: number; stats?: SinkStats }) => {
    if (msg.id === undefined) return;
    pending.get(msg.id)?.(msg);
    pending.delete(msg.id);
  });
  const ask = (type: 'stats' | 'reset') =>
    new Promise<{ stats?: SinkStats }>((resolve) => {
      const id = nextId++;
      pending.set(id, resolve);
      child.send({ type, id });
    });

  return {
    port,
    pid: child.pid!,
    stats: async () => (await ask('stats')).stats!,
    reset: async () => void (await ask('reset')),
  };
}

/** A 2 KB-ish message like the campaigns', unique Message-ID and recipient so the sink does its full work. */
function loadMessage(n: number): string {
  const paragraph = '<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore.</p>\r\n';
  return [
    'From: Load <load@example.com>',
    `To: <ceiling${n}@example.com>`,
    'Subject: Sink ceiling',
    `Message-ID: <ceiling-${n}@example.com>`,
    'MIME-Version: 1.0',
    'Content-Type: text/html; charset=utf-8',
    '',
    paragraph.repeat(18),
  ].join('\r\n');
}

/** One SMTP client connection that sends a command and waits for its whole reply (no pipelining). */
function smtpClient(port: number) {
  const socket: Socket = connect({ host: '127.0.0.1', port });
  socket.setNoDelay(true);
  let buffer = '';
  let waiter: ((reply: string) => void) | null = null;
  let failed: ((err: Error) => void) | null = null;
  socket.on('error', (err) => failed?.(err));
  socket.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('latin1');
    // A reply is complete when its last line's code is followed by a space (not the `250-` of a
    // multi-line one); one command is in flight at a time, so nothing follows it.
    if (!buffer.endsWith('\r\n') || !waiter) return;
    const previousEnd = buffer.lastIndexOf('\r\n', buffer.length - 3);
    const lastLine = previousEnd < 0 ? buffer : buffer.slice(previousEnd + 2);
    if (!/^\d{3} /.test(lastLine)) return;
    const replyText = buffer;
    buffer = '';
    const w = waiter;
    waiter = null;
    w(replyText);
  });
  const next = () =>
    new Promise<string>((resolve, reject) => {
      waiter = resolve;
      failed = reject;
    });
  return {
    greeting: next(),
    async send(text: string): Promise<string> {
      const answer = next();
      socket.write(text);
      const replyText = await answer;
      if (!/^[23]/.test(replyText)) throw new Error(`sink answered ${replyText} to ${text.slice(0, 40)}`);
      return replyText;
    },
    close: () => socket.end('QUIT\r\n'),
  };
}

/**
 * The sink's ceiling: `connections` clients sending ~2 KB messages back to back for `seconds`, one
 * command at a time as nodemailer and listmonk's SMTP pool do, counted by the sink. The clients run in
 * this process, which shares the machine's cores with the sink: the figure is a floor of the ceiling.
 */
export async function measureSinkCeiling(sink: SmtpSink, opts: { connections: number; seconds: number }) {
  await sink.reset();
  let n = 0;
  const cpuBefore = await treeCpuMs(sink.pid);
  const start = monotonicMs();
  const deadline = start + opts.seconds * 1000;
  await Promise.all(
    Array.from({ length: opts.connections }, async () => {
      const client = smtpClient(sink.port);
      await client.greeting;
      await client.send('EHLO load.localhost\r\n');
      while (monotonicMs() < deadline) {
        const i = n++;
        await client.send('MAIL FROM:<load@example.com>\r\n');
        await client.send(`RCPT TO:<ceiling${i}@example.com>\r\n`);
        await client.send('DATA\r\n');
        await client.send(`${loadMessage(i)}\r\n.\r\n`);
      }
      client.close();
    }),
  );
  const stats = await sink.stats();
  const seconds = ((stats.lastAt ?? start) - start) / 1000;
  const sinkCpuMs = (await treeCpuMs(sink.pid)) - cpuBefore;
  await sink.reset();
  return {
    connections: opts.connections,
    seconds: Math.round(seconds * 100) / 100,
    messages: stats.messages,
    messagesPerSecond: Math.round(stats.messages / seconds),
    // Under 100 % the clients, not the sink, set the pace: the sink had room to spare.
    sinkCpuPercentOfOneCore: Math.round((sinkCpuMs / 10 / seconds) * 10) / 10,
    // What the sink would take with a core of its own, from its CPU per message (it is single-threaded).
    messagesPerSecondOnOneCore: Math.round((stats.messages / sinkCpuMs) * 1000),
    exactlyOnce: stats.messages === n && stats.uniqueRecipients === n && stats.uniqueMessageIds === n,
  };
}
