import fs from 'node:fs';
import path from 'node:path';
import { errorStatus } from '../../domain/errors';

it('docs/errors.md lists every error code with its HTTP status, and nothing else', () => {
  const doc = fs.readFileSync(path.join(__dirname, '..', '..', 'docs', 'errors.md'), 'utf8');
  const rows = [...doc.matchAll(/^\| `([A-Z][A-Z0-9_]+)` *\| (\d{3}) *\|/gm)].map((m) => [
    m[1],
    Number(m[2]),
  ]);
  expect(Object.fromEntries(rows)).toEqual(errorStatus);
});
