/**
 * A local SMTP server (smtp-server, on 127.0.0.1) that keeps, for every message it accepts, when it had the whole
 * message and whom it was for. It parses nothing of the message itself: the bench's recipients are
 * s<subscription id>@bench.test, so the envelope says which subscription a message delivers.
 */
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface Received {
  /** Date.now() when the message's last byte arrived (its DATA accepted). */
  at: number;
  /** The subscription id from the recipient's address; null for an address that is not s<id>@bench.test. */
  subscriptionId: number | null;
}

export interface SmtpSink {
  port: number;
  received: Received[];
  /** SMTP connections opened so far. */
  connections: () => number;
  close: () => Promise<void>;
}

const RECIPIENT = /^s(\d+)@bench\.test$/;

export async function startSmtpSink(): Promise<SmtpSink> {
  const received: Received[] = [];
  let connections = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    // A reverse DNS lookup per connection is the sink's cost, not Burrow's.
    disableReverseLookup: true,
    logger: false,
    maxClients: 1000,
    onConnect(_session, callback) {
      connections += 1;
      callback();
    },
    onData(stream, session, callback) {
      stream.on('data', () => {});
      stream.on('end', () => {
        const at = Date.now();
        for (const rcpt of session.envelope.rcptTo) {
          const match = RECIPIENT.exec(rcpt.address);
          received.push({ at, subscriptionId: match ? Number(match[1]) : null });
        }
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.server.address() as AddressInfo).port,
    received,
    connections: () => connections,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
