/**
 * The development mail catcher keeps every message as `var/mail/<n>.eml`: a restart goes on numbering after
 * the files already there instead of overwriting them from 1.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startMailCatcher } from '../../infra/embedded/mail-catcher';
import { createMailer } from '../../infra/mailer';

async function sendThrough(dir: string, subjects: string[]): Promise<number[]> {
  const catcher = await startMailCatcher({ dir });
  const mailer = createMailer(catcher.smtpUrl, 'Gestan Licences <licences@localhost>');
  try {
    for (const subject of subjects) {
      await mailer.send({ to: 'client@example.com', subject, text: subject });
      await catcher.waitFor((m) => m.subject === subject);
    }
    return catcher.messages().map((m) => m.id);
  } finally {
    mailer.close();
    await catcher.stop();
  }
}

describe('mail catcher', () => {
  it('numbers messages after those of earlier runs, overwriting none', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mail-'));
    expect(await sendThrough(dir, ['premier', 'deuxième'])).toEqual([1, 2]);
    expect(await sendThrough(dir, ['après redémarrage'])).toEqual([3]);

    const files = fs.readdirSync(dir).sort();
    expect(files).toEqual(['00001.eml', '00002.eml', '00003.eml']);
    const subjects = files.map(
      (f) => /^Subject: (.*)$/m.exec(fs.readFileSync(path.join(dir, f), 'utf8'))?.[1],
    );
    expect(subjects[0]).toBe('premier');
    expect(subjects[2]).toMatch(/red/);
  });
});
