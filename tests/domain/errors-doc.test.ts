import fs from 'node:fs';
import path from 'node:path';
import { errorStatus } from '../../domain/errors';

const doc = fs.readFileSync(path.join(__dirname, '..', '..', 'docs', 'errors.md'), 'utf8');
const rows = [...doc.matchAll(/^\| `([A-Z][A-Z0-9_]+)` *\| (\d{3}) *\|/gm)].map((m) => [m[1]!, Number(m[2])] as const);

it('docs/errors.md lists every error code with its HTTP status, and nothing else', () => {
  expect(Object.fromEntries(rows)).toEqual(errorStatus);
});

it('docs/errors.md has one table, each code in it once', () => {
  expect([...doc.matchAll(/^\| code /gm)]).toHaveLength(1);
  expect(rows.map(([code]) => code)).toEqual([...new Set(rows.map(([code]) => code))]);
});
