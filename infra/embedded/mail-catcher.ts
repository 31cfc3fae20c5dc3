/**
 * A local SMTP peer that accepts every message, parses it and keeps it: the development default when no
 * SMTP_URL is given (messages readable at its web page and as .eml files), and the real SMTP peer of
 * the tests (which wait for and read the parsed messages).
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface CaughtMail {
  id: number;
  receivedAt: Date;
  from: string;
  to: string[];
  subject: string;
  text: string;
  html?: string;
  attachments: { filename?: string; contentType: string; size: number }[];
}

export interface MailCatcher {
  smtpPort: number;
  smtpUrl: string;
  webUrl?: string;
  messages(): CaughtMail[];
  /** messages sent to `to` (case-insensitive) */
  messagesTo(to: string): CaughtMail[];
  /** waits until a message matching the predicate arrives (including ones already caught) */
  waitFor(predicate: (mail: CaughtMail) => boolean, timeoutMs?: number): Promise<CaughtMail>;
  stop(): Promise<void>;
}

export interface MailCatcherOptions {
  smtpPort?: number;
  webPort?: number;
  /** folder where each message is also written as an .eml file */
  dir?: string;
}

export async function startMailCatcher(options: MailCatcherOptions = {}): Promise<MailCatcher> {
  const caught: CaughtMail[] = [];
  const waiters = new Set<() => void>();
  if (options.dir) fs.mkdirSync(options.dir, { recursive: true });
  // numbering goes on after the files of earlier runs: a restart never overwrites a kept message
  const firstId = (options.dir ? highestMessageNumber(options.dir) : 0) + 1;

  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks);
        simpleParser(raw)
          .then((parsed) => {
            const id = firstId + caught.length;
            const mail: CaughtMail = {
              id,
              receivedAt: new Date(),
              from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
              to: session.envelope.rcptTo.map((r) => r.address.toLowerCase()),
              subject: parsed.subject ?? '',
              text: parsed.text ?? '',
              html: typeof parsed.html === 'string' ? parsed.html : undefined,
              attachments: parsed.attachments.map((a) => ({
                filename: a.filename,
                contentType: a.contentType,
                size: a.size,
              })),
            };
            caught.push(mail);
            if (options.dir)
              fs.writeFileSync(path.join(options.dir, `${String(id).padStart(5, '0')}.eml`), raw);
            for (const wake of waiters) wake();
            callback();
          })
          .catch((error: Error) => callback(error));
      });
    },
  });
  const smtpPort = await new Promise<number>((resolve, reject) => {
    smtp.on('error', reject);
    smtp.listen(options.smtpPort ?? 0, '127.0.0.1', () => {
      const address = smtp.server.address();
      resolve(typeof address === 'object' && address ? address.port : 0);
    });
  });

  let web: http.Server | undefined;
  if (options.webPort !== undefined) {
    web = http.createServer((req, res) => serveMailbox(caught, req, res));
    await new Promise<void>((resolve) => web!.listen(options.webPort, '127.0.0.1', resolve));
  }

  const messages = () => [...caught];
  return {
    smtpPort,
    smtpUrl: `smtp://127.0.0.1:${smtpPort}`,
    webUrl: web ? `http://127.0.0.1:${options.webPort}` : undefined,
    messages,
    messagesTo: (to) => caught.filter((m) => m.to.includes(to.toLowerCase())),
    async waitFor(predicate, timeoutMs = 15_000) {
      const found = caught.find(predicate);
      if (found) return found;
      return new Promise<CaughtMail>((resolve, reject) => {
        const check = () => {
          const mail = caught.find(predicate);
          if (mail) {
            cleanup();
            resolve(mail);
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`no matching mail within ${timeoutMs} ms (caught ${caught.length})`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
      });
    },
    async stop() {
      await new Promise<void>((resolve) => smtp.close(() => resolve()));
      if (web) await new Promise<void>((resolve) => web.close(() => resolve()));
    },
  };
}

/** The highest `<n>.eml` already in the folder (0 when none). */
function highestMessageNumber(dir: string): number {
  let highest = 0;
  for (const name of fs.readdirSync(dir)) {
    const match = /^(\d+)\.eml$/.exec(name);
    if (match) highest = Math.max(highest, Number(match[1]));
  }
  return highest;
}

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function serveMailbox(caught: CaughtMail[], req: http.IncomingMessage, res: http.ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (url.pathname === '/messages') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(caught));
    return;
  }
  const one = /^\/messages\/(\d+)$/.exec(url.pathname);
  if (one) {
    const mail = caught.find((m) => m.id === Number(one[1]));
    if (!mail) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(
      `From: ${mail.from}\nTo: ${mail.to.join(', ')}\nSubject: ${mail.subject}\nDate: ${mail.receivedAt.toISOString()}\n\n${mail.text}`,
    );
    return;
  }
  const rows = [...caught]
    .reverse()
    .map(
      (m) =>
        `<tr><td>${m.receivedAt.toISOString()}</td><td>${escapeHtml(m.to.join(', '))}</td><td><a href="/messages/${m.id}">${escapeHtml(m.subject)}</a></td></tr>`,
    )
    .join('');
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
  res.end(
    `<!doctype html><meta charset="utf-8"><title>Mail catcher</title><h1>Caught mail (${caught.length})</h1>` +
      `<p>JSON at <a href="/messages">/messages</a>.</p><table border="1" cellpadding="4"><tr><th>received</th><th>to</th><th>subject</th></tr>${rows}</table>`,
  );
}
