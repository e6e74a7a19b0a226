import SMTPConnection from 'nodemailer/lib/smtp-connection/index.js';

/*
 * A pool of SMTP connections kept open and reused for every message of a sending config, on nodemailer's
 * SMTPConnection (which speaks the protocol: STARTTLS, AUTH, PIPELINING, reply parsing and dot-stuffing).
 *
 * Why not nodemailer's own pool transport: it wraps every message in its Mail/MimeNode machinery and a
 * stream pipeline, even a finished one, which cost more worker CPU per campaign email than everything
 * else in it; and it closes each connection after 100 messages by default. Here a message is the bytes
 * src/mail/mime.ts built, handed to the connection in one write.
 */

export interface SmtpPoolOptions {
  host: string;
  port: number;
  secure: boolean;
  auth?: { user: string; pass: string };
  /** Connections open at once; each carries one message at a time. */
  size: number;
  /** Connect and greeting timeout; an idle connection closes after twice this. */
  timeoutMs: number;
}

export interface SmtpEnvelope {
  from: string;
  to: string[];
}

/** What the server said about a message it took: refused recipients, if some were and others not. */
export interface SmtpSent {
  rejected: string[];
  rejectedErrors: { recipient?: string; response?: string }[];
}

interface SmtpError extends Error {
  code?: string;
  responseCode?: number;
  command?: string;
}

/** The server or the network ended the connection rather than refusing what was sent (as nodemailer judges it). */
function endedConnection(err: SmtpError): boolean {
  return err.responseCode === 421 || err.code === 'ECONNECTION' || err.code === 'ESOCKET' || err.code === 'ETIMEDOUT';
}

/** A refusal of this message (its envelope or content) on a connection that is still good for the next. */
function refusedMessageOnly(err: SmtpError): boolean {
  return (err.code === 'EENVELOPE' || err.code === 'EMESSAGE') && err.responseCode !== 421;
}

class PooledConnection {
  readonly connection: SMTPConnection;
  /** Messages sent over it; a reused connection the server closed while idle is retried once elsewhere. */
  sent = 0;
  dead = false;

  constructor(options: SmtpPoolOptions, onDead: (c: PooledConnection) => void) {
    this.connection = new SMTPConnection({
      host: options.host,
      port: options.port,
      secure: options.secure,
      connectionTimeout: options.timeoutMs,
      greetingTimeout: options.timeoutMs,
      socketTimeout: options.timeoutMs * 2,
    });
    const die = () => {
      if (this.dead) return;
      this.dead = true;
      onDead(this);
    };
    // Errors also reach the callback of whatever was in progress; this only retires the connection.
    this.connection.on('error', die);
    this.connection.once('end', die);
  }

  open(auth: SmtpPoolOptions['auth']): Promise<void> {
    return new Promise((resolve, reject) => {
      // A refused or timed-out connection is reported as an 'error' event, not to connect's callback.
      const failed = (err: Error) => reject(err);
      this.connection.once('error', failed);
      const done = (err?: Error | null) => {
        this.connection.off('error', failed);
        if (err) reject(err);
        else resolve();
      };
      this.connection.connect((err?: Error) => {
        if (err) return done(err);
        if (!auth) return done();
        this.connection.login(auth, (loginErr) => done(loginErr));
      });
    });
  }

  send(envelope: SmtpEnvelope, raw: Buffer): Promise<SmtpSent> {
    return new Promise((resolve, reject) => {
      this.connection.send(envelope, raw, (err, info) => {
        if (err) return reject(err);
        this.sent += 1;
        resolve({ rejected: info.rejected.map(String), rejectedErrors: info.rejectedErrors ?? [] });
      });
    });
  }

  /** After a refused message: RSET, so the next message starts a clean transaction. */
  reset(): Promise<void> {
    return new Promise((resolve, reject) => this.connection.reset((err) => (err ? reject(err) : resolve())));
  }

