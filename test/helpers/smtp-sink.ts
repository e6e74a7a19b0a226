import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/*
 * A real SMTP server on 127.0.0.1:<ephemeral> that accepts mail from the SMTP adapter, parses each
 * message with mailparser and keeps it for assertions. It can refuse recipients or logins with the
 * reply codes real servers use, so the adapter's mapping is tested against real SMTP dialogue.
 */

export interface ReceivedMail {
  envelope: { mailFrom: string; rcptTo: string[] };
  /** The message as it came over the wire. */
  raw: string;
  parsed: ParsedMail;
  /** Header lookup by lower-case name, e.g. `header('x-tidings-idempotency-key')`. */
  header(name: string): string | undefined;
}

export interface SmtpReply {
  code: number;
  message: string;
}

export interface SmtpSinkOptions {
  /** When set, AUTH is required and only this login is accepted (others get 535). */
  auth?: { user: string; pass: string };
  /** Refuse every login with 535, whatever the credentials. */
  failAuth?: boolean;
  /** Answer RCPT TO for some addresses with an error reply (e.g. 550 for an unknown mailbox). */
  rcptReply?: (address: string) => SmtpReply | undefined;
  /** Answer the end of DATA with an error reply (e.g. 421 rate limiting, 554 content refused). */
  dataReply?: (mail: ReceivedMail) => SmtpReply | undefined;
}

export interface SmtpSink {
  host: string;
  port: number;
  messages: ReceivedMail[];
  /** Logins tried, in order. */
  logins: { user: string; pass: string }[];
  /** SMTP sessions (connections) opened so far. */
  connections(): number;
  setRcptReply(fn: SmtpSinkOptions['rcptReply']): void;
  setDataReply(fn: SmtpSinkOptions['dataReply']): void;
  close(): Promise<void>;
}

function smtpError(reply: SmtpReply): Error {
  return Object.assign(new Error(reply.message), { responseCode: reply.code });
}

export async function startSmtpSink(options: SmtpSinkOptions = {}): Promise<SmtpSink> {
  const messages: ReceivedMail[] = [];
  const logins: { user: string; pass: string }[] = [];
  let rcptReply = options.rcptReply;
  let dataReply = options.dataReply;
  const authRequired = Boolean(options.auth || options.failAuth);
  let connections = 0;

  const server = new SMTPServer({
    secure: false,
    // Plain-text SMTP on loopback: no certificates to manage, and AUTH is allowed without TLS.
    disabledCommands: authRequired ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
    authOptional: !authRequired,
    allowInsecureAuth: true,
    logger: false,
    onConnect(_session, callback) {
      connections += 1;
      callback();
    },
    onAuth(auth, _session, callback) {
      const attempt = { user: auth.username ?? '', pass: auth.password ?? '' };
      logins.push(attempt);
      const ok = !options.failAuth && options.auth && attempt.user === options.auth.user && attempt.pass === options.auth.pass;
      if (!ok) return callback(smtpError({ code: 535, message: '5.7.8 Authentication credentials invalid' }));
      callback(null, { user: attempt.user });
    },
    onRcptTo(address, _session, callback) {
      const reply = rcptReply?.(address.address);
      callback(reply ? smtpError(reply) : null);
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('error', callback);
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        simpleParser(raw)
          .then((parsed) => {
            const mail: ReceivedMail = {
              envelope: {
                mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
                rcptTo: session.envelope.rcptTo.map((r) => r.address),
              },
              raw,
              parsed,
              header(name) {
                const value = parsed.headers.get(name.toLowerCase());
                if (value === undefined) return undefined;
                return typeof value === 'string' ? value : JSON.stringify(value);
              },
            };
            const reply = dataReply?.(mail);
            if (reply) return callback(smtpError(reply));
            // Recorded before the 250 goes out, so the message is here when the client's send resolves.
            messages.push(mail);
            callback(null);
          })
          .catch((err: unknown) => callback(err instanceof Error ? err : new Error(String(err))));
      });
    },
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;

  return {
    host: '127.0.0.1',
    port,
    messages,
    logins,
    connections: () => connections,
    setRcptReply(fn) {
      rcptReply = fn;
    },
    setDataReply(fn) {
      dataReply = fn;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