  /** Ends it: politely (QUIT) when it is still in a state to say so, at once otherwise. */
  close(polite = false): void {
    this.dead = true;
    if (polite) {
      try {
        this.connection.quit();
      } catch {
        // Already unusable: closing it is all there is to do.
      }
    }
    this.connection.close();
  }
}

export interface SmtpPool {
  /** Sends one message; rejects with nodemailer's SMTP error (responseCode, command, code) when refused or cut off. */
  send(envelope: SmtpEnvelope, raw: Buffer): Promise<SmtpSent>;
  /** Opens a connection and logs in, then leaves: does the server take us? */
  verify(): Promise<void>;
  /** Connections opened so far (a test and the bench count them). */
  readonly opened: number;
  close(): void;
}

export function createSmtpPool(options: SmtpPoolOptions): SmtpPool {
  const idle: PooledConnection[] = [];
  const all = new Set<PooledConnection>();
  const waiting: { resolve: (c: PooledConnection) => void; reject: (e: unknown) => void }[] = [];
  let opening = 0;
  let opened = 0;
  let closed = false;

  const forget = (c: PooledConnection) => {
    all.delete(c);
    const at = idle.indexOf(c);
    if (at >= 0) idle.splice(at, 1);
    // A slot freed: whoever waits gets a new connection.
    if (waiting.length && !closed) void grow();
  };

  async function grow(): Promise<void> {
    if (all.size + opening >= options.size || !waiting.length) return;
    opening += 1;
    const c = new PooledConnection(options, forget);
    opened += 1;
    try {
      await c.open(options.auth);
      opening -= 1;
      all.add(c);
      release(c);
    } catch (err) {
      opening -= 1;
      c.close();
      // A connection that cannot open fails the first in line, not everyone: each gets its own answer.
      waiting.shift()?.reject(err);
      if (waiting.length) void grow();
    }
  }

  function release(c: PooledConnection): void {
    if (c.dead || closed) return;
    const next = waiting.shift();
    if (next) next.resolve(c);
    else idle.push(c);
  }

  function acquire(): Promise<PooledConnection> {
    if (closed) return Promise.reject(Object.assign(new Error('The SMTP pool is closed'), { code: 'ECONNECTION' }));
    const ready = idle.pop();
    if (ready) return Promise.resolve(ready);
    const wait = new Promise<PooledConnection>((resolve, reject) => waiting.push({ resolve, reject }));
    void grow();
    return wait;
  }

  async function sendOnce(envelope: SmtpEnvelope, raw: Buffer): Promise<{ sent: SmtpSent } | { retry: unknown }> {
    const c = await acquire();
    const reused = c.sent > 0;
    try {
      const sent = await c.send(envelope, raw);
      release(c);
      return { sent };
    } catch (err) {
      const e = err as SmtpError;
      if (refusedMessageOnly(e) && !c.dead) {
        await c.reset().then(
          () => release(c),
          () => c.close(),
        );
        throw err;
      }
      c.close();
      forget(c);
      // The server closed a connection that sat idle since its last message: nothing of this one was
      // taken, so it goes out once more over a fresh connection (the same Message-ID either way).
      if (reused && endedConnection(e)) return { retry: err };
      throw err;
    }
  }

  return {
    get opened() {
      return opened;
    },

    async send(envelope, raw) {
      const first = await sendOnce(envelope, raw);
      if ('sent' in first) return first.sent;
      const second = await sendOnce(envelope, raw);
      if ('sent' in second) return second.sent;
      throw second.retry;
    },

    async verify() {
      const c = new PooledConnection(options, () => {});
      opened += 1;
      try {
        await c.open(options.auth);
      } finally {
        c.close();
      }
    },

    close() {
      closed = true;
      for (const w of waiting.splice(0)) w.reject(Object.assign(new Error('The SMTP pool is closed'), { code: 'ECONNECTION' }));
      for (const c of [...all]) c.close(true);
      all.clear();
      idle.length = 0;
    },
  };
}
